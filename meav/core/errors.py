"""One error type for expected failures: the CLI prints its message on one line and exits non-zero."""

from __future__ import annotations


class MeavError(Exception):
    """Bad input or an unreachable service; the message names the file, field, tensor or URL at fault."""


class OptionError(MeavError):
    """A bad value of one option of a stage's API, named by its field (`control_lambdas`), not by a CLI flag.

    The CLI shows it under the flag that fed the field (`--control-lambdas`); Python callers see the field.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def for_flag(self, flag: str) -> str:
        return f"{flag}: {self.message}"
