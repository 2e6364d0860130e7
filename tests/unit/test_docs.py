"""Docs stay true: every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from kg_twin.cli.main import app
from kg_twin.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"KG_TWIN_{name.upper()}" not in text]
    assert missing == []


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full + " ")
        else:
            yield full


def test_every_cli_command_is_documented():
    text = (DOCS / "cli.md").read_text()
    click_app = typer.main.get_command(app)
    missing = [c for c in _commands(click_app) if f"kg-twin {c}" not in text]
    assert missing == []
