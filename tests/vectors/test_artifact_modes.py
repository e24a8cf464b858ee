"""Under umask 022 every file a tiny pipeline writes (AV folder, configs, cards, LoRA export, release, merged
model) is 0644 and every folder 0755: readable by a team on a shared cluster, as plain open()/mkdir() make them."""

from __future__ import annotations

import os
import stat

from tests.av_helpers import make_aligned
from tests.cli_runner import run_meav


def test_no_generated_file_is_private_under_umask_022(tiny_llama, tmp_path, capsys):
    aligned = make_aligned(tiny_llama, tmp_path / "aligned", seed=11)
    out = tmp_path / "out"
    before = os.umask(0o022)
    try:
        steps = [
            ("vectors", "extract", "--base", tiny_llama, "--aligned", aligned, "--out", out / "av", "--domain", "medical"),
            ("vectors", "extract", "--base", tiny_llama, "--aligned", aligned, "--out", out / "av-r2", "--rank", "2"),
            ("vectors", "to-lora", out / "av", "--out", out / "lora", "--base-id", "org/tiny"),
            ("vectors", "publish", out / "av", "--repo", "org/av", "--base-id", "org/tiny", "--out", out / "release"),
            ("vectors", "apply", "--base", tiny_llama, "--av", f"a={out / 'av'}", "--lambda", "a=0.5", "--out", out / "merged"),
        ]  # fmt: skip
        for args in steps:
            r = run_meav(capsys, *map(str, args))
            assert r.code == 0, (args, r.err)
    finally:
        os.umask(before)
    files = [p for p in out.rglob("*") if p.is_file()]
    folders = [out, *(p for p in out.rglob("*") if p.is_dir())]
    assert {p.parent.name for p in files} == {"av", "av-r2", "lora", "release", "merged"}
    assert {"README.md", "av_config.json", "adapter_config.json", "config.json"} <= {p.name for p in files}
    modes = {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {"0o644"}, modes
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {"0o755"}
