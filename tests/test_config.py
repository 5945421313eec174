"""config.py: defaults, .env, environment, AWS SSM Parameter Store (moto), masking, loud errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from click.testing import CliRunner
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from themepark_tracker.cli import cli
from themepark_tracker.config import (
    MASK,
    SETTING_NAMES,
    ConfigError,
    Settings,
    load_settings,
    read_ssm_parameters,
)

PASSWORD = "Sw0rdfish-Secret-42"
URL_PASSWORD = "Url-Embedded-Secret-77"
PREFIX = "/themeparkhall/"
REGION = "us-east-1"
PROD_URL = "mysql+mysqldb://tracker@db.internal:3306/themepark_tracker"


def refuse_ssm(prefix: str, region: str) -> dict[str, str]:
    raise AssertionError(f"SSM must not be consulted here (asked for {prefix} in {region})")


def write_env_file(directory: Path, text: str, name: str = ".env") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def described(settings: Settings) -> dict[str, tuple[str, str]]:
    return {name: (value, source) for name, value, source in settings.describe()}


# --- defaults -----------------------------------------------------------------------------


def test_it_uses_the_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings(ssm_reader=refuse_ssm)
    assert settings.environment == "development"
    assert settings.data_dir == Path("data")
    assert settings.database_url is None
    assert settings.db_password is None
    assert settings.db_pool_size == 10
    assert settings.db_max_overflow == 20
    assert settings.db_pool_recycle_seconds == 3600
    assert settings.ssm_prefix == PREFIX
    assert settings.aws_region == REGION
    assert settings.queue_times_base_url == "https://queue-times.com"
    assert settings.park_continent == "North America"
    assert settings.http_timeout_seconds == 10.0
    assert settings.user_agent.startswith("themepark-tracker/")
    assert settings.log_level == "INFO"
    assert settings.log_format == "json"
    assert {source for _, _, source in settings.describe()} == {"default"}


def test_the_default_database_is_tracker_db_in_the_absolute_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, ssm_reader=refuse_ssm)
    expected = f"sqlite:///{(tmp_path / 'data' / 'tracker.db').resolve()}"
    assert settings.database_url_masked() == expected
    assert settings.database_url_object().database == str(
        (tmp_path / "data" / "tracker.db").resolve()
    )
    assert described(settings)["DATABASE_URL"] == (expected, "default")


def test_data_dir_moves_the_default_database_when_it_is_set(tmp_path: Path) -> None:
    store = tmp_path / "elsewhere" / "store"
    settings = load_settings(environ={"DATA_DIR": str(store)}, ssm_reader=refuse_ssm)
    assert settings.database_url_masked() == f"sqlite:///{store.resolve() / 'tracker.db'}"
    assert settings.source_of("data_dir") == "env"
    assert settings.source_of("database_url") == "default"


def test_a_relative_data_dir_is_resolved_against_the_working_directory(tmp_path: Path) -> None:
    settings = load_settings(environ={"DATA_DIR": "var/db"}, ssm_reader=refuse_ssm)
    database = Path(settings.database_url_object().database or "")
    assert database.is_absolute()
    assert database == (tmp_path / "var" / "db" / "tracker.db").resolve()


def test_database_url_wins_over_data_dir_when_both_are_set(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'explicit.db'}"
    settings = load_settings(
        environ={"DATA_DIR": str(tmp_path / "ignored"), "DATABASE_URL": url},
        ssm_reader=refuse_ssm,
    )
    assert settings.database_url_masked() == url


# --- environment and .env -----------------------------------------------------------------


def test_it_reads_the_process_environment_when_no_mapping_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "text")
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("PARK_CONTINENT", "Europe")
    settings = load_settings(ssm_reader=refuse_ssm)
    assert settings.log_format == "text"
    assert settings.http_timeout_seconds == 2.5
    assert settings.park_continent == "Europe"
    assert settings.source_of("log_format") == "env"
    assert settings.source_of("log_level") == "default"


def test_environment_names_are_matched_in_upper_case_only() -> None:
    settings = load_settings(environ={"log_format": "text"}, ssm_reader=refuse_ssm)
    assert settings.log_format == "json"
    assert settings.source_of("log_format") == "default"


def test_it_reads_a_dotenv_file_in_the_working_directory(tmp_path: Path) -> None:
    write_env_file(
        tmp_path,
        "# local settings\n"
        "LOG_LEVEL=debug\n"
        "DB_POOL_SIZE=4\n"
        'PARK_CONTINENT="South America"\n'
        "export LOG_FORMAT=text\n"
        "UNRELATED_VARIABLE=1\n",
    )
    settings = load_settings(environ={}, ssm_reader=refuse_ssm)
    assert settings.log_level == "DEBUG"
    assert settings.db_pool_size == 4
    assert settings.park_continent == "South America"
    assert settings.log_format == "text"
    for name in ("log_level", "db_pool_size", "park_continent", "log_format"):
        assert settings.source_of(name) == ".env"
    assert settings.source_of("http_timeout_seconds") == "default"


def test_env_file_variable_names_another_dotenv_file(tmp_path: Path) -> None:
    write_env_file(tmp_path, "LOG_FORMAT=json\n")
    other = write_env_file(tmp_path, "LOG_FORMAT=text\nDB_MAX_OVERFLOW=0\n", "conf/tracker.env")
    settings = load_settings(environ={"ENV_FILE": str(other)}, ssm_reader=refuse_ssm)
    assert settings.log_format == "text"
    assert settings.db_max_overflow == 0
    assert settings.source_of("db_max_overflow") == ".env"


def test_env_file_variable_is_honoured_from_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = write_env_file(tmp_path, "PARK_CONTINENT=Asia\n", "conf/other.env")
    monkeypatch.setenv("ENV_FILE", str(other))
    settings = load_settings(ssm_reader=refuse_ssm)
    assert settings.park_continent == "Asia"
    assert settings.source_of("park_continent") == ".env"


def test_an_explicit_env_file_argument_wins_over_env_file_variable(tmp_path: Path) -> None:
    by_variable = write_env_file(tmp_path, "PARK_CONTINENT=Asia\n", "a.env")
    by_argument = write_env_file(tmp_path, "PARK_CONTINENT=Africa\n", "b.env")
    settings = load_settings(
        environ={"ENV_FILE": str(by_variable)}, env_file=by_argument, ssm_reader=refuse_ssm
    )
    assert settings.park_continent == "Africa"


def test_a_missing_dotenv_file_leaves_the_defaults() -> None:
    settings = load_settings(environ={}, ssm_reader=refuse_ssm)
    assert {source for _, _, source in settings.describe()} == {"default"}


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    write_env_file(tmp_path, "DB_POOL_SIZE=4\nLOG_FORMAT=text\n")
    settings = load_settings(environ={"DB_POOL_SIZE": "7"}, ssm_reader=refuse_ssm)
    assert (settings.db_pool_size, settings.source_of("db_pool_size")) == (7, "env")
    assert (settings.log_format, settings.source_of("log_format")) == ("text", ".env")


@pytest.mark.parametrize("line", ["DATABASE_URL=", "DATABASE_URL=''", 'DATABASE_URL=""'])
def test_an_empty_value_in_the_dotenv_file_means_the_default(tmp_path: Path, line: str) -> None:
    write_env_file(tmp_path, f"{line}\nUSER_AGENT=\nDB_POOL_SIZE=\nLOG_LEVEL=\n")
    settings = load_settings(environ={}, ssm_reader=refuse_ssm)
    assert settings.database_url is None
    assert settings.user_agent.startswith("themepark-tracker/")
    assert settings.db_pool_size == 10
    assert settings.log_level == "INFO"
    for name in ("database_url", "user_agent", "db_pool_size", "log_level"):
        assert settings.source_of(name) == "default"


def test_an_empty_environment_variable_also_means_the_default(tmp_path: Path) -> None:
    write_env_file(tmp_path, "LOG_FORMAT=text\n")
    settings = load_settings(environ={"LOG_FORMAT": ""}, ssm_reader=refuse_ssm)
    assert (settings.log_format, settings.source_of("log_format")) == ("text", ".env")


def test_the_prefix_and_base_url_are_normalised_when_read() -> None:
    settings = load_settings(
        environ={"SSM_PREFIX": "/tracker/prod", "QUEUE_TIMES_BASE_URL": "http://127.0.0.1:8765/"},
        ssm_reader=refuse_ssm,
    )
    assert settings.ssm_prefix == "/tracker/prod/"
    assert settings.queue_times_base_url == "http://127.0.0.1:8765"


def test_settings_are_frozen_once_loaded() -> None:
    settings = load_settings(environ={}, ssm_reader=refuse_ssm)
    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"


# --- bad values fail loudly ---------------------------------------------------------------

SECRET_ENV = {
    "DB_PASSWORD": PASSWORD,
}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DB_POOL_SIZE", "abc", "setting DB_POOL_SIZE='abc' (from {source}): Input should be"),
        ("DB_POOL_SIZE", "0", "setting DB_POOL_SIZE='0' (from {source}): Input should be greater"),
        ("DB_MAX_OVERFLOW", "-1", "setting DB_MAX_OVERFLOW='-1' (from {source})"),
        ("DB_POOL_RECYCLE_SECONDS", "1h", "setting DB_POOL_RECYCLE_SECONDS='1h' (from {source})"),
        ("HTTP_TIMEOUT_SECONDS", "-1", "setting HTTP_TIMEOUT_SECONDS='-1' (from {source})"),
        ("HTTP_TIMEOUT_SECONDS", "soon", "setting HTTP_TIMEOUT_SECONDS='soon' (from {source})"),
        ("LOG_LEVEL", "LOUD", "setting LOG_LEVEL='LOUD' (from {source})"),
        ("LOG_FORMAT", "xml", "setting LOG_FORMAT='xml' (from {source})"),
        ("ENVIRONMENT", "staging", "setting ENVIRONMENT='staging' (from {source})"),
        (
            "SSM_PREFIX",
            "themeparkhall/",
            "setting SSM_PREFIX='themeparkhall/' (from {source}): must start with '/'",
        ),
        (
            "QUEUE_TIMES_BASE_URL",
            "ftp://queue-times.com",
            "setting QUEUE_TIMES_BASE_URL='ftp://queue-times.com' (from {source}): "
            "must be an http:// or https:// URL",
        ),
        (
            "DATABASE_URL",
            f"not a url {PASSWORD}",
            "setting DATABASE_URL=******** (from {source}): not a SQLAlchemy database URL",
        ),
    ],
)
@pytest.mark.parametrize("source", [".env", "env"])
def test_a_bad_value_fails_loudly_naming_the_setting_and_its_source(
    tmp_path: Path, name: str, value: str, expected: str, source: str
) -> None:
    environ = dict(SECRET_ENV)
    if source == ".env":
        write_env_file(tmp_path, f"{name}={value}\n")
    else:
        environ[name] = value
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ, ssm_reader=refuse_ssm)
    message = str(error.value)
    assert expected.format(source=source) in message
    assert PASSWORD not in message
    assert "\n" not in message


def test_every_bad_value_is_reported_at_once(tmp_path: Path) -> None:
    write_env_file(tmp_path, "DB_POOL_SIZE=abc\n")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"LOG_FORMAT": "xml"}, ssm_reader=refuse_ssm)
    message = str(error.value)
    assert "DB_POOL_SIZE='abc' (from .env)" in message
    assert "LOG_FORMAT='xml' (from env)" in message


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        (f"::{URL_PASSWORD}::", URL_PASSWORD),
        (f"mysql+mysqldb://tracker:{URL_PASSWORD}@db.internal:port/themepark", URL_PASSWORD),
        # An unescaped "@" inside the password: the part after the first ":" must not leak.
        ("mysql+mysqldb://tracker:p@ss:Wh0leSecretTail@db.internal/themepark", "Wh0leSecretTail"),
    ],
    ids=["unparseable", "port-not-a-number", "unescaped-at-in-password"],
)
def test_a_bad_database_url_never_shows_its_password_in_the_error(url: str, secret: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"DATABASE_URL": url, "DB_PASSWORD": PASSWORD}, ssm_reader=refuse_ssm)
    message = str(error.value)
    assert message.startswith(f"setting DATABASE_URL={MASK} (from env): ")
    assert secret not in message
    assert PASSWORD not in message


# --- secrets --------------------------------------------------------------------------------


def test_db_password_is_injected_into_the_database_url() -> None:
    settings = load_settings(
        environ={"DATABASE_URL": PROD_URL, "DB_PASSWORD": PASSWORD}, ssm_reader=refuse_ssm
    )
    url = settings.database_url_object()
    assert url.password == PASSWORD
    assert url.username == "tracker"
    assert url.host == "db.internal"
    assert url.database == "themepark_tracker"
    assert settings.database_url_masked() == (
        "mysql+mysqldb://tracker:***@db.internal:3306/themepark_tracker"
    )


def test_db_password_replaces_a_password_embedded_in_the_url() -> None:
    settings = load_settings(
        environ={
            "DATABASE_URL": f"mysql+mysqldb://tracker:{URL_PASSWORD}@db/themepark",
            "DB_PASSWORD": PASSWORD,
        },
        ssm_reader=refuse_ssm,
    )
    assert settings.database_url_object().password == PASSWORD


def test_db_password_with_url_special_characters_round_trips() -> None:
    tricky = "p@ss:w/rd?#%"
    settings = load_settings(
        environ={"DATABASE_URL": PROD_URL, "DB_PASSWORD": tricky}, ssm_reader=refuse_ssm
    )
    assert settings.database_url_object().password == tricky
    assert tricky not in settings.database_url_masked()


@pytest.mark.parametrize(
    "environ",
    [
        {"DATABASE_URL": PROD_URL, "DB_PASSWORD": PASSWORD},
        {"DATABASE_URL": f"mysql+mysqldb://tracker:{PASSWORD}@db.internal/themepark"},
        {
            "DATABASE_URL": f"mysql+mysqldb://tracker:{URL_PASSWORD}@db.internal/themepark",
            "DB_PASSWORD": PASSWORD,
        },
        {"DB_PASSWORD": PASSWORD},
    ],
    ids=["db-password", "password-in-url", "both", "password-without-url"],
)
def test_masked_url_and_describe_never_contain_a_password(environ: dict[str, str]) -> None:
    settings = load_settings(environ=environ, ssm_reader=refuse_ssm)
    rows = settings.describe()
    for secret in (PASSWORD, URL_PASSWORD):
        assert secret not in settings.database_url_masked()
        assert secret not in json.dumps(rows)
    shown = {name: value for name, value, _ in rows}
    assert shown["DB_PASSWORD"] == (MASK if "DB_PASSWORD" in environ else "")
    if "DATABASE_URL" in environ:
        assert ":***@" in shown["DATABASE_URL"]


def test_describe_lists_every_setting_once_in_declaration_order() -> None:
    settings = load_settings(environ={}, ssm_reader=refuse_ssm)
    names = [name for name, _, _ in settings.describe()]
    assert names == list(SETTING_NAMES)
    assert described(settings)["DB_PASSWORD"] == ("", "default")


# --- precedence across all sources ------------------------------------------------------


def test_precedence_is_env_then_ssm_then_dotenv_then_default(tmp_path: Path) -> None:
    write_env_file(
        tmp_path,
        "DB_POOL_SIZE=1\nLOG_FORMAT=text\nPARK_CONTINENT=Europe\n",
    )

    def ssm(prefix: str, region: str) -> dict[str, str]:
        return {"DB_POOL_SIZE": "2", "LOG_FORMAT": "json"}

    settings = load_settings(
        environ={"ENVIRONMENT": "production", "DB_POOL_SIZE": "3"}, ssm_reader=ssm
    )
    assert (settings.db_pool_size, settings.source_of("db_pool_size")) == (3, "env")
    assert (settings.log_format, settings.source_of("log_format")) == ("json", "ssm")
    assert (settings.park_continent, settings.source_of("park_continent")) == ("Europe", ".env")
    assert (settings.log_level, settings.source_of("log_level")) == ("INFO", "default")
    rows = described(settings)
    assert rows["DB_POOL_SIZE"] == ("3", "env")
    assert rows["LOG_FORMAT"] == ("json", "ssm")
    assert rows["PARK_CONTINENT"] == ("Europe", ".env")
    assert rows["LOG_LEVEL"] == ("INFO", "default")
    assert rows["ENVIRONMENT"] == ("production", "env")


@pytest.mark.parametrize("environment", [None, "development", "test"])
def test_ssm_is_not_consulted_when_the_environment_is_not_production(
    tmp_path: Path, environment: str | None
) -> None:
    write_env_file(tmp_path, f"SSM_PREFIX=/tracker/{environment}\n")
    environ = {} if environment is None else {"ENVIRONMENT": environment}
    settings = load_settings(environ=environ, ssm_reader=refuse_ssm)
    assert "ssm" not in {source for _, _, source in settings.describe()}


def test_production_set_in_the_dotenv_file_consults_ssm(tmp_path: Path) -> None:
    write_env_file(
        tmp_path, "ENVIRONMENT=production\nSSM_PREFIX=/from/dotenv\nAWS_REGION=eu-west-1\n"
    )
    asked: list[tuple[str, str]] = []

    def ssm(prefix: str, region: str) -> dict[str, str]:
        asked.append((prefix, region))
        return {}

    load_settings(environ={}, ssm_reader=ssm)
    assert asked == [("/from/dotenv/", "eu-west-1")]


# --- production: AWS SSM Parameter Store through moto ------------------------------------


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def ssm_client(aws_credentials: None) -> Iterator[object]:
    """Moto's SSM with the production parameters under /themeparkhall/ and some decoys."""
    with mock_aws():
        client = boto3.client("ssm", region_name=REGION)
        client.put_parameter(Name=f"{PREFIX}DATABASE_URL", Value=PROD_URL, Type="String")
        client.put_parameter(Name=f"{PREFIX}DB_PASSWORD", Value=PASSWORD, Type="SecureString")
        client.put_parameter(Name=f"{PREFIX}LOG_FORMAT", Value="text", Type="String")
        client.put_parameter(Name="/other/LOG_LEVEL", Value="ERROR", Type="String")
        client.put_parameter(Name="/themeparkhall-old/LOG_LEVEL", Value="ERROR", Type="String")
        client.put_parameter(Name=f"{PREFIX}nested/LOG_LEVEL", Value="ERROR", Type="String")
        yield client


