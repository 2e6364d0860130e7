"""The import rules of docs/architecture.md, checked on the source (``ast``), like an import-linter contract.

Each rule lists its known exceptions explicitly (``KNOWN_*``): code another change is rewriting.
An exception that no longer occurs fails the test too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "kg_twin"

FEATURES = ("api", "cli", "ingest", "live", "geo", "validation", "reasoning", "catalog")

# pyoxigraph outside kg_twin/store: none (validation/ reads terms and files through kg_twin.store).
KNOWN_PYOXIGRAPH: set[str] = set()
# importlib on kg_twin's own modules: none (the ingest readers are a plain import table).
KNOWN_IMPORTLIB: set[str] = set()


def modules() -> list[tuple[str, str, ast.Module]]:
    """(path relative to the repo, dotted module name, parsed tree) of every module of the package."""
    out = []
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(PKG.parent)
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((rel.as_posix(), ".".join(parts), ast.parse(f.read_text(encoding="utf-8"), filename=str(f))))
    return out


def imports(module: str, tree: ast.Module) -> list[tuple[str, int]]:
    """Every module an import statement names (absolute; relative imports resolved), with its line."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
                base = ".".join(pkg + ([base] if base else []))
            out.append((base, node.lineno))
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names]
    return out


def names(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


MODULES = modules()


def test_the_package_is_seen() -> None:
    found = {m for _, m, _ in MODULES}
    assert {"kg_twin.store.base", "kg_twin.service", "kg_twin.api.app", "kg_twin.live.service"} <= found


def test_store_imports_no_feature() -> None:
    bad = [
        f"{path}:{line} imports {target}"
        for path, module, tree in MODULES
        if names(module, "kg_twin.store")
        for target, line in imports(module, tree)
        if any(names(target, f"kg_twin.{f}") for f in FEATURES) or names(target, "kg_twin.service")
    ]
    assert bad == []


def test_only_the_store_touches_pyoxigraph_and_its_backends() -> None:
    ox = {path for path, module, tree in MODULES if not names(module, "kg_twin.store") for target, _ in imports(module, tree) if names(target, "pyoxigraph")}
    assert ox - KNOWN_PYOXIGRAPH == set(), "pyoxigraph imported outside kg_twin/store"
    assert KNOWN_PYOXIGRAPH - ox == set(), "a known exception is fixed: remove it from KNOWN_PYOXIGRAPH"
    backends = [
        f"{path}:{line} imports {target}"
        for path, module, tree in MODULES
        if not names(module, "kg_twin.store")
        for target, line in imports(module, tree)
        if names(target, "kg_twin.store.oxigraph") or names(target, "kg_twin.store.remote")
    ]
    assert backends == [], "use kg_twin.store.open_store and the GraphStore contract"


def _importlib_uses(tree: ast.Module) -> list[int]:
    lines = [line for target, line in imports("", tree) if target == "importlib" or target == "importlib.import_module"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            lines.append(node.lineno)
    return lines


def test_no_importlib_on_own_modules() -> None:
    # importlib.resources / importlib.metadata read package data, they import no module
    found = {path for path, _, tree in MODULES if _importlib_uses(tree)}
    assert found - KNOWN_IMPORTLIB == set(), "import kg_twin modules with plain import statements"
    assert KNOWN_IMPORTLIB - found == set(), "a known exception is fixed: remove it from KNOWN_IMPORTLIB"


def test_features_do_not_import_the_composition_root() -> None:
    """Only the top (api, cli, the demo loader) imports ``kg_twin.service``; features take the core."""
    allowed = ("kg_twin.api", "kg_twin.cli", "kg_twin.demo", "kg_twin.service", "kg_twin.__main__")
    bad = [
        f"{path}:{line}"
        for path, module, tree in MODULES
        if not any(names(module, a) for a in allowed)
        for target, line in imports(module, tree)
        if names(target, "kg_twin.service")
    ]
    assert bad == []


def test_core_imports_no_feature() -> None:
    core = {"kg_twin.core", "kg_twin.access", "kg_twin.settings", "kg_twin.errors", "kg_twin.terms", "kg_twin.rdf", "kg_twin.models", "kg_twin.limits", "kg_twin.formats"}
    bad = [
        f"{path}:{line} imports {target}"
        for path, module, tree in MODULES
        if module in core
        for target, line in imports(module, tree)
        if any(names(target, f"kg_twin.{f}") for f in FEATURES) or names(target, "kg_twin.service")
    ]
    assert bad == []


def test_no_state_set_on_the_twin() -> None:
    """Features do not decorate the twin: no ``setattr``/``getattr``/``hasattr`` on a ``twin``."""
    bad = []
    for path, _, tree in MODULES:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "getattr", "hasattr"):
                if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in ("twin", "t", "core"):
                    bad.append(f"{path}:{node.lineno} {node.func.id}({node.args[0].id}, ...)")
            if isinstance(node, ast.Assign):
                for tgt in node.targets:
                    if isinstance(tgt, ast.Attribute) and isinstance(tgt.value, ast.Name) and tgt.value.id in ("twin", "core"):
                        bad.append(f"{path}:{node.lineno} {tgt.value.id}.{tgt.attr} = ...")
    assert bad == []


@pytest.mark.parametrize("rule", ["store", "importlib"])
def test_the_rules_can_fail(rule: str) -> None:
    """The checks see a violation when there is one."""
    if rule == "store":
        tree = ast.parse("from kg_twin.live.service import LiveService\n")
        assert [t for t, _ in imports("kg_twin.store.x", tree) if names(t, "kg_twin.live")]
    else:
        assert _importlib_uses(ast.parse("import importlib\nimportlib.import_module('kg_twin.geo')\n"))
