"""``kg-twin`` command line: serve, projects, load/query/export, backup/restore, tokens.

Exit codes: 0 ok, 1 failure (e.g. does not conform), 2 usage or runtime error.
Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from kg_twin.cli import history as history_cli
from kg_twin.cli import ingest as ingest_cli
from kg_twin.cli import link as link_cli
from kg_twin.cli import live as live_cli
from kg_twin.cli import ontologies as ontologies_cli
from kg_twin.cli import points as points_cli
from kg_twin.cli import queries as queries_cli
from kg_twin.cli import validate as validate_cli
from kg_twin.cli.common import DataDir, err, fail, open_twin, print_table, run, settings_for
from kg_twin.cli.common import locked as _locked
from kg_twin.errors import KgTwinError, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.service import Twin
    from kg_twin.settings import Settings

app = typer.Typer(name="kg-twin", help="Semantic digital twin of a territory.", no_args_is_help=True, add_completion=False)
project_app = typer.Typer(help="Create, list, show and delete projects.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed).", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(token_app, name="token")

# ---------------------------------------------------------------- serve
@app.command()
def serve(
    data_dir: Optional[Path] = DataDir,
    host: Optional[str] = typer.Option(None, help="bind address (KG_TWIN_HOST, default 127.0.0.1)"),
    port: Optional[int] = typer.Option(None, help="port (KG_TWIN_PORT, default 8000)"),
    demo: bool = typer.Option(False, "--demo", help="load the demo territory (examples/) into project 'demo' first"),
    mqtt: Optional[str] = typer.Option(None, "--mqtt", help="subscribe to an MQTT broker, e.g. mqtt://127.0.0.1:1883"),
) -> None:
    """Start the SPARQL + REST service (uvicorn, uvloop, httptools)."""
    import uvicorn

    from kg_twin import demo as demo_data
    from kg_twin.api.app import create_app
    from kg_twin.service import create_twin
    from kg_twin.settings import BASE_IRI_FILE, served_base

    s = settings_for(data_dir, host=host, port=port, mqtt_url=mqtt)
    if "base_iri" not in s.model_fields_set and not (Path(s.data_dir) / BASE_IRI_FILE).exists() and not s.store_path.exists():
        # a new data dir: minted IRIs are this server's URLs, so they dereference out of the box
        s = s.model_copy(update={"base_iri": served_base(s.host, s.port)})
    try:
        twin = create_twin(s)
    except KgTwinError as e:
        fail(e)
    if demo:
        run(lambda: demo_data.load_demo(twin))
    application = create_app(s, twin=twin)
    if demo:
        # the demo is live: simulated readings for its points (history + a reading every 30 s)
        feeds: list[Any] = []
        application.state.startup_hooks.append(lambda t: feeds.append(demo_data.start_demo_feed(t)))
        application.state.shutdown_hooks.insert(0, lambda t: [f.set() for f in feeds])
    err.print(f"kg-twin serving {Path(s.data_dir).resolve()} on http://{s.host}:{s.port} (docs at /docs)")
    try:
        uvicorn.run(application, host=s.host, port=s.port, log_level=s.log_level, loop="uvloop", http="httptools", access_log=False)
    finally:
        twin.close()


# ---------------------------------------------------------------- projects
@project_app.command("create")
def project_create(
    project: str,
    title: str = typer.Option("", help="title"),
    description: str = typer.Option("", help="description"),
    owner: str = typer.Option("", help="owner (person or organisation)"),
    licence: str = typer.Option("", help="licence IRI or name"),
    public: bool = typer.Option(False, "--public", help="anyone may read"),
    default_graph: str = typer.Option(
        "union", "--default-graph", help="a query's default graph: 'union' (the set union of the project's graphs) or 'default' (the unnamed graph, as in the SPARQL standard)"
    ),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Create a project."""
    twin = run(lambda: open_twin(data_dir))
    try:
        info = run(lambda: twin.projects.create(project, title=title, description=description, owner=owner, licence=licence, public=public, default_graph=default_graph))
        err.print(f"created project {info.id}")
    finally:
        twin.close()


@project_app.command("list")
def project_list(data_dir: Optional[Path] = DataDir, json_out: bool = typer.Option(False, "--json")) -> None:
    """List projects."""
    import json

    twin = run(lambda: open_twin(data_dir, read_only=_locked(data_dir)))
    try:
        items = [p.to_dict() for p in twin.projects.list()]
        if json_out:
            print(json.dumps(items, indent=2))
        else:
            for p in items:
                print(f"{p['id']}\t{p['title']}\t{'public' if p['public'] else 'private'}\t{p['created']}")
    finally:
        twin.close()


