"""The layers import only downward: core → stages → orchestration (read from the source, not from runtime).

core = `meav.core.*`; a stage = `meav.<synth|dataset_cards|annotation|training|vectors|evaluation|serving>.*`;
orchestration = everything else under `meav` (the CLI root and the demo). `meav.testing` (tiny models,
synthetic evaluators) is for tests, benches and experiments: no library module imports it. Module names given
as strings to `lazy_exports` count as imports: they are imports, deferred. No module, bench or experiment
imports another module's private (`_name`) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STAGES = ("reference", "synth", "dataset_cards", "annotation", "training", "vectors", "evaluation", "serving")
ROOTS = {
    "meav": "meav",
    "reference_corpus": "meav.reference",
    **{s: f"meav.{s}" for s in STAGES if s != "reference"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    parts[0] = ROOTS[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    found |= {v.value for v in arg.values if isinstance(v, ast.Constant)}
    return {m for m in found if m.split(".")[0] in ("meav", "reference_corpus", *STAGES)}


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] in (*STAGES, "reference_corpus"):
        return "generic-name"  # a stage imported under its folder name: never installed
    if len(parts) > 1 and parts[1] == "core":
        return "core"
    if len(parts) > 1 and parts[1] == "testing":
        return "testing"
    if len(parts) > 1 and parts[1] in STAGES:
        return f"stage:{parts[1]}"
    return "orchestration"


def graph() -> dict[str, set[str]]:
    files = [p for root in ROOTS for p in (REPO / root).rglob("*.py")]
    return {_module_name(p): _imports(p, _module_name(p)) for p in files}


GRAPH = graph()


def test_the_graph_covers_every_layer():
    layers = {layer(m) for m in GRAPH}
    assert {"core", "orchestration", *(f"stage:{s}" for s in STAGES)} <= layers, layers


def test_core_imports_only_core():
    bad = {
        m: sorted(i for i in imps if layer(i) != "core") for m, imps in GRAPH.items() if layer(m) == "core"
    }
    assert not {m: v for m, v in bad.items() if v}


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_core_and_itself(stage):
    own = f"stage:{stage}"
    bad = {
        m: sorted(i for i in imps if layer(i) not in ("core", own))
        for m, imps in GRAPH.items()
        if layer(m) == own
    }
    assert not {m: v for m, v in bad.items() if v}


def test_only_the_orchestrator_sees_every_stage():
    reach = {layer(i) for m, imps in GRAPH.items() if layer(m) == "orchestration" for i in imps}
    assert {f"stage:{s}" for s in STAGES if s != "serving" or (REPO / "serving" / "cli.py").exists()} <= reach
    assert "generic-name" not in reach


def test_no_stage_is_imported_by_its_folder_name():
    bad = {m: sorted(i for i in imps if layer(i) == "generic-name") for m, imps in GRAPH.items()}
    assert not {m: v for m, v in bad.items() if v}


def test_no_library_module_imports_the_test_helpers():
    bad = {
        m: sorted(i for i in imps if layer(i) == "testing")
        for m, imps in GRAPH.items()
        if layer(m) != "testing"
    }
    assert not {m: v for m, v in bad.items() if v}


def test_the_test_helpers_import_only_core():
    bad = {
        m: sorted(i for i in imps if layer(i) not in ("core", "testing"))
        for m, imps in GRAPH.items()
        if layer(m) == "testing"
    }
    assert not {m: v for m, v in bad.items() if v}


def _private_imports(path: Path) -> list[str]:
    """`from meav.x import _name`: another module's private name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.module}.{a.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "meav"
        for a in node.names
        if a.name.startswith("_") and not a.name.startswith("__")
    ]


def test_nothing_imports_private_names_across_modules():
    files = [p for root in (*ROOTS, "bench", "experiments") for p in (REPO / root).rglob("*.py")]
    bad = {str(p.relative_to(REPO)): names for p in files if (names := _private_imports(p))}
    assert not bad


@pytest.mark.parametrize("folder", ["bench", "experiments"])
def test_benches_and_experiments_use_only_the_public_layers(folder):
    """They import meav like a user would: installed names only, never a stage by its folder name."""
    for p in (REPO / folder).rglob("*.py"):
        imports = _imports(p, f"{folder}.{p.stem}")
        assert not [i for i in imports if layer(i) == "generic-name"], p
