"""Throughput of the synth backend layer against the Anthropic-protocol test server.

512 calls, 64 in flight, 200 ms server latency: the ideal wall time is 512 × 0.2 / 64 = 1.6 s. Prints the
achieved share of the ideal throughput (target ≥ 0.80). Runs the real anthropic SDK through `CachedLLM`,
with a fresh cache so every call goes to the server.

    .venv/bin/python bench/synth_concurrency.py
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meav.core.llm.cached import CachedLLM  # noqa: E402
from tests.fakes.anthropic import AnthropicTestServer  # noqa: E402

CALLS, IN_FLIGHT, LATENCY = 512, 64, 0.2


def serve(conn, peak) -> None:
    """The server runs in its own process, so client and server do not share one interpreter lock."""
    with AnthropicTestServer(latency=LATENCY) as server:
        conn.send(server.url)
        conn.recv()  # until the client is done
        peak.value = server.peak_in_flight


def main() -> None:
    parent, child = mp.Pipe()
    peak = mp.Value("i", 0)
    proc = mp.Process(target=serve, args=(child, peak), daemon=True)
    proc.start()
    url = parent.recv()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ANTHROPIC_BASE_URL"] = url
        os.environ["ANTHROPIC_API_KEY"] = "bench"
        llm = CachedLLM(
            backend="anthropic:claude-sonnet-5-5",
            cache_dir=str(Path(tmp) / "calls"),
            errors_file=str(Path(tmp) / "errors.jsonl"),
            max_concurrency=IN_FLIGHT,
        )
        llm.load()
        warm = [[{"role": "user", "content": f"Persona: warm-up {i}"}] for i in range(IN_FLIGHT)]
        llm.generate(warm, max_new_tokens=64)  # connection pool and imports, not measured
        inputs = [[{"role": "user", "content": f"Persona: bench {i}"}] for i in range(CALLS)]
        started = time.perf_counter()
        out = llm.generate(inputs, max_new_tokens=64)
        wall = time.perf_counter() - started
        assert all(o["generations"][0] for o in out), "some calls failed"
        parent.send("done")
        proc.join()
        ideal = CALLS * LATENCY / IN_FLIGHT
        print(f"calls={CALLS} in_flight={IN_FLIGHT} latency={LATENCY}s peak_in_flight={peak.value}")
        print(f"wall={wall:.2f}s ideal={ideal:.2f}s throughput_ratio={ideal / wall:.2f} (target >= 0.80)")


if __name__ == "__main__":
    main()
