"""CLI adapters over options models: a typer option per model field, help text said once (in the model).

Each stage's CLI is a thin adapter: its command's flags are the fields of the stage's options model
(`control_lambdas` → `--control-lambdas`), built with `flag()`, and the command builds the model with `options()` and
calls the stage's Python API. Errors naming a field (`OptionError`) are shown under the flag (or argument)
that fed it by `meav.cli`: `options()` records the running command, `flag_for()` finds the field's parameter.
A field named after a Python keyword ends in `_` (`lambda_` → `--lambda`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from typer.main import get_current_context  # typer's own (vendored) click context

from meav.core.config import validation_message
from meav.core.errors import OptionError

M = TypeVar("M", bound=BaseModel)

_running: list[Any] = []  # the command whose options() ran last (meav.cli resets it per run)


def flag_name(field: str) -> str:
    return "--" + field.rstrip("_").replace("_", "-")


def reset() -> None:
    """Forget the running command (a new command line starts)."""
    _running.clear()


def track_command() -> None:
    """Record the running click command, so errors on its fields name its flags (`options()` does this; a
    command that builds its model otherwise calls it first)."""
    ctx = get_current_context(silent=True)
    if ctx is not None:
        _running[:] = [ctx.command]


def flag_for(field: str) -> str:
    """How the user gave `field` to the running command: its flag (`--lambdas`), its argument (`FOLDER`), or,
    for a field the command has no parameter for (a config file's key), the field's own name."""
    field = field.split(".")[0]  # joint.medical → joint
    if not _running:
        return flag_name(field)
    for param in _running[-1].params:
        if param.name == field:
            if param.param_type_name == "argument":
                return param.name.upper()  # as --help shows it: FOLDER
            longs = [o for o in param.opts if o.startswith("--")]
            return (longs or param.opts)[0]
    return field


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
    """The options model from a command's values; a bad value is an `OptionError` (a usage error) on its field."""
    track_command()
    try:
        return model.model_validate(values)
    except ValidationError as e:
        where, msg = validation_message(e)
        raise OptionError(where.split(".")[0] or model.__name__, msg) from None
