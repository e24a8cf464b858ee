"""`meav vectors extract | apply | to-lora | publish | info | recommend`: thin adapters over the vectors API.

Flags are the options models' fields (vectors/options.py); the API modules load torch, so they are imported
inside the commands to keep `meav --help` fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import argument, flag, options
from meav.vectors.options import ApplyOptions, ExtractOptions, LoraOptions, PublishAVOptions, RecommendOptions

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
X, A, L, P = ExtractOptions, ApplyOptions, LoraOptions, PublishAVOptions


@app.command()
def extract(
    base: str = flag(X, "base"), aligned: str = flag(X, "aligned"), out: Path = flag(X, "out"),
    dtype: str = flag(X, "dtype"), domain: str | None = flag(X, "domain"), target: str | None = flag(X, "target"),
    rank: int | None = flag(X, "rank"), energy: float | None = flag(X, "energy"),
    trim: float | None = flag(X, "trim"), dare: float | None = flag(X, "dare"), seed: int = flag(X, "seed"),
    max_shard_size: str = flag(X, "max_shard_size"), dataset: str | None = flag(X, "dataset"),
    recipe: Path | None = flag(X, "recipe"),
) -> None:  # fmt: skip
    """AV = θ_aligned − θ_base, streamed tensor by tensor; optional compression."""
    o = options(ExtractOptions, **locals())
    from meav.vectors.extraction import extract as run  # torch: imported when the command runs

    config = run(o)
    typer.echo(
        f"wrote {o.out}: {config['num_tensors']} tensors, {config['num_params']:,} parameters, {config['dtype']}"
    )
    if config["skipped_tensors"]:
        typer.echo(f"skipped (not floating point): {', '.join(config['skipped_tensors'])}")
    comp = config["compression"]
    if comp["method"] != "none":
        for name, s in comp["per_tensor"].items():
            typer.echo(
                f"  {name}: size ratio {s['size_ratio']:.4f}, rel. Frobenius error {s['rel_frobenius_error']:.3e}"
            )
        typer.echo(
            f"overall: size ratio {comp['size_ratio']:.4f}, rel. Frobenius error {comp['rel_frobenius_error']:.3e}"
        )


@app.command()
def apply(
    base: str = flag(A, "base"), av: list[str] = flag(A, "av"), lambda_: list[str] = flag(A, "lambda_"),
    out: Path = flag(A, "out"), force: bool = flag(A, "force"),
) -> None:  # fmt: skip
    """Write θ_base + Σ λ·AV to a new model folder, streamed shard by shard."""
    o = options(ApplyOptions, **locals())
    from meav.vectors.merged_model import apply as run  # torch: imported when the command runs
    from meav.vectors.merged_model import read_steering

    steering = read_steering(run(o))
    terms = " + ".join(f"{t['lambda']:g}·{t['name']}" for t in steering["alignment_vectors"])
    typer.echo(f"wrote {o.out}: {o.base} + {terms}")


@app.command("to-lora")
def to_lora(
    av: str = argument(L, "av"), out: Path = flag(L, "out"), rank: int | None = flag(L, "rank"),
    strict: bool = flag(L, "strict"), base_id: str | None = flag(L, "base_id"),
    license: str | None = flag(L, "license"),
) -> None:  # fmt: skip
    """Export the AV as a PEFT LoRA adapter (λ = adapter scale)."""
    o = options(LoraOptions, **locals())
    from meav.vectors.lora import to_lora as run  # torch: imported when the command runs

    report = run(o)
    typer.echo(
        f"wrote {o.out}: {report['modules']} modules, rank {report['rank']}, {report['energy_kept']:.4%} of ||AV||² kept"
    )
    if report["dropped_tensors"]:
        typer.echo(
            f"left out (no LoRA form, {report['dropped_energy_share']:.2%} of ||AV||²): {len(report['dropped_tensors'])} tensors"
        )


@app.command()
def publish(
    av: Path = argument(P, "av"), repo: str = flag(P, "repo"), private: bool = flag(P, "private"),
    tag: str | None = flag(P, "tag"), dtype: str = flag(P, "dtype"), base_id: str | None = flag(P, "base_id"),
    license: str | None = flag(P, "license"), out: Path | None = flag(P, "out"),
) -> None:  # fmt: skip
    """Publish the AV (shards in the base's dtype by default, config, card) as a Hub model repo."""
    o = options(PublishAVOptions, **locals())
    from meav.vectors.publish import describe_release, publish_av  # torch: imported when the command runs

    result = publish_av(o)
    typer.echo(describe_release(result["release"]))
    typer.echo(result["url"] or f"wrote {result['folder']} (not uploaded)")


@app.command()
def info(av: str = typer.Argument(..., help="AV folder or Hub id.")) -> None:
    """Print an AV's config (base, domain, target, dtype, compression, recommended λ)."""
    from meav.vectors.publish import info as read  # torch: imported when the command runs

    facts = read(av)
    comp = facts.pop("compression")
    for key, value in facts.items():
        typer.echo(f"{key}: {value}")
    ratio = f" (size ratio {comp['size_ratio']:.4f})" if "size_ratio" in comp else ""
    typer.echo(f"compression: {comp.get('method')}{ratio}")


R = RecommendOptions


@app.command()
def recommend(av: Path = flag(R, "av"), sweep: Path = flag(R, "sweep")) -> None:
    """Record a sweep's recommended λ per level in a local AV folder (never a Hub cache)."""
    o = options(RecommendOptions, **locals())
    from meav.vectors.recommend import recommend as run

    config = run(o)
    typer.echo(f"{o.av}: recommended λ {config['recommended_lambda']}")
