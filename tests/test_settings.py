"""Settings: defaults, .env, environment, SSM Parameter Store (moto), masking, loud errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from themepark_tracker.cli import cli
from themepark_tracker.config import MASK, ConfigError, load_settings

PASSWORD = "hunter2-Secret"


def _no_ssm(prefix: str, region: str) -> dict[str, str]:
    raise AssertionError("SSM must not be consulted outside production")


def test_defaults_use_the_embedded_database_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, ssm_reader=_no_ssm)
    assert settings.environment == "development"
    assert str(settings.database_url_object()) == f"sqlite:///{tmp_path / 'data' / 'tracker.db'}"
    assert settings.source_of("database_url") == "default"


def test_data_dir_moves_the_default_database(tmp_path: Path) -> None:
    settings = load_settings(environ={"DATA_DIR": "/srv/tracker"}, ssm_reader=_no_ssm)
    assert settings.database_url_object().database == "/srv/tracker/tracker.db"


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "LOG_LEVEL=debug\nDB_POOL_SIZE=4\nPARK_CONTINENT=Europe\nUNRELATED=1\n"
    )
    settings = load_settings(environ={"DB_POOL_SIZE": "7"}, ssm_reader=_no_ssm)
    assert settings.log_level == "DEBUG"
    assert settings.park_continent == "Europe"
    assert settings.db_pool_size == 7
    assert settings.source_of("log_level") == ".env"
    assert settings.source_of("db_pool_size") == "env"
    assert settings.source_of("log_format") == "default"


def test_env_file_variable_names_another_file(tmp_path: Path) -> None:
    other = tmp_path / "conf" / "tracker.env"
    other.parent.mkdir()
    other.write_text("LOG_FORMAT=text\n")
    settings = load_settings(environ={"ENV_FILE": str(other)}, ssm_reader=_no_ssm)
    assert settings.log_format == "text"


def test_an_empty_value_in_the_env_file_means_the_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=\nUSER_AGENT=\n")
    settings = load_settings(environ={}, ssm_reader=_no_ssm)
    assert settings.database_url is None
    assert settings.user_agent.startswith("themepark-tracker/")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DB_POOL_SIZE", "abc", "setting DB_POOL_SIZE='abc' (from .env): Input should be"),
        ("DB_POOL_SIZE", "0", "setting DB_POOL_SIZE='0' (from .env): Input should be greater"),
        ("LOG_LEVEL", "LOUD", "setting LOG_LEVEL='LOUD' (from .env)"),
        ("ENVIRONMENT", "staging", "setting ENVIRONMENT='staging' (from .env)"),
        ("SSM_PREFIX", "themeparkhall", "setting SSM_PREFIX='themeparkhall' (from .env): must"),
        ("QUEUE_TIMES_BASE_URL", "ftp://x", "must be an http:// or https:// URL"),
        ("HTTP_TIMEOUT_SECONDS", "-1", "setting HTTP_TIMEOUT_SECONDS='-1'"),
        ("DATABASE_URL", f"::{PASSWORD}::", "setting DATABASE_URL=******** (from .env)"),
    ],
)
def test_a_bad_value_fails_loudly_naming_setting_and_source(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    (tmp_path / ".env").write_text(f"{name}={value}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, ssm_reader=_no_ssm)
    assert message in str(error.value)
    assert PASSWORD not in str(error.value)


def test_the_prefix_and_base_url_are_normalised() -> None:
    settings = load_settings(
        environ={"SSM_PREFIX": "/tracker/prod", "QUEUE_TIMES_BASE_URL": "http://127.0.0.1:8765/"},
        ssm_reader=_no_ssm,
    )
    assert settings.ssm_prefix == "/tracker/prod/"
    assert settings.queue_times_base_url == "http://127.0.0.1:8765"


def test_db_password_goes_into_the_url_and_nowhere_else() -> None:
    settings = load_settings(
        environ={
            "DATABASE_URL": "mysql+mysqldb://tracker@db.internal/themepark",
            "DB_PASSWORD": PASSWORD,
        },
        ssm_reader=_no_ssm,
    )
    assert settings.database_url_object().password == PASSWORD
    assert settings.database_url_masked() == "mysql+mysqldb://tracker:***@db.internal/themepark"
    described = dict((name, value) for name, value, _ in settings.describe())
    assert described["DB_PASSWORD"] == MASK
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in json.dumps(settings.describe())


def test_a_password_inside_the_url_is_masked_too() -> None:
    settings = load_settings(
        environ={"DATABASE_URL": f"mysql+mysqldb://tracker:{PASSWORD}@db/themepark"},
        ssm_reader=_no_ssm,
    )
    assert PASSWORD not in json.dumps(settings.describe())
    assert settings.database_url_object().password == PASSWORD


# --- production: AWS SSM Parameter Store, through moto ----------------------------------


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        client.put_parameter(
            Name="/themeparkhall/DATABASE_URL",
            Value="mysql+mysqldb://tracker@localhost/themepark_tracker_prod",
            Type="String",
        )
        client.put_parameter(Name="/themeparkhall/DB_PASSWORD", Value=PASSWORD, Type="SecureString")
        client.put_parameter(Name="/themeparkhall/LOG_FORMAT", Value="text", Type="String")
        client.put_parameter(Name="/other/LOG_LEVEL", Value="ERROR", Type="String")
        yield client


def test_production_reads_ssm_and_decrypts_secure_strings(ssm: object) -> None:
    settings = load_settings(environ={"ENVIRONMENT": "production"})
    assert settings.database_url_object().password == PASSWORD
    assert settings.database_url_object().database == "themepark_tracker_prod"
    assert settings.log_format == "text"
    assert settings.log_level == "INFO"
    assert settings.source_of("db_password") == "ssm"


def test_the_environment_wins_over_ssm_and_ssm_over_the_env_file(
    ssm: object, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("LOG_FORMAT=json\nPARK_CONTINENT=Europe\n")
    settings = load_settings(environ={"ENVIRONMENT": "production", "DB_PASSWORD": "from-env"})
    assert settings.database_url_object().password == "from-env"
    assert settings.source_of("db_password") == "env"
    assert (settings.log_format, settings.source_of("log_format")) == ("text", "ssm")
    assert (settings.park_continent, settings.source_of("park_continent")) == ("Europe", ".env")


def test_a_custom_prefix_and_many_parameters(ssm: object) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    for index in range(15):
        client.put_parameter(Name=f"/tracker/prod/UNUSED_{index}", Value="x", Type="String")
    client.put_parameter(Name="/tracker/prod/DB_POOL_SIZE", Value="3", Type="String")
    client.put_parameter(Name="/tracker/prod/nested/LOG_LEVEL", Value="ERROR", Type="String")
    settings = load_settings(environ={"ENVIRONMENT": "production", "SSM_PREFIX": "/tracker/prod"})
    assert settings.db_pool_size == 3
    assert settings.log_level == "INFO"
    assert settings.database_url is None


def test_an_invalid_value_in_ssm_names_ssm(ssm: object) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name="/themeparkhall/DB_POOL_SIZE", Value="lots", Type="String")
    with pytest.raises(ConfigError, match=r"DB_POOL_SIZE='lots' \(from ssm\)"):
        load_settings(environ={"ENVIRONMENT": "production"})


def test_ssm_that_cannot_be_read_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"ENVIRONMENT": "production", "AWS_REGION": "eu-west-1"})
    assert "cannot read SSM parameters under /themeparkhall/ in eu-west-1" in str(error.value)
    assert "credentials" in str(error.value).lower()


# --- config show ------------------------------------------------------------------------


def test_config_show_lists_every_setting_with_its_source_and_masks_secrets(
    runner: CliRunner,
) -> None:
    env = {
        "DATABASE_URL": f"mysql+mysqldb://tracker:{PASSWORD}@localhost/x",
        "DB_PASSWORD": PASSWORD,
        "LOG_LEVEL": "warning",
    }
    result = runner.invoke(cli, ["config", "show"], env=env)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["DATABASE_URL"].endswith("mysql+mysqldb://tracker:***@localhost/x  (env)")
    assert lines["DB_PASSWORD"].endswith(f"{MASK}  (env)")
    assert lines["LOG_LEVEL"].endswith("WARNING  (env)")
    assert lines["LOG_FORMAT"].endswith("json  (default)")

    as_json = runner.invoke(cli, ["config", "show", "--json"], env=env)
    shown = json.loads(as_json.output)
    assert shown["DB_PASSWORD"] == {"value": MASK, "source": "env"}
    assert PASSWORD not in as_json.output


def test_config_show_with_a_bad_setting_is_one_line(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "show"], env={"LOG_FORMAT": "xml"})
    assert result.exit_code == 1
    assert result.output.startswith("Error: configuration: setting LOG_FORMAT='xml' (from env)")
    assert result.output.count("\n") == 1
