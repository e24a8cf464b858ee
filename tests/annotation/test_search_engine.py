"""Our SQL search engine behind the real server: text, filters, sorting, paging, progress, metrics.

Expected values follow the Elasticsearch engine's semantics (argilla_server/search_engine/commons.py).
"""

from __future__ import annotations

import contextlib
import io
import time

import httpx
import pytest

pytestmark = pytest.mark.slow
TEXTS = ["alpha beta", "beta gamma", "gamma delta", "delta alpha", "beta beta", "omega"]


@pytest.fixture(scope="module")
def engine_ds(argilla):
    import argilla as rg

    client = rg.Argilla(api_url=argilla.url, api_key=argilla.api_key(), retries=0)
    ws = rg.Workspace(name="engine", client=client).create()
    settings = rg.Settings(
        fields=[rg.TextField(name="text")],
        questions=[rg.LabelQuestion(name="label", labels=["a", "b"])],
        metadata=[rg.TermsMetadataProperty(name="tag"), rg.IntegerMetadataProperty(name="n")],
    )
    ds = rg.Dataset(name="engine-check", workspace=ws.name, settings=settings, client=client).create()
    records = [
        rg.Record(id=f"r{i}", fields={"text": t}, metadata={"tag": "x" if i % 2 == 0 else "y", "n": i})
        for i, t in enumerate(TEXTS)
    ]
    with contextlib.redirect_stderr(io.StringIO()):
        ds.records.log(records)
    headers = {"X-Argilla-Api-Key": argilla.api_key()}
    ids = {
        r["external_id"]: r["id"]
        for r in httpx.get(f"{argilla.url}/api/v1/datasets/{ds.id}/records", headers=headers).json()["items"]
    }
    post = f"{argilla.url}/api/v1/records/{{}}/responses"
    assert (
        httpx.post(
            post.format(ids["r0"]),
            headers=headers,
            json={"values": {"label": {"value": "a"}}, "status": "submitted"},
        ).status_code
        == 201
    )
    assert (
        httpx.post(
            post.format(ids["r1"]),
            headers=headers,
            json={"values": {"label": {"value": "b"}}, "status": "draft"},
        ).status_code
        == 201
    )
    return argilla.url, str(ds.id), headers


def _search(engine_ds, body: dict, me: bool = False, **params) -> tuple[list[str], int]:
    url, ds_id, headers = engine_ds
    path = f"/api/v1/me/datasets/{ds_id}/records/search" if me else f"/api/v1/datasets/{ds_id}/records/search"
    r = httpx.post(url + path, headers=headers, json=body, params=params)
    assert r.status_code == 200, r.text
    return [it["record"]["external_id"] for it in r.json()["items"]], r.json()["total"]


def _meta(name: str) -> dict:
    return {"entity": "metadata", "metadata_property": name}


def test_text_query_needs_every_term(engine_ds):
    assert sorted(_search(engine_ds, {"query": {"text": {"q": "gamma"}}})[0]) == ["r1", "r2"]
    assert _search(engine_ds, {"query": {"text": {"q": "beta gamma", "field": "text"}}})[0] == ["r1"]


def test_metadata_filters_sort_and_paging(engine_ds):
    terms = {"type": "terms", "scope": _meta("tag"), "values": ["x"]}
    assert sorted(_search(engine_ds, {"filters": {"and": [terms]}})[0]) == ["r0", "r2", "r4"]
    rng = {"type": "range", "scope": _meta("n"), "ge": 2, "le": 4}
    assert sorted(_search(engine_ds, {"filters": {"and": [rng, terms]}})[0]) == ["r2", "r4"]
    by_n_desc = {"sort": [{"scope": _meta("n"), "order": "desc"}]}
    assert _search(engine_ds, by_n_desc, offset=1, limit=2) == (["r4", "r3"], 6)


def test_response_filters_for_the_current_user(engine_ds):
    status = {"entity": "response", "property": "status"}
    pending = {"filters": {"and": [{"type": "terms", "scope": status, "values": ["pending"]}]}}
    assert sorted(_search(engine_ds, pending, me=True)[0]) == ["r2", "r3", "r4", "r5"]
    submitted = {"filters": {"and": [{"type": "terms", "scope": status, "values": ["submitted"]}]}}
    assert _search(engine_ds, submitted, me=True)[0] == ["r0"]
    both = {"filters": {"and": [{"type": "terms", "scope": status, "values": ["pending", "draft"]}]}}
    assert sorted(_search(engine_ds, both, me=True)[0]) == ["r1", "r2", "r3", "r4", "r5"]
    label = {
        "filters": {
            "and": [{"type": "terms", "scope": {"entity": "response", "question": "label"}, "values": ["a"]}]
        }
    }
    assert _search(engine_ds, label, me=True)[0] == ["r0"]
    # A user's queue order is a stable shuffle (ES: random_score seeded by the user id).
    assert _search(engine_ds, {}, me=True)[0] == _search(engine_ds, {}, me=True)[0]


def test_progress_and_metadata_metrics(engine_ds):
    url, ds_id, headers = engine_ds
    progress = httpx.get(f"{url}/api/v1/datasets/{ds_id}/progress", headers=headers).json()
    assert (progress["total"], progress["completed"], progress["pending"]) == (6, 1, 5)
    metrics = httpx.get(f"{url}/api/v1/me/datasets/{ds_id}/metrics", headers=headers).json()["responses"]
    assert (metrics["submitted"], metrics["draft"], metrics["pending"]) == (1, 1, 4)
    props = {
        p["name"]: p["id"]
        for p in httpx.get(f"{url}/api/v1/me/datasets/{ds_id}/metadata-properties", headers=headers).json()[
            "items"
        ]
    }
    tag = httpx.get(f"{url}/api/v1/metadata-properties/{props['tag']}/metrics", headers=headers).json()
    assert tag["total"] == 6 and {v["term"]: v["count"] for v in tag["values"]} == {"x": 3, "y": 3}
    n = httpx.get(f"{url}/api/v1/metadata-properties/{props['n']}/metrics", headers=headers).json()
    assert (n["min"], n["max"]) == (0, 5)


def test_background_job_recomputes_record_status(engine_ds):
    """A dataset update enqueues an rq job (record statuses); the worker `serve` starts must run it."""
    url, ds_id, headers = engine_ds
    body = {"distribution": {"strategy": "overlap", "min_submitted": 2}}
    assert httpx.patch(f"{url}/api/v1/datasets/{ds_id}", headers=headers, json=body).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        progress = httpx.get(f"{url}/api/v1/datasets/{ds_id}/progress", headers=headers).json()
        if progress["completed"] == 0:
            break
        time.sleep(0.5)
    assert (progress["completed"], progress["pending"]) == (0, 6)  # r0 has 1 of the 2 submissions now needed
