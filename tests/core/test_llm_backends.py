"""The Anthropic backend through the real SDK against the Anthropic-protocol test server."""

from __future__ import annotations

import json

import pytest

from meav.core.errors import MeavError
from meav.core.llm.cached import CachedLLM
from meav.core.llm.specs import parse_backend
from tests.fakes.anthropic import AnthropicTestServer


def make_llm(tmp_path, **kw) -> CachedLLM:
    llm = CachedLLM(
        backend="anthropic:claude-sonnet-5-5",
        cache_dir=str(tmp_path / "calls"),
        errors_file=str(tmp_path / "errors.jsonl"),
        **kw,
    )
    llm.load()
    return llm


def prompts(n: int) -> list[list[dict]]:
    return [[{"role": "user", "content": f"Persona: someone {i}\nwrite a query"}] for i in range(n)]


def test_parse_backend_specs():
    assert parse_backend("anthropic:claude-sonnet-5-5").kind == "anthropic"
    assert parse_backend("openai:llama@http://127.0.0.1:8000/v1").base_url == "http://127.0.0.1:8000/v1"
    assert parse_backend("local").kind == "local"
    with pytest.raises(MeavError, match="unknown backend"):
        parse_backend("bedrock:x")
    with pytest.raises(MeavError, match="openai:<model>@<base_url>"):
        parse_backend("openai:llama")


@pytest.mark.parametrize("status", [429, 500])
def test_retries_on_429_and_500_then_caches(tmp_path, monkeypatch, status):
    with AnthropicTestServer(fail_first=2, fail_status=status) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
        llm = make_llm(tmp_path, max_retries=3)
        out = llm.generate(prompts(3), max_new_tokens=64)
        assert all(o["generations"][0].startswith("Hello") for o in out)
        assert server.requests == 3 * 3  # two scripted failures, then success, per prompt
        assert all(o["statistics"]["output_tokens"][0] > 0 for o in out)
        again = llm.generate(prompts(3), max_new_tokens=64)
        assert server.requests == 9  # every completed call comes from the cache
        assert [o["generations"] for o in again] == [o["generations"] for o in out]


def test_timeout_is_retried(tmp_path, monkeypatch):
    with AnthropicTestServer(hang_first=1) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
        llm = make_llm(tmp_path, timeout=1.0, max_retries=2)
        out = llm.generate(prompts(2), max_new_tokens=64)
        assert all(o["generations"][0] for o in out)
        assert server.requests == 4


def test_concurrency_is_bounded(tmp_path, monkeypatch):
    with AnthropicTestServer(latency=0.1) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
        llm = make_llm(tmp_path, max_concurrency=4)
        llm.generate(prompts(24), max_new_tokens=64)
        assert server.requests == 24
        assert server.peak_in_flight == 4


def test_failures_are_logged_not_cached(tmp_path, monkeypatch):
    with AnthropicTestServer(fail_first=10, fail_status=500) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
        llm = make_llm(tmp_path, max_retries=0)
        out = llm.generate(prompts(2), max_new_tokens=64)
        assert [o["generations"] for o in out] == [[None], [None]]
        errors = [json.loads(x) for x in (tmp_path / "errors.jsonl").read_text().splitlines()]
        assert len(errors) == 2 and "InternalServerError" in errors[0]["error"]
        assert not list((tmp_path / "calls").glob("*/*.json"))
