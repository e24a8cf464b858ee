"""Bench: batched, length-sorted, pad-aware scorer vs a naive per-sample loop (same model, same items).

Prints scored tokens/s of each and the ratio (target ≥ 5×), plus the largest score difference.
Usage: python bench/score.py [--model PATH] [--queries N] [--device cuda] [--random-smollm2]
(default: the embedded SmolLM2-135M-Instruct on CPU). On CPU a forward pass costs the same FLOPs batched or
not, so the gain is small there; on a GPU per-call latency dominates and batching pays (see the closing note).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.* helpers

import argparse
import time

import torch


def random_smollm2(device: str | None):
    """SmolLM2-135M-shaped random model + the locally trained tiny tokenizer: same compute per token."""
    import tempfile

    from transformers import AutoModelForCausalLM, LlamaConfig

    from meav.core.tiny import train_tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tok = train_tokenizer(Path(tmp))
    config = LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    return model.to(device or "cpu"), tok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="model folder (default: embedded SmolLM2-135M-Instruct)")
    ap.add_argument("--queries", type=int, default=18)
    ap.add_argument("--device", default=None, help="torch device, e.g. cuda (default cpu)")
    ap.add_argument(
        "--random-smollm2", action="store_true", help="random weights in SmolLM2-135M's shape (no download)"
    )
    ap.add_argument("--max-tokens", type=int, default=4096)
    args = ap.parse_args()

    from meav.core.embedded import embedded_model_path
    from meav.core.models import load_for_inference as load_model
    from meav.evaluation.scoring import encode_groups, mean_logprobs, score_one
    from tests.vectors.test_eval_knob import knob_rows

    if args.random_smollm2:
        model, tok = random_smollm2(args.device)
    else:
        model, tok = load_model(args.model or embedded_model_path(), args.device)
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    split = knob_rows()  # hand-written queries and responses of varied lengths
    rows = (split["test"] + split["train"] + split["validation"])[: args.queries]
    groups = [(r["query"], [r["avoidance"], r["generic"], r["expert"]]) for r in rows]
    items = encode_groups(tok, groups)
    n_tokens = sum(len(i.target) for i in items)

    mean_logprobs(model, tok, items[:3])  # warm-up
    t = time.perf_counter()
    batched = mean_logprobs(model, tok, items, args.max_tokens)
    t_batched = time.perf_counter() - t

    t = time.perf_counter()
    naive = {
        (g, c): score_one(model, tok, q, resp)
        for g, (q, rs) in enumerate(groups)
        for c, resp in enumerate(rs)
    }
    t_naive = time.perf_counter() - t

    diff = max(abs(batched[k] - naive[k]) for k in naive)
    name = "random SmolLM2-135M-shaped" if args.random_smollm2 else model.name_or_path
    where = f"{next(model.parameters()).device}, {torch.get_num_threads()} CPU threads"
    print(f"model {name} on {where}: {len(items)} sequences, {n_tokens} scored tokens")
    print(f"naive per-sample: {n_tokens / t_naive:9.1f} tok/s ({t_naive:.2f} s)")
    print(f"batched scorer:   {n_tokens / t_batched:9.1f} tok/s ({t_batched:.2f} s)")
    print(f"ratio batched/naive: {t_naive / t_batched:.1f}x   max |score diff| {diff:.2e}")


if __name__ == "__main__":
    main()
