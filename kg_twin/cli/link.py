"""``kg-twin link``: link discovery between sources, and its review queue.

    kg-twin link propose --project P --source bdtopo --target footprints > spec.yml
    kg-twin link run spec.yml --project P [--dry-run]      # or: --name NAME (run a stored spec again)
    kg-twin link review list --project P [--spec NAME] [--status review|accepted|rejected]
    kg-twin link review accept ID --project P
    kg-twin link review reject ID --project P

Writes (run, accept, reject) need the store: with a server running, use ``POST /projects/{p}/links``
and ``POST /projects/{p}/links/review/{id}``. Exit codes: 0 ok, 2 usage or runtime error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from kg_twin.cli.common import DataDir, err, fail, locked, open_twin, run
from kg_twin.errors import InputError

link_app = typer.Typer(help="Link discovery across sources (link specifications, review queue).", no_args_is_help=True)
review_app = typer.Typer(help="The review queue: candidate links between the accept and review thresholds.", no_args_is_help=True)
link_app.add_typer(review_app, name="review")

Project = typer.Option(..., "--project", "-p", help="project id")


@link_app.command("run")
def link_run(
    spec_file: Optional[Path] = typer.Argument(None, help="link specification (YAML, docs/links.md)"),
    project: str = Project,
    name: Optional[str] = typer.Option(None, "--name", help="run the specification a previous run of NAME stored"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count the links without writing them"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Run a link specification: the links go to the graph links/<name> of the project (JSON summary on stdout)."""
    from kg_twin.links.review import stored_spec
    from kg_twin.links.run import run_links
    from kg_twin.links.spec import parse_spec

    if (spec_file is None) == (name is None):
        fail(InputError("USAGE", "give a specification file or --name", hint="kg-twin link run SPEC.yml --project P, or kg-twin link run --name NAME --project P"))
    if spec_file is not None and not spec_file.is_file():
        fail(InputError("NO_SUCH_FILE", f"{spec_file}: no such file", hint="write one with `kg-twin link propose`"))
    twin = run(lambda: open_twin(data_dir, read_only=dry_run and locked(data_dir)))
    try:
        spec = run(lambda: parse_spec(spec_file.read_text(), where=str(spec_file)) if spec_file is not None else stored_spec(twin, project, str(name)))
        summary = run(lambda: run_links(twin, project, spec, dry_run=dry_run))
    finally:
        twin.close()
    print(json.dumps(summary, indent=2))
    err.print(f"{summary['accepted']} accepted, {summary['review']} to review ({summary['sources']} x {summary['targets']} entities, {summary['seconds']['total']} s)")


@link_app.command("propose")
def link_propose(
    project: str = Project,
    source: str = typer.Option(..., "--source", help="graph of the project holding the entities to link from"),
    target: str = typer.Option(..., "--target", help="graph of the project holding the entities to link to"),
    name: Optional[str] = typer.Option(None, "--name", help="name of the specification (default: <source>-to-<target>)"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Propose a specification for two graphs (YAML on stdout; edit it, then `kg-twin link run`)."""
    from kg_twin.links.propose import propose

    twin = run(lambda: open_twin(data_dir, read_only=locked(data_dir)))
    try:
        out = run(lambda: propose(twin, project, source, target, name=name))
    finally:
        twin.close()
    print(out["yaml"], end="")


@review_app.command("list")
def review_list(
    project: str = Project,
    spec: Optional[str] = typer.Option(None, "--spec", help="only this specification's links"),
    status: str = typer.Option("review", "--status", help="review (default), accepted or rejected"),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """List candidate links (best score first)."""
    from kg_twin.links.review import review_queue

    twin = run(lambda: open_twin(data_dir, read_only=locked(data_dir)))
    try:
        items = run(lambda: review_queue(twin, project, spec=spec, status=status, limit=limit))
    finally:
        twin.close()
    if as_json:
        print(json.dumps(items, indent=2))
        return
    for x in items:
        score = f"{x['score']:.3f}" if x["score"] is not None else "  -  "
        print(f"{x['id']}  {score}  {x['spec']}  {x['source']}  {x['predicate']}  {x['target']}")
    err.print(f"{len(items)} link(s) with status {status}")


def _decide(link: str, project: str, decision: str, data_dir: Optional[Path]) -> None:
    from kg_twin.links.review import decide

    twin = run(lambda: open_twin(data_dir))
    try:
        out = run(lambda: decide(twin, project, link, decision))
    finally:
        twin.close()
    print(json.dumps(out, indent=2))


@review_app.command("accept")
def review_accept(link: str = typer.Argument(..., help="link id (from `kg-twin link review list`)"), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Accept a candidate link: it is asserted now and on every later run."""
    _decide(link, project, "accepted", data_dir)


@review_app.command("reject")
def review_reject(link: str = typer.Argument(..., help="link id (from `kg-twin link review list`)"), project: str = Project, data_dir: Optional[Path] = DataDir) -> None:
    """Reject a candidate link: it is withdrawn now and never proposed again."""
    _decide(link, project, "rejected", data_dir)


def register(app: typer.Typer) -> None:
    app.add_typer(link_app, name="link")
