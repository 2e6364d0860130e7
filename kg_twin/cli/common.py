"""What every ``kg-twin`` command uses: consoles, the --data-dir option, opening the twin, failing clearly."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer
from rich.console import Console

from kg_twin.errors import KgTwinError, StoreBusy
from kg_twin.settings import Settings

if TYPE_CHECKING:  # pragma: no cover - imported where used: `kg-twin --help` stays fast
    from kg_twin.service import Twin

err = Console(stderr=True)
out = Console()

DataDir = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR", help="data directory (default ./twin-data)")


def settings_for(data_dir: Optional[Path], **extra: Any) -> Settings:
    kw = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        kw["data_dir"] = data_dir
    return Settings(**kw)


def open_twin(data_dir: Optional[Path], *, read_only: bool = False) -> Twin:
    from kg_twin.service import create_twin

    return create_twin(settings_for(data_dir), read_only=read_only)


def fail(e: KgTwinError, code: int = 2) -> None:
    err.print(f"[red]error[/red] {e}", highlight=False, markup=True)
    raise typer.Exit(code)


def run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except KgTwinError as e:
        fail(e)


def locked(data_dir: Optional[Path]) -> bool:
    """True when another process (the server) owns the store: then read-only access is used."""
    from kg_twin.store import open_store

    s = settings_for(data_dir)
    if not (Path(s.store_path) / "LOCK").exists():
        return False
    try:
        st = open_store(s)
    except StoreBusy:
        return True
    st.close()
    return False


def print_table(body: bytes) -> None:
    import json

    from rich.table import Table

    doc = json.loads(body)
    vars_ = doc["head"]["vars"]
    t = Table(*vars_)
    for b in doc["results"]["bindings"]:
        t.add_row(*[b[v]["value"] if v in b else "" for v in vars_])
    out.print(t)
