"""A small client of Chromium's DevTools protocol (enough for the browser tests and the screenshot script).

:class:`Chromium` starts Debian's ``chromium`` headless on a temporary profile, bound to 127.0.0.1;
:meth:`Chromium.page` opens a tab as a :class:`Page`: ``goto``, ``eval`` (awaits promises),
``wait_for`` (a JS condition), ``screenshot`` (PNG bytes), ``blank`` (is the screenshot one colour?),
and ``hosts`` (every host:port the tab requested, from the Network domain's events).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import connect

FLAGS = [
    "--headless=new",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
    "--hide-scrollbars",
]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    def __init__(self, binary: str) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="kgt-chromium-"))
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])
        self.browser = Connection(f"ws://127.0.0.1:{self.port}{port_file.read_text().split()[1]}")

    def page(self) -> "Page":
        target = self.browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        return Page(Connection(f"ws://127.0.0.1:{self.port}/devtools/page/{target}"), self.browser, target)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)


class Connection:
    def __init__(self, url: str) -> None:
        self.ws = connect(url, max_size=64 * 1024 * 1024, open_timeout=20, ping_interval=None)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {method} in {timeout} s")
            msg = json.loads(self.ws.recv(timeout=left))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def pump(self, seconds: float) -> None:
        """Read events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def close(self) -> None:
        self.ws.close()


class Page:
    def __init__(self, conn: Connection, browser: Connection, target: str) -> None:
        self.conn = conn
        self.browser = browser
        self.target = target
        conn.call("Page.enable")
        conn.call("Network.enable")
        conn.call("Runtime.enable")

    def goto(self, url: str, ready: str | None = "document.body && document.body.dataset.ready === 'true'", timeout: float = 60) -> None:
        self.conn.call("Page.navigate", {"url": url})
        if ready:
            self.wait_for(ready, timeout)

    def eval(self, expression: str, timeout: float = 60) -> Any:
        res = self.conn.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression[:80]}: {res['exceptionDetails'].get('exception', {}).get('description') or res['exceptionDetails'].get('text')}")
        return res.get("result", {}).get("value")

    def wait_for(self, condition: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.eval(f"(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()")
            except RuntimeError:
                value = False
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {condition}; page text: {self.text()[:500]!r}")
            time.sleep(0.25)

    def text(self) -> str:
        try:
            return str(self.eval("document.body ? document.body.innerText : ''"))
        except RuntimeError:
            return ""

    def screenshot(self, path: Path | None = None) -> bytes:
        png = base64.b64decode(self.conn.call("Page.captureScreenshot", {"format": "png"})["data"])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
        return png

    def colours(self, png: bytes) -> int:
        """How many distinct colours the screenshot has (decoded by the browser itself, sampled on a grid)."""
        data = "data:image/png;base64," + base64.b64encode(png).decode()
        return int(self.eval(
            "(async () => { const img = new Image(); img.src = " + json.dumps(data) + "; await img.decode();"
            " const c = new OffscreenCanvas(img.width, img.height); const x = c.getContext('2d'); x.drawImage(img, 0, 0);"
            " const d = x.getImageData(0, 0, img.width, img.height).data; const seen = new Set();"
            " for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); return seen.size; })()"
        ))

    def hosts(self) -> set[str]:
        """host:port of every http(s)/ws(s) request the tab made (data:, blob: and about: are local)."""
        out = set()
        for ev in self.conn.events:
            if ev.get("method") == "Network.requestWillBeSent":
                u = urlsplit(ev["params"]["request"]["url"])
                if u.scheme in ("http", "https", "ws", "wss"):
                    out.add(u.netloc)
        return out

    def close(self) -> None:
        try:
            self.browser.call("Target.closeTarget", {"targetId": self.target})
        finally:
            self.conn.close()