@project_app.command("show")
def project_show(project: str, data_dir: Optional[Path] = DataDir) -> None:
    """Show a project and its graphs."""
    import json

    twin = run(lambda: open_twin(data_dir, read_only=_locked(data_dir)))
    try:
        info = run(lambda: twin.projects.get(project)).to_dict()
        info["graphs"] = {g: twin.store.graph_size(g) for g in twin.project_graphs(project)}
        print(json.dumps(info, indent=2))
    finally:
        twin.close()


@project_app.command("delete")
def project_delete(project: str, yes: bool = typer.Option(False, "--yes", help="do not ask"), data_dir: Optional[Path] = DataDir) -> None:
    """Delete a project: its graphs and its record, nothing else."""
    if not yes and not typer.confirm(f"delete project {project} and all its graphs?"):
        raise typer.Exit(1)
    twin = run(lambda: open_twin(data_dir))
    try:
        n = run(lambda: twin.projects.delete(project))
        err.print(f"deleted project {project} ({n} graphs)")
    finally:
        twin.close()


# ---------------------------------------------------------------- data
def load_dataset_file(twin: Twin, project: str, path: Path, fmt: str) -> tuple[int, int]:
    """Load an N-Quads / TriG file into a project: its graphs keep their IRIs (any IRI names a graph
    of the project), its default graph goes to the project's default graph. All or nothing."""
    import tempfile

    from kg_twin.store.convert import rename_graphs

    names: set[str] = set()

    def rename(g: str | None) -> str:
        stored = twin.naming.default_graph(project) if g is None else twin.naming.resolve_graph(project, g)
        names.add(stored)
        return stored

    tmpdir = Path(twin.settings.data_dir) / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmpdir, suffix=".nq") as tmp:
        n = rename_graphs(path, format=fmt, rename=rename, output=tmp)
        tmp.flush()
        twin.store.load(Path(tmp.name), format="nquads", graph=None)
    return n, len(names)


