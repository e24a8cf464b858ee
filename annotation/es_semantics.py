"""Records as the Elasticsearch engine indexes them, and ES query semantics over them, in plain Python.

Used by `search_engine.py` inside the argilla-server venv (imports argilla_server, never meav). The rules
follow `argilla_server/search_engine/commons.py`: text queries need every term (AND), "pending" means no
response by that user (or none at all without a user), nested response sorts average the values, an
annotator's queue without a sort is a per-user stable shuffle (ES: random_score seeded by the user id).
"""

from __future__ import annotations

import hashlib
from typing import Any

from argilla_server.enums import ResponseStatusFilter, SortOrder
from argilla_server.models import Record
from argilla_server.search_engine import (
    AndFilter,
    MetadataFilterScope,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SuggestionFilterScope,
    TermsFilter,
    TextQuery,
)


def value_of(x: Any) -> Any:
    return getattr(x, "value", x)  # enums -> their string


def as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def document(record: Record, question_names: dict) -> dict:
    """The record as the Elasticsearch engine would index it (commons._map_record_to_es_document)."""
    return {
        "id": str(record.id),
        "external_id": record.external_id,
        "status": value_of(record.status),
        "inserted_at": record.inserted_at,
        "updated_at": record.updated_at,
        "fields": record.fields or {},
        "metadata": record.metadata_ or {},
        "responses": [
            {
                "status": value_of(r.status),
                "user_id": str(r.user_id),
                **{q: (v or {}).get("value") for q, v in (r.values or {}).items()},
            }
            for r in record.responses
        ],
        "suggestions": {
            question_names.get(s.question_id, str(s.question_id)): {
                "value": s.value,
                "score": s.score,
                "agent": s.agent,
                "type": value_of(s.type),
            }
            for s in record.suggestions
        },
    }


def text_score(doc: dict, query: TextQuery | str | None) -> float | None:
    """All terms must occur (simple_query_string with default_operator AND); score = occurrences."""
    if query is None:
        return 1.0
    if isinstance(query, str):
        query = TextQuery(q=query)
    values = [doc["fields"].get(query.field)] if query.field else list(doc["fields"].values())
    haystack = " ".join(str(v) for v in values if v is not None).lower()
    terms = [t.strip("\"'*") for t in query.q.lower().split() if t.strip("\"'*")]
    if not all(t in haystack for t in terms):
        return None
    return float(sum(haystack.count(t) for t in terms)) or 1.0


def _scope_values(doc: dict, scope: Any) -> list:
    if isinstance(scope, MetadataFilterScope):
        return [v for v in as_list(doc["metadata"].get(scope.metadata_property)) if v is not None]
    if isinstance(scope, SuggestionFilterScope):
        v = doc["suggestions"].get(scope.question, {}).get(scope.property)
        return [x for x in as_list(v) if x is not None]
    if isinstance(scope, RecordFilterScope):
        return [v for v in [doc.get(scope.property)] if v is not None]
    raise ValueError(f"Cannot process request for search scope {scope}")


def _matches_values(values: list, flt: TermsFilter | RangeFilter) -> bool:
    if isinstance(flt, TermsFilter):
        wanted = {str(v) for v in flt.values}
        return any(str(v) in wanted for v in values)
    return any(
        (flt.ge is None or v >= flt.ge) and (flt.le is None or v <= flt.le)
        for v in values
        if isinstance(v, (int, float))
    )


def _user_responses(doc: dict, scope: ResponseFilterScope) -> list[dict]:
    if scope.user is None:
        return doc["responses"]
    return [r for r in doc["responses"] if r["user_id"] == str(scope.user.id)]


def matches(doc: dict, flt: Any) -> bool:
    if isinstance(flt, AndFilter):
        return all(matches(doc, f) for f in flt.filters)
    scope = flt.scope
    if isinstance(scope, ResponseFilterScope):
        responses = _user_responses(doc, scope)
        if scope.question:
            return any(_matches_values(as_list(r.get(scope.question)), flt) for r in responses)
        if scope.property == "status" and isinstance(flt, TermsFilter):
            statuses = {value_of(v) for v in flt.values}
            if ResponseStatusFilter.pending.value in statuses and not responses:
                return True
            return any(r["status"] in statuses for r in responses)
        raise ValueError(f"Cannot process filter scope {scope}")
    return _matches_values(_scope_values(doc, scope), flt)


def _sort_key(doc: dict, scope: Any) -> Any:
    if isinstance(scope, ResponseFilterScope):
        name = scope.question or scope.property
        nums = [v for r in _user_responses(doc, scope) for v in as_list(r.get(name)) if v is not None]
        if nums and all(isinstance(v, (int, float)) for v in nums):
            return sum(nums) / len(nums)  # ES sorts nested responses with mode "avg"
        return min(map(str, nums)) if nums else None
    values = _scope_values(doc, scope)
    return values[0] if values else None


def sorted_documents(docs: list[dict], sort: list, user_id: Any) -> list[dict]:
    if not sort:
        if user_id:  # ES: random_score seeded by the user id: a different, stable order per annotator
            return sorted(docs, key=lambda d: hashlib.sha256(f"{user_id}:{d['id']}".encode()).hexdigest())
        return sorted(docs, key=lambda d: (d["inserted_at"], d["id"]))
    for order in reversed(sort):  # stable sorts, last key first; missing values always last
        keyed = [(_sort_key(d, order.scope), d) for d in docs]
        present = [kd for kd in keyed if kd[0] is not None]
        present.sort(key=lambda kd: kd[0], reverse=value_of(order.order) == SortOrder.desc.value)
        docs = [d for _, d in present] + [d for k, d in keyed if k is None]
    return docs
