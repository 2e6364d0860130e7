"""Produce the README's screenshots of the twin app: the 3D map of the demo and a building's entity page.

Starts ``kg-twin serve --demo`` on a free 127.0.0.1 port (a temporary data dir) and Debian's chromium
headless, and writes docs/img/map-3d.png and docs/img/entity.png.

Usage: .venv/bin/python scripts/screenshots.py   (needs chromium: apt-get install chromium)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.cdp import Chromium, chromium_binary  # noqa: E402
from tests.browser.conftest import start_demo, stop, wait_ready  # noqa: E402
from tests.conftest import free_port  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> int:
    binary = chromium_binary()
    if binary is None:
        print("error: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kgt-shots-") as tmp:
        port = free_port()
        proc = start_demo(Path(tmp), port)
        browser = None
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, proc)
            browser = Chromium(binary)
            page = browser.page()
            page.goto(url + "/app/map?project=demo", timeout=180)
            page.wait_for("window.kgTwinMap.loaded() && !window.kgTwinMap.isMoving()", timeout=120)  # goto waited for the first idle
            time.sleep(2)
            page.screenshot(OUT / "map-3d.png")
            page.goto(url + "/id/demo/building/BATIMENT0000000257022161")
            page.wait_for("document.getElementById('entity-map') === null || document.getElementById('entity-map').dataset.ready === 'true'")
            page.screenshot(OUT / "entity.png")
            page.close()
        finally:
            if browser is not None:
                browser.close()
            stop(proc)
    print(f"wrote {OUT / 'map-3d.png'} and {OUT / 'entity.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
