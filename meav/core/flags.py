"""CLI adapters over options models: a typer option per model field, help text said once (in the model).

Each stage's CLI is a thin adapter: its command's flags are the fields of the stage's options model
(`coef_range` → `--coef-range`), built with `flag()`, and the command builds the model with `options()` and
calls the stage's Python API. Errors naming a field (`OptionError`) are shown under that flag by `meav.cli`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from meav.core.config import validation_message
from meav.core.errors import MeavError

M = TypeVar("M", bound=BaseModel)


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


_MODEL_DEFAULT = object()


def flag(
    model: type[BaseModel], field: str, *decls: str, default: Any = _MODEL_DEFAULT, **kwargs: Any
) -> Any:
    """`typer.Option` for `model.field`: the field's description and default (or `default`: None where the
    command means "keep the config file's value"); `--field-name` unless `decls` are given."""
    info = model.model_fields[field]
    if default is _MODEL_DEFAULT:
        default = ... if info.is_required() else info.get_default(call_default_factory=True)
    if not decls:  # a boolean can be switched either way: --write-back / --no-write-back
        name = flag_name(field)
        decls = (f"{name}/--no-{name[2:]}",) if info.annotation is bool else (name,)
    return typer.Option(default, *decls, help=info.description, **kwargs)


def argument(model: type[BaseModel], field: str, **kwargs: Any) -> Any:
    """`typer.Argument` for a required positional field (a folder, a run directory)."""
    return typer.Argument(..., help=model.model_fields[field].description, **kwargs)


def options(model: type[M], /, **values: Any) -> M:
    """The options model from a command's values; a bad value is one line naming its flag."""
    try:
        return model.model_validate(values)
    except ValidationError as e:
        where, msg = validation_message(e)
        raise MeavError(f"{flag_name(where.split('.')[0])}: {msg}") from None
