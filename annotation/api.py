"""The annotation stage's Python API: `serve(ServeOptions)`, `push(PushOptions)`, `report(ReportOptions)`."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from meav.annotation.local_argilla import LocalArgilla
from meav.annotation.options import ServeOptions
from meav.annotation.records import push
from meav.annotation.reporting import report
from meav.core.errors import MeavError

__all__ = ["push", "report", "serve"]


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def serve(options: ServeOptions, say: Callable[[str], None] = print) -> None:
    """Run a local Argilla until Ctrl-C or SIGTERM, then stop every process it started."""
    server = LocalArgilla(options.data_dir, port=options.port, redis_url=options.redis_url)
    # Both set explicitly: a process started in the background of a non-interactive shell inherits SIGINT
    # ignored, and Python then installs no Ctrl-C handler of its own.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        if server.leftovers:
            say(f"stopped what a killed earlier run left on {server.data_dir}: {', '.join(server.leftovers)}")
        say(f"Argilla: {server.url}")
        say(f"owner credentials (username, password, api_key; mode 0600): {server.credentials}")
        say("Ctrl-C stops it.")
        while server.alive():
            time.sleep(0.5)
        raise MeavError(f"a server process stopped; see {server.data_dir / 'logs'}")
    except KeyboardInterrupt:
        say("stopping")
    finally:
        server.stop()
        for sig, handler in previous.items():  # a Python caller gets its own handlers back
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
