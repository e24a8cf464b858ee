"""The Hub test server as a session fixture: started once, on 127.0.0.1 port 0, before huggingface_hub or
datasets are imported (they read HF_ENDPOINT, HF_HOME and HF_HUB_DISABLE_XET once, at import)."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.hub.handler import HubHTTPServer


def start_hub_server(root: Path, token: str) -> tuple[HubHTTPServer, threading.Thread]:
    """Start the server on 127.0.0.1, port 0 (a free port), in a daemon thread; `server.url` is the endpoint."""
    server = HubHTTPServer(root, token)
    thread = threading.Thread(target=server.serve_forever, name="hub-server", daemon=True)
    thread.start()
    return server, thread


@dataclass
class HubFixture:
    """What tests get from the `hub` fixture: the endpoint, a token it accepts, and unique repo names."""

    url: str
    token: str
    server: HubHTTPServer
    namespace: str = "meav-test"

    def repo_name(self, prefix: str = "repo") -> str:
        """A repo id no other test uses, e.g. `meav-test/corpus-3f9a1c2b`."""
        return f"{self.namespace}/{prefix}-{uuid.uuid4().hex[:8]}"


def start_session_hub() -> HubFixture:
    """Start one server for the test session and point huggingface_hub / datasets at it through the environment.

    Must run before huggingface_hub is imported: it reads HF_ENDPOINT, HF_HOME and HF_HUB_DISABLE_XET once, at
    import. The variables are overwritten, never defaulted, so a developer's real token never reaches a test.
    """
    if "huggingface_hub" in sys.modules or "datasets" in sys.modules:
        raise RuntimeError("huggingface_hub was imported before the Hub test server set HF_ENDPOINT")
    root = Path(tempfile.mkdtemp(prefix="meav-hub-"))
    atexit.register(shutil.rmtree, root, True)
    token = "hf_meav_test_" + secrets.token_hex(8)
    server, _ = start_hub_server(root / "server", token)
    os.environ.update(
        HF_ENDPOINT=server.url,
        HF_TOKEN=token,
        HF_HUB_DISABLE_XET="1",
        HF_HOME=str(root / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("HF_DATASETS_OFFLINE", None)
    return HubFixture(server.url, token, server)
