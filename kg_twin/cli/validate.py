"""``kg-twin validate``: SHACL validation of files (no project, no server) or of a project.

    kg-twin validate --data building.ttl --shapes shapes/brick/points.shapes.ttl
    kg-twin validate --data building.ttl --shape-set brick/points --brick --format turtle
    kg-twin validate --project campus [--shapes my.shapes.ttl] [--format json]
    kg-twin validate --list-shape-sets

Exit codes: 0 conforms, 1 does not conform, 2 usage or runtime error. The report goes to
stdout; messages (engine, timing) to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from kg_twin.errors import InputError, KgTwinError

FORMATS = ("human", "turtle", "json-ld", "json", "ntriples")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _human(outcome) -> str:
    s = outcome.summary
    lines = [f"Conforms: {s.conforms}", f"Results: {s.total}" + (f"  ({', '.join(f'{k} {v}' for k, v in s.by_severity.items())})" if s.by_severity else "")]
    if s.by_shape:
        lines.append("By shape:")
        lines += [f"  {n:6d}  {k}" for k, v in s.by_shape.items() for n in [v]]
    if s.results:
        lines.append("Results:")
        lines += [f"  {r}" for r in s.results]
    return "\n".join(lines) + "\n"


def validate_command(
    data: List[Path] = typer.Option([], "--data", "-d", help="data file(s) to validate (Turtle, N-Triples, RDF/XML, JSON-LD...)"),
    shapes: List[Path] = typer.Option([], "--shapes", "-s", help="shapes file(s)"),
    shape_set: List[str] = typer.Option([], "--shape-set", help="library shape set(s), e.g. brick/points (see --list-shape-sets)"),
    ontology: List[Path] = typer.Option([], "--ontology", help="ontology file(s) whose rdfs:subClassOf hierarchy counts (not validated)"),
    brick: bool = typer.Option(False, "--brick", help="add the Brick ontology's class hierarchy"),
    project: Optional[str] = typer.Option(None, "--project", "-p", help="validate a project's data graphs in the store"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="KG_TWIN_DATA_DIR", help="data directory (with --project)"),
    fmt: str = typer.Option("human", "--format", "-f", help="human | turtle | json-ld | json | ntriples"),
    engine: str = typer.Option("kgtwin", "--engine", "-e", help="kgtwin (SPARQL on the store) | pyshacl | auto (kgtwin, pyshacl for SHACL-SPARQL shapes)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the report to this file instead of stdout"),
    list_sets: bool = typer.Option(False, "--list-shape-sets", help="list the shapes library and exit"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="with --project: seconds before the validation is stopped (default KG_TWIN_VALIDATE_TIMEOUT_S)"),
) -> None:
    """Validate RDF against SHACL shapes (exit 0 conforms, 1 violations, 2 error)."""
    try:
        if timeout is not None and not timeout > 0:
            raise InputError("BAD_TIMEOUT", f"--timeout must be a positive number of seconds, not {timeout}")
        code = _run(data, shapes, shape_set, ontology, brick, project, data_dir, fmt, engine, output, list_sets, timeout)
    except KgTwinError as e:
        _err(f"error: {e}")
        raise typer.Exit(2)
    raise typer.Exit(code)


def _run(data, shapes, shape_set, ontology, brick, project, data_dir, fmt, engine, output, list_sets, timeout=None) -> int:
    from kg_twin.validation import shapes as lib
    from kg_twin.validation.validator import ENGINES, validate_files

    if list_sets:
        for s in lib.list_shape_sets():
            print(f"{s.name:20s} {s.title}")
        return 0
    if fmt not in FORMATS:
        raise InputError("BAD_FORMAT", f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if engine not in ENGINES:
        raise InputError("BAD_ENGINE", f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    closure = list(ontology) + ([lib.brick_ontology_file()] if brick else [])
    if project is None:
        if not data:
            raise InputError("USAGE", "nothing to validate", hint="give --data FILE... (and --shapes FILE... or --shape-set NAME), or --project P")
        if not shapes and not shape_set:
            raise InputError("USAGE", "no shapes given", hint="give --shapes FILE... or --shape-set NAME (kg-twin validate --list-shape-sets)")
        sg = lib.load_shapes(shape_set, extra=shapes)
        outcome = validate_files(data, [], closure_files=closure, engine=engine, shapes=sg)
    else:
        outcome = _validate_project(project, data_dir, shapes, shape_set, closure, engine, timeout)
    s = outcome.summary
    _err(f"engine {s.engine}: {s.total} result(s) in {s.elapsed_s:.2f} s; conforms: {s.conforms}")
    body = _human(outcome).encode() if fmt == "human" else outcome.serialize(fmt)
    if output is not None:
        output.write_bytes(body)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0 if outcome.conforms else 1


def _validate_project(project, data_dir, shapes, shape_set, closure, engine, timeout=None):
    from kg_twin.cli.common import locked as _locked, open_twin
    from kg_twin.validation.validator import validate_project

    read_only = _locked(data_dir)  # the server owns the store: read a snapshot of it
    twin = open_twin(data_dir, read_only=read_only)
    try:
        # in a killable worker, on a copy of the store (or the store itself, read-only, next to a server)
        timeout_s = timeout if timeout is not None else twin.settings.validate_timeout_s
        return validate_project(twin, project, shape_files=shapes, shape_sets=shape_set or None, closure_files=closure or None, engine=engine, timeout_s=timeout_s)
    finally:
        try:
            twin.close()
        except RuntimeError as e:  # pyoxigraph refuses to flush a read-only store; nothing was written
            if not read_only:
                raise
            _err(f"note: {e}")


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the main typer app."""
    app.command("validate")(validate_command)
