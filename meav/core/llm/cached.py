"""One distilabel LLM for every backend, with every call looked up in the content-addressed call cache.

`CachedLLM` wraps any registered backend (specs.py): a result lands in `CallCache` the moment it completes
(the resume mechanism of `meav synth` and of the judge), remote calls run with bounded concurrency, and
failures are logged instead of being cached, so a rerun retries exactly them.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from distilabel.models.llms.base import LLM
from pydantic import Field, PrivateAttr

from meav.core.llm.cache import CallCache, call_key
from meav.core.llm.local import LocalGenerator
from meav.core.llm.specs import BackendSpec, build_remote_client, parse_backend, resolve_local_path


class CachedLLM(LLM):
    """A distilabel LLM that looks every call up in a `CallCache` before making it."""

    backend: str = Field(description="Backend spec, e.g. 'local', 'anthropic:claude-sonnet-5-5'.")
    cache_dir: str = Field(description="Folder of the content-addressed call cache.")
    errors_file: str = Field(description="JSONL file where failed calls are logged (they are not cached).")
    max_concurrency: int = Field(default=16, description="Remote calls in flight at once.")
    batch_size: int = Field(default=8, description="Local generation batch size.")
    timeout: float = Field(
        default=120.0, description="Seconds before a remote call times out (then retried)."
    )
    max_retries: int = Field(default=6, description="SDK retries with backoff on 429/5xx/timeouts.")
    torch_threads: int = Field(default=0, description="CPU threads of a local model (0: torch's default).")

    _spec: BackendSpec = PrivateAttr(default=None)
    _cache: CallCache = PrivateAttr(default=None)
    _inner: Any = PrivateAttr(default=None)
    _loop: Any = PrivateAttr(default=None)
    _local: Any = PrivateAttr(default=None)

    def load(self) -> None:
        super().load()
        self._spec = parse_backend(self.backend)
        self._cache = CallCache(self.cache_dir)

    def _ensure_client(self) -> None:
        """Create the real client lazily: a fully cached rerun never loads a model or opens a connection."""
        if self._inner is not None or self._local is not None:
            return
        spec = self._spec
        if not spec.remote:
            path = resolve_local_path(spec)
            self._local = LocalGenerator(path, spec.name, self.batch_size, self.torch_threads)
            return
        self._inner = build_remote_client(spec, self.timeout, self.max_retries)
        self._loop = asyncio.new_event_loop()

    @property
    def model_name(self) -> str:
        return parse_backend(self.backend).model

    def generate(  # no **kwargs: distilabel would treat it as a required runtime parameter
        self,
        inputs: list[list[dict]],
        num_generations: int = 1,
        max_new_tokens: int = 512,
        temperature: float = 0.7,
        top_p: float = 0.95,
    ) -> list[dict]:
        params = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p}
        keys = [call_key(self._spec.kind, self._spec.model, list(m), params) for m in inputs]
        results: dict[int, dict] = {}
        misses = []
        for i, key in enumerate(keys):
            hit = self._cache.get(key)
            if hit is not None:
                results[i] = hit
            else:
                misses.append(i)
        # Remote calls go out together (bounded concurrency); local ones in generation batches, each cached
        # as soon as it is done so that a kill loses at most one batch.
        step = max(1, len(misses)) if self._spec.remote else self.batch_size
        for start in range(0, len(misses), step):
            chunk = misses[start : start + step]
            try:
                self._ensure_client()
                fresh = self._call([inputs[i] for i in chunk], params, [keys[i] for i in chunk])
            except Exception as e:  # noqa: BLE001 - in a distilabel worker: log it, the main process reports it
                error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                fresh = [{"error": error}] * len(chunk)
            for i, entry in zip(chunk, fresh, strict=True):
                if "error" in entry:
                    self._log_error(keys[i], entry["error"])
                    continue
                if not self._spec.remote:  # remote calls are cached one by one as they complete
                    self._cache.put(keys[i], entry)
                results[i] = entry
        outputs = []
        for i in range(len(inputs)):
            entry = results.get(i)
            if entry is None:
                outputs.append(
                    {"generations": [None], "statistics": {"input_tokens": [0], "output_tokens": [0]}}
                )
            else:
                outputs.append(
                    {
                        "generations": [entry["text"]],
                        "statistics": {
                            "input_tokens": [entry["input_tokens"]],
                            "output_tokens": [entry["output_tokens"]],
                        },
                    }
                )
        return outputs

    def _call(self, batch: list[list[dict]], params: dict, keys: list[str]) -> list[dict]:
        if not self._spec.remote:
            return self._local.generate(batch, params)
        return self._loop.run_until_complete(self._gather_remote(batch, params, keys))

    async def _gather_remote(self, batch: list[list[dict]], params: dict, keys: list[str]) -> list[dict]:
        """All calls at once under the concurrency bound; each result is cached the moment it arrives (in a
        thread, so the fsync overlaps other calls' network time), so a kill loses only calls in flight."""
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def one(messages: list[dict], key: str) -> dict:
            entry = await call(messages)
            if "error" not in entry:
                await asyncio.to_thread(self._cache.put, key, entry)
            return entry

        async def call(messages: list[dict]) -> dict:
            async with semaphore:
                started = time.monotonic()
                try:
                    out = await self._spec.backend.call(self._inner, messages, params)
                except Exception as e:  # noqa: BLE001 - logged and retried on the next run
                    return {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
                text = out["generations"][0]
                stats = out.get("statistics", {})
                return {
                    "text": text,
                    "input_tokens": int((stats.get("input_tokens") or [0])[0]),
                    "output_tokens": int((stats.get("output_tokens") or [0])[0]),
                    "backend": self._spec.name,
                    "seconds": round(time.monotonic() - started, 3),
                }

        return await asyncio.gather(*(one(m, k) for m, k in zip(batch, keys, strict=True)))

    def _log_error(self, key: str, error: str) -> None:
        line = json.dumps({"key": key, "backend": self._spec.name, "error": error}) + "\n"
        with open(self.errors_file, "a", encoding="utf-8") as f:
            f.write(line)
