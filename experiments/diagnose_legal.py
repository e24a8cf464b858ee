"""Why the legal knob did not show in the 4-step demo run, measured one cause at a time on its 30 test queries.

    .venv/bin/python bench/diagnose_legal.py range --demo RUN     # RUN's legal AV, swept down to λ = -3
    .venv/bin/python bench/diagnose_legal.py steps 8 --demo RUN   # the legal recipe run for 8 steps

`range`: is the grid too narrow? (~4 minutes on 2 CPU cores.) `steps N`: is the training budget too small? The
legal recipe with max_steps N (4·N of the 40 pairs), then the demo's sweep with its control (~N·40 s + 6 min).
Outputs go to docs/demo/diagnosis/legal-range and legal-steps-N. Measured on the run with 4-step AVs (commit
34d9d95's recipes): the range did not help, 8 steps did, and the recipes now train 8 steps (docs/demo/README.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from meav.core.embedded import embedded_model_path
from meav.evaluation.options import SweepOptions
from meav.evaluation.sweep import sweep
from meav.training import TrainOptions, train
from meav.vectors import ExtractOptions, extract

RECIPE = Path(__file__).resolve().parents[1] / "recipes/smollm2-135m-instruct/legal/ipo.yaml"


def show(data: dict) -> None:
    v = data["verdict"]["legal"]
    ctrl = (data.get("control") or {}).get("verdict", {}).get("legal", {}).get("visible")
    print(f"knob visible: {v['visible']}; random control passes: {ctrl}")
    for r in data["results"]:
        m = r["margins"]["legal"]
        print(f"λ {r['lambda']:+g}: Exp margin {m['expert']['mean']:+.3f} {m['expert']['ci95']}, "
              f"Avd margin {m['avoidance']['mean']:+.3f} {m['avoidance']['ci95']}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cause", choices=["range", "steps"])
    ap.add_argument("steps", nargs="?", type=int, default=8)
    ap.add_argument("--demo", type=Path, default=Path("runs/demo"))
    ap.add_argument("--out", type=Path, default=Path("docs/demo/diagnosis"))
    args = ap.parse_args()
    base, corpus = str(embedded_model_path()), str(args.demo / "corpus")
    common = {"base": base, "dataset": corpus, "domains": ["legal"], "baselines": ""}
    if args.cause == "range":
        av, lambdas, control, out = args.demo / "avs" / "legal", "-3,-2,0", False, args.out / "legal-range"
    else:
        work = args.demo / "diagnosis" / f"legal-steps-{args.steps}"
        model, av = work / "model", work / "av"
        if not (model / "training_meta.json").is_file():  # a rerun continues after a finished stage
            train(TrainOptions(recipe=str(RECIPE), dataset=corpus, out=model, max_steps=args.steps))
        if not (av / "av_config.json").is_file():
            extract(ExtractOptions(base=base, aligned=str(model), out=av, domain="legal", target="expert"))
        lambdas, control, out = "-2,0,1", True, args.out / f"legal-steps-{args.steps}"
    show(sweep(SweepOptions(**common, av=str(av), lambdas=lambdas, control=control, out=out)))


if __name__ == "__main__":
    main()
