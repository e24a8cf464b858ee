"""A search engine for argilla-server 2.8 that answers from Argilla's own SQL database.

Runs inside the argilla-server venv (it imports `argilla_server`, never meav), imported by
`argilla_launch.py` before the app starts, and selected with `ARGILLA_SEARCH_ENGINE=meav-sql`.

Why: no Elasticsearch/OpenSearch can run here. The database already holds every record, response,
suggestion, metadata value and record status, so the database *is* the index: the write hooks
(`index_records`, `partial_record_update`, `update_record_response`, ...) have nothing to copy, and every
query reads committed rows. A restart therefore loses nothing and there is no index to rebuild.
Behaviour follows the Elasticsearch engine (`argilla_server/search_engine/commons.py`): "pending" means no
response by that user, annotator queues are ordered by a per-user deterministic shuffle, progress counts
record statuses / the user's response statuses. Filtering runs in Python over a dataset's rows, which is
fine at annotation scale (thousands of records).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import MetadataPropertyType, SimilarityOrder
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Question,
    Record,
    Response,
    Suggestion,
    User,
    Vector,
    VectorSettings,
)
from argilla_server.search_engine import (
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    TermsMetrics,
    TextQuery,
)
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from .es_semantics import as_list, document, matches, sorted_documents, text_score, value_of

ENGINE_NAME = "meav-sql"


@SearchEngine.register(ENGINE_NAME)
class SqlSearchEngine(SearchEngine):
    """Every read is a query on Argilla's database; writes need no index maintenance."""

    @classmethod
    async def new_instance(cls) -> SqlSearchEngine:
        return cls()

    async def close(self):
        pass

    async def ping(self) -> bool:
        async with AsyncSessionLocal() as db:
            return (await db.execute(text("SELECT 1"))).scalar() == 1

    async def info(self) -> dict:
        return {"name": ENGINE_NAME, "distribution": "argilla SQL database (meav)", "version": "1"}

    # The database is the index: nothing to create, copy or delete.
    async def create_index(self, dataset: Dataset):
        pass

    async def delete_index(self, dataset: Dataset):
        pass

    async def configure_metadata_property(self, dataset: Dataset, metadata_property: MetadataProperty):
        pass

    async def configure_index_vectors(self, vector_settings: VectorSettings):
        pass

    async def index_records(self, dataset: Dataset, records: Iterable[Record]):
        pass

    async def partial_record_update(self, record: Record, **update):
        pass  # the record status the pending queue reads was committed before this call

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]):
        pass

    async def update_record_response(self, response: Response):
        pass

    async def delete_record_response(self, response: Response):
        pass

    async def update_record_suggestion(self, suggestion: Suggestion):
        pass

    async def delete_record_suggestion(self, suggestion: Suggestion):
        pass

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        async with AsyncSessionLocal() as db:
            rows = await db.execute(
                select(Record.status, func.count())
                .where(Record.dataset_id == dataset.id)
                .group_by(Record.status)
            )
            counts = {value_of(status): n for status, n in rows.all()}
        return {"total": sum(counts.values()), **counts}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        async with AsyncSessionLocal() as db:
            rows = await db.execute(
                select(Response.status, func.count())
                .join(Record, Record.id == Response.record_id)
                .where(Record.dataset_id == dataset.id, Response.user_id == user.id)
                .group_by(Response.status)
            )
            counts = {value_of(status): n for status, n in rows.all()}
        return {"total": sum(counts.values()), **counts}

    async def _documents(self, dataset_id: Any) -> list[dict]:
        async with AsyncSessionLocal() as db:
            names = dict(
                (
                    await db.execute(
                        select(Question.id, Question.name).where(Question.dataset_id == dataset_id)
                    )
                ).all()
            )
            records = await db.scalars(
                select(Record)
                .where(Record.dataset_id == dataset_id)
                .options(selectinload(Record.responses), selectinload(Record.suggestions))
            )
            return [document(r, names) for r in records.all()]

    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Any = None,
        sort: list | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: Any = None,
    ) -> SearchResponses:
        hits = []
        for doc in await self._documents(dataset.id):
            score = text_score(doc, query)
            if score is not None and (filter is None or matches(doc, filter)):
                doc["_score"] = score
                hits.append(doc)
        hits = sorted_documents(hits, sort or [], user_id)
        items = [
            SearchResponseItem(record_id=d["id"], score=d["_score"]) for d in hits[offset : offset + limit]
        ]
        return SearchResponses(items=items, total=len(hits))

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Any = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        async with AsyncSessionLocal() as db:
            rows = dict(
                (
                    await db.execute(
                        select(Vector.record_id, Vector.value).where(
                            Vector.vector_settings_id == vector_settings.id
                        )
                    )
                ).all()
            )
        target = value or rows.get(record.id)
        if not target:
            raise ValueError("Cannot find a vector value to apply with provided info")
        sign = -1.0 if order == SimilarityOrder.least_similar else 1.0
        norm_t = math.sqrt(sum(x * x for x in target)) or 1.0
        scored = []
        for doc in await self._documents(dataset.id):
            vec = rows.get(_uuid(doc["id"]))
            if vec is None or (record is not None and doc["id"] == str(record.id)):
                continue
            if text_score(doc, query) is None or (filter is not None and not matches(doc, filter)):
                continue
            cos = (
                sign
                * sum(a * b for a, b in zip(target, vec, strict=False))
                / (norm_t * (math.sqrt(sum(x * x for x in vec)) or 1.0))
            )
            score = (1.0 + cos) / 2.0  # ES cosine similarity score
            if threshold is None or score >= threshold:
                scored.append((score, doc["id"]))
        scored.sort(key=lambda s: -s[0])
        items = [SearchResponseItem(record_id=rid, score=s) for s, rid in scored[:max_results]]
        return SearchResponses(items=items, total=len(items))

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> Any:
        async with AsyncSessionLocal() as db:
            metadata = (
                await db.scalars(
                    select(Record.metadata_).where(Record.dataset_id == metadata_property.dataset_id)
                )
            ).all()
        values = [v for m in metadata if m for v in as_list(m.get(metadata_property.name)) if v is not None]
        if metadata_property.type == MetadataPropertyType.terms:
            counts: dict[str, int] = {}
            for v in values:
                counts[str(v)] = counts.get(str(v), 0) + 1
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            return TermsMetrics(
                total=len(values), values=[TermsMetrics.TermCount(term=t, count=n) for t, n in ranked]
            )
        cls = (
            IntegerMetadataMetrics
            if metadata_property.type == MetadataPropertyType.integer
            else FloatMetadataMetrics
        )
        return cls(min=min(values) if values else None, max=max(values) if values else None)


def _uuid(s: str) -> Any:
    return UUID(s)
