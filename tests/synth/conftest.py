"""Fixtures for synth tests: the Anthropic-protocol test server and small recipes that use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.fakes.anthropic import AnthropicTestServer


@pytest.fixture
def anthropic_server(monkeypatch):
    with AnthropicTestServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        yield server


def write_recipe(folder: Path, **overrides) -> Path:
    """A small recipe (3 domains, both persona sources) on the Anthropic backend, with a local persona file."""
    personas = folder / "personas.jsonl"
    with open(personas, "w") as f:
        for i in range(12):
            f.write(
                json.dumps(
                    {"persona": f"Person {i}: a {['nurse', 'farmer', 'pilot', 'baker'][i % 4]} aged {20 + i}"}
                )
                + "\n"
            )
    recipe = {
        "name": "test",
        "seed": 0,
        "backend": "anthropic:claude-sonnet-5-5",
        "domains": ["medical", "financial", "legal"],
        "personahub": {"dataset": "personas.jsonl", "sample": 6},
        "createpersona": {"roots": 2, "branching": 2, "depth": 1, "seeds": [0, 1]},
        "cleanup": {"min_query_words": 5},
        "max_retries": 0,
        "request_timeout": 10,
    }
    recipe.update(overrides)
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path
