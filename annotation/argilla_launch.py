"""Entry point run by the argilla-server venv's Python (not meav's): registers our search engine, then acts.

    python argilla_launch.py init CREDENTIALS   migrate the database, create the owner once (0600 file)
    python argilla_launch.py server HOST PORT   uvicorn on argilla_server:app
    python argilla_launch.py worker             rq worker for the jobs the server enqueues

Settings come from the environment (`ARGILLA_HOME_PATH`, `ARGILLA_DATABASE_URL`, `ARGILLA_REDIS_URL`,
`ARGILLA_SEARCH_ENGINE=meav-sql`, `ARGILLA_AUTH_SECRET_KEY`), set by `annotation/serve.py`. The engine module
is imported before `argilla_server:app` so `SearchEngine.get_by_name("meav-sql")` finds it in every process.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import secrets
import sys
from pathlib import Path


def _register_engine() -> None:
    """Import our search engine (it registers "meav-sql") from this folder, by path: this venv has
    argilla_server but not meav, so the folder is loaded as a package of its own and only the engine's
    modules run (they import argilla_server and each other, nothing else)."""
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "meav_argilla_engine", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package  # registered, not executed: the package's __init__ imports meav
    importlib.import_module("meav_argilla_engine.search_engine")


def _children_die_with_us() -> None:
    """The rq worker forks a work horse per job: it too must die when its parent does (meav's core.procs,
    loaded by path: it needs only the standard library)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "core" / "procs.py", here.parent / "meav" / "core" / "procs.py"):
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("meav_procs", candidate)
            procs = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(procs)
            procs.die_with_parent_on_fork()
            return


_register_engine()
_children_die_with_us()

OWNER = "owner"


def _write_secret_json(path: Path, data: dict) -> None:
    """Temp file created 0600, then renamed: the secret is never readable by others, never half-written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


async def _ensure_owner(credentials: Path) -> None:
    from argilla_server.contexts import accounts
    from argilla_server.database import AsyncSessionLocal
    from argilla_server.models import User, UserRole

    async with AsyncSessionLocal() as db:
        user = await accounts.get_user_by_username(db, OWNER)
        if user is not None and credentials.exists():
            return
        if user is None:
            password, api_key = secrets.token_urlsafe(18), "meav." + secrets.token_urlsafe(32)
            user = User(
                first_name="Owner",
                username=OWNER,
                role=UserRole.owner,
                api_key=api_key,
                password_hash=accounts.hash_password(password),
            )
            await user.save(db)
        else:  # credentials file lost: rotate the secrets so they are known again
            password, api_key = secrets.token_urlsafe(18), "meav." + secrets.token_urlsafe(32)
            user.api_key, user.password_hash = api_key, accounts.hash_password(password)
            await user.save(db)
        _write_secret_json(credentials, {"username": OWNER, "password": password, "api_key": api_key})


def init(credentials: str) -> None:
    from argilla_server.cli.database.migrate import migrate_db

    migrate_db(revision="head")
    asyncio.run(_ensure_owner(Path(credentials)))


def server(host: str, port: str) -> None:
    import uvicorn

    uvicorn.run("argilla_server:app", host=host, port=int(port), access_log=False, log_level="warning")


def worker() -> None:
    from argilla_server.jobs.queues import DEFAULT_QUEUE, HIGH_QUEUE, REDIS_CONNECTION
    from rq import Worker

    Worker([HIGH_QUEUE, DEFAULT_QUEUE], connection=REDIS_CONNECTION).work(
        with_scheduler=True, logging_level="WARNING"
    )


if __name__ == "__main__":
    commands = {"init": init, "server": server, "worker": worker}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {Path(__file__).name} {{init CREDENTIALS|server HOST PORT|worker}}")
    commands[sys.argv[1]](*sys.argv[2:])
