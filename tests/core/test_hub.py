"""`meav publish` through the real huggingface_hub and datasets clients against the Hub test server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from meav.core.corpus import SPLITS, data_files, features
from meav.core.errors import MeavError
from meav.core.hub import publish
from meav.dataset_cards.card import write_card
from tests.toy_corpus import write_toy_corpus


def meav(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "meav.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def corpus(tmp_path: Path, name: str = "corpus", per_domain: int = 10, repo: str | None = None) -> Path:
    folder = write_toy_corpus(tmp_path / name, per_domain=per_domain)
    write_card(folder, repo_id=repo)
    return folder


def commits(repo: str, repo_type: str = "dataset") -> list[str]:
    from huggingface_hub import HfApi

    return [c.commit_id for c in HfApi().list_repo_commits(repo, repo_type=repo_type)]


def test_publish_then_load_every_config(hub, tmp_path):
    from datasets import load_dataset

    repo = hub.repo_name("corpus")
    folder = corpus(tmp_path, repo=repo)
    run = meav("publish", str(folder), "--repo", repo)
    assert run.returncode == 0, run.stderr
    assert f"{hub.url}/datasets/{repo}" in run.stdout
    assert hub.token not in run.stdout + run.stderr

    everything = load_dataset(repo)
    assert set(everything) == set(SPLITS)
    assert everything["train"].features == features()
    assert sum(everything[s].num_rows for s in SPLITS) == 30
    legal = load_dataset(repo, "legal")
    assert {s: legal[s].num_rows for s in SPLITS} == {"train": 6, "validation": 1, "test": 3}
    assert set(legal["test"]["domain"]) == {"legal"}
    assert legal["train"].features == features()


def test_tags_pin_releases_and_republish_is_a_no_op(hub, tmp_path):
    from datasets import load_dataset

    repo = hub.repo_name("tagged")
    v1 = publish(corpus(tmp_path, "v1", per_domain=10), repo, tag="v1")
    assert v1.changed
    history = commits(repo)
    again = publish(corpus(tmp_path, "v1-again", per_domain=10), repo, tag="v1")  # same bytes, same tag
    assert not again.changed and again.commit == v1.commit and commits(repo) == history

    v2 = publish(corpus(tmp_path, "v2", per_domain=20), repo, tag="v2", commit_message="v2: more rows")
    assert v2.changed and len(commits(repo)) == len(history) + 1

    old = load_dataset(repo, "medical", revision="v1")
    new = load_dataset(repo, "medical")
    assert old["train"].num_rows == 6 and new["train"].num_rows == 12
    assert set(old["train"]["id"]) < set(new["train"]["id"]) | set(new["test"]["id"]) | set(
        new["validation"]["id"]
    )

    with pytest.raises(MeavError, match="tag 'v1' already exists"):  # tags are never moved
        publish(corpus(tmp_path, "v3", per_domain=12), repo, tag="v1")
    assert len(commits(repo)) == len(history) + 1  # refused before committing anything


def test_publish_to_a_branch_deletes_files_gone_from_the_folder(hub, tmp_path):
    from huggingface_hub import HfApi

    repo = hub.repo_name("branch")
    folder = corpus(tmp_path)
    (folder / "notes.txt").write_text("draft")
    publish(folder, repo, revision="draft")
    (folder / "notes.txt").unlink()
    url = publish(folder, repo, revision="draft").url
    assert url.endswith(f"{repo}/tree/draft")
    files = HfApi().list_repo_files(repo, repo_type="dataset", revision="draft")
    assert "notes.txt" not in files and data_files("legal", "test") in files
    assert HfApi().list_repo_files(repo, repo_type="dataset") == [".gitattributes"]  # main untouched


def test_model_folder_publishes_to_a_model_repo(hub, tmp_path):
    from huggingface_hub import hf_hub_download

    folder = tmp_path / "av"
    folder.mkdir()
    (folder / "config.json").write_text('{"domain": "legal"}')
    (folder / "model.safetensors").write_bytes(os.urandom(4096))  # stored through the LFS path
    repo = hub.repo_name("av")
    url = publish(folder, repo, repo_type="model", tag="v1").url
    assert url == f"{hub.url}/{repo}"
    got = hf_hub_download(repo, "model.safetensors", revision="v1")
    assert Path(got).read_bytes() == (folder / "model.safetensors").read_bytes()


def test_bad_token_is_one_clear_line(hub, tmp_path):
    repo = hub.repo_name("denied")
    run = meav("publish", str(corpus(tmp_path)), "--repo", repo, env={"HF_TOKEN": "hf_wrong"})
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "401" in run.stderr and "hf_wrong" not in run.stderr
    from huggingface_hub import HfApi

    assert not HfApi().repo_exists(repo, repo_type="dataset")


def test_unreachable_server_is_one_clear_line(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    run = meav("publish", str(corpus(tmp_path)), "--repo", "org/x", env={"HF_ENDPOINT": dead})
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "unreachable" in run.stderr and dead in run.stderr


def test_repo_of_another_type_is_refused(hub, tmp_path):
    from huggingface_hub import HfApi

    repo = hub.repo_name("clash")
    HfApi().create_repo(repo, repo_type="model")
    with pytest.raises(MeavError, match="already exists .* as a model repo"):
        publish(corpus(tmp_path), repo)
    assert not HfApi().repo_exists(repo, repo_type="dataset")


def test_broken_card_is_refused_before_anything_is_created(hub, tmp_path):
    from huggingface_hub import HfApi

    folder = corpus(tmp_path)
    (folder / data_files("financial", "validation")).unlink()
    repo = hub.repo_name("broken")
    run = meav("publish", str(folder), "--repo", repo)
    assert run.returncode == 1 and "configs[financial] split 'validation'" in run.stderr
    assert not HfApi().repo_exists(repo, repo_type="dataset")


def test_private_repo_needs_the_token(hub, tmp_path):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    repo = hub.repo_name("private")
    publish(corpus(tmp_path), repo, private=True)
    assert HfApi().repo_info(repo, repo_type="dataset").private
    with pytest.raises(RepositoryNotFoundError):
        HfApi(token=False).repo_info(repo, repo_type="dataset")


def test_failed_commit_publishes_nothing(hub, tmp_path):
    from huggingface_hub import HfApi

    new = hub.repo_name("fails-new")
    hub.server.inject_fault("POST", f"/api/datasets/{new}/commit/", 500)
    with pytest.raises(MeavError, match="publish failed \\(500\\)"):
        publish(corpus(tmp_path, "a"), new)
    assert not HfApi().repo_exists(new, repo_type="dataset")  # the repo this publish created is gone again

    old = hub.repo_name("fails-old")
    publish(corpus(tmp_path, "b"), old, tag="v1")
    before = commits(old)
    hub.server.inject_fault("POST", f"/api/datasets/{old}/commit/", 500)
    with pytest.raises(MeavError, match="nothing was published"):
        publish(corpus(tmp_path, "c", per_domain=12), old, tag="v2")
    assert commits(old) == before
    assert [t.name for t in HfApi().list_repo_refs(old, repo_type="dataset").tags] == ["v1"]
