"""Fault injection: kill -9 a real kg-twin process in the middle of big writes, restart, and check
that the target graph holds none or all of the write, the other graphs are unchanged, no hidden
staging graph is left, and the next write works (the harness is bench/crash.py, which runs 100).

The file is just over the bulk-load threshold (8 MiB), so every write takes the bulk path."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

import pytest

from bench.crash import Bench

pytestmark = pytest.mark.slow

TRIPLES = 52_000  # ~8.6 MiB of N-Triples: over the 8 MiB bulk threshold, small enough for CI
MODES = ["put-new", "post-new", "load-new", "ingest-new", "post-append", "put-replace"]
TRIALS_PER_MODE = 5  # 30 trials


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root: Path = tmp_path_factory.mktemp("crash")
    b = Bench(root, TRIPLES)
    assert b.nt.stat().st_size > 8 * 1024 * 1024
    yield b


@pytest.mark.parametrize("mode", MODES)
def test_a_killed_write_leaves_none_or_all_of_it(bench: Bench, mode: str) -> None:
    rng = random.Random(f"kill9-{mode}")
    trials = [bench.trial(mode, rng) for _ in range(TRIALS_PER_MODE)]
    report = [(t.delay, t.outcome, t.triples, t.problems) for t in trials]
    assert all(t.outcome in ("absent", "complete") for t in trials), report
    assert all(not t.problems for t in trials), report
