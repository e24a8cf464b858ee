"""Batched generation with a local transformers model (the `local` backend, e.g. the embedded SmolLM2).

Prompts are sorted by length and left-padded; a trailing assistant message is a prefill that the answer
continues. The sampling seed is derived from the prompt, so a rerun of the same call gives the same text.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from meav.core.llm.cache import call_key


class LocalGenerator:
    """A causal LM loaded once (float32, eval mode) that answers chat message lists in batches."""

    def __init__(self, path: str | Path, name: str, batch_size: int = 8, torch_threads: int = 0):
        hf_logging.disable_progress_bar()
        if torch_threads:
            torch.set_num_threads(torch_threads)
        self.name, self.batch_size = name, batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()

    def prompt(self, messages: list[dict]) -> str:
        """The chat-templated prompt; a trailing assistant message is appended as the answer's start."""
        prefill = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
        turns = messages[:-1] if prefill else messages
        return self.tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True) + prefill

    def generate(self, batch: list[list[dict]], params: dict) -> list[dict]:
        """One result dict per message list: text, token counts, backend name, seconds per call."""
        tok, model = self.tokenizer, self.model
        prompts = [self.prompt(m) for m in batch]
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
                results[i] = {
                    # keep leading spaces: the text may continue a prefill ("I" + " am ...")
                    "text": tok.decode(ids, skip_special_tokens=True).rstrip(),
                    "input_tokens": int(enc["attention_mask"][row].sum()),
                    "output_tokens": int((ids != tok.pad_token_id).sum()),
                    "backend": self.name,
                    "seconds": round(seconds, 3),
                }
        return results
