"""Large answers cross the worker pipe intact when the event loop waits on it (a real server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    env = dict(os.environ, KG_TWIN_DATA_DIR=str(tmp_path), KG_TWIN_INFER_ON_CHANGE="false")
    nt = tmp_path / "big.nt"
    nt.write_text("".join(f'<http://ex/s{i}> <http://ex/p> "value number {i} with some padding text" .\n' for i in range(20000)))
    subprocess.run([sys.executable, "-m", "kg_twin", "project", "create", "big", "--public"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kg_twin", "load", str(nt), "-p", "big", "-g", "data"], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kg_twin", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_many_large_answers_in_a_row(server):
    q = "SELECT ?s ?o WHERE { ?s <http://ex/p> ?o }"
    for fmt in ("application/sparql-results+json", "text/csv", "application/sparql-results+xml", "text/tab-separated-values"):
        for _ in range(2):
            r = httpx.get(server + "/projects/big/sparql", params={"query": q}, headers={"Accept": fmt}, timeout=30)
            assert r.status_code == 200, r.text[:300]
            assert r.text.count("value number") == 20000
