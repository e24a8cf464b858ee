"""One error type for expected failures: the CLI prints its message on one line and exits non-zero."""


class MeavError(Exception):
    """Bad input or an unreachable service; the message names the file, field, tensor or URL at fault."""
