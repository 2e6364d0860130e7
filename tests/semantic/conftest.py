"""Shared fixtures of the semantic tests: one real HermiT run of the whole bundle per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg_twin.reasoning.owl import CheckReport, check_consistency


@pytest.fixture(scope="session")
def owl_cache(tmp_path_factory) -> tuple[Path, CheckReport]:
    """(cache dir holding the report, the report) of a cold check of the whole bundle."""
    cache = tmp_path_factory.mktemp("owl-cache")
    return cache, check_consistency(cache_dir=cache, use_cache=False)


def seed_cache(owl_cache: tuple[Path, CheckReport], target: Path) -> None:
    """Copy the session's check report into another cache directory."""
    target.mkdir(parents=True, exist_ok=True)
    for f in owl_cache[0].glob("ontology-check-*.json"):
        shutil.copy(f, target / f.name)
