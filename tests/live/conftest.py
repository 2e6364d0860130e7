"""Live-twin fixtures: a real Mosquitto broker and a real server subscribed to it.

The broker is the Debian ``mosquitto`` binary, started on 127.0.0.1 with a free port and
a temporary config; tests that need it are skipped (with the reason) when it is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import free_port
from tests.engines import STORES, live_server_on

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto binary not found (install the Debian package `mosquitto`; CI must install it)")
    port = free_port()
    d = tmp_path_factory.mktemp("mosquitto")
    conf = d / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nlog_dest stderr\nlog_type error\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=(d / "log.txt").open("wb"))
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("mosquitto did not start: " + (d / "log.txt").read_text())
            time.sleep(0.05)
    yield f"mqtt://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session", params=[*STORES, "postgresql"])
def server(request: pytest.FixtureRequest, mosquitto: str) -> Iterator[Any]:
    """The live-twin server subscribed to the test broker, on each store: embedded (on disk, 2 query
    workers), ``oxigraph serve``, Virtuoso; and ``postgresql``: the embedded store with the history of
    readings in PostgreSQL (KG_TWIN_TIMESERIES; tests/engines.py)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_engine").new_database()
        srv = live_server_on(request, "embedded", mqtt_url=mosquitto, timeseries=url)
    else:
        srv = live_server_on(request, request.param, mqtt_url=mosquitto)
    yield srv
    srv.stop()  # before the broker goes away


@pytest.fixture
def campus(server: Any) -> dict[str, Any]:
    """A fresh project holding the campus model, with writer / reader tokens."""
    pid = server.create_project("live")
    server.put_graph(pid, "model", (DATA / "campus.ttl").read_bytes())
    return {"project": pid, "writer": server.token(pid, "writer"), "reader": server.token(pid, "reader"), "ns": "http://example.org/campus#"}
