"""Fixtures: one real local Argilla (Redis + argilla-server 2.8.0 + our SQL engine) on 127.0.0.1 per session,
and the toy corpus pushed to it for three annotators."""

from __future__ import annotations

import json
import shutil

import pytest

from meav.annotation.local_argilla import LocalArgilla, free_port
from tests.annotation.rest import ANNOTATORS


@pytest.fixture(scope="session")
def argilla(tmp_path_factory):
    """A started LocalArgilla (temp data dir, free port); stopped at the end of the session."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server missing: run bin/setup --test (bin/setup.d/annotation.sh installs it)")
    server = LocalArgilla(tmp_path_factory.mktemp("argilla-data"), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pushed(argilla, toy_corpus, tmp_path_factory):
    """`push` of the toy corpus (N=4, M=2, seed 1) → its result plus each annotator's password."""
    from meav.annotation import PushOptions, push

    creds = tmp_path_factory.mktemp("creds") / "annotators.json"
    options = PushOptions(
        corpus_dir=toy_corpus, url=argilla.url, api_key=argilla.api_key(), annotators=ANNOTATORS,
        queries_per_annotator=4, min_shared=2, seed=1, credentials=creds,
    )  # fmt: skip
    result = push(options) | {"options": options}
    return result | {
        "password": {a: v["password"] for a, v in json.loads(creds.read_text())["users"].items()}
    }
