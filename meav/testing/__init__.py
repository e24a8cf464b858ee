"""Helpers for tests, benches and experiments: tiny random models built on disk and synthetic evaluators.
Never imported by the library itself (tests/core/test_import_graph.py checks it)."""
