"""A kg-twin server in its own process (`kg-twin serve`), so that a probe that crashes it shows
up as a failed test instead of killing pytest, plus a loopback listener that records connections.

``server``        one server for the module (empty SERVICE allow-list); ``.alive()`` checks it
``make_server``   more servers with other settings (``make_server(service_allowlist=[...])``)
``listener``      a TCP socket on 127.0.0.1 recording every connection it accepts
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.conftest import free_port


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    proc: subprocess.Popen
    admin: str

    def alive(self) -> bool:
        """The process still runs and answers /health within a second."""
        if self.proc.poll() is not None:
            return False
        try:
            return httpx.get(self.url + "/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "KG_TWIN_DATA_DIR": str(self.data_dir)}
        return subprocess.run([sys.executable, "-m", "kg_twin", *args], capture_output=True, text=True, env=env, timeout=60)

    def token(self, project: str, role: str) -> str:
        r = httpx.post(f"{self.url}/projects/{project}/tokens", json={"role": role, "label": "probe"}, headers={"Authorization": f"Bearer {self.admin}"}, timeout=30)
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def create_project(self, pid: str, *, public: bool = False) -> str:
        r = httpx.post(self.url + "/projects", json={"id": pid, "public": public}, headers={"Authorization": f"Bearer {self.admin}"}, timeout=30)
        assert r.status_code == 201, r.text
        return pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_server(data_dir: Path, **settings: Any) -> ServerProcess:
    port = free_port()
    env = {**os.environ, "KG_TWIN_DATA_DIR": str(data_dir), "KG_TWIN_PORT": str(port), "KG_TWIN_HOST": "127.0.0.1",
           "KG_TWIN_BASE_IRI": f"http://127.0.0.1:{port}/", "KG_TWIN_QUERY_WORKERS": "1", "KG_TWIN_INFER_ON_CHANGE": "false",
           "KG_TWIN_LOG_LEVEL": "warning"}
    for k, v in settings.items():
        env["KG_TWIN_" + k.upper()] = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
    admin = subprocess.run([sys.executable, "-m", "kg_twin", "token", "create", "--project", "*", "--role", "admin"],
                           capture_output=True, text=True, env=env, timeout=60, check=True).stdout.strip()
    log = open(data_dir / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "kg_twin", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    srv = ServerProcess(f"http://127.0.0.1:{port}", data_dir, proc, admin)
    deadline = time.monotonic() + 60
    while not srv.alive():
        if proc.poll() is not None or time.monotonic() > deadline:
            srv.stop()
            raise RuntimeError("the server did not start: " + (data_dir / "server.log").read_text(errors="replace")[-2000:])
        time.sleep(0.1)
    return srv


@pytest.fixture(scope="session")
def make_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def make(**settings: Any) -> ServerProcess:
        srv = start_server(tmp_path_factory.mktemp("srv"), **settings)
        started.append(srv)
        return srv

    yield make
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def server(make_server: Any) -> ServerProcess:
    return make_server()


@dataclass
class Listener:
    """A loopback TCP listener: counts connections; ``reply`` (bytes) is sent to each, if set."""

    port: int
    connections: list[bytes] = field(default_factory=list)
    reply: bytes | None = None
    _sock: Any = None
    stopped: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self.stopped:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                self.connections.append(data)
                if self.reply is not None:
                    try:
                        conn.sendall(self.reply)
                    except OSError:
                        pass


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    lst = Listener(sock.getsockname()[1], _sock=sock)
    t = threading.Thread(target=lst.serve, daemon=True)
    t.start()
    yield lst
    lst.stopped = True
    t.join(timeout=5)
    sock.close()