def test_production_reads_its_settings_from_ssm(ssm_client: object) -> None:
    settings = load_settings(environ={"ENVIRONMENT": "production"})
    url = settings.database_url_object()
    assert url.host == "db.internal"
    assert url.database == "themepark_tracker"
    assert url.password == PASSWORD
    assert settings.log_format == "text"
    assert settings.source_of("database_url") == "ssm"
    assert settings.source_of("db_password") == "ssm"
    assert settings.source_of("log_format") == "ssm"
    rows = described(settings)
    assert rows["DB_PASSWORD"] == (MASK, "ssm")
    assert rows["DATABASE_URL"] == (
        "mysql+mysqldb://tracker:***@db.internal:3306/themepark_tracker",
        "ssm",
    )
    assert PASSWORD not in json.dumps(settings.describe())


def test_a_secure_string_parameter_is_decrypted(ssm_client: object) -> None:
    client = boto3.client("ssm", region_name=REGION)
    raw = client.get_parameter(Name=f"{PREFIX}DB_PASSWORD", WithDecryption=False)
    assert raw["Parameter"]["Type"] == "SecureString"
    assert raw["Parameter"]["Value"] != PASSWORD
    assert read_ssm_parameters(PREFIX, REGION)["DB_PASSWORD"] == PASSWORD
    settings = load_settings(environ={"ENVIRONMENT": "production"})
    assert settings.db_password is not None
    assert settings.db_password.get_secret_value() == PASSWORD


