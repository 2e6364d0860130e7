"""``kg-twin observations`` (history of a point) and ``kg-twin simulate`` (synthetic readings)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from kg_twin.errors import KgTwinError


def register(app: typer.Typer) -> None:
    app.command("observations")(observations)
    app.command("simulate")(simulate)


def _fail(e: KgTwinError) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(2)


def _http(url: str, token: Optional[str]) -> Any:
    import httpx

    return httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=120)


def _check(r: Any) -> Any:
    if r.status_code >= 400:
        try:
            body = r.json()
            msg = f"{body.get('code')}: {body.get('error')}" + (f"\nhint: {body['hint']}" if body.get("hint") else "")
        except ValueError:
            msg = r.text
        typer.echo(f"error: HTTP {r.status_code} {msg}", err=True)
        raise typer.Exit(2)
    return r


def observations(
    project: str = typer.Option(..., "--project", "-p", help="project id"),
    point: str = typer.Option(..., "--point", help="point IRI, time-series id or IRI local name"),
    start: Optional[str] = typer.Option(None, help="ISO 8601 with timezone (default: end - 1 day)"),
    end: Optional[str] = typer.Option(None, help="ISO 8601 with timezone, exclusive (default: now)"),
    every: Optional[str] = typer.Option(None, help="bucket size: 15min, 1h, 1d, PT15M..."),
    agg: Optional[str] = typer.Option(None, help="avg, min, max, sum, count, first, last (default avg when --every is given)"),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json"),
    url: Optional[str] = typer.Option(None, "--url", help="ask a running server (else read the history under --data-dir)"),
    token: Optional[str] = typer.Option(None, "--token", envvar="KG_TWIN_TOKEN", help="bearer token for --url"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR", help="data directory (default ./twin-data)"),
) -> None:
    """History of a point: raw readings, or aggregates per bucket (CSV or JSON on stdout).

    Without --url the history database is read directly (read-only; works while the server runs).
    """
    if fmt not in ("csv", "json"):
        typer.echo("error: --format must be csv or json", err=True)
        raise typer.Exit(2)
    if url:
        from urllib.parse import quote

        params = {k: v for k, v in {"start": start, "end": end, "every": every, "agg": agg, "format": fmt}.items() if v}
        with _http(url, token) as c:
            r = _check(c.get(f"/projects/{project}/points/{quote(point, safe='')}/observations", params=params))
        sys.stdout.write(r.text if fmt == "csv" else json.dumps(r.json(), indent=2) + "\n")
        return
    from kg_twin.live.history import find_series, query_history, to_csv
    from kg_twin.live.timeseries import open_history
    from kg_twin.settings import Settings

    s = Settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        ts = open_history(s.data_dir, read_only=True)
        series = find_series(ts, project, point)
        res = query_history(ts, series, start=start, end=end, every=every, agg=agg)
    except KgTwinError as e:
        _fail(e)
        return
    sys.stdout.write(to_csv(res) if fmt == "csv" else json.dumps(res, indent=2) + "\n")


def simulate(
    project: str = typer.Option(..., "--project", "-p", help="project id"),
    minutes: float = typer.Option(60.0, "--minutes", help="span of simulated history ending now (or, with --rate, how long to stream)"),
    step: float = typer.Option(60.0, "--step", help="seconds between two readings of a point (backfill)"),
    rate: Optional[float] = typer.Option(None, "--rate", help="stream live readings at this many readings/s instead of backfilling"),
    seed: int = typer.Option(42, "--seed", help="random seed"),
    batch: int = typer.Option(5000, "--batch", help="readings per request"),
    url: Optional[str] = typer.Option(None, "--url", help="send to a running server (REST); else write under --data-dir (server stopped)"),
    token: Optional[str] = typer.Option(None, "--token", envvar="KG_TWIN_TOKEN", help="writer token for --url"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR", help="data directory (default ./twin-data)"),
) -> None:
    """Feed realistic synthetic readings for every point of a project's model."""
    from kg_twin.live.simulate import run_simulation

    if url:
        c = _http(url, token)
        points = _check(c.get(f"/projects/{project}/points")).json()["points"]

        def send(b: list[dict[str, Any]]) -> dict[str, Any]:
            return _check(c.post(f"/projects/{project}/observations", content=json.dumps(b), headers={"Content-Type": "application/json"})).json()

        try:
            res = run_simulation(points, send, minutes=minutes, step_s=step, rate=rate, seed=seed, batch_size=batch)
        except KgTwinError as e:
            _fail(e)
            return
        finally:
            c.close()
    else:
        from kg_twin.live.readings import RawReading
        from kg_twin.service import create_twin
        from kg_twin.settings import Settings

        try:
            twin = create_twin(Settings(**({"data_dir": data_dir} if data_dir else {})))
        except KgTwinError as e:
            _fail(e)
            return
        live = twin.live_service(start=False)
        try:

            def send(b: list[dict[str, Any]]) -> dict[str, Any]:
                r = live.ingest(project, [RawReading(x["point"], x["timestamp"], x["value"]) for x in b]).to_dict()
                live.flush()
                return r

            res = run_simulation(live.points(project), send, minutes=minutes, step_s=step, rate=rate, seed=seed, batch_size=batch)
        except KgTwinError as e:
            _fail(e)
            return
        finally:
            twin.close()  # stops the live twin too (final flush)
    typer.echo(json.dumps(res, indent=2))
    if res["rejected"]:
        raise typer.Exit(1)
