"""The served AVs by name, and how a request's alignment becomes a λ-vector.

A request names each AV's λ as a number or as a level ("avoidance", "generic", "expert": the λ the AV's own
sweep recommends for that level, from its av_config.json), in the body (`"alignment": {"medical": 0.5}`) or in
the model name, for clients that cannot add fields: `BASE@medical=0.5,legal=-1.3`, or one of the model ids
each AV adds (`medical`: λ 1, the aligned model itself; `medical:expert`: its recommended expert λ), which may
carry more (`medical:expert@legal=-1.3`). The body wins on a name given twice. The λ-vector is the sorted tuple
of (name, λ) with λ ≠ 0; the empty vector is the base model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meav.core.av import AlignmentVector
from meav.core.corpus import LEVELS
from meav.serving.protocol import RequestError

Key = tuple[tuple[str, float], ...]


class AlignmentSet:
    """AVs by name, the served model's id, the allowed λ range."""

    def __init__(self, model_id: str, avs: Mapping[str, AlignmentVector], lambda_range: tuple[float, float]):
        self.model_id, self.avs, self.range = model_id, dict(avs), lambda_range

    def models(self) -> dict[str, dict[str, Any]]:
        """Model id → the alignment it stands for: the base ({}), each AV at λ 1 (the aligned model, when
        the range allows it) and at each level its config recommends (a λ in range)."""
        lo, hi = self.range
        out: dict[str, dict[str, Any]] = {self.model_id: {}}
        for name, av in self.avs.items():
            if lo <= 1 <= hi:
                out[name] = {name: 1.0}
            for level, lam in (av.config.get("recommended_lambda") or {}).items():
                if level in LEVELS and lam is not None and lo <= lam <= hi:
                    out[f"{name}:{level}"] = {name: level}
        return out

    def _split_model(self, model: str) -> dict[str, Any]:
        name, _, spec = model.partition("@")
        models = self.models()
        if name not in models:
            known = list(models)
            shown = ", ".join(known[:6]) + (f" and {len(known) - 6} more" if len(known) > 6 else "")
            raise RequestError(
                404,
                f"model {name!r} is not served here (served: {shown}; see /v1/models)",
                "model",
                "model_not_found",
            )
        out = dict(models[name])
        for part in filter(None, (p.strip() for p in spec.split(","))):
            av, sep, value = part.partition("=")
            if not sep:
                raise RequestError(400, f"model: {part!r} is not NAME=λ", "model", "invalid_value")
            out[av.strip()] = value.strip()
        return out

    def _value(self, name: str, value: Any) -> float:
        av = self.avs.get(name)
        if av is None:
            known = ", ".join(self.avs) or "none"
            raise RequestError(
                400,
                f"unknown alignment vector {name!r} (served: {known})",
                f"alignment.{name}",
                "unknown_alignment_vector",
            )
        if isinstance(value, str) and value in LEVELS:
            lam = (av.config.get("recommended_lambda") or {}).get(value)
            if lam is None:
                raise RequestError(
                    400,
                    f"{name}: no recommended λ for {value!r} in its config (run a sweep, or give a number)",
                    f"alignment.{name}",
                    "no_recommended_lambda",
                )
            return float(lam)
        try:
            if isinstance(value, bool):
                raise TypeError
            lam = float(value)
        except (TypeError, ValueError):
            raise RequestError(
                400,
                f"{name}: λ must be a number or one of {', '.join(LEVELS)}, got {value!r}",
                f"alignment.{name}",
                "invalid_value",
            ) from None
        lo, hi = self.range
        if not lo <= lam <= hi:
            raise RequestError(
                400,
                f"{name}: λ {lam:g} is outside the allowed range [{lo:g}, {hi:g}]",
                f"alignment.{name}",
                "lambda_out_of_range",
            )
        return lam

    def resolve(self, model: str, alignment: Mapping[str, Any]) -> Key:
        """The request's λ-vector (a 4xx RequestError naming what is wrong)."""
        values = {**self._split_model(model), **alignment}
        lams = {name: self._value(name, v) for name, v in values.items()}
        return tuple(sorted((n, round(lam, 6)) for n, lam in lams.items() if lam != 0))

    def weights(self, key: Key) -> dict[AlignmentVector, float]:
        return {self.avs[name]: lam for name, lam in key}

    def describe(self) -> list[dict]:
        return [
            {"name": n, "domain": a.config.get("domain"), "target": a.config.get("target"),
             "recommended_lambda": a.config.get("recommended_lambda") or {},
             "low_rank": (a.config.get("compression") or {}).get("method") == "lowrank"}
            for n, a in self.avs.items()
        ]  # fmt: skip
