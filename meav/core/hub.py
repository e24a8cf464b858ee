"""One publisher for every repo meav pushes to the Hub: corpus datasets and model folders (alignment vectors).

A publish is one commit: the folder is compared with the branch head first (git blob sha1 for regular files,
sha256 for LFS files, as the Hub stores them), only changed files are sent and remote files gone from the folder
are deleted, all in a single `create_commit`; an unchanged folder makes no commit at all. A repo this call
created is deleted again when the commit fails, so nothing is ever half-published. The token comes from
HF_TOKEN or the huggingface_hub login and is never printed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.sha import sha_fileobj

from meav.core.errors import MeavError, OptionError

REPO_TYPES = ("dataset", "model")
KEEP_REMOTE = {".gitattributes"}  # created by the Hub with the repo; not part of our folders
HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


@dataclass
class PublishResult:
    url: str
    commit: str
    changed: bool


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level errors of the HTTP stacks huggingface_hub and datasets use (httpx2 / httpx)."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module in ("httpx2", "httpx"):
        try:
            errors.append(__import__(module).TransportError)
        except ImportError:
            pass
    return tuple(errors)


def local_files(folder: Path) -> dict[str, Path]:
    """path_in_repo -> file, skipping hidden files and folders (caches, temporary files of atomic writes)."""
    out = {}
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if f.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            out[rel.as_posix()] = f
    return out


def is_hub_id(ref: str) -> bool:
    """`ORG/NAME` as the Hub spells repo ids (not a path that happens to exist locally)."""
    return bool(HUB_ID.fullmatch(ref))


def _same(remote, path: Path) -> bool:
    """True when the remote RepoFile holds exactly the bytes of `path`; hashed in streams (a re-publish of
    a 2 GB shard reads it in 1 MB chunks, never whole). Sizes are compared first: most changes stop there."""
    size = path.stat().st_size
    if remote.size is not None and remote.size != size:
        return False
    with path.open("rb") as f:
        if remote.lfs is not None:
            return remote.lfs.sha256 == sha_fileobj(f).hex()
        h = hashlib.sha1(f"blob {size}\0".encode())  # git's blob id: the same bytes git_hash() hashes
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return remote.blob_id == h.hexdigest()


def plan_operations(api, folder: Path, repo_id: str, repo_type: str, branch: str) -> list:
    """Commit operations that make the branch equal to the folder (empty list: nothing to publish)."""

    remote = {
        e.path: e
        for e in api.list_repo_tree(repo_id, repo_type=repo_type, revision=branch, recursive=True)
        if isinstance(e, RepoFile)
    }
    local = local_files(folder)
    ops: list = [
        CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(f))
        for p, f in local.items()
        if p not in remote or not _same(remote[p], f)
    ]
    ops += [CommitOperationDelete(path_in_repo=p) for p in remote if p not in local and p not in KEEP_REMOTE]
    return ops


def repo_url(endpoint: str, repo_id: str, repo_type: str, revision: str | None = None) -> str:
    prefix = "datasets/" if repo_type == "dataset" else ""
    url = f"{endpoint.rstrip('/')}/{prefix}{repo_id}"
    return f"{url}/tree/{revision}" if revision and revision != "main" else url


def publish(
    folder: str | Path,
    repo_id: str,
    repo_type: str = "dataset",
    private: bool = False,
    tag: str | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
) -> PublishResult:
    """Publish `folder` to `repo_id` in one commit (none when unchanged), tag it if asked: URL, commit, changed."""

    folder = Path(folder)
    if repo_type not in REPO_TYPES:
        raise OptionError("repo_type", f"{repo_type!r}: expected one of {', '.join(REPO_TYPES)}")
    if not folder.is_dir() or not local_files(folder):
        raise MeavError(f"{folder}: not a folder with files to publish")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise OptionError("repo_id", f"{repo_id!r}: expected ORG/NAME")
    token = get_token()
    if not token:
        raise MeavError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
    api = HfApi(token=token)
    branch = revision or "main"
    where = repo_url(api.endpoint, repo_id, repo_type)
    created = False
    try:
        if not api.repo_exists(repo_id, repo_type=repo_type):
            for other in [t for t in ("model", "dataset", "space") if t != repo_type]:
                if api.repo_exists(repo_id, repo_type=other):
                    raise MeavError(
                        f"{repo_id} already exists on {api.endpoint} as a {other} repo; refusing to create a "
                        f"{repo_type} repo of the same name (publish it as a {other} repo or choose another name)"
                    )
            api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
            created = True
        if branch != "main":
            api.create_branch(repo_id, branch=branch, repo_type=repo_type, exist_ok=True)
        head = api.repo_info(repo_id, repo_type=repo_type, revision=branch).sha
        ops = plan_operations(api, folder, repo_id, repo_type, branch)
        if tag:
            _check_tag_free(api, repo_id, repo_type, tag, head, changing=bool(ops))
        commit = head
        if ops:
            message = commit_message or f"Publish {folder.name} with meav"
            commit = api.create_commit(
                repo_id, ops, commit_message=message, repo_type=repo_type, revision=branch, parent_commit=head
            ).oid
        if tag and tag not in {t.name for t in api.list_repo_refs(repo_id, repo_type=repo_type).tags}:
            api.create_tag(repo_id, tag=tag, revision=commit, repo_type=repo_type)
    except MeavError:
        _undo(api, repo_id, repo_type, created)
        raise
    except HfHubHTTPError as e:
        _undo(api, repo_id, repo_type, created)
        raise MeavError(_http_message(e, where)) from None
    except _transport_errors() as e:
        raise MeavError(
            f"{api.endpoint}: Hub unreachable ({type(e).__name__}); nothing was published"
        ) from None
    url = repo_url(api.endpoint, repo_id, repo_type, revision)
    return PublishResult(url=url, commit=commit, changed=bool(ops))


def _check_tag_free(api, repo_id: str, repo_type: str, tag: str, head: str, changing: bool) -> None:
    """A tag may be re-used only for the very commit it names (idempotent re-publish), never moved."""
    refs = api.list_repo_refs(repo_id, repo_type=repo_type)
    existing = {t.name: t.target_commit for t in refs.tags}
    if tag in {b.name for b in refs.branches}:
        raise OptionError("tag", f"{tag!r}: {repo_id} has a branch of that name; choose another tag")
    if tag in existing and (existing[tag] != head or changing):
        raise MeavError(
            f"tag {tag!r} already exists on {repo_id} at commit {existing[tag][:12]}; tags are never moved "
            "(choose a new tag); nothing was published"
        )


def _undo(api, repo_id: str, repo_type: str, created: bool) -> None:
    """Delete a repo this publish created, so a failed publish leaves nothing behind."""
    if created:
        try:
            api.delete_repo(repo_id, repo_type=repo_type, missing_ok=True)
        except Exception:  # best effort: the original error is what the user needs to see
            pass


def _http_message(e, where: str) -> str:
    status = getattr(e.response, "status_code", None)
    if status == 401:
        return f"{where}: the Hub rejected the token (401 Unauthorized); check HF_TOKEN or `hf auth login`"
    if status == 403:
        return f"{where}: the token may not write to this repo (403 Forbidden)"
    if status == 412:
        return f"{where}: the branch moved during the publish (412); run it again"
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"{where}: publish failed ({status}): {first}; nothing was published"