def test_parameters_outside_the_prefix_or_below_it_are_ignored(ssm_client: object) -> None:
    assert read_ssm_parameters(PREFIX, REGION) == {
        "DATABASE_URL": PROD_URL,
        "DB_PASSWORD": PASSWORD,
        "LOG_FORMAT": "text",
    }
    settings = load_settings(environ={"ENVIRONMENT": "production"})
    assert (settings.log_level, settings.source_of("log_level")) == ("INFO", "default")


def test_a_custom_ssm_prefix_is_read_instead_of_the_default(ssm_client: object) -> None:
    client = boto3.client("ssm", region_name=REGION)
    client.put_parameter(Name="/tracker/prod/PARK_CONTINENT", Value="Europe", Type="String")
    client.put_parameter(Name="/tracker/prod/DB_PASSWORD", Value="other-pw", Type="SecureString")
    settings = load_settings(environ={"ENVIRONMENT": "production", "SSM_PREFIX": "/tracker/prod"})
    assert (settings.park_continent, settings.source_of("park_continent")) == ("Europe", "ssm")
    assert settings.db_password is not None
    assert settings.db_password.get_secret_value() == "other-pw"
    assert settings.database_url is None
    assert settings.log_format == "json"
    assert settings.ssm_prefix == "/tracker/prod/"


