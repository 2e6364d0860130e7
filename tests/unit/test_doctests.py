"""The examples in the docstrings of every module run, as doctests (one test per module)."""

from __future__ import annotations

import doctest
import unittest
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "kg_twin"


def module_names() -> list[str]:
    out = []
    for f in sorted(PKG.rglob("*.py")):
        parts = list(f.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # runs the command line when imported
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


MODULES = module_names()


def test_every_module_is_collected() -> None:
    assert len(MODULES) > 100 and "kg_twin.catalog.catalog" in MODULES and "kg_twin.service" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    suite = doctest.DocTestSuite(name, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = unittest.TextTestRunner(verbosity=0, stream=open("/dev/null", "w")).run(suite)
    problems = [f"{t}: {tb}" for t, tb in result.failures + result.errors]
    assert problems == [], "\n".join(problems)
