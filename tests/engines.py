"""External SPARQL engines for the tests: real servers on 127.0.0.1, started once per session.

``oxigraph_engine``  ``oxigraph serve`` (PyPI package ``oxigraph``), in a temp dir.
``virtuoso_engine``  Virtuoso Open Source 7 (Debian package ``virtuoso-opensource-7``: ``virtuoso-t``
                     and ``isql-vt``) from a minimal ``virtuoso.ini`` on two free loopback ports, with
                     SPARQL updates granted to its anonymous ``SPARQL`` account.
``remote_engine``    parametrized over both (the ids are ``oxigraph`` and ``virtuoso``).

Each fixture skips, saying what to install, only when the server's binary is absent; a binary that
is there but does not start fails the tests. Waits are bounded; servers stop at the end of the session.

An :class:`Engine` gives the settings kg-twin needs for it (``engine.settings(data_dir=...)``) and
``engine.reset(store)``, which empties the engine between tests (its own system graphs stay).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from kg_twin.settings import Settings
from kg_twin.store import GraphStore
from tests.conftest import free_port

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


@dataclass
class Engine:
    name: str
    url: str  # base URL, with a trailing slash
    paths: dict[str, str] = field(default_factory=dict)  # KG_TWIN_STORE_*_PATH settings
    proc: subprocess.Popen | None = field(default=None, repr=False)
    log: Path | None = None

    def settings(self, **kw: Any) -> Settings:
        return Settings(store=self.url, **self.paths, **kw)

    def reset(self, store: GraphStore) -> None:
        """Drop every graph the engine lists for kg-twin (the engine's system graphs are never listed)."""
        store.drop_graphs(store.graphs())

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _wait_until_up(engine: Engine, query_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine.proc is not None and engine.proc.poll() is not None:
            break
        try:
            r = httpx.post(query_url, data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"}, timeout=2)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    engine.stop()
    log = engine.log.read_text(errors="replace")[-2000:] if engine.log and engine.log.exists() else ""
    pytest.fail(f"{engine.name} did not start within {START_TIMEOUT_S} s at {engine.url}\n{log}")


def start_oxigraph(workdir: Path) -> Engine:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.skip("the oxigraph server is not installed (pip install oxigraph)")
    port = free_port()
    log = workdir / "oxigraph.log"
    proc = subprocess.Popen(
        [exe, "serve", "--location", str(workdir / "data"), "--bind", f"127.0.0.1:{port}"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    engine = Engine("oxigraph", f"http://127.0.0.1:{port}/", proc=proc, log=log)
    _wait_until_up(engine, engine.url + "query")
    return engine


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 0
DirsAllowed = ., {d}
CaseMode = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
ServerThreads = 10
MaxClientConnections = 10
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
"""

# the anonymous SPARQL account may update, and write every graph (read 1 + write 2 + sponge 4)
VIRTUOSO_GRANTS = "GRANT SPARQL_UPDATE TO \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"
VIRTUOSO_PATHS = {"store_query_path": "sparql", "store_update_path": "sparql", "store_gsp_path": "sparql-graph-crud"}


def start_virtuoso(workdir: Path) -> Engine:
    exe, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if exe is None or isql is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource-7)")
    sql_port, http_port = free_port(), free_port()
    (workdir / "virtuoso.ini").write_text(VIRTUOSO_INI.format(d=workdir, sql_port=sql_port, http_port=http_port))
    log = workdir / "stdout.log"
    proc = subprocess.Popen([exe, "+foreground", "+configfile", str(workdir / "virtuoso.ini")], cwd=workdir, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    engine = Engine("virtuoso", f"http://127.0.0.1:{http_port}/", paths=dict(VIRTUOSO_PATHS), proc=proc, log=log)
    _wait_until_up(engine, engine.url + "sparql")
    r = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={VIRTUOSO_GRANTS}"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or "Error" in r.stdout + r.stderr:
        engine.stop()
        pytest.fail(f"granting SPARQL updates on Virtuoso failed: {r.stdout}{r.stderr}")
    return engine


@pytest.fixture(scope="session")
def oxigraph_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = start_oxigraph(tmp_path_factory.mktemp("oxigraph-engine"))
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def virtuoso_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = start_virtuoso(tmp_path_factory.mktemp("virtuoso-engine"))
    yield engine
    engine.stop()


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote_engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")


STORES = ["embedded", "oxigraph", "virtuoso"]  # where a kg-twin test server keeps its data


def live_server_on(request: pytest.FixtureRequest, store: str, **overrides: Any) -> Any:
    """A kg-twin test server (tests/conftest.py) whose store is ``embedded`` (on disk) or the external
    engine of that name; ``overrides`` are further settings. Started once per call, stopped at the
    end of the session."""
    make = request.getfixturevalue("make_live_server")
    if store == "embedded":
        return make(**overrides)
    engine = request.getfixturevalue(f"{store}_engine")
    return make(store=engine.url, **engine.paths, **overrides)


EXTENSION_FUNCTIONS = "kg-twin's SPARQL extension functions run on the embedded store only (docs/engines.md, difference 19)"


def embedded_only(request: pytest.FixtureRequest, srv: Any, reason: str = EXTENSION_FUNCTIONS) -> None:
    """Mark the running test as an expected failure (strict) when ``srv`` keeps its data on an external engine."""
    if str(srv.settings.store).startswith(("http://", "https://")):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


# --------------------------------------------------------------------------- PostgreSQL
@dataclass
class Postgres:
    """A PostgreSQL server on 127.0.0.1 (``initdb`` + ``pg_ctl`` on a temp dir, trust auth for its
    one user); :meth:`new_database` gives a fresh database's URL."""

    bindir: Path
    datadir: Path
    port: int
    user: str
    run_as: list[str]  # prefix that runs a command as the server's OS user ([] when not root)

    @property
    def admin_url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def new_database(self, prefix: str = "kgt") -> str:
        import uuid

        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as c:
            c.execute(f"CREATE DATABASE {name}")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "-t", str(STOP_TIMEOUT_S), "stop"],
                       capture_output=True, timeout=STOP_TIMEOUT_S + 10)


def start_postgres() -> Postgres:
    import glob
    import os
    import tempfile

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or ([shutil.which("initdb")] if shutil.which("initdb") else [])
    if not found:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    # the server refuses to run as root: as root, it runs as the Debian package's `postgres` user
    run_as: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="kgt-pg-"))  # in /tmp: reachable by that user
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres", "postgres")
    datadir, port = workdir / "data", free_port()
    r = subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(datadir), "-U", "kgtwin", "--auth=trust", "-E", "UTF8", "--no-sync"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        pytest.fail(f"initdb failed: {r.stderr[-2000:]}")
    opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=32MB"
    r = subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(workdir / "log.txt"), "-w", "-t", str(START_TIMEOUT_S), "start"],
                       capture_output=True, text=True, timeout=START_TIMEOUT_S + 10)
    if r.returncode != 0:
        log = (workdir / "log.txt").read_text(errors="replace")[-2000:] if (workdir / "log.txt").exists() else ""
        pytest.fail(f"PostgreSQL did not start: {r.stderr[-1000:]}\n{log}")
    return Postgres(bindir, datadir, port, "kgtwin", run_as)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Postgres]:
    pg = start_postgres()
    yield pg
    pg.stop()
    shutil.rmtree(pg.datadir.parent, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def timeseries_url(request: pytest.FixtureRequest) -> str:
    """``KG_TWIN_TIMESERIES`` for each history backend: ``sqlite`` or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite"
    return request.getfixturevalue("postgres_engine").new_database()


def xfail_on_virtuoso(request: pytest.FixtureRequest, srv: Any, reason: str) -> None:
    """Mark the running test as an expected failure (strict) when ``srv`` keeps its data in Virtuoso."""
    if srv.settings.store_gsp_path == VIRTUOSO_PATHS["store_gsp_path"] and str(srv.settings.store).startswith("http"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