def test_the_aws_region_setting_chooses_where_ssm_is_read(ssm_client: object) -> None:
    client = boto3.client("ssm", region_name="eu-west-1")
    client.put_parameter(Name=f"{PREFIX}PARK_CONTINENT", Value="Europe", Type="String")
    settings = load_settings(environ={"ENVIRONMENT": "production", "AWS_REGION": "eu-west-1"})
    assert settings.park_continent == "Europe"
    assert settings.database_url is None


def test_the_environment_still_wins_over_ssm_and_ssm_over_the_dotenv_file(
    ssm_client: object, tmp_path: Path
) -> None:
    write_env_file(tmp_path, "LOG_FORMAT=json\nPARK_CONTINENT=Europe\nDB_PASSWORD=from-dotenv\n")
    settings = load_settings(environ={"ENVIRONMENT": "production", "DB_PASSWORD": "from-env"})
    assert settings.database_url_object().password == "from-env"
    assert settings.source_of("db_password") == "env"
    assert (settings.log_format, settings.source_of("log_format")) == ("text", "ssm")
    assert (settings.park_continent, settings.source_of("park_continent")) == ("Europe", ".env")
    assert settings.source_of("database_url") == "ssm"


def test_more_than_one_page_of_parameters_is_read_and_unknown_names_ignored(
    ssm_client: object,
) -> None:
    client = boto3.client("ssm", region_name=REGION)
    prefix = "/tracker/many/"
    for index in range(11):
        client.put_parameter(Name=f"{prefix}FEATURE_{index:02}", Value="x", Type="String")
    client.put_parameter(Name=f"{prefix}DB_POOL_SIZE", Value="3", Type="String")
    client.put_parameter(Name=f"{prefix}HTTP_TIMEOUT_SECONDS", Value="2.5", Type="String")
    client.put_parameter(Name=f"{prefix}PARK_CONTINENT", Value="Asia", Type="String")
    client.put_parameter(Name=f"{prefix}DB_PASSWORD", Value=PASSWORD, Type="SecureString")
    first_page = client.get_parameters_by_path(Path=prefix.rstrip("/"), Recursive=False)
    assert "NextToken" in first_page
    assert len(first_page["Parameters"]) < 15

    read = read_ssm_parameters(prefix, REGION)
    assert len(read) == 15
    assert read["PARK_CONTINENT"] == "Asia"

    settings = load_settings(environ={"ENVIRONMENT": "production", "SSM_PREFIX": prefix})
    assert settings.db_pool_size == 3
    assert settings.http_timeout_seconds == 2.5
    assert settings.park_continent == "Asia"
    assert settings.db_password is not None
    assert settings.db_password.get_secret_value() == PASSWORD
    assert not hasattr(settings, "feature_00")
    ssm_rows = {name for name, _, source in settings.describe() if source == "ssm"}
    assert ssm_rows == {"DB_POOL_SIZE", "HTTP_TIMEOUT_SECONDS", "PARK_CONTINENT", "DB_PASSWORD"}


