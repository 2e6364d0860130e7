"""Every hint names commands and options that exist: ``kg-twin CMD [SUB]`` is a command of the CLI,
and each ``--option`` after it is an option of that command (an option with no command before it must
be an option of some command). Options of other tools named in a hint (curl, xmllint) are theirs; a command's mention ends at ``;``
or a closing backtick."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from typing import Any

import pytest
import typer.main

from kg_twin.cli.main import app

ROOT = Path(__file__).resolve().parents[2] / "kg_twin"
OTHER_TOOLS = re.compile(r"\b(curl|xmllint|python -m \S+|cjio|pip|ogr2ogr)\b")
MENTION = re.compile(r"kg-twin((?: [a-z][\w-]*)+)|--[a-z][\w-]*")


def _commands() -> dict[tuple[str, ...], set[str]]:
    out: dict[tuple[str, ...], set[str]] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        out[path] = {o for p in cmd.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", []) if o.startswith("--")}
        if hasattr(cmd, "commands"):  # a group (typer may vendor its own click: no isinstance)
            for name, sub in cmd.commands.items():
                walk(sub, path + (name,))

    walk(typer.main.get_command(app), ())
    return out


def _hints() -> list[tuple[str, str]]:
    found = []
    for p in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                text = "".join(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str))
                if text:
                    found.append((f"{p.relative_to(ROOT.parent)}:{node.value.lineno}", text))
    return found


COMMANDS = _commands()
ALL_OPTIONS = set().union(*COMMANDS.values())
HINTS = _hints()


def _check(text: str) -> list[str]:
    """What ``text`` names that the CLI does not have."""
    bad: list[str] = []
    current: tuple[str, ...] | None = None  # the command the options belong to
    last_cmd_at = last_end = 0
    foreign_at = [m.start() for m in OTHER_TOOLS.finditer(text)]
    for m in MENTION.finditer(text):
        if m.group(1):
            words = m.group(1).split()
            path: tuple[str, ...] = ()
            for w in words:  # the longest prefix of the words that is a command
                if path + (w,) in COMMANDS:
                    path += (w,)
                else:
                    break
            if not path:
                bad.append(f"command `kg-twin {words[0]}`")
            current = path or None
            last_cmd_at = m.start()
            last_end = m.end()
            continue
        opt = m.group()
        if current is not None and re.search(r"[;`]", text[last_end : m.start()]):
            current = None  # the command's mention ended (`kg-twin readers`; --reader NAME)
        tool_before = [a for a in foreign_at if a < m.start()]
        if tool_before and (current is None or tool_before[-1] > last_cmd_at):
            continue  # an option of another tool
        known = COMMANDS[current] if current else ALL_OPTIONS
        if opt not in known:
            bad.append(f"option {opt}" + (f" of `kg-twin {' '.join(current)}`" if current else ""))
    return bad


def test_the_walker_sees_hints_and_commands():
    assert len(HINTS) > 100 and ("ingest",) in COMMANDS and "--dry-run" in COMMANDS[("ingest",)]
    assert _check("run kg-twin ingest FILE --propose") == ["option --propose of `kg-twin ingest`"]
    assert _check("see --list-readers") == ["option --list-readers"]
    assert _check("kg-twin frobnicate") == ["command `kg-twin frobnicate`"]
    assert _check("curl --data-binary @x; `kg-twin readers` lists them; --reader NAME") == []


@pytest.mark.parametrize("where, text", HINTS, ids=[w for w, _ in HINTS])
def test_hint_names_existing_commands_and_options(where, text):
    assert _check(text) == [], f"{where}: {text}"
