"""Bench: switching λ in memory (vectors.steer) vs reloading a steered model from disk.

A random Llama-shaped float32 model (~124M parameters, ~0.5 GB) and a perturbed "aligned" copy are built;
the AV is extracted (float64, exact path). Measured in one process:
  switch      steer(model, {av: λ}) for a new λ (base copy and deltas already in memory), median of 12
  reload      AutoModelForCausalLM.from_pretrained(folder already steered on disk), page cache hot, median of 3
  apply+load  meav's streamed apply to disk for the new λ, then from_pretrained (the no-steer workflow)
Usage: python bench/switch.py [--layers 8] [--hidden 768]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads (1 on an oversubscribed machine)"
    )
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from transformers import AutoModelForCausalLM, LlamaConfig
    from transformers.utils import logging as hf_logging

    from meav.core.av import load, steer
    from meav.vectors import ApplyOptions, ExtractOptions, apply, extract

    hf_logging.disable_progress_bar()
    root = Path(tempfile.mkdtemp(prefix="meav-bench-switch-"))
    cfg = LlamaConfig(
        hidden_size=args.hidden,
        intermediate_size=4 * args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=12,
        num_key_value_heads=12,
        vocab_size=32000,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    n = sum(p.numel() for p in model.parameters())
    model.save_pretrained(root / "base")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 1e-3)
    model.save_pretrained(root / "aligned")
    del model
    extract(ExtractOptions(base=str(root / "base"), aligned=str(root / "aligned"), out=root / "av"))
    av = load(root / "av")
    apply(
        ApplyOptions(base=str(root / "base"), av=[f"av={av.path}"], lambda_=["av=0.5"], out=root / "steered")
    )
    print(f"{n / 1e6:.0f}M float32 params; torch threads {torch.get_num_threads()}", flush=True)

    def timed(fn) -> float:
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    model = AutoModelForCausalLM.from_pretrained(root / "base", dtype=torch.float32)
    first = timed(lambda: steer(model, {av: 0.5}))
    lams = [0.1, -0.4, 0.7, -1.2, 0.3, 1.0, -0.7, 0.5, 0.2, -0.1, 0.9, -1.4]
    switch = statistics.median(timed(lambda lam=lam: steer(model, {av: lam})) for lam in lams)
    steer(model, {av: 0.5}, exact=False)
    fast = statistics.median(timed(lambda lam=lam: steer(model, {av: lam}, exact=False)) for lam in lams)
    steer(model, {av: 0.5})
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    reload = statistics.median(
        timed(lambda: AutoModelForCausalLM.from_pretrained(root / "steered", dtype=torch.float32))
        for _ in range(3)
    )

    def reload_and_touch() -> None:  # from_pretrained maps the files lazily: read every weight once
        m = AutoModelForCausalLM.from_pretrained(root / "steered", dtype=torch.float32)
        for p in m.parameters():
            p.data.sum()

    reload_touch = statistics.median(timed(reload_and_touch) for _ in range(3))
    reloaded = AutoModelForCausalLM.from_pretrained(root / "steered", dtype=torch.float32).state_dict()
    same = all(torch.equal(reference[k], reloaded[k]) for k in reloaded)

    def apply_and_load(lam: float) -> None:
        apply(
            ApplyOptions(
                base=str(root / "base"),
                av=[f"av={av.path}"],
                lambda_=[f"av={lam}"],
                out=root / f"steered-{lam}",
            )
        )
        AutoModelForCausalLM.from_pretrained(root / f"steered-{lam}", dtype=torch.float32)

    apply_load = statistics.median(timed(lambda lam=lam: apply_and_load(lam)) for lam in (0.3, -0.6))
    res = {
        "params": n,
        "first_steer_s (reads the AV)": first,
        "switch_exact_s": switch,
        "switch_fast_s (exact=False)": fast,
        "reload_lazy_s": reload,
        "reload_and_read_s": reload_touch,
        "apply_and_load_s": apply_load,
        "reload_and_read_over_switch": reload_touch / switch,
        "apply_and_load_over_switch": apply_load / switch,
        "apply_and_load_over_fast_switch": apply_load / fast,
        "steered_in_memory_equals_reloaded": same,
    }
    print(json.dumps(res, indent=1))
    print(
        f"switch {switch * 1e3:.0f} ms exact, {fast * 1e3:.0f} ms fast; reload+read {reload_touch / switch:.1f}× the exact "
        f"switch; apply+load {apply_load / switch:.1f}× exact, {apply_load / fast:.1f}× fast (target ≥ 100×)"
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
