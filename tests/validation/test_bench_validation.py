"""Keep the validation benchmark alive: at 10k triples both engines run and the bench itself
asserts that their result sets are equal (no timing assertions)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_validation_10k_engines_agree(tmp_path):
    from bench.validation import run, table

    rows = run(10_000, quick=True, workdir=tmp_path)
    assert {r["engine"] for r in rows} == {"kgtwin", "pyshacl"}
    assert rows[0]["results"] == rows[1]["results"] > 0
    assert "| kgtwin |" in table(rows)
