"""Nothing a user can set or run goes undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from themepark_tracker.cli import cli
from themepark_tracker.config import SETTING_NAMES

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


def _command_names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names.extend(_command_names(command, f"{prefix}{name} "))
        else:
            names.append(f"{prefix}{name}")
    return names


def test_the_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


@pytest.mark.parametrize("setting", sorted(SETTING_NAMES))
def test_every_setting_is_documented(setting: str) -> None:
    assert f"`{setting}`" in README
    assert f"\n{setting}=" in ENV_EXAMPLE


@pytest.mark.parametrize("command", _command_names(cli))
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in README


def test_the_deploy_guide_names_real_settings_only() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    parameters = re.findall(r"`/themeparkhall/([A-Z_]+)`", guide)
    assert parameters and set(parameters) <= set(SETTING_NAMES)
    for command in ("cron --install", "deploy files", "deploy web", "backup", "init-db"):
        assert command in guide
