"""Fixtures of the browser tests: the demo served by ``kg-twin serve --demo`` on a free 127.0.0.1 port
(a real process, its own data dir), Debian's chromium headless driven over the DevTools protocol,
and a screenshot of every test kept under ``test-artifacts/browser/`` (gitignored)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.browser.cdp import Chromium, Page, chromium_binary
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KG_TWIN_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"


@dataclass
class DemoServer:
    url: str
    data_dir: Path
    writer: str  # a writer token of every project

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=120)


def start_demo(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KG_TWIN_LOG_LEVEL": "warning"}
    env.pop("KG_TWIN_BASE_IRI", None)
    cmd = [sys.executable, "-m", "kg_twin", "serve", "--demo", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(data_dir / "serve.log", "wb"))


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kg-twin serve --demo exited with {proc.returncode}")
        try:
            if httpx.get(url + "/projects", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the demo server did not answer in {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("demo-twin")
    token = subprocess.run(
        [sys.executable, "-m", "kg_twin", "token", "create", "--project", "*", "--role", "writer", "--data-dir", str(data_dir)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip().split()[-1]
    port = free_port()
    proc = start_demo(data_dir, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc)
        yield DemoServer(url, data_dir, token)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (scripts/test.sh installs it: apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    browser = Chromium(binary)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(chromium: Chromium, demo_server: DemoServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A tab; after the test: a screenshot in the artifacts, checked not blank, and no host but the server requested."""
    p = chromium.page()
    try:
        yield p
        png = p.screenshot(ARTIFACTS / f"{request.node.name}.png")
        assert p.colours(png) > 3, "the page is blank"
        p.conn.pump(0.5)
        server = demo_server.url.split("//", 1)[1]
        assert p.hosts() <= {server}, f"the page requested other hosts: {sorted(p.hosts() - {server})}"
        assert p.hosts(), "no request seen: the network log is not being read"
    finally:
        p.close()
