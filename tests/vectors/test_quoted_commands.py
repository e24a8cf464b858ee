"""Every `meav ...` command line quoted in README.md or in a generated card exists: its subcommand path is a
real command (`--help` exits 0) and every `--flag` it quotes is one of that command's options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

README = Path(__file__).resolve().parents[2] / "README.md"
SEPARATORS = re.compile(r"\s(?:&&|\|\||[|;&])\s?|\s&$")


def command_lines(markdown: str) -> list[str]:
    """`meav ...` commands in bash/sh code blocks (continuations joined, `a && b` split) and in inline code
    (`meav eval sweep / search` stands for `meav eval sweep` and `meav eval search`)."""
    found: list[str] = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", markdown, re.S):
        if lang in ("bash", "sh", "shell", ""):
            text = re.sub(r"\\\n\s*", " ", body)
            for line in text.splitlines():
                line = line.split(" #")[0]
                found += [seg.strip() for seg in SEPARATORS.split(line) if seg.strip()]
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        words = span.split(" / ")
        found.append(words[0])
        stem = words[0].split()[:-1]
        found += [" ".join([*stem, w]) for w in words[1:] if re.fullmatch(r"[\w-]+", w)]
    cleaned = []
    for cmd in found:
        cmd = re.sub(r"^(?:[A-Z_]+=\S+\s+)+", "", cmd)  # ANTHROPIC_API_KEY=... meav ...
        cmd = re.sub(r"^(?:\.venv/bin/|\S*/)?meav(?=\s|$)", "meav", cmd)
        if cmd == "meav" or cmd.startswith("meav "):
            cleaned.append(cmd)
    return cleaned


def resolve(root, cmd: str) -> tuple[list[str], object, list[str]]:
    """(subcommand path, the command, flags quoted) of one command line; fails on an unknown subcommand."""
    words = shlex.split(cmd, posix=True)[1:]
    path, node = [], root
    while words and hasattr(node, "commands") and not words[0].startswith("-"):
        sub = node.commands.get(words[0])
        assert sub is not None, f"{cmd!r}: `{' '.join(['meav', *path, words[0]])}` is not a command"
        path.append(words.pop(0))
        node = sub
    flags = [f.split("=")[0] for w in words if w.startswith("--") for f in w.split("/")]
    return path, node, flags


def check(commands: list[str]) -> set[tuple[str, ...]]:
    from meav.cli import app

    root = typer.main.get_command(app)
    runner, seen = CliRunner(), set()
    for cmd in commands:
        path, node, flags = resolve(root, cmd)
        known = {o for p in node.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
        unknown = [f for f in flags if f not in known]
        assert not unknown, f"{cmd!r}: `meav {' '.join(path)}` has no option {unknown[0]}"
        if tuple(path) not in seen:
            seen.add(tuple(path))
            result = runner.invoke(app, [*path, "--help"])
            assert result.exit_code == 0, f"meav {' '.join(path)} --help: {result.output[-300:]}"
    return seen


def test_every_command_quoted_in_the_readme_exists():
    commands = command_lines(README.read_text())
    seen = check(commands)
    # the README quotes the commands of every stage it documents (a parse that found nothing would pass)
    assert {("vectors", "publish"), ("eval", "sweep"), ("annotate", "push"), ("serve",), ("demo",)} <= seen
    assert len(commands) > 30


@pytest.fixture(scope="module")
def generated_cards(llama_pair, tmp_path_factory) -> list[str]:
    """The AV card as extracted, as released, on the embedded base, and the LoRA card."""
    from meav.core.av.card import render_card
    from meav.core.av.lora import render_lora_card
    from meav.core.embedded import cache_root
    from meav.vectors import LoraOptions, PublishAVOptions, publish_av, to_lora

    _, _, av = llama_pair
    out = tmp_path_factory.mktemp("cards")
    publish_av(PublishAVOptions(av=av, repo="org/av", base_id="org/base", out=out / "release"))
    to_lora(LoraOptions(av=str(av), out=out / "lora", base_id="org/base"))
    embedded = {"base": str(cache_root() / "models" / "smollm2-135m-instruct"), "domain": "legal"}
    report = {"rank": "full", "energy_kept": 1.0, "dropped_tensors": [], "dropped_energy_share": 0.0}
    return [
        (av / "README.md").read_text(),
        (out / "release" / "README.md").read_text(),
        (out / "lora" / "README.md").read_text(),
        render_card(embedded, "org/av"),
        render_lora_card(embedded, report, "org/av-lora", "org/av"),
    ]


def test_every_command_quoted_in_a_generated_card_exists(generated_cards):
    commands = [c for card in generated_cards for c in command_lines(card)]
    seen = check(commands)
    assert {("vectors", "apply"), ("eval", "sweep")} <= seen


def test_the_checker_catches_a_command_that_does_not_exist():
    with pytest.raises(AssertionError, match="meav vectors sweep"):
        check(command_lines("Run the sweep: `meav vectors sweep --av X`."))
    with pytest.raises(AssertionError, match="--folder"):
        check(command_lines("```bash\nmeav card runs/x --folder runs/x\n```"))
