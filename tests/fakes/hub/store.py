"""The Hub test server's state: repos with git-like history (commits, branches, tags), content-addressed
blobs on disk, and the Hub's answers for paths (tree / paths-info). No HTTP here (handler.py speaks it)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
LFS_SUFFIXES = (".parquet", ".arrow", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".npy", ".zip")
LFS_THRESHOLD = 10 * 1024 * 1024
GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES).encode()
USER = "meav-tester"


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created: float
    commits: dict[str, dict] = field(default_factory=dict)  # oid -> {parents, tree, title, message, date}
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class HubStore:
    """Repos, commits and refs in memory; file contents content-addressed on disk under `root/blobs`."""

    def __init__(self, root: Path):
        self.blobs = root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.blobs / sha
        if not path.exists():
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return sha

    def blob(self, sha: str) -> bytes:
        return (self.blobs / sha).read_bytes()

    def has_blob(self, sha: str) -> bool:
        return (self.blobs / sha).exists()

    def entry(self, data: bytes, path: str, lfs: bool | None = None) -> dict:
        sha = self.put_blob(data)
        lfs = is_lfs(path, len(data)) if lfs is None else lfs
        oid = git_blob_oid(lfs_pointer(sha, len(data)) if lfs else data)
        return {"sha256": sha, "size": len(data), "lfs": lfs, "oid": oid}

    def repo(self, rtype: str, repo_id: str) -> Repo:
        repo = self.repos.get((rtype, repo_id))
        if repo is None:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def create_repo(self, rtype: str, repo_id: str, private: bool) -> Repo:
        with self.lock:
            if (rtype, repo_id) in self.repos:
                raise HubError(409, f"You already created this {rtype} repo")
            repo = Repo(rtype, repo_id, private, time.time())
            self.repos[(rtype, repo_id)] = repo
            tree = {".gitattributes": self.entry(GITATTRIBUTES, ".gitattributes", lfs=False)}
            repo.branches["main"] = self.add_commit(repo, [], tree, "initial commit", "")
            return repo

    def add_commit(self, repo: Repo, parents: list[str], tree: dict, title: str, message: str) -> str:
        date = time.time()
        body = json.dumps([parents, sorted((p, e["oid"]) for p, e in tree.items()), title, message, date])
        oid = hashlib.sha1(body.encode()).hexdigest()
        repo.commits[oid] = {
            "parents": parents,
            "tree": tree,
            "title": title,
            "message": message,
            "date": date,
        }
        return oid

    def resolve(self, repo: Repo, rev: str) -> str:
        """Branch, tag (short or refs/... form) or full commit id -> commit id."""
        for name, refs in ((rev, repo.branches), (rev, repo.tags)):
            if name in refs:
                return refs[name]
        m = re.fullmatch(r"refs/(heads|tags)/(.+)", rev)
        if m and m.group(2) in (repo.branches if m.group(1) == "heads" else repo.tags):
            return (repo.branches if m.group(1) == "heads" else repo.tags)[m.group(2)]
        if rev in repo.commits:
            return rev
        raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    def history(self, repo: Repo, oid: str) -> list[str]:
        out = []
        while oid:
            out.append(oid)
            parents = repo.commits[oid]["parents"]
            oid = parents[0] if parents else ""
        return out

    def last_commit(self, repo: Repo, head: str, path: str) -> dict:
        """The newest commit in `head`'s history that changed `path` (a file or a folder prefix)."""

        def snapshot(oid: str) -> list:
            tree = repo.commits[oid]["tree"]
            return sorted((p, e["oid"]) for p, e in tree.items() if p == path or p.startswith(path + "/"))

        chain = self.history(repo, head)
        found = chain[-1]
        for newer, older in zip(chain, chain[1:], strict=False):
            if snapshot(newer) != snapshot(older):
                found = newer
                break
        c = repo.commits[found]
        return {"id": found, "title": c["title"], "date": iso(c["date"])}


def is_lfs(path: str, size: int) -> bool:
    return path.endswith(LFS_SUFFIXES) or size >= LFS_THRESHOLD


def folder_oid(tree: dict, folder: str) -> str:
    return hashlib.sha1(
        "".join(f"{p}:{e['oid']}\n" for p, e in sorted(tree.items()) if p.startswith(folder + "/")).encode()
    ).hexdigest()


def path_info(store: HubStore, repo: Repo, head: str, tree: dict, path: str, expand: bool) -> dict | None:
    if path in tree:
        e = tree[path]
        out = {"type": "file", "path": path, "size": e["size"], "oid": e["oid"]}
        if e["lfs"]:
            out["lfs"] = {
                "oid": e["sha256"],
                "size": e["size"],
                "pointerSize": len(lfs_pointer(e["sha256"], 0)),
            }
    elif any(p.startswith(path + "/") for p in tree):
        out = {"type": "directory", "path": path, "oid": folder_oid(tree, path), "size": 0}
    else:
        return None
    if expand:
        out["lastCommit"] = store.last_commit(repo, head, path)
    return out
