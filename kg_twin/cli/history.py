"""``kg-twin history …`` (versions, diff, restore, prune) and ``kg-twin scenario …`` (what-if
scenarios); ``kg-twin query --as-of`` lives with ``query`` in main.py. See docs/history.md.

Exit codes: 0 ok, 2 usage or runtime error (a message on stderr, with a hint).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from kg_twin.cli.common import DataDir, err, fail, open_twin, print_table, run
from kg_twin.errors import InputError
from kg_twin.store import QueryRequest

history_app = typer.Typer(help="Versions of a project: list, show, diff, restore, prune (docs/history.md)", no_args_is_help=True)
scenario_app = typer.Typer(help="What-if scenarios of a project: create, update, query, compare, promote, delete", no_args_is_help=True)
Project = typer.Option(..., "--project", "-p", help="project id")


def register(app: typer.Typer) -> None:
    app.add_typer(history_app, name="history")
    app.add_typer(scenario_app, name="scenario")


def _json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@history_app.command("list")
def list_versions(project: str = Project, limit: int = typer.Option(50, min=1), offset: int = typer.Option(0, min=0), as_json: bool = typer.Option(False, "--json"), data_dir: Optional[Path] = DataDir) -> None:
    """List a project's versions, newest first."""
    twin = run(lambda: open_twin(data_dir))
    try:
        versions, total = run(lambda: twin.history.versions(project, limit=limit, offset=offset))
        if as_json:
            _json({"total": total, "versions": [v.to_dict() for v in versions]})
            return
        for v in versions:
            sys.stdout.write(f"{v.seq}\t{v.time}\t{v.activity}\t{v.label or v.agent}\t+{v.added} -{v.removed}\t{' '.join(v.graphs)}\n")
        err.print(f"{len(versions)} of {total} versions")
    finally:
        twin.close()


@history_app.command("show")
def show(version: int = typer.Argument(..., help="version number"), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Print one version's delta as RDF Patch."""
    from kg_twin.history.entities import client_patch

    twin = run(lambda: open_twin(data_dir))
    try:
        v = run(lambda: twin.history.version(project, version))
        sys.stdout.write(client_patch(twin, project, run(lambda: twin.history.patch(project, version))).text(v.iri) + "\n")
    finally:
        twin.close()


@history_app.command("diff")
def diff(
    project: str = Project,
    from_: str = typer.Option(..., "--from", help="version number or ISO 8601 time"),
    to: str = typer.Option("head", "--to", help="version number, ISO 8601 time, or head"),
    patch: bool = typer.Option(False, "--patch", help="print the triples as RDF Patch instead of the entity summary (JSON)"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """What changed between two versions."""
    from kg_twin.history.entities import client_patch, entity_summary

    twin = run(lambda: open_twin(data_dir))
    try:
        a = run(lambda: twin.history.resolve(project, from_))
        b = run(lambda: twin.history.head(project) if to == "head" else twin.history.resolve(project, to))
        d = run(lambda: twin.history.diff(project, a, b))
        if patch:
            sys.stdout.write(client_patch(twin, project, d).text(f"urn:kg-twin:diff:{project}:{a}:{b}") + "\n")
        else:
            _json({"from": a, "to": b, "added": len(d.added), "removed": len(d.removed), "entities": entity_summary(twin, project, d)})
    finally:
        twin.close()


@history_app.command("restore")
def restore(version: int = typer.Argument(..., help="version to go back to"), project: str = Project, graph: Optional[str] = typer.Option(None, "--graph", "-g", help="only this graph (client IRI)"), data_dir: Optional[Path] = DataDir) -> None:
    """Bring a project (or one graph) back to a version, as a new version."""
    twin = run(lambda: open_twin(data_dir))
    try:
        v = run(lambda: twin.history.restore(project, version, graph=graph))
        if v is None:
            err.print(f"nothing to do: {project} already equals version {version}")
        else:
            twin.notify(project)
            err.print(f"restored version {version} of {project} as version {v.seq} (+{v.added} -{v.removed})")
    finally:
        twin.close()


@history_app.command("prune")
def prune(project: str = Project, keep_versions: int = typer.Option(0, min=0), keep_days: float = typer.Option(0, min=0), data_dir: Optional[Path] = DataDir) -> None:
    """Drop old versions (the newest is always kept)."""
    if not keep_versions and not keep_days:
        fail(InputError("NOTHING_TO_PRUNE", "give --keep-versions or --keep-days", hint="e.g. kg-twin history prune -p P --keep-versions 100"))
    twin = run(lambda: open_twin(data_dir))
    try:
        n = run(lambda: twin.history.prune(project, keep_versions=keep_versions, keep_days=keep_days))
        err.print(f"dropped {n} versions; oldest kept: {twin.history.baseline(project)}")
    finally:
        twin.close()


# ---------------------------------------------------------------- scenarios
@scenario_app.command("create")
def scenario_create(scenario: str = typer.Argument(...), project: str = Project, base: Optional[str] = typer.Option(None, "--base", help="version or time (default: latest)"), title: str = "", data_dir: Optional[Path] = DataDir) -> None:
    """Start a scenario from a version of the project."""
    twin = run(lambda: open_twin(data_dir))
    try:
        s = run(lambda: twin.scenarios.create(project, scenario, base=base, title=title))
        err.print(f"scenario {s.id} of {project} from version {s.base}")
    finally:
        twin.close()


@scenario_app.command("list")
def scenario_list(project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """List a project's scenarios."""
    twin = run(lambda: open_twin(data_dir))
    try:
        _json([s.to_dict() for s in run(lambda: twin.scenarios.list(project))])
    finally:
        twin.close()


@scenario_app.command("update")
def scenario_update(scenario: str = typer.Argument(...), sparql: str = typer.Argument(..., help="SPARQL update text, or @file.ru"), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Run a SPARQL update on a scenario."""
    text = Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql
    twin = run(lambda: open_twin(data_dir))
    try:
        run(lambda: twin.scenarios.update(project, scenario, text))
        ch = run(lambda: twin.scenarios.changes(project, scenario))
        err.print(f"scenario {scenario}: +{len(ch.added)} -{len(ch.removed)} against its base")
    finally:
        twin.close()


@scenario_app.command("query")
def scenario_query(scenario: str = typer.Argument(...), sparql: str = typer.Argument(..., help="SPARQL query text, or @file.rq"), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Run a SELECT/ASK query on a scenario (table on stdout)."""
    text = Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql
    twin = run(lambda: open_twin(data_dir))
    try:
        view = run(lambda: twin.scenarios.view(project, scenario))
        res = run(lambda: twin.store.query(QueryRequest(view.rewrite(text), dataset=view.dataset, result_format="json", max_rows=twin.settings.max_rows)))
        print_table(res.body) if res.kind == "bindings" else sys.stdout.write(res.body.decode() + "\n")
    finally:
        twin.close()


@scenario_app.command("promote")
def scenario_promote(scenario: str = typer.Argument(...), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Apply a scenario to its project as a new version (refused when the project changed the same triples)."""
    twin = run(lambda: open_twin(data_dir))
    try:
        out = run(lambda: twin.scenarios.promote(project, scenario))
        twin.notify(project)
        err.print(f"promoted {scenario}: version {out['version']} (+{out['added']} -{out['removed']})")
    finally:
        twin.close()


@scenario_app.command("delete")
def scenario_delete(scenario: str = typer.Argument(...), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Delete a scenario."""
    twin = run(lambda: open_twin(data_dir))
    try:
        run(lambda: twin.scenarios.delete(project, scenario))
        err.print(f"deleted scenario {scenario}")
    finally:
        twin.close()
