"""Options of `meav annotate serve | push | report` (pydantic only: the CLI builds its flags from them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from meav.core.config import Options

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "meav" / "argilla"


class ServeOptions(Options):
    """A local Argilla server (web UI included) with meav's SQL search engine."""

    port: int = Field(6900, ge=1, le=65535, description="Port of the Argilla server (127.0.0.1).")
    data_dir: Path = Field(
        DEFAULT_DATA_DIR, description="Database, logs, owner credentials (0600); kept across restarts."
    )
    redis_url: str | None = Field(
        None, description="Use this Redis instead of starting a local redis-server."
    )


class PushOptions(Options):
    """Annotator users and datasets, and the test queries assigned to them (idempotent)."""

    corpus_dir: Path = Field(description="Corpus folder (Hub layout); its test split is annotated.")
    url: str = Field(description="Argilla server URL.")
    api_key: str = Field(description="Owner API key (or ARGILLA_API_KEY).")
    annotators: list[str] = Field(description="Annotator usernames (at least 2; comma-separated on the CLI).")
    queries_per_annotator: int = Field(30, ge=1, description="Queries per annotator (3 responses each).")
    min_shared: int = Field(15, ge=0, description="Queries every pair of annotators must share, at least.")
    seed: int = Field(0, description="Seed of query choice and record order.")
    argilla_dataset: str = Field(
        "meav-levels", description="Argilla dataset name (the key dataset and each annotator's)."
    )
    workspace: str = Field("meav", description="Owner workspace; annotator a works in '<workspace>-a'.")
    credentials: Path | None = Field(
        None, description="Annotator passwords file (0600); default ~/.config/meav/argilla/."
    )

    @field_validator("annotators", mode="before")
    @classmethod
    def _split(cls, value):
        names = [a.strip() for a in value.split(",")] if isinstance(value, str) else value
        names = [a for a in names if a]
        if len(names) < 2:
            raise ValueError(f"need at least 2 annotators to measure agreement, got {len(names)}")
        return names


class ReportOptions(Options):
    """Agreement and accuracy of the submitted labels."""

    url: str = Field(description="Argilla server URL.")
    api_key: str = Field(description="Owner API key (or ARGILLA_API_KEY).")
    argilla_dataset: str = Field("meav-levels", description="Argilla dataset name given to push.")
    out: Path = Field(description="Folder for report.json, report.md and confusion.png.")
    workspace: str = Field("meav", description="Owner workspace given to push.")
    resamples: int = Field(1000, ge=1, description="Bootstrap resamples for the 95% intervals.")
    seed: int = Field(0, description="Bootstrap seed.")
