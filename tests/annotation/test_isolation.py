"""Isolation: an annotator reads only their own records and responses, never the level, never owner ops."""

from __future__ import annotations

import pytest

from tests.annotation.rest import ANNOTATORS, Annotator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def annotators(argilla, pushed):
    return {a: Annotator(argilla.url, a, pushed["password"][a]) for a in ANNOTATORS}


def _owner_headers(argilla) -> dict:
    return {"X-Argilla-Api-Key": argilla.api_key()}


def test_annotator_sees_only_own_dataset_and_records(argilla, pushed, annotators):
    import httpx

    ann1, ann2 = annotators["ann1"], annotators["ann2"]
    ds1, ds2 = ann1.dataset(), ann2.dataset()
    assert ds1["id"] != ds2["id"] and ds1["workspace_id"] != ds2["workspace_id"]
    records1 = ann1.records()
    # Another annotator's dataset, records and queue: forbidden.
    assert ann2.get(f"/api/v1/records/{records1[0]['id']}").status_code == 403
    assert ann2.post(f"/api/v1/me/datasets/{ds1['id']}/records/search", json={}).status_code == 403
    assert ann2.get(f"/api/v1/datasets/{ds1['id']}").status_code == 403
    assert ann2.submit(records1[0]["id"], "expert").status_code == 403
    # The key dataset (generation levels) is in the owner workspace: no annotator reaches it.
    owner = _owner_headers(argilla)
    workspaces = httpx.get(f"{argilla.url}/api/v1/me/workspaces", headers=owner).json()["items"]
    meav = next(w["id"] for w in workspaces if w["name"] == "meav")
    datasets = httpx.get(f"{argilla.url}/api/v1/me/datasets", headers=owner).json()["items"]
    key = next(d for d in datasets if d["workspace_id"] == meav and d["name"] == ds1["name"])
    for ann in annotators.values():
        assert ann.get(f"/api/v1/datasets/{key['id']}").status_code == 403
        assert ann.post(f"/api/v1/me/datasets/{key['id']}/records/search", json={}).status_code == 403


def test_annotator_never_sees_level_or_others_responses(argilla, annotators):
    ann1, ann2 = annotators["ann1"], annotators["ann2"]
    ds2 = ann2.dataset()
    everything = ann2.post(
        f"/api/v1/me/datasets/{ds2['id']}/records/search",
        params={"include": "responses", "limit": 100},
        json={},
    ).json()["items"]
    assert len(everything) == 12
    user2 = ann2.get("/api/v1/me").json()["id"]
    for item in everything:
        record = ann2.get(f"/api/v1/records/{item['record']['id']}").json()
        assert set(record["metadata"]) == {"domain", "query_id"}, (
            "the generation level must not reach annotators"
        )
        assert all(r["user_id"] == user2 for r in record.get("responses") or [])
    props = ann2.get(f"/api/v1/me/datasets/{ds2['id']}/metadata-properties").json()["items"]
    assert {p["name"] for p in props} == {"domain", "query_id"}
    assert ann1.get(f"/api/v1/datasets/{ds2['id']}/records").status_code == 403


def test_annotator_cannot_call_owner_operations(argilla, annotators):
    ann = annotators["ann3"]
    ds = ann.dataset()
    assert ann.post("/api/v1/workspaces", json={"name": "mine"}).status_code == 403
    new_user = {"first_name": "x", "username": "intruder", "password": "12345678abc", "role": "owner"}
    assert ann.post("/api/v1/users", json=new_user).status_code == 403
    assert ann.get(f"/api/v1/datasets/{ds['id']}/records").status_code == 403  # all responses: owner/admin
    assert ann.post(f"/api/v1/datasets/{ds['id']}/records/search", json={}).status_code == 403
    one = {"items": [{"fields": {"query": "q", "response": "r"}}]}
    assert ann.post(f"/api/v1/datasets/{ds['id']}/records/bulk", json=one).status_code == 403
    assert ann.delete(f"/api/v1/datasets/{ds['id']}").status_code == 403
