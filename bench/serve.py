"""Bench: `meav serve` under mixed-λ traffic (64 requests over 4 λ-vectors, all at once) — tokens/s and
p50/p95 latency of grouped switching (dense AVs) and of per-row low-rank AVs, against a naive server that
rebuilds the model for each request's λ-vector (reload the base, apply the AVs) in arrival order; memory of one
base + AVs against one model copy per λ-vector.

    .venv/bin/python bench/serve.py [--base PATH] [--requests 64] [--max-new-tokens 32] [--rank 16] [--device cuda]
Default: the embedded SmolLM2-135M-Instruct with two AVs made by perturbing it (throughput does not depend on
what an AV learned).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from meav.core.av import load, steer
from meav.core.embedded import embedded_model_path
from meav.vectors import ExtractOptions, extract

VECTORS = [{}, {"medical": 0.8}, {"legal": -1.3}, {"medical": 0.5, "legal": -1.0}]
PROMPTS = ["I have had a cough for six weeks after a cold; what should I do?",
           "My landlord kept my whole deposit; what are my options?"]  # fmt: skip


def perturbed(base: Path, out: Path, seed: int) -> Path:
    """A copy of the base with every matrix nudged: an 'aligned' model for the bench (no training)."""
    out.mkdir(parents=True, exist_ok=True)
    for f in base.iterdir():
        if f.is_file() and not f.name.endswith(".safetensors"):
            (out / f.name).write_bytes(f.read_bytes())
    gen = torch.Generator().manual_seed(seed)
    for shard in base.glob("*.safetensors"):
        tensors = load_file(shard)
        save_file({k: v + 0.01 * torch.randn(v.shape, generator=gen) if v.dim() == 2 else v for k, v in tensors.items()},
                  out / shard.name, metadata={"format": "pt"})  # fmt: skip
    return out


def start(args: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "meav.cli", "serve", *args, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    for line in proc.stdout:
        if m := re.search(r"meav serve: (http://\S+/v1)", line):
            # keep draining its output: a full pipe would block the server
            threading.Thread(target=lambda: deque(proc.stdout, maxlen=0), daemon=True).start()
            return proc, m.group(1)
    raise RuntimeError("meav serve did not start")


def traffic(n: int, seed: int = 0) -> list[tuple[dict, str]]:
    rng = random.Random(seed)
    return [(VECTORS[i % len(VECTORS)], rng.choice(PROMPTS)) for i in rng.sample(range(n), n)]


def served(url: str, model: str, jobs, max_tokens: int) -> dict:
    client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=3600)

    def one(job):
        vector, prompt = job
        t = time.perf_counter()
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                                           extra_body={"alignment": vector} if vector else None)  # fmt: skip
        return time.perf_counter() - t, r.usage.completion_tokens

    t = time.perf_counter()
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(one, jobs))
    wall = time.perf_counter() - t
    return {"wall": wall, "tokens": sum(r[1] for r in results), "latency": [r[0] for r in results]}


def naive(base: Path, avs: dict[str, Path], jobs, max_tokens: int, device: str | None) -> dict:
    """One request at a time, in arrival order; a new λ-vector means a new model: reload the base, apply."""
    tok = AutoTokenizer.from_pretrained(base)
    t0, latency, tokens, current, model = time.perf_counter(), [], 0, None, None
    for vector, prompt in jobs:
        if vector != current:
            model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).to(device or "cpu").eval()
            steer(model, {load(avs[n]): lam for n, lam in vector.items()})
            current = vector
        ids = tok(tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True),
                  return_tensors="pt", add_special_tokens=False).to(model.device)  # fmt: skip
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=max_tokens, do_sample=False)
        tokens += out.shape[1] - ids["input_ids"].shape[1]
        latency.append(time.perf_counter() - t0)  # all requests arrived at t0
    return {"wall": time.perf_counter() - t0, "tokens": tokens, "latency": latency}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=None)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    base = Path(args.base or embedded_model_path())
    jobs = traffic(args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dense, lowrank = {}, {}
        for i, name in enumerate(("medical", "legal")):
            aligned = perturbed(base, root / f"aligned-{name}", seed=i)
            dense[name], lowrank[name] = root / f"av-{name}", root / f"lr-{name}"
            extract(ExtractOptions(base=str(base), aligned=str(aligned), out=dense[name], dtype="float32"))
            extract(
                ExtractOptions(
                    base=str(base), aligned=str(aligned), out=lowrank[name], dtype="float32", rank=args.rank
                )
            )
        rows = {}
        device = ["--device", args.device] if args.device else []
        for label, avs in (
            ("grouped switching (dense AVs)", dense),
            (f"per-row low-rank (rank {args.rank})", lowrank),
        ):
            proc, url = start(["--base", str(base), *(a for n, p in avs.items() for a in ("--av", f"{n}={p}")),
                               "--served-model-name", "bench", "--max-batch", "16",
                               "--max-new-tokens", str(args.max_new_tokens), *device])  # fmt: skip
            try:
                served(url, "bench", jobs[:4], 4)  # warm-up
                rows[label] = served(url, "bench", jobs, args.max_new_tokens) | {"rss": peak_rss_mb(proc.pid)}
            finally:
                proc.terminate()
                proc.wait()
        rows["naive: rebuild the model per λ-vector"] = naive(
            base, dense, jobs, args.max_new_tokens, args.device
        )
        params = sum(
            t.numel() * t.element_size() for f in base.glob("*.safetensors") for t in load_file(f).values()
        )
        av_bytes = {
            k: sum(f.stat().st_size for f in p.glob("*.safetensors"))
            for k, p in {**dense, **{f"lr-{k}": v for k, v in lowrank.items()}}.items()
        }
    print(f"{args.requests} requests over {len(VECTORS)} λ-vectors, all sent at once, {args.max_new_tokens} new tokens each, "
          f"greedy; base {base.name} on {args.device or 'cpu'} ({torch.get_num_threads()} threads)")  # fmt: skip
    print(f"{'':<40}{'tokens/s':>10}{'p50 s':>8}{'p95 s':>8}{'peak RSS MB':>13}")
    for label, r in rows.items():
        lat = sorted(r["latency"])
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        print(
            f"{label:<40}{r['tokens'] / r['wall']:>10.1f}{statistics.median(lat):>8.1f}{p95:>8.1f}{r.get('rss', float('nan')):>13.0f}"
        )
    naive_rate = (
        rows["naive: rebuild the model per λ-vector"]["tokens"]
        / rows["naive: rebuild the model per λ-vector"]["wall"]
    )
    for label in list(rows)[:2]:
        print(
            f"{label}: {rows[label]['tokens'] / rows[label]['wall'] / naive_rate:.1f}× the naive server's tokens/s"
        )
    mb = 1e6
    one = params + sum(v for k, v in av_bytes.items() if not k.startswith("lr-"))
    print(f"memory: one base + 2 dense AVs {one / mb:.0f} MB (+ low-rank AVs {sum(v for k, v in av_bytes.items() if k.startswith('lr-')) / mb:.1f} MB) "
          f"vs one model copy per λ-vector {len(VECTORS) * params / mb:.0f} MB ({len(VECTORS) * params / one:.1f}×)")  # fmt: skip


if __name__ == "__main__":
    main()
