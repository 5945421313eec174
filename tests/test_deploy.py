"""Deployment for real: every crontab line run once, two collects under flock, the
committed deploy/ files as the project generates them, the systemd unit through
systemd-analyze, and Apache 2.4 with mod_wsgi in daemon mode serving the dashboard
and the API from a test database."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import requests
from api_fixtures import END, free_port, settings
from click.testing import CliRunner
from feed_fixtures import SimClock, catalogue
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import Engine, func, select

from themepark_tracker import deployment
from themepark_tracker.api import create_app
from themepark_tracker.cli import cli
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.server import Faults, running_server
from themepark_tracker.storage import backup
from themepark_tracker.storage.tables import polls

ROOT = Path(__file__).parents[1]
VENV = Path(sys.prefix)
FIELD = re.compile(r"^(\*|\*/\d+|\d+(,\d+)*)$")
REQUIRE_APACHE = os.environ.get("REQUIRE_APACHE", "") not in ("", "0")


def _jobs(block: str) -> list[tuple[list[str], str]]:
    lines = [line for line in block.splitlines() if line and not line.startswith("#")]
    return [(line.split()[:5], " ".join(line.split()[5:])) for line in lines]


def _layout(tmp_path: Path, **more: Any) -> deployment.Layout:
    return deployment.Layout(
        app_dir=tmp_path,
        venv=VENV,
        data_dir=tmp_path,
        log_dir=tmp_path / "logs",
        lock_dir=tmp_path / "locks",
        env_file=tmp_path / "tracker.env",
        **more,
    )


@pytest.fixture
def feed() -> Iterator[str]:
    """Two parks of the local feed, answering in a second (long enough to overlap)."""
    model = FeedModel(catalogue(57, 16))
    with running_server(model, SimClock(END), Faults(latency_ms=1000.0)) as url:
        yield url


def _prepare(tmp_path: Path, database_url: str, feed_url: str) -> deployment.Layout:
    layout = _layout(tmp_path)
    (tmp_path / "tracker.env").write_text(
        f"DATABASE_URL={database_url}\nQUEUE_TIMES_BASE_URL={feed_url}\nLOG_FORMAT=text\n"
        "PARK_COUNTRIES=Canada,United States\n",
        encoding="utf-8",
    )
    for directory in (layout.log_dir, layout.lock_dir):
        directory.mkdir()
    return layout


@pytest.mark.heavy
def test_every_crontab_line_parses_and_runs_once(
    tmp_path: Path, engine: Engine, database_url: str, feed: str
) -> None:
    layout = _prepare(tmp_path, database_url, feed)
    block = deployment.crontab(layout, "nice")
    jobs = _jobs(block)
    assert [command.split(" >> ")[0].split()[-1] for _, command in jobs] == [
        "collect",
        "aggregate",
        "cleanup",
        "check",
    ]
    for fields, command in jobs:
        assert len(fields) == 5 and all(FIELD.match(f) for f in fields), fields
        assert " flock -n /" in command and command.endswith(" 2>&1")
        assert all(Path(p).is_absolute() for p in re.findall(r"(?<= )/\S+", command))
    assert [fields for fields, _ in jobs] == [
        ["*/10", "*", "*", "*", "*"],
        ["10", "*", "*", "*", "*"],
        ["40", "3", "*", "*", "*"],
        ["*/15", "*", "*", "*", "*"],
    ]
    codes = {}
    for _, command in jobs:
        name = command.split(" >> ")[0].split()[-1]
        codes[name] = subprocess.run(["/bin/sh", "-c", command], check=False).returncode  # noqa: S603
    assert codes["collect"] == codes["aggregate"] == codes["cleanup"] == 0, codes
    assert codes["check"] == 1, "no aggregate has finalised a day yet: check says so"
    logs = {p.stem: p.read_text(encoding="utf-8") for p in layout.log_dir.glob("*.log")}
    assert "2 parks" in logs["collect"] or "stored" in logs["collect"], logs["collect"]
    assert "no successful aggregate yet" in logs["check"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(polls)).scalar_one() == 2


def test_two_overlapping_collects_under_flock_do_the_work_once(
    tmp_path: Path, engine: Engine, database_url: str, feed: str
) -> None:
    layout = _prepare(tmp_path, database_url, feed)
    (_, collect) = _jobs(deployment.crontab(layout, "none"))[0]
    first = subprocess.Popen(["/bin/sh", "-c", collect])  # noqa: S603
    time.sleep(0.5)  # the first holds the lock while the feed takes a second per answer
    second = subprocess.run(["/bin/sh", "-c", collect], check=False)  # noqa: S603
    assert first.wait(timeout=60) == 0
    assert second.returncode == 1, "flock -n gave up at once"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(polls)).scalar_one() == 2


def test_cron_install_replaces_only_its_own_lines(runner: CliRunner, tmp_path: Path) -> None:
    table = tmp_path / "crontab.txt"
    table.write_text("MAILTO=ops@example.com\n0 5 * * * /usr/bin/backup-home\n", encoding="utf-8")
    program = tmp_path / "crontab"
    program.write_text(
        f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {table}; else cat > {table}; fi\n',
        encoding="utf-8",
    )
    program.chmod(0o755)
    options = ["cron", "--install", "--limits", "nice", "--crontab", str(program)]
    options += ["--app-dir", str(tmp_path), "--log-dir", str(tmp_path / "logs")]
    for _ in range(2):
        result = runner.invoke(cli, options)
        assert result.exit_code == 0, result.output
    installed = table.read_text(encoding="utf-8")
    assert installed.startswith("MAILTO=ops@example.com\n0 5 * * * /usr/bin/backup-home\n")
    ours = [command for _, command in _jobs(installed) if "themepark-tracker " in command]
    assert installed.count(deployment.BEGIN) == 1 and len(ours) == 4
    assert (tmp_path / "logs").is_dir() and (tmp_path / "data" / "locks").is_dir()
    as_tracker = runner.invoke(cli, ["cron", "--print", "--limits", "systemd", "--user", "tracker"])
    lines = [command for _, command in _jobs(as_tracker.output)]
    assert "systemd-run --scope --quiet --collect --uid=tracker --gid=tracker" in lines[0]
    assert all(" runuser -u tracker -- " in line for line in lines[1:])
    printed = runner.invoke(cli, ["cron", "--print", "--limits", "systemd"]).output
    assert "systemd-run --scope --quiet --collect -p CPUQuota=25\\% -p MemoryMax=512M" in printed
    assert not re.search(r"(?<!\\)%", printed), "cron reads a bare % as a newline"
    assert "-p IOWeight=50" in printed


PRODUCTION = [
    "deploy",
    "files",
    "-o",
    "deploy",
    "--app-dir",
    "/opt/themepark-tracker",
    "--venv",
    "/opt/themepark-tracker/.venv",
    "--log-dir",
    "/var/log/themepark-tracker",
    "--lock-dir",
    "/var/lib/themepark-tracker/locks",
    "--env-file",
    "/etc/themepark-tracker/env",
]


def test_the_committed_deploy_files_are_what_the_project_generates(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What docs/deploy.md installs, regenerated with its layout (and this command)."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, PRODUCTION, env={"DATA_DIR": "/var/lib/themepark-tracker"})
    assert result.exit_code == 0, result.output
    generated = {
        name: (tmp_path / "deploy" / name).read_text(encoding="utf-8") for name in deployment.FILES
    }
    for name, text in generated.items():
        assert (ROOT / "deploy" / name).read_text(encoding="utf-8") == text, (
            f"deploy/{name} differs: regenerate it (docs/deploy.md)"
        )


def test_the_api_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine; only this check is skipped")
    layout = deployment.Layout(venv=VENV, user="root", app_dir=tmp_path)
    unit = tmp_path / "themepark-tracker-api.service"
    unit.write_text(deployment.render("api.service", layout), encoding="utf-8")
    result = subprocess.run(  # noqa: S603
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    text = unit.read_text(encoding="utf-8")
    for setting in (
        "CPUQuota=30%",
        "MemoryMax=512M",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ):
        assert setting in text


def _runtime_distributions(name: str) -> list[metadata.Distribution]:
    """`name` and everything it needs at run time (the extras it asks for, no others)."""
    extras_of: dict[str, set[str]] = {}
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(name)]
    while todo:
        wanted = todo.pop()
        key = canonicalize_name(wanted.name)
        known = extras_of.setdefault(key, set())
        if key in found and wanted.extras <= known:
            continue
        known |= wanted.extras
        found[key] = metadata.distribution(wanted.name)
        for line in found[key].requires or ():
            needed = Requirement(line)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in {"", *known}
            ):
                todo.append(needed)
    return list(found.values())


def _stage_packages(target: Path) -> Path:
    """Copies of the package and its run-time dependencies in a directory www-data can
    read: the checkout and its .venv may sit in a private directory (mode 0700, as a
    home directory or `mktemp -d` makes it), and the test must not open that up."""
    shutil.copytree(
        ROOT / "src" / "themepark_tracker",
        target / "themepark_tracker",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for dist in _runtime_distributions("themepark-tracker"):
        if canonicalize_name(dist.metadata["Name"]) == "themepark-tracker":
            continue  # installed editable: its code is the copy of src/ above
        for file in dist.files or ():
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # scripts in the venv's bin/, compiled caches
            copy = target / file
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(str(dist.locate_file(file))), copy)
    return target


APACHE = Path("/usr/sbin/apache2")
MOD_WSGI = Path("/usr/lib/apache2/modules/mod_wsgi.so")
MODULES = Path("/usr/lib/apache2/modules")


@pytest.mark.backends("sqlite")
@pytest.mark.heavy
def test_apache_with_mod_wsgi_serves_the_dashboard_and_the_api(api_engine: Engine) -> None:
    if not (APACHE.exists() and MOD_WSGI.exists()) or os.geteuid() != 0:
        if REQUIRE_APACHE:
            pytest.fail("REQUIRE_APACHE=1 but apache2, mod_wsgi or root is missing")
        pytest.skip("needs apache2 and libapache2-mod-wsgi-py3, and root to start them")
    if f"{sys.version_info.major}.{sys.version_info.minor}" != "3.11":
        pytest.skip("Debian's mod_wsgi embeds Python 3.11")
    site = Path(tempfile.mkdtemp(prefix="tpt-apache-"))
    site.chmod(0o755)
    port = free_port()
    try:
        backup.backup(api_engine, site / "tracker.db")
        # Settings only in the named file, as docs/deploy.md has them: not in home/.env.
        (site / "tracker.env").write_text(
            f"DATABASE_URL=sqlite:///{site / 'tracker.db'}\nLOG_FORMAT=text\n", encoding="utf-8"
        )
        deployment.write_web_root(site / "www")
        layout = deployment.Layout(
            app_dir=site,
            venv=VENV,
            env_file=site / "tracker.env",
            web_root=site / "www",
            user="www-data",
            http_port=port,
            server_name="localhost",
            wsgi_file=site / "themepark-tracker.wsgi",
            python_path=(_stage_packages(site / "packages"),),
        )
        deployment.write_files(layout, site)
        (site / "vhost.conf").write_text(
            (site / "apache-vhost.conf").read_text(encoding="utf-8"), encoding="utf-8"
        )
        modules = "\n".join(
            f"LoadModule {name}_module {MODULES / f'mod_{name}.so'}"
            for name in ("mpm_event", "authz_core", "headers", "mime", "dir", "wsgi")
        )
        (site / "httpd.conf").write_text(
            f'ServerRoot "{site}"\nServerName localhost\nListen 127.0.0.1:{port}\n'
            f"PidFile {site}/httpd.pid\nDefaultRuntimeDir {site}\nErrorLog {site}/error.log\n"
            f"User www-data\nGroup www-data\n{modules}\nTypesConfig /etc/mime.types\n"
            f"DirectoryIndex index.html\nInclude {site}/vhost.conf\n",
            encoding="utf-8",
        )
        subprocess.run(["chown", "-R", "www-data:www-data", str(site)], check=True)  # noqa: S603, S607
        started = subprocess.run(  # noqa: S603
            [str(APACHE), "-f", str(site / "httpd.conf"), "-k", "start"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert started.returncode == 0, started.stderr
        base = f"http://127.0.0.1:{port}"
        page = None
        for _ in range(100):
            try:
                page = requests.get(f"{base}/", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert page is not None and page.status_code == 200 and "Hall of Shame" in page.text
        assert page.headers["Cache-Control"] == "no-cache"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        script = re.search(r'src="(/static/[0-9a-f]+/app\.js)"', page.text)
        assert script is not None
        methodology = requests.get(f"{base}/methodology.html", timeout=5)
        assert methodology.status_code == 200 and 'id="settings"' in methodology.text
        assert methodology.headers["Cache-Control"] == "no-cache"
        assert "script-src 'self'" in methodology.headers["Content-Security-Policy"]
        asset = requests.get(base + script.group(1), timeout=5)
        assert asset.status_code == 200
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        flask = create_app(settings(), api_engine).test_client()
        for url in (
            "/api/parks",
            "/api/parks/downtime?from=2026-07-01&to=2026-07-03",
            "/api/rides/downtime?from=2026-07-01&to=2026-07-03&limit=10",
            "/api/parks/57?from=2026-07-01&to=2026-07-03",
        ):
            served = requests.get(base + url, timeout=30)
            assert served.status_code == 200, (url, served.text[:300])
            assert served.headers["Server"].startswith("Apache/2.4")
            assert served.headers.get("X-Content-Type-Options") == "nosniff"
            expected = flask.get(url).get_json()
            got = served.json()
            for body in (expected, got):
                body["meta"].pop("generated_at")
            assert got == expected, url
        health = requests.get(f"{base}/api/health", timeout=5).json()
        assert health["checks"]["database"]["status"] == "ok"
        errors = (site / "error.log").read_text(encoding="utf-8")
        assert "wsgi:error" not in errors, errors[-2000:]
        assert json.loads(requests.get(f"{base}/api/nothing", timeout=5).text)["error"]
    finally:
        subprocess.run(  # noqa: S603
            [str(APACHE), "-f", str(site / "httpd.conf"), "-k", "stop"],
            capture_output=True,
            check=False,
        )
        time.sleep(1)
        shutil.rmtree(site, ignore_errors=True)
