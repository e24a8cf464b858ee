"""Per-row alignment for low-rank AVs: every row of a batch gets its own Σ_d λ_row,d·AV_d.

The base weights stay untouched; forward hooks add each row's term to the outputs of the modules an AV
changes: y = W·x + Σ_d λ_row,d·B_d(A_d·x) for a low-rank weight (exact for the stored AV: it *is* B·A), the
same with a dense delta, a bias delta, an embedding delta looked up by token, and an RMS-norm weight delta
times the normalised input. A model with another kind of module an AV changes is refused here, and the
engine falls back to grouped switching (steer per λ-vector group).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from meav.core.av import AlignmentVector
from meav.core.errors import MeavError


class PerRowAlignment:
    """Hooks on the model; `set_rows(lams)` before a forward: lams [rows, n_avs] in the AVs' order."""

    def __init__(self, model: torch.nn.Module, avs: list[AlignmentVector]):
        self.n = len(avs)
        param = next(model.parameters())
        self.dtype, self.device = param.dtype, param.device
        self.lams = torch.zeros(1, self.n, dtype=self.dtype, device=self.device)
        modules = dict(model.named_modules())
        terms: dict[str, list] = {}
        for i, av in enumerate(avs):
            tied = av.config.get("tied_weights") or {}
            sources = {n: n for n in av.names()} | {
                out: src for out, src in tied.items() if src in av.names()
            }
            for target, source in sources.items():
                module_name, _, kind = target.rpartition(".")
                module = modules.get(module_name)
                if module is None:
                    raise MeavError(f"{av.name}: tensor {target!r} is not a module parameter of the model")
                terms.setdefault(module_name, []).append((i, kind, self._parts(av, source)))
        self.handles = [modules[m].register_forward_hook(self._hook(modules[m], t)) for m, t in terms.items()]

    def _parts(self, av: AlignmentVector, name: str):
        parts = av._parts[name]
        if "lowrank_U" in parts:
            return ("lowrank", av.tensor_part(name, "lowrank_U").to(self.device, self.dtype),
                    av.tensor_part(name, "lowrank_V").to(self.device, self.dtype))  # fmt: skip
        return ("dense", av.tensor(name).to(self.device, self.dtype))

    def set_rows(self, lams: list[list[float]]) -> None:
        self.lams = torch.tensor(lams, dtype=self.dtype, device=self.device).reshape(-1, self.n)

    def _hook(self, module: torch.nn.Module, terms: list):
        is_norm = hasattr(module, "variance_epsilon")  # RMS norms (Llama, Mistral, Qwen2): y = w ⊙ x/rms(x)
        for _, kind, _ in terms:
            if not (
                isinstance(module, torch.nn.Linear)
                and kind in ("weight", "bias")
                or isinstance(module, torch.nn.Embedding)
                and kind == "weight"
                or is_norm
                and kind == "weight"
            ):
                raise MeavError(
                    f"no per-row form for {type(module).__name__}.{kind}: serve this AV by grouped switching"
                )

        def hook(mod, inputs, output):
            x = inputs[0]
            lam = self.lams[:, :, None, None] if output.dim() == 3 else self.lams[:, :, None]
            extra = torch.zeros_like(output)
            for i, kind, parts in terms:
                li = lam[:, i]
                if isinstance(mod, torch.nn.Embedding):
                    delta = parts[1] @ parts[2] if parts[0] == "lowrank" else parts[1]
                    extra += li * F.embedding(x, delta)
                elif isinstance(mod, torch.nn.Linear) and kind == "bias":
                    extra += li * parts[1]
                elif isinstance(mod, torch.nn.Linear):
                    extra += li * ((x @ parts[2].T) @ parts[1].T if parts[0] == "lowrank" else x @ parts[1].T)
                else:  # RMS norm: y = w ⊙ n(x), so a weight delta δ adds δ ⊙ n(x)
                    xf = x.float()
                    normed = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + mod.variance_epsilon)).to(
                        x.dtype
                    )
                    extra += li * normed * parts[1]
            return output + extra

        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
