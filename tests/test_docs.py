"""Nothing a user can set or run goes undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from themepark_tracker.cli import cli
from themepark_tracker.config import METRIC_SETTINGS, SETTING_NAMES, Settings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
METHODOLOGY = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")


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


def _stated(text: str, pattern: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(pattern, text, re.MULTILINE)}


def test_the_metric_settings_are_stated_with_the_code_defaults_wherever_documented() -> None:
    """docs/methodology.md's settings table lists exactly the metric settings; it, the
    README's table and .env.example give each the default the code has."""
    section = METHODOLOGY.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    where = {
        "docs/methodology.md": _stated(section, r"^\| `([A-Z_]+)` \| ([^|]+) \|"),
        "README.md": _stated(README, r"^\| `([A-Z_]+)` \| `([^`]*)` \|"),
        ".env.example": _stated(ENV_EXAMPLE, r"^#? ?([A-Z_]+)=(.*)$"),
    }
    where["the About text"] = _stated(
        (ROOT / "src/themepark_tracker/web/templates/index.html").read_text(encoding="utf-8"),
        r"<td>([^<]+)</td><td><code>([A-Z_]+)</code></td>",
    )
    where["the About text"] = {
        name: value.removesuffix(" min") for value, name in where["the About text"].items()
    }
    assert sorted(where["docs/methodology.md"]) == sorted(METRIC_SETTINGS)
    defaults = Settings()
    for name in METRIC_SETTINGS:
        field = SETTING_NAMES[name]
        for document, values in where.items():
            assert name in values, f"{document} does not state {name}"
            stated = Settings.model_validate({field: values[name]})
            assert getattr(stated, field) == getattr(defaults, field), (document, name)


def test_nothing_points_outside_the_repository() -> None:
    """A clone has no folder beside it: the project explains itself."""
    texts = [
        README,
        ENV_EXAMPLE,
        *(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")),
    ]
    texts += [
        p.read_text(encoding="utf-8")
        for p in (ROOT / "src").rglob("*")
        if p.suffix in {".py", ".html", ".js", ".md"}
    ]
    for text in texts:
        assert "../shared" not in text and "METRICS.md" not in text
