"""How separable are the domain AVs in weight space? Pairwise cosine similarity of the whole AVs and, per
decomposition (evaluation/decompose.py), how much of each AV its domain-specific part keeps.

Why: a multidomain target such as (medical Exp, financial Avd, legal Gen) needs knobs that move one domain
and not the others. If the AVs were near-parallel, no strategy could reach such targets and a decomposition
would be the fix; if they are near-orthogonal in weight space yet each moves every domain (the demo's
out-of-domain sweeps), the entanglement is in what the AVs do, and no weight-space split can separate it.

    .venv/bin/python bench/av_geometry.py --demo runs/demo8 > docs/search/av-geometry.txt
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from meav.core.av import load
from meav.core.av.decompose import METHODS, decompose_tensors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", type=Path, default=Path("runs/demo"), help="a finished `meav demo` run")
    ap.add_argument("--domains", default="medical,financial,legal")
    args = ap.parse_args()
    domains = args.domains.split(",")
    avs = {d: load(args.demo / "avs" / d) for d in domains}
    names = avs[domains[0]].names()
    dot = {(a, b): 0.0 for a in domains for b in domains}
    kept = {m: dict.fromkeys(domains, 0.0) for m in METHODS[1:]}
    for name in names:
        per = {d: {name: avs[d].tensor(name, torch.float64)} for d in domains}
        for a in domains:
            for b in domains:
                dot[a, b] += float((per[a][name].flatten() @ per[b][name].flatten()).item())
        for m in kept:
            _, residual = decompose_tensors(per, m)
            for d in domains:
                kept[m][d] += float(residual[d][name].double().pow(2).sum())
    norm = {d: math.sqrt(dot[d, d]) for d in domains}
    print(f"AVs of {args.demo} ({len(names)} tensors each)")
    print("cosine similarity (whole AV, all tensors)")
    print(" " * 10 + "".join(f"{d:>11}" for d in domains) + "       norm")
    for a in domains:
        cells = "".join(f"{dot[a, b] / (norm[a] * norm[b]):11.3f}" for b in domains)
        print(f"{a:10}{cells}{norm[a]:11.2f}")
    print("share of each AV's norm its domain-specific part keeps, per decomposition (per tensor)")
    print(" " * 12 + "".join(f"{d:>11}" for d in domains))
    for m, sq in kept.items():
        print(f"{m:12}" + "".join(f"{math.sqrt(sq[d]) / norm[d]:11.3f}" for d in domains))


if __name__ == "__main__":
    main()
