"""An annotator's client made of the REST calls the Argilla UI makes (login, queue search, submit)."""

from __future__ import annotations

import httpx

ANNOTATORS = ["ann1", "ann2", "ann3"]
PENDING = {
    "filters": {
        "and": [
            {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]}
        ]
    }
}


class Annotator:
    def __init__(self, url: str, username: str, password: str):
        self.url, self.username = url, username
        r = httpx.post(f"{url}/api/v1/token", data={"username": username, "password": password})
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, headers=self.headers, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return httpx.post(self.url + path, headers=self.headers, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return httpx.delete(self.url + path, headers=self.headers, **kw)

    def dataset(self) -> dict:
        items = self.get("/api/v1/me/datasets").json()["items"]
        assert len(items) == 1, f"{self.username} sees {len(items)} datasets"
        return items[0]

    def queue(self, limit: int = 100) -> tuple[list[dict], int]:
        """The pending queue, as the UI asks for it: records without a response of mine."""
        r = self.post(
            f"/api/v1/me/datasets/{self.dataset()['id']}/records/search",
            params={"include": "responses", "limit": limit},
            json=PENDING,
        )
        r.raise_for_status()
        return [it["record"] for it in r.json()["items"]], r.json()["total"]

    def records(self) -> list[dict]:
        """Every record of my dataset, answered or not."""
        r = self.post(
            f"/api/v1/me/datasets/{self.dataset()['id']}/records/search", params={"limit": 100}, json={}
        )
        r.raise_for_status()
        return [it["record"] for it in r.json()["items"]]

    def submit(self, record_id: str, label: str) -> httpx.Response:
        return self.post(
            f"/api/v1/records/{record_id}/responses",
            json={"values": {"level": {"value": label}}, "status": "submitted"},
        )
