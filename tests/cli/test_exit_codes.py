"""The real entry point keeps the exit-code contract (0 ok, 1 failure, 2 error)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg_twin", *args, "--data-dir", str(data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_error_exit_code_reaches_the_shell(tmp_path):
    res = _run("project", "show", "nope", data_dir=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "PROJECT_NOT_FOUND" in res.stderr
    assert _run("project", "list", data_dir=tmp_path).returncode == 0
