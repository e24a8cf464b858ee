"""Options models and YAML recipes: one loader, one error format (`FILE: field.path: message`).

Every stage's options and recipes are pydantic models with `extra="forbid"` and a description on every field;
they come from Python (keyword arguments), from a YAML file, or from both (file first, non-None overrides on
top). A bad value is one `MeavError` line naming the source and the field, never a pydantic traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from meav.core.errors import MeavError, OptionError

M = TypeVar("M", bound=BaseModel)


class Options(BaseModel):
    """Base of every stage's options model: unknown fields are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


def validation_message(e: ValidationError) -> tuple[str, str]:
    """(field path, message) of the first pydantic error, worded for people."""
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    return where, msg


def validate(model: type[M], data: dict[str, Any], source: str | Path | None = None) -> M:
    """`model` from `data`; a bad field is an OptionError (no source) or a MeavError naming the source."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        where, msg = validation_message(e)
        if source is None:
            raise OptionError(where or model.__name__, msg) from None
        raise MeavError(f"{source}: {where}: {msg}" if where else f"{source}: {msg}") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from `path`; a missing file, bad YAML or a non-mapping is one line naming the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MeavError(f"{path}: file not found") from None
    except OSError as e:
        raise MeavError(f"{path}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise MeavError(f"{path}: invalid YAML ({str(e).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MeavError(f"{path}: expected a YAML mapping of fields, got {type(data).__name__}")
    return data


def load_yaml(model: type[M], path: str | Path | None, /, **overrides: Any) -> M:
    """`model` from a YAML file (if any) with non-None keyword overrides on top."""
    data = read_yaml(path) if path is not None else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validate(model, data, path if path is not None else None)
