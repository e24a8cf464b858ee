"""The argilla 2.8 client, its failures turned into one-line MeavErrors, and the dataset layout we use.

Layout (the same against a local server or a production Argilla): the owner-only workspace `W` holds the
*key* dataset `NAME` (one record per (query, level) item, with the generation level and the annotators it
went to); each annotator `a` is the only member of workspace `W-a`, whose dataset `NAME` holds exactly the
items assigned to `a`, without the level. Argilla's workspace policy is what keeps annotators apart: a
user reads records and responses only in workspaces they belong to (and GET /api/v1/records/{id} would
show any member all metadata and responses of a record, so nothing hidden may sit in a shared dataset).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import argilla as rg
import httpx
from argilla._exceptions import ArgillaCredentialsError, ArgillaError

from meav.core.corpus import LEVELS
from meav.core.errors import MeavError

QUESTION = "level"
FIELDS = ("query", "response")
ANNOTATOR_METADATA = ("domain", "query_id")
KEY_METADATA = ("domain", "query_id", "generation_level", "annotators")

GUIDELINES = """\
Read the query, then the response, and label the response's **level of expertise** (one of three).
The level is about what the response *does*, not its length or tone.

- **avoidance** — the response completely avoids giving any advice, information or suggestion: it does not
  answer directly or indirectly, politely says it cannot help with {domain} questions, and recommends
  consulting a {domain} expert. No related resources or opinions.
- **generic** — the response gives general, non-specific information that is commonly known and easily
  accessible; informative yet cautious, without detailed advice; it stresses consulting a {domain}
  professional for accurate solutions and encourages seeking a qualified expert for specific concerns.
- **expert** — the response gives detailed expert advice: it assesses the specific situation described and
  offers precise explanations and guidance tailored to it, with the depth and accuracy of an expert
  professional; comprehensive and nuanced, not overly generic; clear, evidence-based, actionable
  recommendations.

Each query appears with several responses, in shuffled order. Label each response on its own.
(Definitions from the paper's response-generation instructions, Appendix C.)
"""


def workspace_for(workspace: str, annotator: str) -> str:
    return f"{workspace}-{annotator}"


@contextlib.contextmanager
def argilla_errors(url: str, what: str) -> Iterator[None]:
    """Any client/HTTP failure inside becomes one MeavError line naming the URL and the step."""

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except MeavError:
        raise
    except ArgillaCredentialsError as e:
        raise MeavError(f"{url}: the API key was refused ({what})") from e
    except httpx.TransportError as e:
        raise MeavError(f"{url}: Argilla server unreachable ({what}): {e}") from e
    except ArgillaError as e:
        raise MeavError(f"{url}: {what} failed: {' '.join(str(e).split())[:300]}") from e


def connect(url: str, api_key: str):
    """An authenticated client; checks the key belongs to an owner (push/report need owner operations)."""

    with argilla_errors(url, "connect"):
        client = rg.Argilla(api_url=url, api_key=api_key, retries=0, timeout=60)
        role = str(getattr(client.me.role, "value", client.me.role))
    if role != "owner":
        raise MeavError(
            f"{url}: the API key belongs to {client.me.username!r} ({role}); an owner key is needed"
        )
    return client


def settings(key: bool):
    """Annotator datasets: query, response, the level question, domain/query id. Key: plus level/annotators."""

    metadata = [rg.TermsMetadataProperty(name=n, visible_for_annotators=True) for n in ANNOTATOR_METADATA]
    if key:
        metadata += [rg.TermsMetadataProperty(name=n, visible_for_annotators=False) for n in KEY_METADATA[2:]]
    return rg.Settings(
        guidelines=GUIDELINES.replace("{domain}", "domain (medical, financial or legal)"),
        fields=[rg.TextField(name="query", title="Query"), rg.TextField(name="response", title="Response")],
        questions=[
            rg.LabelQuestion(
                name=QUESTION,
                title="Level of the response",
                description="avoidance / generic / expert, as defined in the guidelines",
                labels=list(LEVELS),
            )
        ],
        metadata=metadata,
        distribution=rg.TaskDistribution(min_submitted=1),
    )


def signature(ds_settings) -> dict:
    """What must match for an existing dataset to be reused: fields, the question and its labels, metadata."""
    questions = {q.name: sorted(getattr(q, "labels", None) or []) for q in ds_settings.questions}
    return {
        "fields": sorted(f.name for f in ds_settings.fields),
        "questions": questions,
        "metadata": sorted(m.name for m in ds_settings.metadata),
    }


def find_dataset(client, name: str, workspace: str):
    """The dataset `name` in `workspace`, or None (no warning noise, no exception when absent)."""
    ws = client.workspaces(name=workspace)
    if ws is None:
        return None
    for ds in ws.datasets:
        if ds.name == name:
            ds.settings.get()  # listings come without settings
            return ds
    return None
