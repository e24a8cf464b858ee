"""Bad input through the real CLI entry point: one line naming the culprit, exit ≠ 0, no output folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

from tests.cli_runner import run_meav


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _assert_refused(r, tmp_path, out_name: str, *needles: str, code: int = 1) -> None:
    """Refused: exit 1 for a failure while running (a bad checkpoint), 2 for a value its flag refuses."""
    assert r.code == code, (r.code, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    leftovers = [p.name for p in tmp_path.iterdir() if out_name in p.name]
    assert leftovers == [], leftovers


def _extract(capsys, base, aligned, out):
    return run_meav(capsys, "vectors", "extract", "--base", base, "--aligned", aligned, "--out", out)


def test_corrupt_and_truncated_safetensors(llama_pair, tmp_path, capsys):
    base, aligned, _ = llama_pair
    corrupt = _copy(aligned, tmp_path / "corrupt")
    data = bytearray((corrupt / "model.safetensors").read_bytes())
    data[8:40] = b"\xff" * 32  # header JSON destroyed
    (corrupt / "model.safetensors").write_bytes(bytes(data))
    _assert_refused(
        _extract(capsys, base, corrupt, tmp_path / "av"), tmp_path, "av", "corrupt", "model.safetensors"
    )

    truncated = _copy(aligned, tmp_path / "truncated")
    f = truncated / "model.safetensors"
    os.truncate(f, f.stat().st_size - 100)
    _assert_refused(_extract(capsys, base, truncated, tmp_path / "av"), tmp_path, "av", "truncated", str(f))


def test_missing_shard(sharded_pair, tmp_path, capsys):
    base, aligned = sharded_pair
    broken = _copy(aligned, tmp_path / "broken")
    shard = sorted(broken.glob("model-*.safetensors"))[1]
    shard.unlink()
    _assert_refused(
        _extract(capsys, base, broken, tmp_path / "av"), tmp_path, "av", "shard missing", shard.name
    )


def test_dtype_and_shape_mismatch_name_the_tensor(llama_pair, tmp_path, capsys):
    base, aligned, _ = llama_pair
    for kind in ("dtype", "shape"):
        bad = _copy(aligned, tmp_path / kind)
        tensors = load_file(bad / "model.safetensors")
        name = "model.layers.1.mlp.up_proj.weight"
        tensors[name] = tensors[name].half() if kind == "dtype" else tensors[name][:-1]
        save_file(tensors, bad / "model.safetensors", metadata={"format": "pt"})
        _assert_refused(_extract(capsys, base, bad, tmp_path / "av"), tmp_path, "av", kind, name)


def test_pickle_checkpoint_refused(llama_pair, tmp_path, capsys):
    base, aligned, _ = llama_pair
    pickled = _copy(aligned, tmp_path / "pickled")
    tensors = load_file(pickled / "model.safetensors")
    (pickled / "model.safetensors").unlink()
    torch.save(tensors, pickled / "pytorch_model.bin")
    _assert_refused(
        _extract(capsys, base, pickled, tmp_path / "av"), tmp_path, "av", "pickle", "pytorch_model.bin"
    )


def test_wrong_base_refused_unless_forced(llama_pair, tmp_path, capsys):
    base, aligned, av = llama_pair
    apply = [
        "vectors",
        "apply",
        "--base",
        aligned,
        "--av",
        f"a={av}",
        "--lambda",
        "a=0.5",
        "--out",
        tmp_path / "m",
    ]
    r = run_meav(capsys, *apply)
    _assert_refused(r, tmp_path, "m", str(aligned), str(base), "--force")
    r = run_meav(capsys, *apply, "--force")
    assert r.code == 0 and (tmp_path / "m" / "model.safetensors").exists()


def test_architecture_mismatch_names_first_tensor(llama_pair, qwen_pair, tmp_path, capsys):
    r = _extract(capsys, llama_pair[0], qwen_pair[1], tmp_path / "av")
    _assert_refused(r, tmp_path, "av", "tensor 'model.layers.0.self_attn.k_proj.bias'")
    r = run_meav(
        capsys,
        "vectors",
        "apply",
        "--base",
        llama_pair[0],
        "--av",
        f"qwen={qwen_pair[2]}",
        "--out",
        tmp_path / "m",
    )
    _assert_refused(r, tmp_path, "m", "tensor")


def test_console_script_one_line_exit_1(llama_pair, tmp_path):
    """The installed `meav` command itself (subprocess): one stderr line, exit status 1 (the base folder named
    is missing: a runtime failure), nothing written."""
    base, _, av = llama_pair
    exe = shutil.which("meav") or f"{sys.prefix}/bin/meav"
    r = subprocess.run(
        [
            exe,
            "vectors",
            "apply",
            "--base",
            str(tmp_path / "nope"),
            "--av",
            f"a={av}",
            "--out",
            str(tmp_path / "m"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "nope" in r.stderr, r.stderr
    assert not (tmp_path / "m").exists()
    assert json.loads((av / "av_config.json").read_text())["base"] == str(base)


def _rewrite_header(path, edit) -> None:
    """Rewrite a safetensors header in place (same length, padded with spaces as the format allows)."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = edit(json.loads(raw[8 : 8 + n]))
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= n
    path.write_bytes(raw[:8] + text.ljust(n) + raw[8 + n :])


def test_malformed_json_files_are_one_line(llama_pair, sharded_pair, tmp_path, capsys):
    base, aligned, _ = llama_pair
    bad_config = _copy(aligned, tmp_path / "config")
    (bad_config / "config.json").write_text("{not json")
    _assert_refused(
        _extract(capsys, base, bad_config, tmp_path / "av"), tmp_path, "av", "config.json", "corrupt"
    )

    bad_entry = _copy(aligned, tmp_path / "entry")
    name = "model.layers.1.mlp.up_proj.weight"
    _rewrite_header(bad_entry / "model.safetensors", lambda h: {**h, name: [1, 2]})
    _assert_refused(_extract(capsys, base, bad_entry, tmp_path / "av"), tmp_path, "av", "corrupt", name)

    sharded_base, sharded = sharded_pair
    bad_index = _copy(sharded, tmp_path / "index")
    index = bad_index / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": ["model-00001.safetensors"]}))
    _assert_refused(
        _extract(capsys, sharded_base, bad_index, tmp_path / "av"),
        tmp_path,
        "av",
        index.name,
        "corrupt index",
    )