def test_a_bad_value_in_ssm_fails_naming_ssm_as_its_source(ssm_client: object) -> None:
    client = boto3.client("ssm", region_name=REGION)
    client.put_parameter(Name=f"{PREFIX}DB_POOL_SIZE", Value="lots", Type="String")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"ENVIRONMENT": "production"})
    assert "setting DB_POOL_SIZE='lots' (from ssm)" in str(error.value)
    assert PASSWORD not in str(error.value)


def test_a_bad_secret_in_ssm_is_masked_in_the_error(ssm_client: object) -> None:
    client = boto3.client("ssm", region_name=REGION)
    client.put_parameter(
        Name=f"{PREFIX}DATABASE_URL",
        Value=f"garbage {PASSWORD}",
        Type="SecureString",
        Overwrite=True,
    )
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"ENVIRONMENT": "production"})
    assert f"setting DATABASE_URL={MASK} (from ssm)" in str(error.value)
    assert PASSWORD not in str(error.value)


def test_a_prefix_without_leading_slash_fails_naming_the_setting_in_production(
    ssm_client: object,
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"ENVIRONMENT": "production", "SSM_PREFIX": "themeparkhall"})
    assert "SSM_PREFIX" in str(error.value)


# --- SSM failures are loud --------------------------------------------------------------


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse (and record) any name lookup or connection: nothing may leave the machine."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access is disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("BOTO_CONFIG", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_ssm_without_credentials_fails_loudly_naming_prefix_and_region(
    no_aws_credentials: None, network_attempts: list[object]
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            environ={
                "ENVIRONMENT": "production",
                "SSM_PREFIX": "/tracker/prod",
                "AWS_REGION": "eu-west-1",
            }
        )
    assert str(error.value).startswith(
        "cannot read SSM parameters under /tracker/prod/ in eu-west-1: "
    )
    assert isinstance(error.value.__cause__, NoCredentialsError)
    assert network_attempts == []


