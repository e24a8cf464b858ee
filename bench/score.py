"""Bench: the scorer (prompts once per query, responses length-sorted) against a per-sample loop, and against
the machine's limit: scored throughput as a fraction of the measured matmul peak (≈ 2 × parameters FLOPs per
token, prompt tokens counted once, the output head on response tokens only).

    .venv/bin/python bench/score.py [--base PATH] [--queries 30] [--domain medical] [--device cuda]
Default: the embedded SmolLM2-135M-Instruct on the reference corpus's test queries (authored text).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from meav.core.corpus import LEVELS
from meav.core.embedded import embedded_model_path
from meav.core.models import load_for_inference
from meav.evaluation.evalset import load_eval_rows
from meav.evaluation.scoring import encode_groups, full_sequence_logprobs, mean_logprobs, score_one
from meav.reference import ReferenceOptions, build_reference


def matmul_peak(device: str, n: int = 2048, reps: int = 10) -> float:
    """Measured float32 GFLOP/s of an n×n matmul on this device (the machine's practical limit)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--base", default=None, help="base model folder (default: the embedded SmolLM2-135M-Instruct)"
    )
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--domain", default="medical")
    ap.add_argument("--device", default=None)
    ap.add_argument("--naive", type=int, default=6, help="queries scored by the per-sample loop (it is slow)")
    args = ap.parse_args()
    device = args.device or "cpu"
    model, tok = load_for_inference(args.base or embedded_model_path(), args.device)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build_reference(ReferenceOptions(out=Path(tmp) / "reference"))
        rows = load_eval_rows(corpus, "test", args.queries, [args.domain])[args.domain]
    groups = [(r["query"], [r[lv] for lv in LEVELS]) for r in rows]
    items = encode_groups(tok, groups)
    prompt_tokens = sum(len(i.context) for i in items) // len(LEVELS)
    response_tokens = sum(len(i.target) for i in items)
    params = sum(p.numel() for p in model.parameters())
    head = model.get_output_embeddings().weight.numel()
    flops = 2 * (params - head) * (prompt_tokens + response_tokens) + 2 * head * response_tokens
    peak = matmul_peak(device)

    mean_logprobs(model, tok, items[:3])  # warm-up
    timings, results = {}, {}
    for name, fn in (
        ("shared prompt, sorted", mean_logprobs),
        ("one sequence per response", full_sequence_logprobs),
    ):
        t = time.perf_counter()
        results[name] = fn(model, tok, items, 4096)
        timings[name] = time.perf_counter() - t
    t = time.perf_counter()
    naive = {
        (g, c): score_one(model, tok, q, r)
        for g, (q, rs) in enumerate(groups[: args.naive])
        for c, r in enumerate(rs)
    }
    per_query_naive = (time.perf_counter() - t) / args.naive
    diffs = {name: max(abs(scores[k] - naive[k]) for k in naive) for name, scores in results.items()}

    where = f"{device}, {torch.get_num_threads()} threads"
    print(
        f"model {model.name_or_path} ({params / 1e6:.1f}M parameters) on {where}; measured matmul peak {peak:.1f} GFLOP/s"
    )
    print(
        f"{len(rows)} {args.domain} queries × 3 responses: {prompt_tokens} prompt tokens (once each), {response_tokens} response tokens"
    )
    best = timings["shared prompt, sorted"]
    for name, secs in timings.items():
        rate = flops / secs / 1e9
        print(
            f"{name:<28} {secs:7.1f} s  {response_tokens / secs:7.1f} scored tok/s  {rate:6.1f} GFLOP/s = {rate / peak:.0%} of peak"
        )
    print(
        f"{'per-sample loop (naive)':<28} {per_query_naive * len(rows):7.1f} s (extrapolated from {args.naive} queries)"
    )
    print(f"ratio vs one sequence per response: {timings['one sequence per response'] / best:.2f}×; "
          f"vs naive: {per_query_naive * len(rows) / best:.2f}×")  # fmt: skip
    for name, diff in diffs.items():
        print(f"max |score diff| vs naive, {name}: {diff:.1e}")


if __name__ == "__main__":
    main()
