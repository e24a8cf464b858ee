"""`serve(ServeOptions)`: load the base and the AVs, start the engine, answer HTTP until SIGINT / SIGTERM.

The listening socket is bound first (port 0 picks a free one), so the printed URL is the real one. The server's
state folder (~/.cache/meav/serve/<host>-<port>, or --cache-dir) is held by one server at a time (a lock, and
the processes recorded beside it): a second server on it is refused, naming the first.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from meav.core.av import load
from meav.core.embedded import SERVED_NAME, cache_root
from meav.core.errors import OptionError
from meav.core.grid import parse_interval
from meav.core.models import load_causal_lm, load_tokenizer, resolve_model
from meav.core.named import parse_named_avs
from meav.core.service import ServiceLock
from meav.serving.alignment import AlignmentSet
from meav.serving.app import create_app
from meav.serving.engines import REGISTERED_ENGINES
from meav.serving.options import ServeOptions


def served_name(options: ServeOptions) -> str:
    """The base's model id: --served-model-name, else for 'embedded' a name saying what it is (the dequantised
    Q4_1 GGUF, not the Hub's weights), else the Hub id or the folder's name (never an absolute path: it says
    nothing to a client and leaks the server's layout)."""
    if options.served_model_name:
        return options.served_model_name
    if options.base == "embedded":
        return SERVED_NAME
    path = Path(options.base).expanduser()
    return path.resolve().name if path.exists() else options.base


def load_server(options: ServeOptions):
    """(engine, alignments): the base, its tokenizer and the AVs loaded and checked, the engine built."""
    o = options
    lambda_range = parse_interval(o.lambda_range, "lambda_range")
    paths = parse_named_avs(o.av)
    model_id = served_name(o)
    if model_id in paths or "@" in model_id:
        raise OptionError(
            "served_model_name", f"{model_id!r}: an AV's name or containing '@'; choose another"
        )
    avs = {name: load(path) for name, path in paths.items()}
    base_path = resolve_model(o.base)
    model = load_causal_lm(base_path, dtype=o.dtype, device=o.device).eval()
    tokenizer = load_tokenizer(base_path)
    alignments = AlignmentSet(model_id, avs, lambda_range)
    engine = REGISTERED_ENGINES[o.engine](o, model, tokenizer, alignments, base_path)
    return engine, alignments


def serve(options: ServeOptions, say: Callable[[str], None] = print) -> None:
    """Serve until interrupted (SIGINT / SIGTERM), then stop the engine and free the state folder."""
    o = options
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((o.host, o.port))
    except OSError as e:
        raise OptionError("port", f"{o.host}:{o.port}: cannot listen ({e.strerror})") from None
    port = sock.getsockname()[1]
    lock = ServiceLock(Path(o.cache_dir or cache_root() / "serve" / f"{o.host}-{port}"), "serve")
    leftovers = lock.acquire()
    engine = None
    try:
        if leftovers:
            say(f"stopped what a killed earlier server left: {', '.join(leftovers)}")
        engine, alignments = load_server(o)
        engine.start()
        app = create_app(engine, alignments, o)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        names = ", ".join(alignments.avs) or "none"
        say(
            f"meav serve: http://{o.host}:{port}/v1 (model {alignments.model_id}; AVs {names}; {engine.mode})"
        )
        server.run(sockets=[sock])
    finally:
        if engine is not None:
            engine.stop()
        sock.close()
        lock.release()
