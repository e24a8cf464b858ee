"""Servers for the serving tests: `meav serve` in its own process on 127.0.0.1, port 0, with tiny ASCII-only
models (their generations decode to exact, comparable text) and AVs stored dense and low-rank."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from meav.core.av import load, steer
from meav.core.av.folders import update_av_config
from tests.av_helpers import extract_av, make_aligned

URL = re.compile(r"meav serve: (http://127\.0\.0\.1:\d+/v1)")


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    args: list[str]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(*args: str, timeout: float = 90) -> Server:
    """`meav serve ARGS --port 0` until it prints its URL (or exits: the test sees why)."""
    cmd = [sys.executable, "-m", "meav.cli", "serve", *map(str, args)]
    if "--port" not in args:
        cmd += ["--port", "0"]
    env = {**os.environ, "MEAV_PROGRESS": "0", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError(f"meav serve exited {proc.returncode}: {''.join(seen)[-2000:]}")
        seen.append(line)
        if m := URL.search(line):
            # keep reading its output: a full pipe would block the server's next log line (and the server)
            threading.Thread(target=lambda: deque(proc.stdout, maxlen=0), daemon=True).start()
            return Server(m.group(1), proc, cmd)
    proc.kill()
    raise RuntimeError(f"meav serve did not start: {''.join(seen)[-2000:]}")


@pytest.fixture(scope="session")
def serve_models(tmp_path_factory) -> dict[str, Path]:
    """An ASCII-only tiny Llama, two 'aligned' copies, their AVs dense and low-rank (rank 4)."""
    from meav.testing.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("serve")
    base = build_tiny_model(root / "base", arch="llama", ascii_only=True, hidden_size=48, seed=3)
    out = {"base": base}
    for name, seed in (("medical", 1), ("legal", 2)):
        aligned = make_aligned(base, root / f"aligned-{name}", seed=seed, scale=0.05)
        out[name] = root / f"av-{name}"
        extract_av(base, aligned, out[name], domain=name, target="expert")
        out[f"{name}-lr"] = root / f"lr-{name}"
        extract_av(base, aligned, out[f"{name}-lr"], domain=name, target="expert", rank=6)
        out[f"{name}-2d"] = root / f"twod-{name}"  # only matrices moved: an exact LoRA form
        extract_av(base, make_aligned(base, root / f"a2d-{name}", seed=seed, only_2d=True, scale=0.05), out[f"{name}-2d"],
                   domain=name, target="expert", rank=6)  # fmt: skip
    update_av_config(out["medical"], recommended_lambda={"expert": 0.7, "generic": -0.4, "avoidance": -1.3})
    return out


def _two_avs(m: dict, suffix: str):
    """A server of the base and its medical and legal AVs, float64 so that rounding cannot flip a token."""
    server = start_server("--base", m["base"], "--av", f"medical={m['medical' + suffix]}",
                          "--av", f"legal={m['legal' + suffix]}", "--dtype", "float64", "--max-batch", "8")  # fmt: skip
    yield server
    server.stop()


@pytest.fixture(scope="module")
def grouped(serve_models):
    """Dense AVs: grouped switching (steer between λ-vector groups)."""
    yield from _two_avs(serve_models, "")


@pytest.fixture(scope="module")
def per_row(serve_models):
    """Low-rank AVs: one mixed batch, each row with its own λ's."""
    yield from _two_avs(serve_models, "-lr")


class Offline:
    """The reference: the same base in float64, steer(model, λ) and greedy `generate`, one request alone."""

    def __init__(self, base: Path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(base)
        self.model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float64).eval()
        self.cache: dict = {}

    def __call__(self, avs: dict[Path, float], prompt: str, max_tokens: int, chat: bool = True) -> str:
        """The chat answer to `prompt`, or (chat=False) its plain continuation, as /v1/completions gives it."""
        key = (tuple(sorted((str(p), lam) for p, lam in avs.items())), prompt, max_tokens, chat)
        if key not in self.cache:
            steer(self.model, {load(p): lam for p, lam in avs.items()})
            if chat:
                text = self.tok.apply_chat_template(
                    [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
                )
                ids = self.tok(text, return_tensors="pt", add_special_tokens=False)
            else:
                ids = self.tok(prompt, return_tensors="pt")
            with torch.inference_mode():
                out = self.model.generate(**ids, max_new_tokens=max_tokens, do_sample=False)
            self.cache[key] = self.tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        return self.cache[key]


@pytest.fixture(scope="session")
def offline(serve_models) -> Offline:
    return Offline(serve_models["base"])
