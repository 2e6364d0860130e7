"""``kg-twin history``, ``kg-twin query --as-of`` and ``kg-twin scenario`` on an on-disk store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kg_twin.cli.main import app

EX = "http://example.org/"


def _run(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (args, r.output)
    return r.stdout


def test_history_commands(tmp_path: Path):
    d = ["--data-dir", str(tmp_path)]
    _run("project", "create", "cli", *d)
    f = tmp_path / "a.ttl"
    f.write_text(f"<{EX}b1> <{EX}name> 'One' .\n")
    _run("load", str(f), "--project", "cli", "--graph", "model", *d)
    _run("update", f"DELETE DATA {{ GRAPH <{EX}model-alias> {{ <{EX}x> <{EX}y> 1 }} }} ; INSERT DATA {{ <{EX}b2> <{EX}name> 'Two' }}", "--project", "cli", *d)
    listing = json.loads(_run("history", "list", "--project", "cli", "--json", *d))
    assert [v["seq"] for v in listing["versions"]] == [2, 1] and listing["versions"][0]["added"] == 1
    q = f"SELECT ?n WHERE {{ ?b <{EX}name> ?n }}"
    assert json.loads(_run("query", q, "--project", "cli", "--as-of", "1", "--format", "json", *d))["results"]["bindings"] == [{"n": {"type": "literal", "value": "One"}}]
    assert "A <http://example.org/b2>" in _run("history", "show", "2", "--project", "cli", *d)
    diff = json.loads(_run("history", "diff", "--project", "cli", "--from", "0", *d))
    assert diff["added"] == 2 and {e["entity"] for e in diff["entities"]} == {f"{EX}b1", f"{EX}b2"}
    _run("scenario", "create", "what-if", "--project", "cli", *d)
    _run("scenario", "update", "what-if", f"INSERT DATA {{ <{EX}b3> <{EX}name> 'Three' }}", "--project", "cli", *d)
    _run("scenario", "promote", "what-if", "--project", "cli", *d)
    _run("history", "restore", "1", "--project", "cli", *d)
    rows = json.loads(_run("query", q, "--project", "cli", "--format", "json", *d))["results"]["bindings"]
    assert [r["n"]["value"] for r in rows] == ["One"]
    assert [v["activity"] for v in json.loads(_run("history", "list", "--project", "cli", "--json", *d))["versions"]][:2] == ["restore of version 1", "promotion of scenario what-if"]
    bad = CliRunner().invoke(app, ["query", q, "--project", "cli", "--as-of", "99", *d])
    assert bad.exit_code == 2 and "VERSION_NOT_FOUND" in bad.output
