"""`meav synth`: personas → queries → three responses → cleaned, deduplicated, split corpus folder."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path

from rich.console import Console

from meav.core import atomic
from meav.core.corpus import LEVELS, row_id, write_corpus
from meav.core.errors import MeavError
from meav.core.llm.cache import CallCache
from meav.core.llm.specs import BackendSpec, build_remote_client, parse_backend, resolve_local_path
from meav.core.progress import display
from meav.core.version import __version__
from meav.synth import prompts as P
from meav.synth.personas import PAIRS_PREFILL, parse_pairs, sample_personahub
from meav.synth.pipeline import LLMFactory, generate_column, generate_responses
from meav.synth.progress import stage_progress
from meav.synth.recipe import SynthRecipe
from meav.synth.report import corpus_summary, print_summary
from meav.synth.split import split_rows
from meav.synth.textclean import (
    level_mismatch,
    near_duplicates,
    normalize_query,
    normalize_response,
    strip_prefill,
    truncate_paragraphs,
)


class SynthRun:
    """One run of a recipe into `out`; all state that must survive a kill lives in `<out>.work/`."""

    def __init__(self, recipe: SynthRecipe, out: Path, backend: str | None, console: Console | None = None):
        self.recipe = recipe
        self.out = Path(out)
        self.spec: BackendSpec = parse_backend(backend or recipe.backend)
        self.domains = recipe.domain_specs()
        self.work = self.out.with_name(self.out.name + ".work")
        self.console = console or Console(stderr=True)
        self.drops: Counter[str] = Counter()
        if not self.spec.remote:
            resolve_local_path(self.spec)  # a bad path fails now; the embedded model is built once, here
        else:
            build_remote_client(
                self.spec, recipe.request_timeout, recipe.max_retries
            )  # key and model id, no call
        self.llm = LLMFactory(self.spec.name, self.work, recipe)
        self.gen = recipe.generation
        # Prefill the JSON shape for local models, which rarely keep to it otherwise (remote ones do).
        self.prefill = "" if self.spec.remote else PAIRS_PREFILL

    # ---- stages -------------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.monotonic()
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "errors.jsonl").unlink(missing_ok=True)
        with display(self.console) as self.progress:
            rows = self.personahub_queries() + self.createpersona_queries()
            rows = self.clean_queries(rows)
            rows = self.responses(rows)
        if self.drops:
            self.console.print("Drops: " + ", ".join(f"{k} {v}" for k, v in sorted(self.drops.items())))
        split = self.recipe.split
        by_split = split_rows(
            rows, [d.name for d in self.domains], split.test_fraction, split.validation_fraction
        )
        tokens = self.token_usage()
        summary = corpus_summary(
            by_split, self.drops, tokens, self.spec, time.monotonic() - started, self.domains
        )
        with atomic.staging_dir(self.out) as tmp:
            write_corpus(by_split, tmp, [d.name for d in self.domains])
            atomic.write_json(tmp / "synth_meta.json", self.metadata(summary))
        print_summary(summary, self.console)
        return summary

    def _stage(self, name: str, rows: list[dict], prompt_col: str, out_col: str, max_new: int) -> list[dict]:
        with stage_progress(self.progress, name, len(rows), self.work / "calls"):
            result = generate_column(name, rows, prompt_col, out_col, self.llm, max_new, self.work)
        self.check_errors(name)
        return result

    def personahub_queries(self) -> list[dict]:
        src = self.recipe.personahub
        if src is None:
            return []
        personas = sample_personahub(src, self.recipe.seed)
        dup = near_duplicates(personas, self.recipe.cleanup.near_duplicate_threshold)
        self.drops["persona_duplicate"] += sum(d is not None for d in dup)
        personas = [p for p, d in zip(personas, dup, strict=True) if d is None]
        collection = Path(src.dataset).name if Path(src.dataset).exists() else src.dataset
        rows = [
            {
                "domain": d.name,
                "source": "personahub",
                "persona_collection": collection,
                "persona": p,
                "lineage_root": None,
                "lineage_depth": None,
                "lineage_seed": None,
                "prompt_query": P.render(P.QUERY_FROM_PERSONA, d, persona=p),
                "prefill": self.recipe.query_prefill,
            }
            for p in personas
            for d in self.domains
        ]
        rows = self._stage(
            "queries (PersonaHub)", rows, "prompt_query", "query", self.gen.max_new_tokens_query
        )
        for r in rows:
            del r["prompt_query"], r["prefill"]
        return rows

    def createpersona_queries(self) -> list[dict]:
        cfg = self.recipe.createpersona
        if cfg is None:
            return []
        rng = random.Random(self.recipe.seed)
        frontier = []
        for d in self.domains:
            for seed in cfg.seeds:
                theme = random.Random(f"{self.recipe.seed}:{d.name}:{seed}").choice(P.ROOT_THEMES)
                prompt = P.render(P.CREATE_ROOT_PERSONAS, d, count=cfg.roots, theme=theme)
                frontier.append(
                    {
                        "domain": d.name,
                        "seed": seed,
                        "depth": 0,
                        "root": None,
                        "prompt": prompt,
                        "prefill": self.prefill,
                    }
                )
        rng.shuffle(frontier)
        pairs: list[dict] = []
        seen: list[str] = []
        for depth in range(cfg.depth + 1):
            limit = cfg.roots if depth == 0 else cfg.branching
            parsed = self._persona_level(f"CreatePersona depth {depth}", frontier, limit)
            frontier = []
            for parent, pair in parsed:
                if self._is_duplicate_persona(pair.persona, seen):
                    self.drops["persona_duplicate"] += 1
                    continue
                seen.append(pair.persona)
                root = parent["root"] or pair.persona
                pairs.append(
                    {
                        "domain": parent["domain"],
                        "source": "createpersona",
                        "persona_collection": f"createpersona:{self.spec.model}",
                        "persona": " ".join(pair.persona.split()),
                        "query": pair.query,
                        "lineage_root": root,
                        "lineage_depth": depth,
                        "lineage_seed": parent["seed"],
                    }
                )
                if depth < cfg.depth:
                    domain = next(x for x in self.domains if x.name == parent["domain"])
                    prompt = P.render(
                        P.CREATE_RELATED_PERSONAS, domain, count=cfg.branching, persona=pair.persona
                    )
                    frontier.append({**parent, "depth": depth + 1, "root": root, "prompt": prompt})
        return pairs

    def _persona_level(self, name: str, frontier: list[dict], limit: int) -> list[tuple[dict, object]]:
        """Generate one CreatePersona level; malformed JSON is retried once, then dropped and counted."""
        out = self._stage(name, frontier, "prompt", "answer", self.gen.max_new_tokens_personas)
        parsed, retry = [], []
        for row in out:
            pairs = parse_pairs(row["answer"], limit)
            if pairs is None:
                retry.append(
                    {k: v for k, v in row.items() if k != "answer"}
                    | {"prompt": row["prompt"] + P.JSON_RETRY_SUFFIX}
                )
            else:
                parsed += [(row, p) for p in pairs]
        if retry:
            for row in self._stage(
                f"{name} (retry)", retry, "prompt", "answer", self.gen.max_new_tokens_personas
            ):
                pairs = parse_pairs(row["answer"], limit)
                if pairs is None:
                    self.drops["createpersona_malformed_json"] += 1
                else:
                    parsed += [(row, p) for p in pairs]
        return parsed

    def _is_duplicate_persona(self, persona: str, seen: list[str]) -> bool:
        dup = near_duplicates([*seen, persona], self.recipe.cleanup.near_duplicate_threshold)
        return dup[-1] is not None

    def clean_queries(self, rows: list[dict]) -> list[dict]:
        kept = []
        for r in rows:
            r["query"] = normalize_query(r.get("query") or "")
            if not r["query"]:
                self.drops["query_empty"] += 1
            elif len(r["query"].split()) < self.recipe.cleanup.min_query_words:
                self.drops["query_too_short"] += 1
            else:
                kept.append(r)
        result = []
        for domain in self.domains:
            in_domain = [r for r in kept if r["domain"] == domain.name]
            dup = near_duplicates(
                [r["query"] for r in in_domain], self.recipe.cleanup.near_duplicate_threshold
            )
            self.drops["query_duplicate"] += sum(d is not None for d in dup)
            result += [r for r, d in zip(in_domain, dup, strict=True) if d is None]
        for r in result:
            r["id"] = row_id(r["domain"], r["query"])
        return result

    def responses(self, rows: list[dict]) -> list[dict]:
        g = self.gen
        for r in rows:
            domain = next(d for d in self.domains if d.name == r["domain"])
            for level in LEVELS:
                n = random.Random(f"{self.recipe.seed}:{r['id']}:{level}").randint(
                    g.num_paras_min, g.num_paras_max
                )
                r[f"num_paras_{level}"] = n
                r[f"prompt_{level}"] = P.render(
                    P.RESPONSE_PROMPTS[level], domain, num_paras=n, query=r["query"]
                )
                r[f"prefill_{level}"] = self.recipe.response_prefill.get(level, "")
        with stage_progress(self.progress, "responses (3 levels)", 3 * len(rows), self.work / "calls"):
            out = generate_responses(rows, self.llm, g.max_new_tokens_response, self.work)
        self.check_errors("responses")
        kept = []
        for r in out:
            reason = None
            for level in LEVELS:
                text = normalize_response(strip_prefill(r.get(level) or "", r[f"prefill_{level}"]))
                r[level] = truncate_paragraphs(text, r[f"num_paras_{level}"], self.recipe.cleanup.max_words)
                if not r[level]:
                    reason = reason or f"{level}_empty"
                elif self.recipe.cleanup.drop_level_mismatch:
                    reason = reason or level_mismatch(level, r[level])
            if reason:
                self.drops[reason] += 1
                continue
            r["generator"] = self.spec.model
            kept.append({k: v for k, v in r.items() if not k.startswith(("prompt_", "prefill_"))})
        return kept

    # ---- bookkeeping --------------------------------------------------------------------------------
    def check_errors(self, stage: str) -> None:
        path = self.work / "errors.jsonl"
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        if lines:
            first = json.loads(lines[0])
            raise MeavError(
                f"{stage}: {len(lines)} call(s) to {self.spec.name} failed (first: {first['error']}); "
                f"completed calls are kept in {self.work}: rerun the same command to retry the rest"
            )

    def token_usage(self) -> dict:
        entries = list(CallCache(self.work / "calls").entries())
        tin = sum(e.get("input_tokens", 0) for e in entries)
        tout = sum(e.get("output_tokens", 0) for e in entries)
        price = self.spec.price()
        cost = None if price is None else (tin * price[0] + tout * price[1]) / 1e6
        return {"calls": len(entries), "input_tokens": tin, "output_tokens": tout, "cost_usd": cost}

    def metadata(self, summary: dict) -> dict:
        return {
            "meav_version": __version__,
            "recipe_name": self.recipe.name,
            "recipe": self.recipe.model_dump(mode="json"),
            "backend": self.spec.name,
            "generator": self.spec.model,
            "seeds": {
                "recipe": self.recipe.seed,
                "createpersona": getattr(self.recipe.createpersona, "seeds", []),
            },
            "domains": [d.model_dump() for d in self.domains],
            "response_prefill": self.recipe.response_prefill,
            "responses_exclude_prefill": True,  # the openers were stripped before the corpus was written
            "prompts": {
                "query_from_persona": P.QUERY_FROM_PERSONA,
                "createpersona_roots": P.CREATE_ROOT_PERSONAS,
                "createpersona_related": P.CREATE_RELATED_PERSONAS,
                **{f"response_{k}": v for k, v in P.RESPONSE_PROMPTS.items()},
            },
            **summary,
        }
