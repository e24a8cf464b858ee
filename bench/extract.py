"""Bench: our streamed extract vs naive (load both with transformers, subtract) vs mergekit task_arithmetic.

A random Llama-shaped model of ≥ 1 GB (float32) is saved in 200 MB shards with an "aligned" copy (base +
noise, same shards). Each method runs in its own process, started by a fresh wrapper process that reports
the child's peak RSS (getrusage RUSAGE_CHILDREN, ru_maxrss) and wall time; files are read once before each
run so every method starts with a hot page cache. Prints ratios against naive (RSS) and mergekit (wall).
Usage: python bench/extract.py [--layers 12] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
if r.returncode:
    sys.exit(r.stderr[-2000:])
print(json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def build(root: Path, layers: int) -> tuple[Path, Path]:
    code = f"""
import torch
from transformers import AutoModelForCausalLM, LlamaConfig
cfg = LlamaConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers={layers}, num_attention_heads=16,
                  num_key_value_heads=16, vocab_size=32000, tie_word_embeddings=False)
torch.manual_seed(0)
m = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
print(sum(p.numel() for p in m.parameters()))
m.save_pretrained("{root / "base"}", max_shard_size="200MB")
g = torch.Generator().manual_seed(1)
with torch.no_grad():
    for p in m.parameters():
        p.add_(torch.randn(p.shape, generator=g) * 1e-3)
m.save_pretrained("{root / "aligned"}", max_shard_size="200MB")
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    print(f"built {int(out.stdout.split()[-1]) / 1e6:.0f}M float32 params", flush=True)
    return root / "base", root / "aligned"


def measure(cmd: list[str], inputs: list[Path], env: dict[str, str]) -> dict:
    for folder in inputs:  # hot page cache for everyone
        for f in folder.glob("*.safetensors"):
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
    r = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, cwd=ROOT, env=env
    )
    if r.returncode:
        raise SystemExit(f"{cmd[:3]} failed: {r.stderr[-1500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument(
        "--threads", type=int, default=None, help="OMP_NUM_THREADS for every method (same for all)"
    )
    ap.add_argument("--only", default="ours_f64,ours_f32,naive,mergekit", help="comma-separated subset")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="meav-bench-extract-"))
    root.mkdir(parents=True, exist_ok=True)
    base, aligned = (
        (root / "base", root / "aligned") if (root / "aligned").exists() else build(root, args.layers)
    )
    size = sum(f.stat().st_size for f in base.glob("*.safetensors"))
    print(f"model: {size / 1e9:.2f} GB in {len(list(base.glob('*.safetensors')))} shards", flush=True)
    py = sys.executable
    ours = [
        py,
        "-c",
        f"from meav.vectors import ExtractOptions, extract; extract(ExtractOptions(base={str(base)!r}, aligned={str(aligned)!r}, out={str(root / 'ours')!r}))",
    ]
    ours32 = [
        py,
        "-c",
        f"from meav.vectors import ExtractOptions, extract; extract(ExtractOptions(base={str(base)!r}, aligned={str(aligned)!r}, out={str(root / 'ours32')!r}, dtype='float32'))",
    ]
    naive = [
        py,
        "-c",
        textwrap.dedent(f"""
        import torch
        from safetensors.torch import save_file
        from transformers import AutoModelForCausalLM
        b = AutoModelForCausalLM.from_pretrained({str(base)!r}, dtype=torch.float32).state_dict()
        a = AutoModelForCausalLM.from_pretrained({str(aligned)!r}, dtype=torch.float32).state_dict()
        save_file({{k: (a[k] - b[k]).contiguous() for k in b}}, {str(root / "naive.safetensors")!r})
        """),
    ]
    (root / "mk.yml").write_text(
        f"merge_method: task_arithmetic\nbase_model: {base}\nmodels:\n  - model: {aligned}\n"
        "    parameters: {weight: 1.0}\nparameters: {normalize: false}\ndtype: float32\n"
    )
    mergekit = [str(Path(py).parent / "mergekit-yaml"), str(root / "mk.yml"), str(root / "mk")]
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {}))
    results = {"threads": args.threads or "default"}
    for name, cmd in [("ours_f64", ours), ("ours_f32", ours32), ("naive", naive), ("mergekit", mergekit)]:
        if name not in args.only.split(","):
            continue
        results[name] = measure(cmd, [base, aligned], env)
        print(
            f"{name:9s} wall {results[name]['wall_s']:6.1f} s  peak RSS {results[name]['peak_rss_mb']:7.0f} MB",
            flush=True,
        )
    for k in ("ours_f64", "ours_f32"):
        if not {k, "naive", "mergekit"} <= set(results):
            continue
        results[f"{k}_rss_over_naive"] = results[k]["peak_rss_mb"] / results["naive"]["peak_rss_mb"]
        results[f"{k}_wall_over_mergekit"] = results[k]["wall_s"] / results["mergekit"]["wall_s"]
        print(
            f"{k}: peak RSS {results[f'{k}_rss_over_naive']:.3f}× naive (target ≤ 0.1), "
            f"wall {results[f'{k}_wall_over_mergekit']:.2f}× mergekit (target ≤ 1.0)"
        )
    print(json.dumps(results))
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
