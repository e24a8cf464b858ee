"""The Hub test server's HTTP side: the subset of the Hub protocol huggingface_hub 2.x and datasets 5.x use
(repo create/delete, /api/validate-yaml, preupload, NDJSON commits, LFS batch + upload, revision info, tree,
paths-info, resolve with Range, refs, branches, tags, commit history, whoami), and the threaded server.

Errors carry the `X-Error-Code` / `X-Error-Message` headers the client maps to its exception types. The request
body is always read, even on errors, so keep-alive connections stay in sync.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from tests.fakes.hub.store import (
    TYPES,
    URL_PREFIX,
    USER,
    HubError,
    HubStore,
    Repo,
    git_blob_oid,
    is_lfs,
    iso,
    lfs_pointer,
    path_info,
)  # fmt: skip


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubHTTPServer

    def log_message(self, format, *args):  # quiet: pytest shows failures through the client's errors
        pass

    # ---------------------------------------------------------------- plumbing
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.server.log.append((self.command, self.path, status))
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _handle(self, method: str) -> None:
        body = self._body()  # always drain the request, even when answering with an error
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.segments = [unquote(s) for s in url.path.strip("/").split("/")]
        try:
            self.server.take_fault(method, url.path)
            self.token_ok = self._check_token()
            self._route(method, body)
        except HubError as e:
            headers = {"X-Error-Message": e.message}
            if e.code:
                headers["X-Error-Code"] = e.code
            self._json({"error": e.message}, e.status, headers)

    do_GET = lambda self: self._handle("GET")  # noqa: E731
    do_HEAD = lambda self: self._handle("HEAD")  # noqa: E731
    do_POST = lambda self: self._handle("POST")  # noqa: E731
    do_PUT = lambda self: self._handle("PUT")  # noqa: E731
    do_DELETE = lambda self: self._handle("DELETE")  # noqa: E731

    def _check_token(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth:
            return False
        if auth != f"Bearer {self.server.token}":
            raise HubError(401, "Invalid credentials in Authorization header")
        return True

    def _need_write(self) -> None:
        if not self.token_ok:
            raise HubError(401, "Invalid credentials in Authorization header")

    def _repo(self, rtype: str, repo_id: str) -> Repo:
        repo = self.server.store.repo(rtype, repo_id)
        if repo.private and not self.token_ok:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def _base(self) -> str:
        return self.server.url

    # ---------------------------------------------------------------- routing
    def _route(self, method: str, body: bytes) -> None:
        s = self.segments
        if s[:2] == ["api", "whoami-v2"]:
            self._need_write()
            return self._json({"type": "user", "name": USER, "orgs": [], "auth": {"type": "access_token"}})
        if s[:3] == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(json.loads(body))
        if s[:3] == ["api", "repos", "delete"] and method == "DELETE":
            self._need_write()
            p = json.loads(body)
            key = (p.get("type") or "model", f"{p['organization']}/{p['name']}")
            with self.server.store.lock:
                self.server.store.repo(*key)
                del self.server.store.repos[key]
            return self._send(200)
        if s[:2] == ["api", "validate-yaml"]:
            return self._validate_yaml(json.loads(body))
        if s[0] == "api" and len(s) >= 4 and s[1] in TYPES:
            return self._repo_api(method, TYPES[s[1]], f"{s[2]}/{s[3]}", s[4:], body)
        if s[0] == "lfs-upload" and method == "PUT":
            data = body
            if hashlib.sha256(data).hexdigest() != s[1]:
                raise HubError(400, f"sha256 mismatch for LFS object {s[1]}")
            self.server.store.put_blob(data)
            return self._send(200)
        rtype, rest = (
            ("dataset", s[1:])
            if s[0] == "datasets"
            else ("space", s[1:])
            if s[0] == "spaces"
            else ("model", s)
        )
        if len(rest) >= 2 and rest[1].endswith(".git") and rest[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(rtype, f"{rest[0]}/{rest[1][:-4]}", json.loads(body))
        if len(rest) >= 5 and rest[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(rtype, f"{rest[0]}/{rest[1]}", rest[3], "/".join(rest[4:]))
        raise HubError(404, f"no route for {method} {self.path}")

    def _repo_api(self, method: str, rtype: str, repo_id: str, rest: list[str], body: bytes) -> None:
        store = self.server.store
        action = rest[0] if rest else ""
        if method in ("POST", "PUT", "DELETE"):
            self._need_write()
        with store.lock:
            repo = self._repo(rtype, repo_id)
            if action in ("", "revision") and method == "GET":
                return self._json(self._info(repo, rest[1] if rest else "main"))
            if action == "preupload":
                return self._preupload(repo, rest[1], json.loads(body))
            if action == "commit":
                return self._commit(repo, rest[1], body)
            if action == "tree":
                return self._tree(repo, rest[1], "/".join(rest[2:]))
            if action == "paths-info":
                form = parse_qs(body.decode())
                head = store.resolve(repo, rest[1])
                tree = repo.commits[head]["tree"]
                expand = form.get("expand", ["False"])[-1].lower() == "true"
                infos = [
                    path_info(store, repo, head, tree, p.strip("/"), expand) for p in form.get("paths", [])
                ]
                return self._json([i for i in infos if i is not None])
            if action == "refs":
                return self._json(self._refs(repo))
            if action == "commits":
                head = store.resolve(repo, rest[1])
                return self._json([self._commit_json(repo, oid) for oid in store.history(repo, head)])
            if action in ("tag", "branch"):
                return self._ref_change(repo, action, method, rest[1], json.loads(body) if body else {})
        raise HubError(404, f"no route for {method} {self.path}")

    # ---------------------------------------------------------------- repos and metadata
    def _create_repo(self, p: dict) -> None:
        self._need_write()
        rtype = p.get("type") or "model"
        repo_id = f"{p['organization'] or USER}/{p['name']}"
        private = p.get("visibility") == "private" or bool(p.get("private"))
        url = f"{self._base()}/{URL_PREFIX[rtype]}{repo_id}"
        self.server.store.create_repo(rtype, repo_id, private)
        self._json({"url": url, "name": repo_id})

    def _validate_yaml(self, p: dict) -> None:
        content = p.get("content", "")
        m = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", content, re.S)
        errors = []
        if m:
            try:
                meta = yaml.safe_load(m.group(1))
                if meta is not None and not isinstance(meta, dict):
                    errors.append({"message": "metadata must be a YAML mapping"})
            except yaml.YAMLError as e:
                errors.append({"message": f"YAML parse error: {str(e).splitlines()[0]}"})
        self._json({"errors": errors, "warnings": []}, 400 if errors else 200)

    def _card_data(self, repo: Repo, tree: dict) -> dict | None:
        if "README.md" not in tree:
            return None
        m = re.match(
            r"^---\s*\n(.*?)\n---", self.server.store.blob(tree["README.md"]["sha256"]).decode(), re.S
        )
        try:
            return yaml.safe_load(m.group(1)) if m else None
        except yaml.YAMLError:
            return None

    def _info(self, repo: Repo, rev: str) -> dict:
        store = self.server.store
        head = store.resolve(repo, rev)
        commit = repo.commits[head]
        tree = commit["tree"]
        blobs = self.query.get("blobs", "").lower() in ("1", "true")
        siblings = []
        for p, e in sorted(tree.items()):
            sib = {"rfilename": p}
            if blobs:
                sib.update(size=e["size"], blobId=e["oid"])
                if e["lfs"]:
                    sib["lfs"] = {"sha256": e["sha256"], "size": e["size"], "pointerSize": 130}
            siblings.append(sib)
        card = self._card_data(repo, tree)
        return {
            "_id": hashlib.sha1(repo.id.encode()).hexdigest()[:24],
            "id": repo.id,
            "author": repo.id.split("/")[0],
            "sha": head,
            "lastModified": iso(commit["date"]),
            "createdAt": iso(repo.created),
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": list((card or {}).get("tags") or []),
            "cardData": card,
            "siblings": siblings,
        }

    def _refs(self, repo: Repo) -> dict:
        def ref(kind: str, name: str, oid: str) -> dict:
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

        return {
            "branches": [ref("heads", n, o) for n, o in sorted(repo.branches.items())],
            "tags": [ref("tags", n, o) for n, o in sorted(repo.tags.items())],
            "converts": [],
            "pullRequests": [],
        }

    def _commit_json(self, repo: Repo, oid: str) -> dict:
        c = repo.commits[oid]
        return {
            "id": oid,
            "title": c["title"],
            "message": c["message"],
            "authors": [{"user": USER}],
            "date": iso(c["date"]),
        }

    def _ref_change(self, repo: Repo, kind: str, method: str, name: str, p: dict) -> None:
        store = self.server.store
        refs = repo.tags if kind == "tag" else repo.branches
        if method == "DELETE":
            if name not in refs:
                raise HubError(404, f"{kind} {name} not found", "RevisionNotFound")
            del refs[name]
            return self._send(200)
        if kind == "tag":  # POST tag/{revision} {"tag": name}
            target, name = store.resolve(repo, name), p["tag"]
        else:  # POST branch/{name} {"startingPoint": rev}
            target = store.resolve(repo, p.get("startingPoint") or "main")
        if name in repo.tags or name in repo.branches:
            raise HubError(409, f"Reference {name} already exists")
        refs[name] = target
        self._json({"name": name, "targetCommit": target})

    # ---------------------------------------------------------------- upload
    def _preupload(self, repo: Repo, rev: str, p: dict) -> None:
        tree = repo.commits[self.server.store.resolve(repo, rev)]["tree"] if rev in repo.branches else {}
        files = []
        for f in p.get("files", []):
            lfs = is_lfs(f["path"], int(f["size"]))
            out = {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            old = tree.get(f["path"])
            if old is not None and old["lfs"] == lfs:
                out["oid"] = old["sha256"] if lfs else old["oid"]
            files.append(out)
        self._json({"files": files, "commitOid": repo.branches.get(rev)})

    def _lfs_batch(self, rtype: str, repo_id: str, p: dict) -> None:
        self._need_write()
        with self.server.store.lock:
            self._repo(rtype, repo_id)
        objects = []
        for o in p.get("objects", []):
            obj = {"oid": o["oid"], "size": o["size"], "authenticated": True}
            if not self.server.store.has_blob(o["oid"]):
                obj["actions"] = {"upload": {"href": f"{self._base()}/lfs-upload/{o['oid']}", "header": {}}}
            objects.append(obj)
        self._json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def _commit(self, repo: Repo, branch: str, body: bytes) -> None:
        store = self.server.store
        if branch not in repo.branches:
            raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        parent = repo.branches[branch]
        tree = dict(repo.commits[parent]["tree"])
        header: dict = {}
        for line in body.splitlines():
            if not line.strip():
                continue
            op = json.loads(line)
            key, v = op["key"], op["value"]
            if key == "header":
                header = v
                if v.get("parentCommit") and v["parentCommit"] != parent:
                    raise HubError(412, "A commit has happened since. Please refresh and try again.")
            elif key == "file":
                data = (
                    base64.b64decode(v["content"]) if v.get("encoding") == "base64" else v["content"].encode()
                )
                tree[v["path"]] = store.entry(data, v["path"], lfs=False)
            elif key == "lfsFile":
                if not store.has_blob(v["oid"]):
                    raise HubError(422, f"LFS object {v['oid']} for {v['path']} was never uploaded")
                size = len(store.blob(v["oid"]))
                tree[v["path"]] = {"sha256": v["oid"], "size": size, "lfs": True}
                tree[v["path"]]["oid"] = git_blob_oid(lfs_pointer(v["oid"], size))
            elif key == "deletedFile":
                if v["path"] not in tree:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                del tree[v["path"]]
            elif key == "deletedFolder":
                for p in [p for p in tree if p.startswith(v["path"].rstrip("/") + "/")]:
                    del tree[p]
            else:
                raise HubError(400, f"unknown commit operation {key!r}")
        oid = store.add_commit(repo, [parent], tree, header.get("summary", ""), header.get("description", ""))
        repo.branches[branch] = oid
        url = f"{self._base()}/{URL_PREFIX[repo.type]}{repo.id}/commit/{oid}"
        self._json({"success": True, "commitOid": oid, "commitUrl": url, "hookOutput": ""})

    # ---------------------------------------------------------------- download
    def _tree(self, repo: Repo, rev: str, folder: str) -> None:
        store = self.server.store
        head = store.resolve(repo, rev)
        tree = repo.commits[head]["tree"]
        recursive = self.query.get("recursive", "").lower() in ("1", "true")
        expand = self.query.get("expand", "").lower() in ("1", "true")
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in tree):
            raise HubError(404, f"{folder} does not exist on {rev}", "EntryNotFound")
        names: set[str] = set()
        for p in tree:
            if not p.startswith(prefix):
                continue
            parts = p[len(prefix) :].split("/")
            for depth in range(1, len(parts) + 1 if recursive else 2):
                names.add(prefix + "/".join(parts[:depth]))
        infos = [path_info(store, repo, head, tree, n, expand) for n in sorted(names)]
        self._json(infos)

    def _resolve(self, rtype: str, repo_id: str, rev: str, path: str) -> None:
        store = self.server.store
        with store.lock:
            repo = self._repo(rtype, repo_id)
            oid = store.resolve(repo, rev)
            entry = repo.commits[oid]["tree"].get(path)
        if entry is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        data = store.blob(entry["sha256"])
        etag = entry["sha256"] if entry["lfs"] else entry["oid"]
        headers = {"X-Repo-Commit": oid, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        if entry["lfs"]:
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if m and data:
            start = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2)))
            end = int(m.group(2)) if m.group(1) and m.group(2) else len(data) - 1
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, data[start : end + 1], headers)
        self._send(200, data, headers)


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, token: str, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), HubHandler)
        self.store = HubStore(Path(root))
        self.token = token
        self.log: list[tuple[str, str, int]] = []  # (method, path, status) of every answered request
        self.faults: list[tuple[str, str, int]] = []  # (method, path substring, status), each used once
        self.lock = threading.Lock()
        self.url = f"http://{host}:{self.server_address[1]}"

    def inject_fault(self, method: str, path_part: str, status: int) -> None:
        """Answer the next `method` request whose path contains `path_part` with `status` (fault tests)."""
        self.faults.append((method, path_part, status))

    def take_fault(self, method: str, path: str) -> None:
        with self.lock:
            fault = next((f for f in self.faults if f[0] == method and f[1] in path), None)
            if fault is not None:
                self.faults.remove(fault)
        if fault is not None:
            raise HubError(fault[2], f"injected fault {fault[2]} for {method} {path}")
