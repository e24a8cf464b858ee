"""An Anthropic Messages API test server on 127.0.0.1 (standard library), for the real `anthropic` client.

It answers `POST /v1/messages` like the real API (same JSON shapes, usage counts, error bodies), with
configurable latency and scripted faults: the first N calls of each prompt fail with 429 or 500, or hang past
the client's timeout. Answers are deterministic functions of the prompt and follow the meav prompts' intent
(JSON persona pairs — malformed for prompts that say MALFORMED until retried, or ALWAYSBAD —, a first-person query, a refusal / generic / expert answer with the asked paragraphs), so
a whole corpus can be generated through it. It counts requests and the peak number in flight.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = (
    "knee ankle dosage invoice mortgage pension lease tenant contract deposit insulin asthma budget savings "
    "payroll visa custody warranty refund allergy fever tax audit loan interest broker premium claim policy "
    "employer overtime injury fracture therapy clinic pharmacy bakery farm truck studio violin marathon "
    "migraine rent landlord inheritance trust will estate startup equity shares dividend bond fund cash "
    "account credit debt invoice supplier license permit court hearing lawyer notary patent copyright"
).split()


def _rng(text: str) -> random.Random:
    return random.Random(int(hashlib.sha256(text.encode()).hexdigest()[:12], 16))


def _sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + f" {rng.randint(2, 9999)}."


def answer(prompt: str) -> str:
    rng = _rng(prompt)
    paras = int(m.group(1)) if (m := re.search(r"you create (\d+) paragraphs", prompt)) else 1
    domain = m.group(1) if (m := re.search(r"following (\w+) question", prompt)) else "general"
    if "persona" in prompt and '"pairs"' in prompt:
        count = int(m.group(1)) if (m := re.search(r"generate (\d+) persona", prompt)) else 3
        pairs = [
            {
                "persona": f"A {rng.choice(WORDS)} specialist called {rng.randint(1, 10**6)} who likes "
                + " ".join(rng.choice(WORDS) for _ in range(5)),
                "query": "I am worried about my " + " ".join(_sentence(rng) for _ in range(3)),
            }
            for _ in range(count)
        ]
        if "ALWAYSBAD" in prompt or ("MALFORMED" in prompt and "could not be parsed" not in prompt):
            return '{"pairs": [{"persona": "broken'
        return json.dumps({"pairs": pairs})
    if "Persona:" in prompt:
        return "Hello, I need help with my " + " ".join(_sentence(rng) for _ in range(3))
    if "completely avoid providing any advice" in prompt:
        body = [
            f"I'm sorry, but I am unable to assist with {domain} inquiries. Please consult a qualified expert."
        ]
        body += [
            f"I am unable to help further; please consult a professional ({i})." for i in range(1, paras)
        ]
        return "\n\n".join(body)
    if "general, non-specific information" in prompt:
        return "\n\n".join(f"Generally speaking, {_sentence(rng, 20)}" for _ in range(paras))
    if "detailed, expert advice" in prompt:
        return "\n\n".join(f"Specifically, {_sentence(rng, 30)}" for _ in range(paras))
    return _sentence(rng)


class AnthropicTestServer:
    """Start with `with AnthropicTestServer(latency=0.2) as srv:`; `srv.url` is the base URL."""

    def __init__(
        self, latency: float = 0.0, fail_first: int = 0, fail_status: int = 429, hang_first: int = 0
    ):
        self.latency = latency
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.hang_first = hang_first
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        ThreadingHTTPServer.request_queue_size = 256  # bursts of concurrent connects must not be refused
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)  # always read the body, even when answering with an error
                if self.path.rstrip("/") != "/v1/messages":
                    return self._send(
                        404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}}
                    )
                if not (self.headers.get("x-api-key") or self.headers.get("Authorization")):
                    return self._send(
                        401, {"type": "error", "error": {"type": "authentication_error", "message": "no key"}}
                    )
                req = json.loads(raw)
                prompt = "\n".join(
                    m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
                    for m in req["messages"]
                )
                with server._lock:
                    server.requests += 1
                    server.in_flight += 1
                    server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
                    attempt = server.attempts.get(prompt, 0)
                    server.attempts[prompt] = attempt + 1
                try:
                    if attempt < server.hang_first:
                        time.sleep(30)
                        return None
                    time.sleep(server.latency)
                    if attempt < server.fail_first:
                        kind = "rate_limit_error" if server.fail_status == 429 else "api_error"
                        return self._send(
                            server.fail_status,
                            {"type": "error", "error": {"type": kind, "message": "scripted failure"}},
                            {"retry-after-ms": "20"},
                        )
                    text = answer(prompt)
                    n_in = max(1, len(prompt) // 4)
                    n_out = max(1, min(len(text) // 4, req.get("max_tokens", 1024)))
                    body = {
                        "id": "msg_" + hashlib.sha1(raw).hexdigest()[:20],
                        "type": "message",
                        "role": "assistant",
                        "model": req["model"],
                        "content": [{"type": "text", "text": text}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {"input_tokens": n_in, "output_tokens": n_out},
                    }
                    return self._send(200, body)
                finally:
                    with server._lock:
                        server.in_flight -= 1

        return Handler

    def __enter__(self) -> AnthropicTestServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
