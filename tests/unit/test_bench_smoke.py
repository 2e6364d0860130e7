"""Keep the benchmark harness from rotting: its quick load section runs and writes a table."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_quick_load_section(tmp_path):
    from bench.__main__ import main

    out = tmp_path / "b.md"
    assert main(["--quick", "--only", "load", "--output", str(out)]) == 0
    text = out.read_text()
    assert "| raw_bulk |" in text.replace("10,434 ", "").replace("| 10,434 ", "| ") or "raw_bulk" in text
    assert "kgtwin_bulk" in text and "× raw bulk_load" in text
