"""A Hugging Face Hub-protocol test server (standard library only) for offline tests of the real clients:
store.py holds the state, handler.py speaks HTTP, fixture.py starts one per test session.

The Hub is unreachable here and no package provides a local one (FACTS.md). This server speaks the subset of
the protocol that huggingface_hub 2.x and datasets 5.x use to publish and load repos: repo create/delete,
/api/validate-yaml, preupload, NDJSON commits, the LFS batch API and uploads, repo info per revision,
tree / paths-info, resolve (HEAD/GET with Range), refs, branches, tags, commit history, whoami. Repos have real
git-like history: commits with parents and a full file tree, branches and tags pointing at commits. Blobs are
stored content-addressed in a folder. Models, datasets and spaces have separate namespaces, as on the Hub.
"""

from tests.fakes.hub.fixture import HubFixture, start_session_hub

__all__ = ["HubFixture", "start_session_hub"]
