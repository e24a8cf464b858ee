"""Shared + domain-specific decomposition of domain AVs (beyond the paper).

The paper blames its 5 missed multidomain targets on over-generalisation: each domain AV also moves the
other domains. Splitting the AVs into what they share and what is specific to each domain gives the search
separate knobs for "all domains" and "this domain only":
- `mean`: shared S = mean_d AV_d, residual R_d = AV_d − S.
- `svd`:  per tensor, v = top right singular vector of the stacked flattened AV_d; S = mean_d ⟨AV_d, v⟩ v,
  R_d = AV_d − ⟨AV_d, v⟩ v.
- `orthogonal`: per tensor, R_d = AV_d minus its projection on the span of the other domains' AVs (so R_d is
  orthogonal to every other domain's AV), S = mean_d (AV_d − R_d), the part the domains share.
θ = θ_base + c_shared·S + Σ_d c_d·R_d. Per tensor, so the whole-model S and R_d are not combinations of the
AVs with one coefficient each: the reachable set changes (`mean` only widens the coefficient box: its
residuals sum to zero, θ = Σ_d [c_d + (c_s − Σc)/3]·AV_d).
"""

from __future__ import annotations

from pathlib import Path

import torch

from meav.core.av.folders import AV_CONFIG, save_av, weights_stamp
from meav.core.errors import MeavError
from meav.core.stamps import stamped

METHODS = ("none", "mean", "svd", "orthogonal")


def decompose_tensors(per_domain: dict[str, dict], method: str) -> tuple[dict, dict[str, dict]]:
    """(shared, residual per domain) for one set of same-named tensors per domain; float32 or wider."""

    if method not in METHODS[1:]:
        raise MeavError(f"decompose: unknown method {method!r} (choose from {', '.join(METHODS)})")
    domains = list(per_domain)
    if len(domains) < 2:
        raise MeavError("decompose: needs at least two domain AVs")
    names = list(per_domain[domains[0]])
    shared: dict = {}
    residual: dict[str, dict] = {d: {} for d in domains}
    for name in names:
        for d in domains[1:]:
            if name not in per_domain[d] or per_domain[d][name].shape != per_domain[domains[0]][name].shape:
                raise MeavError(f"decompose: tensor {name!r} differs between {domains[0]} and {d} AVs")
        stack = torch.stack([per_domain[d][name].double().flatten() for d in domains])  # D × N
        if method == "mean" or not stack.is_floating_point():
            s = stack.mean(0)
            parts = [s] * len(domains)
        elif method == "orthogonal":
            parts = [
                _projection(stack[i], torch.cat([stack[:i], stack[i + 1 :]])) for i in range(len(domains))
            ]
            s = torch.stack(parts).mean(0)
        else:
            # top singular direction from the small D×D Gram matrix (never an N×N one)
            _, eigvecs = torch.linalg.eigh(stack @ stack.T)
            v = eigvecs[:, -1] @ stack
            v = v / v.norm() if v.norm() > 0 else v
            coef = stack @ v
            parts = [c * v for c in coef]
            s = coef.mean() * v
        shape = per_domain[domains[0]][name].shape
        shared[name] = s.float().reshape(shape)
        for d, part in zip(domains, parts, strict=True):
            residual[d][name] = (stack[domains.index(d)] - part).float().reshape(shape)
    return shared, residual


def _projection(x: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """The projection of x on the row span of `others` (least squares on the small Gram matrix)."""
    gram = others @ others.T
    coef = torch.linalg.lstsq(gram, others @ x).solution
    return coef @ others


def decompose_folders(avs: dict[str, object], method: str, out_dir: str | Path) -> dict[str, Path]:
    """Write (once) shared + residual AV folders next to each other; returns {'shared': p, domain: p, ...}.

    `avs` maps a domain to a loaded AV (`vectors.load`); configs are copied so fingerprints still apply. Each
    folder records the method and the AVs' weight fingerprints; when all of them match, nothing is recomputed
    (a restarted search or bench does not rewrite model-sized files)."""
    out = Path(out_dir)
    of = {d: weights_stamp(av.path) for d, av in avs.items()}
    paths = {name: out / f"{method}-{name}" for name in ("shared", *avs)}
    marks = {name: {"method": method, "part": name, "domains": list(avs), "of": of} for name in paths}
    if all(stamped(p / AV_CONFIG, marks[name], "decomposition") for name, p in paths.items()):
        return paths
    per_domain = {d: av.state_dict(torch.float32) for d, av in avs.items()}
    shared, residual = decompose_tensors(per_domain, method)
    first = next(iter(avs.values()))
    for name, tensors in [("shared", shared), *residual.items()]:
        src = avs.get(name, first)
        config = dict(src.config)
        config.update(decomposition=marks[name])
        if name == "shared":
            config["domain"] = "+".join(avs)
        save_av(tensors, config, paths[name])
    return paths
