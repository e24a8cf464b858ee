"""`meav annotate push`: corpus test split → workspaces, annotator users, key dataset, one dataset each.

Idempotent: users, workspaces and datasets are reused; each item keeps the random record id stored in the
key dataset, so records are upserted (never added twice); a dataset with the same name but other settings,
or a different assignment, is refused.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import random
import secrets
from pathlib import Path
from urllib.parse import urlparse

import argilla as rg

from meav.annotation.argilla_client import (
    FIELDS,
    argilla_errors,
    connect,
    find_dataset,
    settings,
    signature,
    workspace_for,
)
from meav.annotation.assignment import assign, format_overlap, overlap_matrix
from meav.annotation.options import PushOptions
from meav.core.corpus import LEVELS, load_corpus
from meav.core.errors import MeavError, OptionError


def default_credentials_path(url: str, dataset: str) -> Path:
    """Outside the corpus (which may be published) and the repo: ~/.config/meav/argilla/."""
    p = urlparse(url)
    return Path.home() / ".config" / "meav" / "argilla" / f"{dataset}@{p.hostname}-{p.port or 80}.json"


def _write_private_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def load_test_queries(corpus_dir: Path) -> dict[str, dict]:
    """query id -> row of the test split."""

    rows = load_corpus(corpus_dir, split="test")
    if len(rows) == 0:
        raise MeavError(f"{corpus_dir}: the test split is empty")
    return {r["id"]: r for r in rows}


def _ensure_users(client, workspace: str, annotators: list[str], credentials: Path) -> dict:

    creds = json.loads(credentials.read_text()) if credentials.exists() else {"users": {}}
    for a in annotators:
        with argilla_errors(client.api_url, f"create annotator {a!r}"):
            user = client.users(username=a)
            if user is None:
                password = secrets.token_urlsafe(12)
                user = rg.User(
                    username=a, password=password, role="annotator", first_name=a, client=client
                ).create()
                creds["users"][a] = {"password": password, "workspace": workspace_for(workspace, a)}
                _write_private_json(credentials, creds)  # at once: a later failure must not lose it
            elif str(getattr(user.role, "value", user.role)) != "annotator":
                raise OptionError("annotators", f"user {a!r} exists with role {user.role}, not annotator")
            ws_name = workspace_for(workspace, a)
            ws = client.workspaces(name=ws_name) or rg.Workspace(name=ws_name, client=client).create()
            if a not in {u.username for u in ws.users}:
                ws.add_user(a)
    return creds


def _ensure_dataset(client, name: str, workspace: str, key: bool):

    with argilla_errors(client.api_url, f"create dataset {name!r} in workspace {workspace!r}"):
        if client.workspaces(name=workspace) is None:
            rg.Workspace(name=workspace, client=client).create()
        wanted = settings(key)
        ds = find_dataset(client, name, workspace)
        if ds is None:
            return rg.Dataset(name=name, workspace=workspace, settings=wanted, client=client).create()
    if signature(ds.settings) != signature(wanted):
        raise MeavError(
            f"dataset {name!r} in workspace {workspace!r} exists with other settings "
            f"({signature(ds.settings)} ≠ {signature(wanted)}): use another --argilla-dataset name"
        )
    return ds


def _records(items: list[dict], item_ids: dict, key: bool) -> list:

    out = []
    for it in items:
        meta = {"domain": it["domain"], "query_id": it["query_id"]}
        if key:
            meta |= {"generation_level": it["level"], "annotators": it["annotators"]}
        fields = {"query": it["query"], "response": it["response"]}
        assert set(fields) == set(FIELDS)
        out.append(rg.Record(id=item_ids[(it["query_id"], it["level"])], fields=fields, metadata=meta))
    return out


def _log(ds, records: list) -> None:
    """Upsert by record id; the client's per-batch progress bar (tqdm on stderr) is noise in a CLI log."""
    with contextlib.redirect_stderr(io.StringIO()):
        ds.records.log(records, batch_size=max(1, len(records)))