@app.command()
def load(
    files: list[Path] = typer.Argument(..., help="RDF files (any format; by extension, or --format)"),
    project: str = typer.Option(..., "--project", "-p"),
    graph: Optional[str] = typer.Option(None, "--graph", "-g", help="target graph: short name or IRI (default: the file name stem)"),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="turtle, ntriples, nquads, trig, jsonld, rdfxml, n3"),
    replace: bool = typer.Option(False, "--replace", help="replace the graph instead of adding to it"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Load RDF files into a project (bulk path for big files; atomic per file)."""
    from rich.progress import Progress

    from kg_twin.formats import rdf_format_from_name, rdf_format_from_path

    twin = run(lambda: open_twin(data_dir))
    try:
        run(lambda: twin.projects.get(project))
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("loading", total=len(files))
            for f in files:
                if not f.exists():
                    fail(KgTwinError("FILE_NOT_FOUND", f"no such file: {f}", hint="check the path"), 2)
                rf = run(lambda: rdf_format_from_name(fmt) if fmt else rdf_format_from_path(f.name))
                if rf.quads:
                    n, graphs = run(lambda: load_dataset_file(twin, project, f, rf.name))
                    err.print(f"{f}: {n} quads in {graphs} graphs")
                else:
                    g = run(lambda: twin.naming.resolve_graph(project, graph or f.stem.split(".")[0]))
                    n = run(lambda: twin.store.load(f, format=rf.name, graph=g, replace=replace))
                    err.print(f"{f} -> <{g}>: graph now holds {n} triples")
                progress.advance(task)
        twin.notify(project)
    finally:
        twin.close()


@app.command()
def query(
    sparql: str = typer.Argument(..., help="SPARQL query text, or @file.rq"),
    project: Optional[str] = typer.Option(None, "--project", "-p", help="project (default: all projects)"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, xml, csv, tsv (SELECT/ASK); turtle, ntriples, jsonld, rdfxml (CONSTRUCT)"),
    timeout: Optional[float] = typer.Option(None, help="seconds"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="answer on the project as it was at this version number or ISO 8601 time (needs --project)"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Run a SPARQL query on a project (works while the server runs: read-only)."""
    from kg_twin.geo.topology import expand as expand_topology
    from kg_twin.sparql.protocol import query_form
    from kg_twin.store import QueryRequest

    text = Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql
    twin = run(lambda: open_twin(data_dir, read_only=_locked(data_dir)))
    try:
        projects = [project] if project else twin.projects.ids()
        for p in projects:
            run(lambda: twin.projects.get(p))
        text = expand_topology(text)  # GeoSPARQL topology properties (the query-rewrite rules; no index here)
        if as_of is not None:
            if not project:
                fail(KgTwinError("AS_OF_NEEDS_PROJECT", "--as-of needs --project", hint="kg-twin query --project P --as-of 12 QUERY"))
            view = run(lambda: twin.as_of.view(project, as_of))  # materialises past graphs: needs the store read-write
            dataset, text = view.dataset, view.rewrite(text)
        elif project:
            dataset = twin.query_dataset(project)  # the project endpoint's dataset, client graph names
            text = twin.dataset_of(project).rewrite_query(text, list(dataset.named_graphs or ()), merged=len(dataset.default_graphs or ()))
        else:
            dataset = twin.dataset_for(projects)
        form = query_form(text)
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        result_fmt = "json" if fmt == "table" or graph_form else fmt
        graph_fmt = fmt if graph_form and fmt != "table" else "turtle"
        request = QueryRequest(text, dataset=dataset, result_format=result_fmt, graph_format=graph_fmt, max_rows=twin.settings.max_rows, timeout_s=timeout, project=project)
        res = run(lambda: twin.store.query(request))
        if fmt == "table" and res.kind == "bindings":
            print_table(res.body)
        elif fmt == "table" and res.kind == "boolean":
            import json

            print("true" if json.loads(res.body)["boolean"] else "false")
        else:
            sys.stdout.buffer.write(res.body)
            sys.stdout.flush()
        if res.truncated:
            err.print(f"[yellow]truncated at {twin.settings.max_rows} rows[/yellow]")
    finally:
        twin.close()


@app.command()
def update(
    sparql: str = typer.Argument(..., help="SPARQL update text, or @file.ru"),
    project: str = typer.Option(..., "--project", "-p"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Run a SPARQL update confined to one project."""
    from kg_twin.sparql.update import run_project_update

    text = Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql
    twin = run(lambda: open_twin(data_dir))
    try:
        run(lambda: twin.projects.get(project))
        run(lambda: run_project_update(twin, project, text, twin.naming.project_graph_prefix(project)))
        err.print("ok")
    finally:
        twin.close()


@app.command()
def export(
    project: str = typer.Option(..., "--project", "-p"),
    fmt: str = typer.Option("nquads", "--format", "-f", help="nquads or trig"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="file (default stdout)"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Export a project's graphs as N-Quads or TriG (graph names as clients use them; `kg-twin load` reads it back)."""
    from kg_twin.formats import rdf_format_from_name

    twin = run(lambda: open_twin(data_dir, read_only=_locked(data_dir)))
    try:
        run(lambda: twin.projects.get(project))
        rf = run(lambda: rdf_format_from_name(fmt))
        if not rf.quads:
            fail(KgTwinError("BAD_FORMAT", "export writes datasets: use nquads or trig"), 2)
        if output:
            tmp = output.with_name(output.name + ".part")
            with open(tmp, "wb") as fh:
                run(lambda: twin.export(project, fh, format=rf.name))
            tmp.replace(output)
        else:
            run(lambda: twin.export(project, sys.stdout.buffer, format=rf.name))
            sys.stdout.flush()
    finally:
        twin.close()


@app.command()
def backup(target: Path = typer.Argument(..., help="new directory for the backup"), data_dir: Optional[Path] = DataDir) -> None:
    """Consistent copy of the whole data directory's store and auth database (server must be stopped)."""
    if target.exists():
        fail(KgTwinError("TARGET_EXISTS", f"{target} already exists", hint="name a new directory"), 2)
    twin = run(lambda: open_twin(data_dir))
    try:
        target.mkdir(parents=True)
        run(lambda: twin.store.backup(target / "store"))
        src_auth = Path(twin.settings.auth_db_path)
        if src_auth.exists():
            import sqlite3

            with sqlite3.connect(src_auth) as a, sqlite3.connect(target / "auth.sqlite") as b:
                a.backup(b)
        err.print(f"backup written to {target}")
    finally:
        twin.close()


@app.command()
def restore(source: Path = typer.Argument(..., help="a directory written by `kg-twin backup`"), data_dir: Optional[Path] = DataDir, yes: bool = typer.Option(False, "--yes")) -> None:
    """Replace the data directory's store with a backup (server must be stopped)."""
    s = settings_for(data_dir)
    if not (source / "store").is_dir():
        fail(KgTwinError("BAD_BACKUP", f"{source} has no store/ directory", hint="pass a directory written by `kg-twin backup`"), 2)
    if _locked(data_dir):
        fail(KgTwinError("STORE_LOCKED", "the store is in use by a running server", hint="stop the server first"), 2)
    if Path(s.store_path).exists() and not yes and not typer.confirm(f"replace {s.store_path}?"):
        raise typer.Exit(1)
    from kg_twin.store import open_store

    probe = run(lambda: open_store(s.model_copy(update={"data_dir": source}), read_only=True))
    probe.close()
    staging = Path(s.data_dir) / "store.restoring"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(source / "store", staging)
    old = Path(s.data_dir) / "store.old"
    if Path(s.store_path).exists():
        if old.exists():
            shutil.rmtree(old)
        Path(s.store_path).rename(old)
    staging.rename(s.store_path)
    if (source / "auth.sqlite").exists():
        shutil.copy2(source / "auth.sqlite", s.auth_db_path)
    if old.exists():
        shutil.rmtree(old)
    err.print(f"restored {source} into {s.data_dir}")


# ---------------------------------------------------------------- tokens
@token_app.command("create")
def token_create(
    project: str = typer.Option(..., "--project", "-p", help="project id, or '*' for every project"),
    role: str = typer.Option("reader", "--role", "-r", help="reader, writer or admin"),
    label: str = typer.Option("", help="who or what uses it"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Create a token; prints the secret once (stdout)."""
    from kg_twin.access import TokenStore
    from kg_twin.terms import check_project_id

    s = settings_for(data_dir)
    if project != "*":
        run(lambda: check_project_id(project))
        locked = _locked(data_dir)
        twin = run(lambda: open_twin(data_dir, read_only=locked))
        try:
            exists = twin.projects.exists(project)
        finally:
            twin.close()
        if not exists:  # a token for a project created later would administer it
            hint = f"create it first with `kg-twin project create {project}`; list projects with `kg-twin project list`"
            if locked:
                hint += "; a running server's newest projects may not be visible here: create the token with POST /projects/{project}/tokens"
            fail(NotFound("PROJECT_NOT_FOUND", f"no project {project!r}: a token is only for an existing project (or '*')", hint=hint))
    tok = run(lambda: TokenStore(Path(s.auth_db_path)).create(project, role, label))
    err.print(f"token {tok.id} for {project} ({role}); keep the secret, it is not shown again:")
    print(tok.secret)


@token_app.command("list")
def token_list(project: Optional[str] = typer.Option(None, "--project", "-p"), data_dir: Optional[Path] = DataDir) -> None:
    """List tokens (never their secrets)."""
    from kg_twin.access import TokenStore

    s = settings_for(data_dir)
    for t in TokenStore(Path(s.auth_db_path)).list(project):
        print(f"{t['id']}\t{t['project']}\t{t['role']}\t{'revoked' if t['revoked'] else 'active'}\t{t['created']}\t{t['label']}")


@token_app.command("revoke")
def token_revoke(token_id: str, data_dir: Optional[Path] = DataDir) -> None:
    """Revoke a token."""
    from kg_twin.access import TokenStore

    s = settings_for(data_dir)
    if not TokenStore(Path(s.auth_db_path)).revoke(token_id):
        fail(KgTwinError("TOKEN_NOT_FOUND", f"no token {token_id}"), 1)
    err.print(f"revoked {token_id}")


# ---------------------------------------------------------------- feature commands
for _module in (ingest_cli, points_cli, validate_cli, ontologies_cli, queries_cli, live_cli, link_cli, history_cli):
    _module.register(app)


def main() -> None:
    rc = 0
    try:
        # with standalone_mode=False click returns (does not raise) the code of a typer.Exit
        rc = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except KgTwinError as e:
        err.print(f"error {e}")
        sys.exit(2)
    except Exception as e:  # click usage errors and the like
        # typer >= 0.2x vendors its own click: recognise its exceptions by shape, not by class
        show = getattr(e, "show", None)
        if callable(show) and isinstance(getattr(e, "exit_code", None), int):
            show()
            sys.exit(2)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)
