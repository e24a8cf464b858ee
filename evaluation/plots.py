"""The tunable-knob figure, the one plot of a sweep (a single sweep's report and the demo's page draw it).

One column per (sweep, domain) panel: on top the Exp and Avd margins with their 95% intervals (the AV solid,
its random control dashed), below each level's share against λ (optionally the paper's regimes shaded); a last
column for safety / helpfulness pairs when a sweep measured them.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from meav.core import atomic
from meav.evaluation.labels import ORDER, SHORT

COLORS = {"expert": "tab:green", "generic": "tab:blue", "avoidance": "tab:red"}
GENERAL_COLS = {"safety": ("safe", "unsafe"), "helpfulness": ("helpful", "unhelpful")}


def plot_knob(
    panels: list[tuple[str, dict, str]], png: Path, regimes: dict[str, tuple[float, float]] | None = None
) -> Path:
    """`panels`: (title, sweep data, domain) per column. `regimes`: λ spans per level to shade (the paper's)."""
    general = [
        k for k in GENERAL_COLS if any(k in r.get("general", {}) for _, s, _ in panels for r in s["results"])
    ]
    with_margins = any("margins" in r for _, s, _ in panels for r in s["results"])
    rows, cols = (2 if with_margins else 1), len(panels) + (1 if general else 0)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for col, (title, s, d) in enumerate(panels):
        if with_margins:
            _margins(axes[0][col], s, d)
            axes[0][col].set_title(title)
        shares = axes[-1][col]
        for lv in ORDER:
            if regimes:
                shares.axvspan(*regimes[lv], color=COLORS[lv], alpha=0.08)
            shares.plot(s["lambdas"], [r["domains"][d][lv] for r in s["results"]], marker=".",
                        color=COLORS[lv], label=SHORT[lv])  # fmt: skip
        shares.axhline(1 / 3, color="grey", lw=0.5, ls="--")
        shares.set_xlabel("λ")
        if not with_margins:
            shares.set_title(title)
    if general:
        ax, s = axes[-1][-1], panels[0][1]
        for k in general:
            first = GENERAL_COLS[k][0]
            ax.plot(
                s["lambdas"], [r.get("general", {}).get(k, {}).get(first) for r in s["results"]], label=first
            )
        ax.set_title("general pairs")
        ax.set_xlabel("λ")
    if with_margins:
        axes[0][0].set_ylabel("margin (nats/token), 95% CI")
        axes[0][0].legend(fontsize=7)
    axes[-1][0].set_ylabel("preference accuracy (share)")
    title = "shaded: paper's regimes" if regimes else None
    axes[-1][0].legend(fontsize=7, title=title, title_fontsize=7)
    fig.tight_layout()
    return atomic.write_figure(png, fig)


def _margins(ax, s: dict, d: str) -> None:
    runs = [("AV", s, "-")] + ([("random control", s["control"], "--")] if s.get("control") else [])
    for label, run, style in runs:
        for lv in ("expert", "avoidance"):
            stats = [r["margins"][d][lv] for r in run["results"] if "margins" in r]
            if not stats:
                continue
            lo = [m["mean"] - m["ci95"][0] for m in stats]
            hi = [m["ci95"][1] - m["mean"] for m in stats]
            ax.errorbar(run["lambdas"][: len(stats)], [m["mean"] for m in stats], yerr=[lo, hi], ls=style,
                        marker=".", capsize=3, color=COLORS[lv], alpha=1 if label == "AV" else 0.5,
                        label=f"{SHORT[lv]} ({label})")  # fmt: skip
    ax.axhline(0, color="grey", lw=0.5)
