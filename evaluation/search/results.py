"""A search's result as a typed, versioned record: what `search` returns and writes as search-<stem>.json, and
what the reports read back. A file of another `format_version` is refused with one line naming it (older
committed runs are migrated once by experiments/migrate_search_format.py, not read by branches in the library).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from meav.core.errors import MeavError

FORMAT_VERSION = 2
Shares = dict[str, dict[str, float]]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetRecord(_Record):
    target: list[str] = Field(description="One level per domain, in the run's domain order.")
    reached: bool = Field(description="Found on the search queries (margin > 0).")
    margin: float | None = Field(description="The best point's margin on the search queries.")
    coeffs: dict[str, float] | None = Field(description="The best point's coefficient per knob.")
    shares: Shares | None = Field(description="Level shares per domain at the best point, search queries.")
    confirmed: bool | None = Field(
        None, description="Holds on the confirmation queries (None: not confirmed)."
    )
    confirm_shares: Shares | None = Field(
        None, description="Level shares at the point, confirmation queries."
    )
    confirm_support: float | None = Field(None, description="P(holds) over resampled confirmation queries.")
    unedited_support: float | None = Field(None, description="The same for the unedited model.")
    unedited_holds: bool = Field(False, description="The unedited model already holds it where judged.")


class UneditedRecord(_Record):
    search: Shares = Field(description="The unedited model's shares on the search queries.")
    confirm: Shares | None = Field(description="… on the confirmation queries (None: confirmation off).")
    holds: list[list[str]] = Field(description="Targets it already holds where the verdict is taken.")
    holds_on: str = Field(description="'confirm' or 'search': where that is.")


class LevelHolds(_Record):
    evaluations: int = Field(description="Full search-set evaluations counted.")
    per_domain: dict[str, dict[str, int]] = Field(
        description="Per domain, evaluations where each level held."
    )


class SecondsPer(_Record):
    mean: float | None = Field(description="Mean seconds of the timed evaluations of this kind.")
    timed: int = Field(description="How many were timed.")


class SearchRecord(_Record):
    """One search run: its settings, the strategy's result, the confirmations and the run's counts."""

    format_version: int = Field(FORMAT_VERSION, description="Version of this record's layout.")
    kind: str = Field("search", description="Always 'search'.")
    base: str = Field(description="Base model the AVs were steered on.")
    avs: dict[str, str] = Field(description="Domain → AV folder or Hub id.")
    dataset: str = Field(description="Corpus the queries came from.")
    split: str = Field(description="Split the queries came from.")
    null: bool = Field(description="Norm-matched random vectors instead of the AVs.")
    n_queries: dict[str, dict[str, int]] = Field(description="Per domain, search and confirmation queries.")
    decompose: str = Field(description="Decomposition of the AVs into knobs ('none': the AVs themselves).")
    strategy: str = Field(description="Registered strategy name.")
    coefficients: list[str] = Field(description="Knob names, in coefficient order.")
    domains: list[str] = Field(description="Domains, in target order.")
    evaluations: int = Field(description="Evaluations the strategy ran.")
    full_split_equivalents: float = Field(description="Evaluations weighted by the share of queries used.")
    wall_s: float = Field(description="Wall seconds of this process's search (not summed over sessions).")
    targets_reached: int = Field(description="Targets found on the search queries.")
    targets_total: int = Field(description="All targets (27 for three domains).")
    level_holds: LevelHolds = Field(description="Per domain, how many full evaluations each level held.")
    values: list[float] | None = Field(None, description="grid, adaptive: the coefficient values.")
    coarse: int | None = Field(None, description="adaptive: values per coefficient in the coarse screen.")
    budget: int | None = Field(None, description="The strategy's evaluation budget.")
    screen_fraction: float | None = Field(
        None, description="adaptive: share of search queries while screening."
    )
    low: float | None = Field(None, description="random, optuna: the coefficient box's lower end.")
    high: float | None = Field(None, description="random, optuna: the coefficient box's upper end.")
    seed: int | None = Field(None, description="random, optuna: the seed.")
    targets_tried: int | None = Field(None, description="optuna: targets given at least one turn.")
    targets: list[TargetRecord] = Field(description="Every target with its best point and verdict.")
    evaluations_reused: int = Field(description="Evaluations taken from the log instead of scored.")
    evaluation_s: float = Field(description="Seconds of the evaluations used, summed over every session.")
    evaluations_untimed: int = Field(description="Evaluations used that the log holds no time for.")
    seconds_per_evaluation: dict[str, SecondsPer] = Field(description="Per kind (search, confirm).")
    setup_s: float = Field(description="Seconds building the knobs (decomposition, null vectors).")
    unedited: UneditedRecord = Field(description="The unedited model (every coefficient 0) as a reference.")
    confirm_evaluations: int = Field(description="Distinct confirmation-set evaluations of found points.")
    targets_confirmed: int | None = Field(description="Found targets that hold on the confirmation queries.")
    targets_confirmed_expected: float | None = Field(description="Its expectation over resampled queries.")
    targets_confirmed_interval: list[int] | None = Field(description="Middle 95% of joint resamples.")
    targets_confirmed_beyond_unedited: int | None = Field(description="Confirmed, not held unedited.")
    targets_confirmed_beyond_unedited_expected: float | None = Field(description="Its expectation.")
    targets_confirmed_beyond_unedited_interval: list[int] | None = Field(description="Middle 95%.")
    targets_confirmed_beyond_unedited_bounds: list[float] | None = Field(
        description="Bounds on the expectation where per-query winners were not logged."
    )

    def to_json(self) -> dict:
        return self.model_dump(mode="json")


def read_search(path: str | Path) -> SearchRecord:
    """A search-*.json file as a record; another format or a broken file is one error line naming it."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise MeavError(f"{path}: not a readable search result ({e})") from e
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != FORMAT_VERSION:
        raise MeavError(
            f"{path}: format_version {version}, this meav reads {FORMAT_VERSION}; "
            "migrate it with experiments/migrate_search_format.py"
        )
    try:
        return SearchRecord.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise MeavError(f"{path}: field {where}: {err['msg']}") from None