def test_ssm_rejecting_the_request_fails_loudly_naming_prefix_and_region(
    aws_credentials: None,
) -> None:
    # moto checks the (unknown) access key instead of accepting any: a ClientError (403).
    @set_initial_no_auth_action_count(0)
    @mock_aws
    def load() -> None:
        load_settings(environ={"ENVIRONMENT": "production"})

    with pytest.raises(ConfigError) as error:
        load()
    assert str(error.value).startswith(f"cannot read SSM parameters under {PREFIX} in {REGION}: ")
    assert "InvalidClientTokenId" in str(error.value)
    assert isinstance(error.value.__cause__, ClientError)


# --- config show --------------------------------------------------------------------------


def show_lines(output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in output.splitlines() if line.strip()}


def test_config_show_prints_every_setting_with_its_source_and_masks_secrets(
    runner: CliRunner, tmp_path: Path
) -> None:
    write_env_file(tmp_path, "PARK_CONTINENT=Europe\nLOG_FORMAT=text\n")
    env = {
        "DATABASE_URL": f"mysql+mysqldb://tracker:{URL_PASSWORD}@db.internal/themepark",
        "DB_PASSWORD": PASSWORD,
        "LOG_LEVEL": "warning",
    }
    result = runner.invoke(cli, ["config", "show"], env=env)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert URL_PASSWORD not in result.output
    lines = show_lines(result.stdout)
    assert set(lines) == set(SETTING_NAMES)
    assert lines["DATABASE_URL"].endswith(
        "mysql+mysqldb://tracker:***@db.internal/themepark  (env)"
    )
    assert lines["DB_PASSWORD"].endswith(f"{MASK}  (env)")
    assert lines["LOG_LEVEL"].endswith("WARNING  (env)")
    assert lines["PARK_CONTINENT"].endswith("Europe  (.env)")
    assert lines["LOG_FORMAT"].endswith("text  (.env)")
    assert lines["DB_POOL_SIZE"].endswith("10  (default)")
    for line in lines.values():
        assert line.endswith(("(env)", "(.env)", "(default)")), line


