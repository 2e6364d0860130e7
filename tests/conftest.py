"""Shared fixtures: a real uvicorn server on 127.0.0.1 (on-disk store, query workers) and an in-memory twin.

``live_server``     one server for the whole session (base IRI = its own URL, so graph IRIs
                    ``{url}/graph/<p>/<name>`` are also their direct-identification URLs).
``make_live_server`` factory for servers with other settings (``make_live_server(max_rows=5)``);
                    each is stopped at the end of the session.
``twin``            a :class:`kg_twin.service.Twin` on an in-memory store (no server).

Helpers on the server object: ``create_project(public=False)`` (unique id), ``token(project, role)``,
``client(token=None)`` (an ``httpx.Client`` with the Bearer header), ``admin`` (a '*' admin secret).
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn

from kg_twin.api.app import create_app
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).parent / "data"
pytest_plugins = ["tests.engines"]  # external SPARQL engines: oxigraph_engine, virtuoso_engine, remote_engine
_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    twin: Twin
    settings: Settings
    admin: str  # secret of a '*' admin token
    _server: Any = field(repr=False, default=None)
    _thread: Any = field(repr=False, default=None)

    @property
    def base(self) -> str:
        return self.twin.naming.base

    def graph_iri(self, project: str, name: str) -> str:
        return self.twin.naming.graph(project, name)

    def create_project(self, prefix: str = "p", *, public: bool = False, **kw: Any) -> str:
        """Create a project with a fresh id (through the REST API, as the '*' admin)."""
        pid = f"{prefix}{next(_ids)}-{int(time.time() * 1000) % 100000}"
        r = httpx.post(f"{self.url}/projects", json={"id": pid, "public": public, **kw}, headers=auth(self.admin))
        assert r.status_code == 201, r.text
        return pid

    def token(self, project: str, role: str, label: str = "test") -> str:
        return self.twin.access.tokens.create(project, role, label).secret

    def client(self, token: str | None = None, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(token), timeout=kw.pop("timeout", 30), **kw)

    def put_graph(self, project: str, name: str, data: str | bytes, content_type: str = "text/turtle", token: str | None = None) -> None:
        body = data.encode() if isinstance(data, str) else data
        r = httpx.put(
            f"{self.url}/projects/{project}/graphs",
            params={"graph": self.graph_iri(project, name)},
            content=body,
            headers={"Content-Type": content_type, **auth(token or self.admin)},
        )
        assert r.status_code in (201, 204), r.text

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = None
            self.twin.close()


def start_live_server(data_dir: Path, **overrides: Any) -> LiveServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    kw: dict[str, Any] = {"data_dir": data_dir, "base_iri": url + "/", "query_workers": 2, "store": "oxigraph", "log_level": "warning", "infer_on_change": False}
    if overrides.pop("allow_self_service", False):
        overrides["service_allowlist"] = [url + "/"]  # SERVICE may call this very server
    kw.update(overrides)
    settings = Settings(**kw)
    twin = create_twin(settings)
    app = create_app(settings, twin=twin)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, loop="asyncio", log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    admin = twin.access.tokens.create("*", "admin", "test-admin").secret
    return LiveServer(url=url, twin=twin, settings=settings, admin=admin, _server=server, _thread=thread)


@pytest.fixture(scope="session")
def make_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    started: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        srv = start_live_server(tmp_path_factory.mktemp("live"), **overrides)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def live_server(make_live_server: Any) -> LiveServer:
    return make_live_server()


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Twin]:
    t = create_twin(Settings(store="memory", data_dir=tmp_path, base_iri="http://twin.test/"))
    yield t
    t.close()


# Tests that run on an external engine (``oxigraph serve``, Virtuoso, PostgreSQL: see tests/engines.py)
# belong to the slow stage: the default run (``pytest -m "not slow"``) keeps the embedded store only,
# CI runs both stages (scripts/test.sh --all).
EXTERNAL_ENGINE_PARAMS = {"oxigraph", "virtuoso", "postgresql"}
EXTERNAL_ENGINE_FIXTURES = {"oxigraph_engine", "virtuoso_engine", "remote_engine", "postgres_engine", "oxigraph_url"}


def runs_on_external_engine(item: pytest.Item) -> bool:
    if EXTERNAL_ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    for value in callspec.params.values():
        if isinstance(value, str) and (value in EXTERNAL_ENGINE_PARAMS or value.startswith("kg-twin@")):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if runs_on_external_engine(item):
            item.add_marker(pytest.mark.slow)
