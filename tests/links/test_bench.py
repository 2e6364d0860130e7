"""Keep `python -m bench.links` from rotting: a small run blocks, matches and finds the known pairs."""

from __future__ import annotations

from bench.links import run


def test_bench_links_small_run() -> None:
    m = run(2000, baseline_k=100)
    assert m["sources"] > 1900 and m["targets"] == 2000
    assert m["candidates"] < 3 * m["targets"]  # blocking: a few candidates per building, not n × m
    assert m["f1"] > 0.99 and m["links_per_s"] > 0 and m["speedup"] > 1