def test_config_show_json_prints_every_setting_with_value_and_source(
    runner: CliRunner, tmp_path: Path
) -> None:
    write_env_file(tmp_path, "DB_POOL_SIZE=5\n")
    env = {"DATABASE_URL": PROD_URL, "DB_PASSWORD": PASSWORD}
    result = runner.invoke(cli, ["config", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    shown = json.loads(result.stdout)
    assert set(shown) == set(SETTING_NAMES)
    assert all(set(entry) == {"value", "source"} for entry in shown.values())
    assert shown["DB_PASSWORD"] == {"value": MASK, "source": "env"}
    assert shown["DATABASE_URL"] == {
        "value": "mysql+mysqldb://tracker:***@db.internal:3306/themepark_tracker",
        "source": "env",
    }
    assert shown["DB_POOL_SIZE"] == {"value": "5", "source": ".env"}
    assert shown["LOG_FORMAT"] == {"value": "json", "source": "default"}


def test_config_show_in_production_reports_ssm_and_masks_its_secrets(
    runner: CliRunner, ssm_client: object
) -> None:
    result = runner.invoke(
        cli, ["config", "show", "--json"], env={"ENVIRONMENT": "production", "LOG_LEVEL": "ERROR"}
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    shown = json.loads(result.stdout)
    assert shown["DB_PASSWORD"] == {"value": MASK, "source": "ssm"}
    assert shown["DATABASE_URL"]["source"] == "ssm"
    assert shown["DATABASE_URL"]["value"].startswith("mysql+mysqldb://tracker:***@db.internal")
    assert shown["LOG_FORMAT"] == {"value": "text", "source": "ssm"}
    assert shown["ENVIRONMENT"] == {"value": "production", "source": "env"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DB_POOL_SIZE": "abc"}, "setting DB_POOL_SIZE='abc' (from env): "),
        ({"LOG_LEVEL": "LOUD"}, "setting LOG_LEVEL='LOUD' (from env): "),
        ({"SSM_PREFIX": "themeparkhall"}, "setting SSM_PREFIX='themeparkhall' (from env): "),
        (
            {"DATABASE_URL": f"nonsense {PASSWORD}", "DB_PASSWORD": PASSWORD},
            f"setting DATABASE_URL={MASK} (from env): ",
        ),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_config_show_exits_1_with_a_one_line_error_when_a_setting_is_bad(
    runner: CliRunner, env: dict[str, str], expected: str, as_json: bool
) -> None:
    args = ["config", "show", "--json"] if as_json else ["config", "show"]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: configuration: {expected}")
    assert result.stderr.count("\n") == 1
    assert PASSWORD not in result.output


def test_config_show_reports_a_bad_setting_from_the_dotenv_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    write_env_file(tmp_path, "DB_POOL_SIZE=abc\n")
    result = runner.invoke(cli, ["config", "show"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: configuration: setting DB_POOL_SIZE='abc' (from .env): "
    )


def test_config_help_works_with_a_broken_configuration(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "show", "--help"], env={"DB_POOL_SIZE": "abc"})
    assert result.exit_code == 0
    assert "secrets are masked" in result.output


def test_a_password_in_the_url_query_is_masked_too() -> None:
    settings = load_settings(
        environ={"DATABASE_URL": f"mysql+mysqldb://u@h/db?password={PASSWORD}&charset=utf8mb4"},
        ssm_reader=refuse_ssm,
    )
    assert PASSWORD not in settings.database_url_masked()
    assert "charset=utf8mb4" in settings.database_url_masked()
    assert PASSWORD not in repr(settings)


def test_an_env_file_that_was_named_but_is_missing_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ENV_FILE=.*nowhere.env: no such file"):
        load_settings(environ={"ENV_FILE": str(tmp_path / "nowhere.env")}, ssm_reader=refuse_ssm)


def test_a_bad_ssm_prefix_is_refused_before_ssm_is_asked() -> None:
    with pytest.raises(ConfigError, match=r"SSM_PREFIX='themeparkhall' \(from env\)"):
        load_settings(
            environ={"ENVIRONMENT": "production", "SSM_PREFIX": "themeparkhall"},
            ssm_reader=refuse_ssm,
        )
