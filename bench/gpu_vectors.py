"""GPU bench: λ switch on a random 7B-shaped bf16 Llama vs the memory-bandwidth bound; extract throughput.

Nothing is downloaded: the model is built from a Mistral-7B-shaped LlamaConfig directly on the GPU with
random weights. The AV is written to disk in bf16 with vectors.io.save_av and loaded by the real steer().
Bound for one switch = bytes(read base copy + read AV + write weights) / measured device-to-device copy
bandwidth (the achievable peak, same run). Baseline: reading the same bytes of safetensors onto the GPU
(what any reload costs at least, page cache hot, no model construction counted).
Usage: python bench/gpu_vectors.py [--small]   (--small: a tiny shape, to check the script on a CPU box)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, dev, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        sync(dev)
        t = time.perf_counter()
        fn()
        sync(dev)
        out.append(time.perf_counter() - t)
    return out


def copy_bandwidth(dev: torch.device, nbytes: int) -> float:
    """Achievable bytes/s counting read + write, from a large device-to-device copy."""
    a = torch.empty(nbytes // 2, dtype=torch.bfloat16, device=dev)
    b = torch.empty_like(a)
    b.copy_(a)
    t = statistics.median(timed(lambda: b.copy_(a), dev, 5))
    return 2 * nbytes / t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM, LlamaConfig

    from meav.core.av import load, steer
    from meav.core.av.folders import save_av
    from meav.core.av.safetensors_stream import write_tensors
    from meav.vectors import ExtractOptions, extract

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    shape = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, vocab_size=32768)
    if args.small:
        shape = dict(hidden_size=256, intermediate_size=512, num_hidden_layers=4, vocab_size=1024)
    cfg = LlamaConfig(
        **shape,
        num_attention_heads=32 if not args.small else 4,
        num_key_value_heads=8 if not args.small else 2,
        tie_word_embeddings=False,
    )
    res: dict = {
        "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
        "torch": torch.__version__,
    }
    t0 = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(dev):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    n = sum(p.numel() for p in model.parameters())
    res["params"] = n
    res["build_s"] = time.perf_counter() - t0
    print(f"built {n / 1e9:.2f}B params on {res['device']} in {res['build_s']:.1f}s", flush=True)

    work = Path(tempfile.mkdtemp(prefix="meav-gpu-"))
    gen = torch.Generator(device=dev).manual_seed(1)
    deltas = {
        k: (torch.randn(v.shape, generator=gen, device=dev, dtype=torch.bfloat16) * 1e-3).cpu()
        for k, v in model.state_dict().items()
    }
    t = time.perf_counter()
    save_av(deltas, {"base": "random-7b-shaped", "domain": "bench"}, work / "av1", max_shard_size="4GB")
    res["save_av_s"] = time.perf_counter() - t
    av_bytes = sum(v.numel() * v.element_size() for v in deltas.values())
    del deltas
    os.makedirs(work / "av2")
    for f in (work / "av1").iterdir():  # a second AV sharing the shards (another folder = another AV)
        (work / "av2" / f.name).symlink_to(f) if f.suffix == ".safetensors" else shutil.copy(f, work / "av2")
    av1, av2 = load(work / "av1"), load(work / "av2")
    print(f"AV {av_bytes / 1e9:.1f} GB written in {res['save_av_s']:.1f}s", flush=True)

    res["first_steer_s"] = timed(lambda: steer(model, {av1: 0.5}), dev)[
        0
    ]  # reads the AV from disk to the device
    lams = [0.1, -0.4, 0.7, -1.2, 0.3, 1.0, -0.7, 0.5]
    it = iter(lams * 3)
    res["switch_s"] = statistics.median(timed(lambda: steer(model, {av1: next(it)}), dev, 20))
    it2 = iter(lams * 3)
    steer(model, {av1: 0.2, av2: 0.2})
    res["switch_two_avs_s"] = statistics.median(
        timed(lambda: steer(model, {av1: next(it2), av2: 0.3}), dev, 10)
    )
    res["reset_s"] = timed(lambda: steer(model, {}), dev)[0]
    bw = copy_bandwidth(dev, 8 * 2**30 if dev.type == "cuda" else 2**28)
    weight_bytes = n * 2
    moved = weight_bytes + av_bytes + weight_bytes  # read base copy + read AV + write weights
    res.update(copy_bw_GBps=bw / 1e9, bytes_per_switch_GB=moved / 1e9, bound_s=moved / bw)
    res["switch_vs_bound"] = res["switch_s"] / res["bound_s"]
    # reload baseline: read the same number of bytes from safetensors onto the device (lower bound of a reload)
    from safetensors.torch import load_file

    def reload() -> None:
        for f in sorted((work / "av1").glob("*.safetensors")):
            for v in load_file(f, device=str(dev)).values():
                del v

    res["reload_bytes_to_device_s"] = min(timed(reload, dev, 2))
    res["reload_over_switch"] = res["reload_bytes_to_device_s"] / res["switch_s"]
    print(json.dumps(res, indent=1), flush=True)

    # extract throughput (CPU streaming; the GPU is not involved): 4 layers of the same shape, bf16 in, f32 AV out
    keep = [
        k for k in model.state_dict() if ".layers." not in k or int(k.split(".layers.")[1].split(".")[0]) < 4
    ]
    sd = model.state_dict()
    for name, salt in (("base", 0), ("aligned", 1)):
        (work / name).mkdir()
        g = torch.Generator(device=dev).manual_seed(salt + 10)
        write_tensors(
            work / name / "model.safetensors",
            {
                k: (
                    sd[k] + salt * 1e-3 * torch.randn(sd[k].shape, generator=g, device=dev, dtype=sd[k].dtype)
                ).cpu()
                for k in keep
            },
            {"format": "pt"},
        )
    model = sd = None  # free the GPU copy before the CPU-side extract
    in_bytes = 2 * (work / "base" / "model.safetensors").stat().st_size
    t = time.perf_counter()
    extract(ExtractOptions(base=str(work / "base"), aligned=str(work / "aligned"), out=work / "av-x"))
    res["extract_s"] = time.perf_counter() - t
    out_bytes = sum(f.stat().st_size for f in (work / "av-x").glob("*.safetensors"))
    res["extract_in_GB"], res["extract_out_GB"] = in_bytes / 1e9, out_bytes / 1e9
    res["extract_GBps_in+out"] = (in_bytes + out_bytes) / res["extract_s"] / 1e9
    res["cpu_threads"] = torch.get_num_threads()
    print(json.dumps(res, indent=1), flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "gpu_vectors.json").write_text(json.dumps(res, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
