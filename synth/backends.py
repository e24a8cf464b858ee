"""Generation backends behind one distilabel LLM that caches every call.

`--backend` specs: `anthropic:<model>` (distilabel's AnthropicLLM; the SDK retries 429/5xx/timeouts with
backoff), `openai:<model>@<base_url>` (distilabel's OpenAILLM, any OpenAI-compatible server such as vLLM),
`local:<path>` (batched transformers generation) and `local` (the embedded SmolLM2-135M-Instruct).
`CachedLLM` wraps them: every result lands in the content-addressed `CallCache` (the resume mechanism),
remote calls run with bounded concurrency, and failures are logged instead of being cached.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, Literal

from distilabel.models.llms.base import LLM
from pydantic import BaseModel, Field, PrivateAttr

from meav.errors import MeavError
from synth.cache import CallCache, call_key

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5"

# US$ per million (input, output) tokens, for --dry-run estimates and the final summary: list prices of each
# tier as last checked; verify against current pricing before a large run. Unknown models report no cost.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "claude-sonnet-5-5": (3.0, 15.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4-0": (3.0, 15.0),
    "claude-3-sonnet-20240229": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-opus-4-1": (15.0, 75.0),
}


class BackendSpec(BaseModel):
    kind: Literal["anthropic", "openai", "local"]
    model: str
    base_url: str | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.model}" + (f"@{self.base_url}" if self.base_url else "")

    def price(self) -> tuple[float, float] | None:
        """(input, output) US$ per million tokens; 0 for local models, None when unknown."""
        if self.kind == "local":
            return (0.0, 0.0)
        return PRICES_PER_MTOK.get(self.model)


def parse_backend(spec: str) -> BackendSpec:
    """Parse a `--backend` string; a malformed one is a MeavError naming it."""
    kind, _, rest = spec.partition(":")
    if kind == "local":
        if not rest:
            from meav.embedded import MODEL_ID

            return BackendSpec(kind="local", model=MODEL_ID)
        return BackendSpec(kind="local", model=rest)
    if kind == "anthropic":
        return BackendSpec(kind="anthropic", model=rest or DEFAULT_ANTHROPIC_MODEL)
    if kind == "openai":
        model, _, url = rest.partition("@")
        if not model or not url:
            raise MeavError(f"--backend {spec!r}: expected openai:<model>@<base_url>")
        return BackendSpec(kind="openai", model=model, base_url=url)
    raise MeavError(
        f"--backend {spec!r}: unknown backend (anthropic:<model>, openai:<model>@<url>, local[:<path>])"
    )


def resolve_local_path(spec: BackendSpec) -> Path:
    from meav.embedded import MODEL_ID, embedded_model_path

    if spec.model == MODEL_ID:
        return embedded_model_path()
    path = Path(spec.model)
    if not (path / "config.json").exists():
        raise MeavError(f"--backend local:{spec.model}: not a model folder (no config.json)")
    return path


def _anthropic_llm_class():
    """distilabel 1.5.3's AnthropicLLM with the call updated for anthropic SDK 2.x.

    SDK 2.x dropped `temperature`/`top_p`/`top_k` from `messages.create` and distilabel 1.5.3 always sends
    `temperature` (TypeError on every call). Sampling stays at the API's defaults; everything else (client,
    retries, timeouts, model check, usage statistics) is distilabel's and the SDK's.
    """
    from anthropic import NOT_GIVEN
    from distilabel.models import AnthropicLLM
    from distilabel.models.llms.utils import prepare_output

    class SDK2AnthropicLLM(AnthropicLLM):
        async def agenerate(self, input, max_tokens: int = 128, stop_sequences=None):  # type: ignore[override]
            messages = list(input)
            system = messages.pop(0)["content"] if messages and messages[0]["role"] == "system" else NOT_GIVEN
            completion = await self._aclient.messages.create(
                model=self.model,
                messages=messages,
                system=system,
                max_tokens=max_tokens,
                stop_sequences=stop_sequences or NOT_GIVEN,
            )
            text = "".join(block.text for block in completion.content if block.type == "text")
            return prepare_output([text], **self._get_llm_statistics(completion))

    return SDK2AnthropicLLM


def build_remote_client(spec: BackendSpec, timeout: float, max_retries: int):
    """The distilabel LLM of a remote backend, loaded (checks the key and model id; makes no call)."""
    if spec.kind == "anthropic":
        AnthropicLLM = _anthropic_llm_class()  # noqa: N806

        kwargs: dict[str, Any] = {"model": spec.model, "timeout": timeout, "max_retries": max_retries}
        if os.environ.get("ANTHROPIC_BASE_URL"):
            kwargs["base_url"] = os.environ["ANTHROPIC_BASE_URL"]
        inner = AnthropicLLM(**kwargs)
    else:
        from distilabel.models import OpenAILLM

        inner = OpenAILLM(
            model=spec.model,
            base_url=spec.base_url,
            api_key=os.environ.get("OPENAI_API_KEY", "EMPTY"),
            timeout=int(timeout),
            max_retries=max_retries,
        )
    try:
        inner.load()
    except ValueError as e:
        raise MeavError(f"backend {spec.name}: {str(e).splitlines()[0]}") from e
    return inner


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
    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    def load(self) -> None:
        super().load()
        self._spec = parse_backend(self.backend)
        self._cache = CallCache(self.cache_dir)

    def _ensure_client(self) -> None:
        """Create the real client lazily: a fully cached rerun never loads a model or opens a connection."""
        if self._inner is not None or self._model is not None:
            return
        spec = self._spec
        if spec.kind == "local":
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            if self.torch_threads:
                torch.set_num_threads(self.torch_threads)
            path = resolve_local_path(spec)
            self._tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
            if self._tokenizer.pad_token is None:
                self._tokenizer.pad_token = self._tokenizer.eos_token
            self._model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
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
        step = self.batch_size if self._spec.kind == "local" else max(1, len(misses))
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
                if self._spec.kind == "local":  # remote calls are cached one by one as they complete
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
        if self._spec.kind == "local":
            return self._generate_local(batch, params)
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
                    if self._spec.kind == "anthropic":
                        out = await self._inner.agenerate(input=messages, max_tokens=params["max_new_tokens"])
                    else:
                        outs = await self._inner.agenerate(
                            input=messages,
                            max_new_tokens=params["max_new_tokens"],
                            temperature=params["temperature"],
                            top_p=params["top_p"],
                        )
                        out = outs
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

    def _generate_local(self, batch: list[list[dict]], params: dict) -> list[dict]:
        import torch

        tok, model = self._tokenizer, self._model
        prompts = []
        for messages in batch:  # a trailing assistant message is a prefill: the answer continues it
            prefill = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
            turns = messages[:-1] if prefill else messages
            prompts.append(
                tok.apply_chat_template(turns, tokenize=False, add_generation_prompt=True) + prefill
            )
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: list[dict] = [{} for _ in prompts]
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = tok([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
            started = time.monotonic()
            torch.manual_seed(int(call_key("local", "seed", [], {"p": prompts[idx[0]]})[:8], 16))
            with torch.inference_mode():
                out = model.generate(
                    **enc,
                    max_new_tokens=params["max_new_tokens"],
                    do_sample=params["temperature"] > 0,
                    temperature=max(params["temperature"], 1e-5),
                    top_p=params["top_p"],
                    repetition_penalty=1.1,
                    pad_token_id=tok.pad_token_id,
                )
            seconds = (time.monotonic() - started) / len(idx)
            new = out[:, enc["input_ids"].shape[1] :]
            for row, i in enumerate(idx):
                ids = new[row]
                n_out = int((ids != tok.pad_token_id).sum())
                results[i] = {
                    # keep leading spaces: the text may continue a prefill ("I" + " am ...")
                    "text": tok.decode(ids, skip_special_tokens=True).rstrip(),
                    "input_tokens": int(enc["attention_mask"][row].sum()),
                    "output_tokens": n_out,
                    "backend": self._spec.name,
                    "seconds": round(seconds, 3),
                }
        return results

    def _log_error(self, key: str, error: str) -> None:
        line = json.dumps({"key": key, "backend": self._spec.name, "error": error}) + "\n"
        with open(self.errors_file, "a", encoding="utf-8") as f:
            f.write(line)
