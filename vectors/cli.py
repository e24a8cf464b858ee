"""`meav vectors extract | apply | to-lora | publish | info` (heavy imports stay inside the commands)."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.errors import MeavError

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)


@app.command()
def extract(
    base: str = typer.Option(..., help="Base model folder (safetensors) or Hub id."),
    aligned: str = typer.Option(..., help="Aligned (fine-tuned) model folder or Hub id, same architecture."),
    out: Path = typer.Option(..., help="AV folder to write (replaced atomically)."),
    dtype: str = typer.Option(
        "auto", help="Stored dtype: auto (float64 for float32 inputs), float32, bfloat16, float16."
    ),
    domain: str | None = typer.Option(None, help="Domain the aligned model was trained on (e.g. medical)."),
    target: str | None = typer.Option(None, help="Target level: avoidance, generic or expert."),
    rank: int | None = typer.Option(None, help="Low-rank compression: keep R singular values per matrix."),
    energy: float | None = typer.Option(
        None, help="Low-rank compression: keep this share of Σ s² per matrix."
    ),
    trim: float | None = typer.Option(
        None, help="TIES-style trim: keep the K% largest magnitudes per tensor."
    ),
    dare: float | None = typer.Option(
        None, help="DARE: drop each entry with probability P, rescale by 1/(1-P)."
    ),
    seed: int = typer.Option(0, help="Seed for --dare."),
    max_shard_size: str = typer.Option("2GB", help="Largest AV shard (e.g. 2GB, 500MB)."),
    dataset: str | None = typer.Option(
        None, help="Dataset (Hub id or path) the aligned model was trained on."
    ),
    recipe: Path | None = typer.Option(
        None, help="Training recipe YAML to record in av_config.json and the card."
    ),
) -> None:
    """AV = θ_aligned − θ_base, streamed tensor by tensor; optional compression."""
    from vectors.compress import Compression
    from vectors.extract import extract as run

    extra = {"dataset": dataset}
    if recipe is not None:
        import yaml

        try:
            extra["recipe"] = yaml.safe_load(recipe.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise MeavError(f"{recipe}: cannot read the recipe ({e})") from e
    spec = Compression(rank=rank, energy=energy, trim=trim, dare=dare, seed=seed)
    config = run(
        base,
        aligned,
        out,
        dtype=dtype,
        domain=domain,
        target=target,
        compression=spec,
        max_shard_size=max_shard_size,
        extra=extra,
    )
    typer.echo(
        f"wrote {out}: {config['num_tensors']} tensors, {config['num_params']:,} parameters, {config['dtype']}"
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
    base: str = typer.Option(..., help="Base model folder or Hub id."),
    av: list[str] = typer.Option(
        ..., help="AV=λ (folder or Hub id, then its weight); repeat for several AVs."
    ),
    out: Path = typer.Option(..., help="Model folder to write: base + Σ λ·AV."),
    force: bool = typer.Option(
        False, help="Apply even if the base weights differ from the AV's recorded base."
    ),
) -> None:
    """Write θ_base + Σ λ·AV to a new model folder, streamed shard by shard."""
    from vectors.apply import apply as run
    from vectors.apply import parse_weight
    from vectors.av import load

    weights = [(load(ref), lam) for ref, lam in map(parse_weight, av)]
    run(base, weights, out, force=force)
    typer.echo(f"wrote {out}: {base} + " + " + ".join(f"{lam:g}·{a.name}" for a, lam in weights))


@app.command("to-lora")
def to_lora(
    av: str = typer.Argument(..., help="AV folder or Hub id."),
    out: Path = typer.Option(..., help="PEFT adapter folder to write."),
    rank: int | None = typer.Option(None, help="LoRA rank (default: full rank, exact)."),
    strict: bool = typer.Option(False, help="Refuse if some AV tensors (norms, biases) have no LoRA form."),
) -> None:
    """Export the AV as a PEFT LoRA adapter (λ = adapter scale)."""
    from vectors.av import load
    from vectors.lora import to_lora as run

    report = run(load(av), out, rank=rank, strict=strict)
    typer.echo(
        f"wrote {out}: {report['modules']} modules, rank {report['rank']}, {report['energy_kept']:.4%} of ||AV||² kept"
    )
    if report["dropped_tensors"]:
        typer.echo(
            f"left out (no LoRA form, {report['dropped_energy_share']:.2%} of ||AV||²): {len(report['dropped_tensors'])} tensors"
        )


@app.command()
def publish(
    av: Path = typer.Argument(..., help="AV folder."),
    repo: str = typer.Option(..., help="Hub model repo ORG/NAME."),
    private: bool = typer.Option(False, help="Create the repo private."),
    tag: str | None = typer.Option(None, help="Tag the published revision."),
) -> None:
    """Publish the AV folder (shards, config, card) as a Hub model repo."""
    from vectors.publish import publish_av

    typer.echo(publish_av(av, repo, private=private, tag=tag))


@app.command()
def info(av: str = typer.Argument(..., help="AV folder or Hub id.")) -> None:
    """Print an AV's config (base, domain, target, dtype, compression, recommended λ)."""
    from vectors.av import load

    c = load(av).config
    for key in (
        "base",
        "base_revision",
        "aligned",
        "domain",
        "target",
        "dtype",
        "num_params",
        "recommended_lambda",
    ):
        typer.echo(f"{key}: {c.get(key)}")
    comp = c.get("compression", {})
    typer.echo(
        f"compression: {comp.get('method')}"
        + (f" (size ratio {comp['size_ratio']:.4f})" if "size_ratio" in comp else "")
    )


def _register_eval() -> None:
    from vectors import eval_cli

    eval_cli.register(app)


_register_eval()
