"""`meav card` and `meav publish`: write/check a corpus folder's dataset card, publish a folder to the Hub."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.errors import MeavError


def card(
    folder: Path = typer.Argument(..., help="Corpus folder (Hub layout: data/<domain>/<split>-*.parquet)."),
    check: bool = typer.Option(False, "--check", help="Only validate the existing card against the data."),
    repo: str | None = typer.Option(
        None, "--repo", help="Repo id (ORG/NAME) shown in the card's load examples."
    ),
    license: str = typer.Option(
        "cc-by-nc-sa-4.0",
        "--license",
        help="License id for the card. Default follows PersonaHub's CC BY-NC-SA 4.0 (derived data inherits it).",
    ),
    pretty_name: str | None = typer.Option(None, "--pretty-name", help="Human-readable dataset name."),
) -> None:
    """Write README.md (YAML metadata + statistics) for a corpus folder, or --check it offline."""
    from dataset_cards.check import assert_card_ok

    if not folder.is_dir():
        raise MeavError(f"{folder}: no such folder")
    if check:
        assert_card_ok(folder)
        typer.echo(f"{folder / 'README.md'}: card OK")
        return
    from dataset_cards.card import write_card

    path = write_card(folder, repo_id=repo, license=license, pretty_name=pretty_name)
    assert_card_ok(folder)
    typer.echo(f"wrote {path}")


def publish(
    folder: Path = typer.Argument(
        ..., help="Folder to publish (a corpus with its card, or a model/AV folder)."
    ),
    repo: str = typer.Option(..., "--repo", help="Target repo id, ORG/NAME."),
    private: bool = typer.Option(
        False, "--private", help="Create the repo private (when it does not exist)."
    ),
    tag: str | None = typer.Option(
        None, "--tag", help="Tag the published commit (e.g. v1); tags are never moved."
    ),
    revision: str | None = typer.Option(
        None, "--revision", help="Branch to publish to (created if missing)."
    ),
    repo_type: str = typer.Option("dataset", "--repo-type", help="dataset or model."),
    message: str | None = typer.Option(None, "--message", "-m", help="Commit message."),
) -> None:
    """Publish a folder in one commit (none when unchanged); datasets must pass `meav card --check` first."""
    from dataset_cards.hub import publish as do_publish

    if repo_type == "dataset":
        from dataset_cards.check import assert_card_ok

        assert_card_ok(folder)
    result = do_publish(folder, repo, repo_type, private, tag, revision, message)
    state = f"commit {result.commit[:12]}" if result.changed else f"unchanged, still at {result.commit[:12]}"
    typer.echo(f"{result.url} ({state}{', tag ' + tag if tag else ''})")
