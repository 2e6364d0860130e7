"""``kg-twin queries``: list, show, run and check named queries; manage a project's own queries.

Same functions as the REST API (:mod:`kg_twin.catalog`). Exit codes: 0 ok, 1 a checked
query is invalid, 2 usage or runtime error.
"""

from __future__ import annotations

from types import ModuleType

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from kg_twin.cli import common

queries_app = typer.Typer(help="Named queries (queries/*.rq and project queries): list, show, run, check, put, delete.", no_args_is_help=True)


def _m() -> ModuleType:
    return common


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    from kg_twin.errors import InputError

    out = []
    for v in values:
        name, sep, value = v.partition("=")
        if not sep or not name.strip():
            _m().fail(InputError("BAD_ARGUMENT", f"--arg {v!r}: write name=value, e.g. -a zone=https://example.org/zone/1"), 2)
        out.append((name.strip(), value))
    return out


@queries_app.command("list")
def list_queries(
    project: Optional[str] = typer.Option(None, "--project", "-p", help="also list this project's own queries"),
    json_out: bool = typer.Option(False, "--json", help="full catalogue entries as JSON"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR", help="data directory (for --project)"),
) -> None:
    """List the catalogue (and a project's queries)."""
    from kg_twin.catalog.catalog import default_catalog

    m = _m()
    cat = default_catalog()
    specs = list(cat.list())
    if project:
        twin = m.run(lambda: m.open_twin(data_dir, read_only=m.locked(data_dir)))
        try:
            m.run(lambda: twin.projects.get(project))
            specs += m.run(lambda: twin.queries.list(project))
        finally:
            twin.close()
    if json_out:
        print(json.dumps([s.to_dict(project=project, with_text=False) for s in specs], indent=2))
    else:
        for s in specs:
            params = " ".join((p.name if p.required and p.default is None else f"[{p.name}]") for p in s.parameters)
            print(f"{s.name}\t{s.origin}\t{params}\t{s.summary}")
    for name, info in sorted(cat.invalid.items()):
        m.err.print(f"[red]invalid[/red] {info.get('file', name)}: {info.get('error')}")


@queries_app.command("show")
def show_query(
    name: str,
    project: Optional[str] = typer.Option(None, "--project", "-p"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR"),
) -> None:
    """Show one query: parameters, example call and SPARQL text (JSON)."""
    from kg_twin.catalog.catalog import default_catalog, resolve
    from kg_twin.errors import NotFound

    m = _m()
    spec = default_catalog().get(name)
    if spec is None and project:
        twin = m.run(lambda: m.open_twin(data_dir, read_only=m.locked(data_dir)))
        try:
            spec = m.run(lambda: resolve(twin.queries, project, name))
        finally:
            twin.close()
    if spec is None:
        m.fail(NotFound("QUERY_NOT_FOUND", f"no catalogue query {name!r}", hint="kg-twin queries list (add --project for project queries)"), 2)
    print(json.dumps(spec.to_dict(project=project), indent=2))


@queries_app.command("run")
def run_query(
    name: str,
    project: str = typer.Option(..., "--project", "-p"),
    arg: list[str] = typer.Option([], "--arg", "-a", help="parameter as name=value (repeatable)"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, csv, tsv, xml, geojson (SELECT); turtle, ntriples, jsonld, rdfxml (CONSTRUCT)"),
    page: Optional[int] = typer.Option(None, "--page", help="page number of a paginated query"),
    timeout: Optional[float] = typer.Option(None, help="seconds"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR"),
) -> None:
    """Run a named query on a project (works while the server runs: read-only)."""
    from kg_twin.catalog.catalog import resolve
    from kg_twin.catalog.run import run

    m = _m()
    args = _pairs(arg)
    if fmt != "table":
        args.append(("format", fmt))
    if page is not None:
        args.append(("page", str(page)))
    if timeout is not None:
        args.append(("timeout", str(timeout)))
    twin = m.run(lambda: m.open_twin(data_dir, read_only=m.locked(data_dir)))
    try:
        m.run(lambda: twin.projects.get(project))
        spec = m.run(lambda: resolve(twin.queries, project, name))
        res = m.run(lambda: run(twin, project, spec, args))
        if fmt == "table" and spec.form == "SELECT":
            m.print_table(res.body)
        elif fmt == "table" and spec.form == "ASK":
            print("true" if json.loads(res.body)["boolean"] else "false")
        else:
            sys.stdout.buffer.write(res.body)
            sys.stdout.flush()
        if res.truncated:
            m.err.print(f"[yellow]truncated at {twin.settings.max_rows} rows[/yellow]")
    finally:
        twin.close()


@queries_app.command("check")
def check_queries(files: list[Path] = typer.Argument(None, help=".rq files (default: the installation's queries/ folder)")) -> None:
    """Check named-query files: syntax, '#+' decorators, parameters. Exit 1 if any is invalid."""
    from kg_twin.catalog.catalog import BUILTIN_DIR
    from kg_twin.catalog.spec import check, parse
    from kg_twin.errors import InputError

    m = _m()
    paths = list(files) if files else sorted(BUILTIN_DIR.glob("*.rq"))
    bad = 0
    for f in paths:
        if not f.exists():
            m.fail(InputError("FILE_NOT_FOUND", f"no such file: {f}"), 2)
        try:
            spec = check(parse(f.stem, f.read_text(encoding="utf-8"), path=str(f)))
            params = ", ".join(p.name for p in spec.parameters) or "-"
            print(f"ok\t{f.name}\t{spec.form}\tparameters: {params}")
        except InputError as e:
            bad += 1
            print(f"invalid\t{f.name}\t{e.code}: {e.message}")
            if e.hint:
                m.err.print(f"  hint: {e.hint}", markup=False, highlight=False)
    if bad:
        raise typer.Exit(1)


@queries_app.command("put")
def put_query(
    name: str,
    file: Path = typer.Argument(..., help="the .rq file"),
    project: str = typer.Option(..., "--project", "-p"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR"),
) -> None:
    """Add or replace a project's own named query (server must be stopped; else use PUT /projects/{p}/queries/{name})."""
    from kg_twin.errors import InputError

    m = _m()
    if not file.exists():
        m.fail(InputError("FILE_NOT_FOUND", f"no such file: {file}"), 2)
    twin = m.run(lambda: m.open_twin(data_dir))
    try:
        m.run(lambda: twin.projects.get(project))
        spec, created = m.run(lambda: twin.queries.put(project, name, file.read_text(encoding="utf-8")))
        m.err.print(f"{'added' if created else 'replaced'} query {spec.name} in project {project}")
    finally:
        twin.close()


@queries_app.command("delete")
def delete_query(
    name: str,
    project: str = typer.Option(..., "--project", "-p"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR"),
) -> None:
    """Remove a project's own named query."""

    m = _m()
    twin = m.run(lambda: m.open_twin(data_dir))
    try:
        m.run(lambda: twin.projects.get(project))
        m.run(lambda: twin.queries.delete(project, name))
        m.err.print(f"removed query {name} from project {project}")
    finally:
        twin.close()


def register(app: typer.Typer) -> None:
    app.add_typer(queries_app, name="queries")
