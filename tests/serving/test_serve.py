"""`meav serve` through the official `openai` client: answers equal offline steer + generate whatever else is in
the batch, streaming equals plain, bad requests are 4xx and the server keeps serving, the queue is bounded."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from tests.serving.conftest import start_server

PROMPTS = [
    "I have a question about my health.",
    "Please consult a qualified lawyer about my tenancy agreement.",
]
VECTORS = [{}, {"medical": 0.5}, {"legal": -1.3}, {"medical": 1.0, "legal": -0.5}]


def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=120)


def ask(server, model: str, prompt: str, alignment: dict, max_tokens: int = 24, stream: bool = False) -> str:
    kwargs = {"extra_body": {"alignment": alignment}} if alignment else {}
    r = client(server).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens,
        stream=stream,
        **kwargs,
    )
    if stream:
        return "".join(c.choices[0].delta.content or "" for c in r if c.choices)
    return r.choices[0].message.content


def paths(models, vector: dict, suffix: str = "") -> dict:
    return {models[name + suffix]: lam for name, lam in vector.items()}


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_plain_and_streamed_answers_equal_offline_generation(grouped, serve_models, offline, vector):
    model = "base"
    for prompt in PROMPTS:
        want = offline(paths(serve_models, vector), prompt, 24)
        assert want.strip(), "the reference generated nothing: the comparison would be empty"
        assert ask(grouped, model, prompt, vector) == want
        assert ask(grouped, model, prompt, vector, stream=True) == want


@pytest.mark.parametrize("mode", ["grouped", "per_row"])
def test_32_concurrent_clients_with_mixed_lambdas(mode, request, serve_models, offline):
    server = request.getfixturevalue(mode)
    suffix = "-lr" if mode == "per_row" else ""
    health = httpx.get(server.url.removesuffix("/v1") + "/health").json()
    assert health["mode"] == ("per-row low-rank" if mode == "per_row" else "grouped switching")
    rng = random.Random(0)
    jobs = [(rng.choice(VECTORS), rng.choice(PROMPTS), rng.choice([8, 16, 24])) for _ in range(32)]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda j: ask(server, "base", j[1], j[0], j[2], stream=j[2] == 16), jobs))
    assert len(answers) == 32
    for (vector, prompt, n), answer in zip(jobs, answers, strict=True):
        assert answer == offline(paths(serve_models, vector, suffix), prompt, n), (vector, prompt, n)


def test_lambda_in_the_model_name_and_level_names(grouped, serve_models):
    base = "base"
    body = ask(grouped, base, PROMPTS[0], {"medical": 0.5, "legal": -1.3})
    assert ask(grouped, f"{base}@medical=0.5,legal=-1.3", PROMPTS[0], {}) == body
    # a level name is the λ the AV's own sweep recommends for it (av_config.json: expert 0.7)
    assert ask(grouped, base, PROMPTS[1], {"medical": "expert"}) == ask(
        grouped, base, PROMPTS[1], {"medical": 0.7}
    )


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"alignment": {"cardiology": 1}}, 400, "alignment.cardiology"),
        ({"alignment": {"medical": 3.5}}, 400, "alignment.medical"),
        ({"alignment": {"legal": "expert"}}, 400, "alignment.legal"),  # legal's config recommends nothing yet
        ({"alignment": {"medical": "expertise"}}, 400, "alignment.medical"),
        ({"logprobs": True}, 400, "logprobs"),
        ({"tools": []}, 400, "tools"),
        ({"n": 2}, 400, "n"),
        ({"max_tokens": 0}, 400, "max_tokens"),
        ({"model": "gpt-4o"}, 404, "model"),
        ({"messages": []}, 400, "messages"),
        ({"alignment": {"medical": float("nan")}}, 400, "alignment.medical"),
        ({"alignment": {"medical": True}}, 400, "alignment.medical"),
        ({"temperature": float("nan")}, 400, "temperature"),
        ({"seed": 2**70}, 400, "seed"),
        (
            {"messages": [{"role": "user", "content": "word " * 600}]},
            400,
            "messages",
        ),  # past the context of 512
    ],
)
def test_bad_requests_are_refused_and_the_server_keeps_serving(grouped, serve_models, body, status, param):
    url = grouped.url + "/chat/completions"
    request = {
        "model": "base",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 4,
        **body,
    }
    content = json.dumps(
        request
    ).encode()  # NaN as JavaScript's literal, which Python's json reads (httpx refuses it)
    r = httpx.post(url, content=content, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["message"] and error["type"]
    assert ask(grouped, "base", "hi", {}, max_tokens=2) is not None


def test_a_stop_string_ends_the_answer_and_no_part_of_it_is_streamed(grouped, serve_models, offline):
    model = "base"
    want = offline({}, PROMPTS[0], 24)
    stop = want[6:10]  # four characters inside the answer: they arrive over more than one token
    assert len(stop) == 4 and stop.strip(), want
    assert len(offline.tok(stop, add_special_tokens=False)["input_ids"]) > 1  # so its first part is held back
    expected = want[: want.find(stop)]
    for stream in (False, True):
        r = client(grouped).chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPTS[0]}], max_tokens=24, stop=[stop],
            stream=stream,
        )  # fmt: skip
        if stream:
            chunks = [c.choices[0] for c in r if c.choices]
            text = "".join(c.delta.content or "" for c in chunks)
            finish = chunks[-1].finish_reason
        else:
            text, finish = r.choices[0].message.content, r.choices[0].finish_reason
        assert (text, finish) == (expected, "stop"), stream


def test_malformed_json_is_400(grouped):
    r = httpx.post(
        grouped.url + "/chat/completions", content=b'{"model": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_full_queue_is_429_and_the_rest_are_served(serve_models):
    server = start_server(
        "--base", serve_models["base"], "--max-batch", "1", "--max-queue", "2", "--max-new-tokens", "4000"
    )
    try:

        def one(_):
            try:
                ask(server, "base", PROMPTS[0], {}, max_tokens=400)
                return 200
            except openai.RateLimitError as e:
                assert e.body["code"] == "queue_full"
                return 429

        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(one, range(12)))
        assert codes.count(429) > 0 and codes.count(200) >= 3
        assert ask(server, "base", PROMPTS[0], {}, max_tokens=2) is not None
    finally:
        server.stop()


def test_a_request_past_its_deadline_is_504(serve_models):
    server = start_server("--base", serve_models["base"], "--request-timeout", "0.000001")
    try:
        with pytest.raises(openai.APIStatusError) as e:
            ask(server, "base", PROMPTS[0], {}, max_tokens=50)
        assert e.value.status_code == 504
    finally:
        server.stop()


def test_a_client_that_goes_away_cancels_its_work(tmp_path):
    from meav.testing.tiny import build_tiny_model

    # a context long enough that the answer cannot end before the client leaves
    base = build_tiny_model(tmp_path / "long", ascii_only=True, max_positions=200_000, seed=3)
    server = start_server("--base", base, "--max-new-tokens", "100000")
    health = server.url.removesuffix("/v1") + "/health"
    try:
        body = {"model": "long", "messages": [{"role": "user", "content": PROMPTS[0]}],
                "max_tokens": 100000, "stream": True}  # fmt: skip
        with httpx.stream("POST", server.url + "/chat/completions", json=body, timeout=60) as r:
            for i, _ in enumerate(r.iter_lines()):
                if i > 4:
                    break  # leave mid-stream
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and httpx.get(health).json()["finished"].get("cancelled", 0) < 1:
            time.sleep(0.2)
        state = httpx.get(health).json()
        assert state["finished"].get("cancelled") == 1 and state["active"] == 0
    finally:
        server.stop()


def test_an_av_of_another_base_is_refused_at_start(serve_models, tmp_path):
    """Same architecture and shapes, other weights: refused by the base fingerprint, naming the AV."""
    from meav.testing.tiny import build_tiny_model

    other = build_tiny_model(tmp_path / "other", arch="llama", ascii_only=True, hidden_size=48, seed=9)
    run = subprocess.run(
        [sys.executable, "-m", "meav.cli", "serve", "--base", str(other), "--av", f"medical={serve_models['medical']}", "--port", "0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [x for x in run.stderr.splitlines() if x.startswith("error:")]
    assert (
        run.returncode == 1 and len(lines) == 1 and "av-medical" in lines[0] and "fingerprint" in lines[0]
    ), run.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--av", "nameless"], "--av: 'nameless'"), (["--lambda-range", "3:-3"], "--lambda-range")],
)
def test_bad_options_are_one_line(serve_models, args, needle):
    run = subprocess.run([sys.executable, "-m", "meav.cli", "serve", "--base", str(serve_models["base"]), "--port", "0", *args],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = [x for x in run.stderr.splitlines() if x.startswith("error:")]
    assert run.returncode == 2 and len(lines) == 1 and needle in lines[0], run.stderr


def test_models_and_health(grouped, serve_models):
    models = client(grouped).models.list()  # the base, each AV at λ 1, medical's recommended levels
    assert [m.id for m in models.data] == [
        "base", "medical", "medical:expert", "medical:generic", "medical:avoidance", "legal",
    ]  # fmt: skip
    health = httpx.get(grouped.url.removesuffix("/v1") + "/health").json()
    assert health["status"] == "ok" and [a["name"] for a in health["alignment_vectors"]] == [
        "medical",
        "legal",
    ]
    assert json.dumps(health)  # plain JSON
