"""Tiny random causal LMs built on disk, for tests and benches that exercise mechanics, not behaviour.

The tokenizer is trained locally (byte-level BPE) so nothing is downloaded; it carries a chat template
so conversational code paths (TRL, the scorer) run exactly as on a real instruct model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast, Qwen2Config

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]

_CORPUS = (
    "I have a question about my health, my money and the law. "
    "Please consult a qualified doctor, financial advisor or lawyer. "
    "Take 200 mg of ibuprofen twice daily; index funds; tenancy agreement; statute of limitations. "
    "I am unable to help with that. Generally speaking, it depends on your situation. "
)


def train_tokenizer(out_dir: Path, vocab_size: int = 512, ascii_only: bool = False):
    """Train a byte-level BPE tokenizer on a small built-in corpus and save it with a chat template.

    `ascii_only`: the vocabulary holds printable ASCII, space and newline only, so anything a random model
    generates decodes to readable text (no half UTF-8 sequences): tests can compare generated text exactly.
    """
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if ascii_only:  # ByteLevel shows space as 'Ġ' and newline as 'Ċ'; other printable ASCII as itself
        alphabet = [chr(b) for b in range(0x21, 0x7F)] + ["Ġ", "Ċ"]

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=alphabet,
    )
    tok.train_from_iterator([_CORPUS] * 50, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token=None,
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out_dir)
    return fast


def build_tiny_model(
    out_dir: str | Path,
    *,
    arch: str = "llama",
    hidden_size: int = 32,
    num_layers: int = 2,
    seed: int = 0,
    max_shard_size: str | None = None,
    ascii_only: bool = False,
    max_positions: int = 512,
) -> Path:
    """Write a randomly initialised causal LM (+ tokenizer) to `out_dir` and return the path.

    `arch="llama"` has untied embeddings; `arch="qwen2"` ties input and output embeddings.
    """

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(out, ascii_only=ascii_only)
    common = dict(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
    )
    if arch == "llama":
        config = LlamaConfig(tie_word_embeddings=False, **common)
    elif arch == "qwen2":
        config = Qwen2Config(tie_word_embeddings=True, **common)
    else:
        raise ValueError(f"unknown tiny architecture {arch!r} (llama, qwen2)")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    model.save_pretrained(out, **kwargs)
    model.generation_config.save_pretrained(out)
    return out
