"""Atomic writes leave what a plain open()/mkdir() would: the umask's permissions, not mkstemp's 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest

from meav.core.atomic import current_umask, staging_dir, write_json, write_text


@pytest.fixture
def umask() -> Iterator[callable]:
    before = os.umask(0o022)
    yield os.umask
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_and_folders_get_the_umask_permissions(umask, tmp_path):
    assert current_umask() == 0o022
    write_text(tmp_path / "card.md", "x")
    with staging_dir(tmp_path / "out") as tmp:
        write_json(tmp / "config.json", {"a": 1})
    assert mode(tmp_path / "card.md") == 0o644
    assert mode(tmp_path / "out") == 0o755 and mode(tmp_path / "out" / "config.json") == 0o644
    plain = tmp_path / "plain"
    plain.write_text("x")  # what open() gives, for comparison
    assert mode(plain) == mode(tmp_path / "card.md")

    umask(0o077)
    assert current_umask() == 0o077
    write_text(tmp_path / "private.md", "x")
    with staging_dir(tmp_path / "private") as tmp:
        write_text(tmp / "f", "x")
    assert mode(tmp_path / "private.md") == 0o600 and mode(tmp_path / "private") == 0o700


def test_a_replaced_file_keeps_its_permissions_as_open_would(umask, tmp_path):
    path = tmp_path / "av_config.json"
    write_text(path, "1")
    os.chmod(path, 0o640)
    write_text(path, "2")
    assert path.read_text() == "2" and mode(path) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