def push(options: PushOptions) -> dict:
    """Create/refresh everything; returns {"assignment", "overlap", "credentials", "records"}."""
    o = options
    corpus_dir, url, api_key, annotators = o.corpus_dir, o.url, o.api_key, o.annotators
    n, m, seed, dataset, workspace, credentials = (
        o.queries_per_annotator,
        o.min_shared,
        o.seed,
        o.argilla_dataset,
        o.workspace,
        o.credentials,
    )
    logging.getLogger("argilla.sdk").setLevel(logging.ERROR)
    if not corpus_dir.exists():
        raise OptionError("corpus_dir", f"{corpus_dir}: no such corpus folder")
    rows = load_test_queries(corpus_dir)
    by_domain: dict[str, list[str]] = {}
    for qid, r in rows.items():
        by_domain.setdefault(r["domain"], []).append(qid)
    assignment = assign(annotators, by_domain, n, m, seed)
    client = connect(url, api_key)
    credentials = Path(credentials) if credentials else default_credentials_path(url, dataset)

    who: dict[str, list[str]] = {}
    for a, qids in assignment.items():
        for q in qids:
            who.setdefault(q, []).append(a)
    items = [
        {
            "query_id": q,
            "level": lv,
            "domain": rows[q]["domain"],
            "query": rows[q]["query"],
            "response": rows[q][lv],
            "annotators": sorted(who[q]),
        }
        for q in sorted(who)
        for lv in LEVELS
    ]

    with argilla_errors(url, f"list members of workspace {workspace!r}"):
        ws = client.workspaces(name=workspace)
        members = ({u.username for u in ws.users} if ws else set()) & set(annotators)
    if members:
        raise OptionError(
            "workspace",
            f"{workspace}: annotators {sorted(members)} are members, but the key dataset with the "
            "generation levels lives there: use a workspace of its own",
        )
    key_ds = _ensure_dataset(client, dataset, workspace, key=True)
    with argilla_errors(url, f"read the key dataset {dataset!r}"):
        existing = {
            (r.metadata["query_id"], r.metadata["generation_level"]): (
                r.id,
                sorted(r.metadata.get("annotators") or []),
            )
            for r in key_ds.records(with_responses=False, with_suggestions=False)
        }
    wanted = {(i["query_id"], i["level"]): i["annotators"] for i in items}
    if any(wanted.get(k) != v[1] for k, v in existing.items()):
        raise MeavError(
            f"dataset {dataset!r} in workspace {workspace!r} already holds another assignment "
            "(annotators, --seed or sizes differ): use another --argilla-dataset name"
        )
    item_ids = {k: existing[k][0] if k in existing else secrets.token_hex(8) for k in wanted}

    creds = _ensure_users(client, workspace, annotators, credentials)
    with argilla_errors(url, f"log records to {dataset!r}"):
        _log(key_ds, _records(items, item_ids, key=True))
    for a in annotators:
        mine = [i for i in items if a in i["annotators"]]
        random.Random(f"{seed}:{a}").shuffle(mine)  # upload order; the UI queue is shuffled per user too
        ds = _ensure_dataset(client, dataset, workspace_for(workspace, a), key=False)
        with argilla_errors(url, f"log records for {a!r}"):
            _log(ds, _records(mine, item_ids, key=False))
    creds["url"], creds["dataset"], creds["workspace"] = url, dataset, workspace
    _write_private_json(credentials, creds)
    return {
        "assignment": assignment,
        "overlap": overlap_matrix(assignment),
        "credentials": str(credentials),
        "records": {a: 3 * len(q) for a, q in assignment.items()},
    }


def print_summary(result: dict) -> None:
    print("queries per annotator and shared per pair (diagonal = own):")
    print(format_overlap(result["overlap"]))
    for a, n in result["records"].items():
        print(f"  {a}: {n} records")
    print(f"annotator credentials (mode 0600): {result['credentials']}")
