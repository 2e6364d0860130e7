"""CLI: ``kg-twin ontologies list|check|load`` and ``kg-twin infer``.

Exit codes: 0 ok / consistent, 1 inconsistent (or unsatisfiable classes), 2 usage or runtime error.
Data (tables, JSON reports) goes to stdout, progress and errors to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from kg_twin.errors import KgTwinError

ontologies_app = typer.Typer(help="The pinned ontology bundle: list modules, check consistency, load into the store.", no_args_is_help=True)

_DATA_DIR = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR", help="data directory (default ./twin-data)")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _fail(e: KgTwinError, code: int = 2) -> None:
    _err(f"error {e}")
    raise typer.Exit(code)


def _settings(data_dir: Optional[Path]) -> Any:
    from kg_twin.settings import Settings

    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@ontologies_app.command("list")
def list_modules(json_out: bool = typer.Option(False, "--json", help="JSON instead of a table")) -> None:
    """Modules of the bundle: version, triples, licence, source."""
    from kg_twin.ontologies import module_stats

    try:
        rows = module_stats()
    except KgTwinError as e:
        _fail(e)
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    print("module\tversion\ttriples\tlicence\tsource")
    for r in rows:
        print(f"{r['module']}\t{r['version']}\t{r['triples']}\t{r['licence']}\t{r['source']}")


@ontologies_app.command("check")
def check(
    module: Optional[list[str]] = typer.Option(None, "--module", "-m", help="check these modules (and what they need) instead of the whole bundle"),
    extra: Optional[list[Path]] = typer.Option(None, "--extra", "-x", help="also load this ontology file (Turtle / N-Triples / RDF/XML), e.g. a candidate alignment"),
    no_cache: bool = typer.Option(False, "--no-cache", help="run the reasoner even if this bundle was checked before"),
    timeout: float = typer.Option(900.0, "--timeout", help="seconds HermiT may run"),
    json_out: bool = typer.Option(False, "--json", help="print the full report as JSON"),
    data_dir: Optional[Path] = _DATA_DIR,
) -> None:
    """Prove the bundle (kgt.ttl + the modules it aligns) is consistent with HermiT; list unsatisfiable classes.

    Exit 0 consistent, 1 inconsistent or unsatisfiable classes, 2 error.
    """
    from kg_twin.reasoning.owl import check_consistency, default_cache_dir

    cache_dir = default_cache_dir(data_dir) if data_dir is not None else default_cache_dir()
    _err("checking the ontology bundle with HermiT (owlready2)...")
    try:
        report = check_consistency(module or None, cache_dir=cache_dir, use_cache=not no_cache, timeout_s=timeout, extra=extra or ())
    except KgTwinError as e:
        _fail(e)
    if json_out:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        verdict = "consistent" if report.consistent else "INCONSISTENT"
        print(f"{verdict}; {len(report.unsatisfiable)} unsatisfiable classes ({report.reasoner}, {report.seconds} s{', cached' if report.cached else ''})")
        for m in report.modules:
            line = f"  {m.module:<22} {m.version:<36} {m.mode:<24} {m.triples} triples"
            print(line.rstrip())
            if m.reason:
                print(f"      {m.reason}")
        if report.relaxed_datatypes:
            print("  datatypes outside the OWL 2 datatype map, treated as rdfs:Literal: " + ", ".join(report.relaxed_datatypes))
        for c in report.unsatisfiable:
            print(f"  unsatisfiable: {c}")
        if report.warnings:
            print(f"  {len(report.warnings)} owlready2 warnings (use --json to see them)")
    raise typer.Exit(report.exit_code)


@ontologies_app.command("load")
def load(
    module: Optional[list[str]] = typer.Option(None, "--module", "-m", help="load these modules (default: the whole bundle)"),
    data_dir: Optional[Path] = _DATA_DIR,
) -> None:
    """Load bundle modules into the store, one graph each: {base}graph/_ontology/{module} (replaced)."""
    from kg_twin.ontologies import load_into_store
    from kg_twin.store import open_store

    s = _settings(data_dir)
    try:
        store = open_store(s)
    except KgTwinError as e:
        _fail(e)
    try:
        for g, n in load_into_store(store, s.base_iri, module or None).items():
            _err(f"<{g}>: {n} triples")
    except KgTwinError as e:
        _fail(e)
    finally:
        store.close()


def infer(
    project: str = typer.Option(..., "--project", "-p", help="project id"),
    json_out: bool = typer.Option(False, "--json", help="print the run's statistics as JSON"),
    data_dir: Optional[Path] = _DATA_DIR,
) -> None:
    """Recompute a project's inferred graph (the profile of docs/semantics.md) from its asserted graphs."""
    from kg_twin.reasoning.infer import infer_project
    from kg_twin.service import create_twin
    from kg_twin.terms import check_project_id

    s = _settings(data_dir)
    try:
        check_project_id(project)
        twin = create_twin(s)
    except KgTwinError as e:
        _fail(e)
    try:
        twin.projects.get(project)  # NotFound when there is no such project
        stats = infer_project(twin.store, twin.naming, project)
    except KgTwinError as e:
        _fail(e)
    finally:
        twin.close()
    if json_out:
        print(json.dumps(stats.to_dict(), indent=2))
    _err(
        f"<{stats.graph}>: {stats.inferred_triples} inferred triples from {stats.asserted_triples} asserted "
        f"in {len(stats.asserted_graphs)} graphs ({stats.seconds.get('total', 0):.1f} s)"
    )


def register(app: typer.Typer) -> None:
    """Add ``ontologies`` (list, check, load) and ``infer`` to the main CLI."""
    app.add_typer(ontologies_app, name="ontologies")
    app.command("infer")(infer)
