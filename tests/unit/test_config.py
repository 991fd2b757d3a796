"""Settings: embedded defaults < TOML file < secret files < MAILROOM_* environment;
a bad setting is one line naming the key, and secrets never leak."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mailroom.config import ConfigError, MailboxAction, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
PASSWORD = "Tr0ub4dor&3-not-for-logs"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MAILROOM_* variable of the caller and no ./mailroom.toml leak into a test."""
    for name in list(os.environ):
        if name.startswith("MAILROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message  # one line
    return message


# -- where settings come from ----------------------------------------------------------------------


def test_without_a_file_the_embedded_defaults_apply() -> None:
    """No ./mailroom.toml: the embedded defaults. The demo Maildir is off unless
    asked for (`make demo` sets MAILROOM_MAILDIR__PATH), so demo mail never
    reaches a real database."""
    settings = load_settings()
    assert settings.maildir.path is None
    assert settings.database.url == ""
    assert settings.database_url == f"sqlite:///{Path('storage') / 'mailroom.db'}"
    assert settings.imap.enabled is False
    assert settings.ids.prefix == "CMP" and settings.ids.digits == 6


def test_an_empty_database_url_means_sqlite_under_the_storage_root(tmp_path: Path) -> None:
    root = tmp_path / "records"
    settings = load_settings(write(tmp_path, f'[storage]\nroot = "{root}"\n[database]\nurl = ""\n'))
    assert settings.database_url == f"sqlite:///{root / 'mailroom.db'}"


def test_a_database_url_is_used_as_given(tmp_path: Path) -> None:
    url = "postgresql+psycopg://mailroom@db.internal:5432/mailroom"
    assert load_settings(write(tmp_path, f'[database]\nurl = "{url}"\n')).database_url == url


def test_mailroom_toml_in_the_working_directory_is_the_default_file(tmp_path: Path) -> None:
    write(tmp_path, "[imap]\nport = 1993\n", name="mailroom.toml")
    assert load_settings().imap.port == 1993


def test_an_explicit_missing_file_is_an_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "mailroom.toml"
    assert str(missing) in error_of(missing)


def test_invalid_toml_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[imap\nport = 1\nhost = "x\n', name="broken.toml")
    message = error_of(path)
    assert "broken.toml" in message
    assert "TOML" in message


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[imap]\nfolder = "Bo\xeete"\n')
    assert "latin1.toml" in error_of(path)


def test_a_wrong_type_names_the_key_and_the_bad_value(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, '[imap]\nport = "abc"\n', name="typed.toml"))
    assert "imap.port" in message
    assert "abc" in message
    assert "typed.toml" in message


def test_an_out_of_range_value_names_the_key(tmp_path: Path) -> None:
    assert "imap.port" in error_of(write(tmp_path, "[imap]\nport = 70000\n"))


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    assert "imap.prot" in error_of(write(tmp_path, "[imap]\nprot = 143\n"))


def test_an_unknown_section_is_named(tmp_path: Path) -> None:
    assert "imapp" in error_of(write(tmp_path, "[imapp]\nport = 143\n"))


def test_the_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[imap]\nport = 1143\nfolder = "Complaints"\n')
    monkeypatch.setenv("MAILROOM_IMAP__PORT", "143")
    settings = load_settings(path)
    assert settings.imap.port == 143
    assert settings.imap.folder == "Complaints"  # the rest of the file still applies


def test_a_bad_environment_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROOM_IMAP__PORT", "one-four-three")
    message = error_of(None)
    assert "imap.port" in message
    assert "one-four-three" in message


def test_lists_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROOM_CLASSIFY__MP_DOMAINS", '["parliament.uk", "senedd.wales"]')
    assert load_settings().classify.mp_domains == ["parliament.uk", "senedd.wales"]


# -- secret files ----------------------------------------------------------------------------------


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "imap__password").write_text("from-the-secret-file\n", encoding="utf-8")
    monkeypatch.setenv("MAILROOM_SECRETS_DIR", str(folder))
    return folder


def test_a_nested_secret_file_fills_the_key_and_beats_the_file(secrets_dir: Path, tmp_path: Path) -> None:
    """GIVEN $MAILROOM_SECRETS_DIR/imap__password (documented name: <section>__<key>)
    holding the password with a trailing newline, and a TOML file with another password
    THEN imap.password is the secret file's content without the newline."""
    assert load_settings().imap.password.get_secret_value() == "from-the-secret-file"
    path = write(tmp_path, '[imap]\npassword = "from-the-toml-file"\n')
    assert load_settings(path).imap.password.get_secret_value() == "from-the-secret-file"


def test_the_environment_beats_a_secret_file(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROOM_IMAP__PASSWORD", "from-the-environment")
    assert load_settings().imap.password.get_secret_value() == "from-the-environment"


def test_a_secrets_dir_that_is_not_a_directory_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILROOM_SECRETS_DIR", str(tmp_path / "no-such-dir"))
    message = error_of(None)
    assert "MAILROOM_SECRETS_DIR" in message
    assert "no-such-dir" in message


# -- secrets never leak ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["12345678987654321", f'["{PASSWORD}"]', f'{{ value = "{PASSWORD}" }}', "true"]
)
def test_an_invalid_password_value_is_named_but_not_shown(tmp_path: Path, value: str) -> None:
    message = error_of(write(tmp_path, f"[imap]\npassword = {value}\n"))
    assert "imap.password" in message
    assert PASSWORD not in message
    assert "12345678987654321" not in message


def test_another_error_in_a_file_holding_a_password_does_not_show_it(tmp_path: Path) -> None:
    path = write(tmp_path, f'[imap]\nhost = "mail.example.com"\npassword = "{PASSWORD}"\nport = "x"\n')
    message = error_of(path)
    assert "imap.port" in message
    assert PASSWORD not in message


def test_a_model_level_error_does_not_show_the_password(tmp_path: Path) -> None:
    """The section-level validators' input is the whole [imap] table, password included."""
    path = write(tmp_path, f'[imap]\nhost = "mail.example.com"\npassword = "{PASSWORD}"\n')
    message = error_of(path)  # no username
    assert "username" in message
    assert PASSWORD not in message


def test_a_misspelt_password_key_does_not_echo_the_password(tmp_path: Path) -> None:
    """GIVEN a typo in the key ('pasword') THEN the error names the key but must
    not print the value: it is still the mailbox password."""
    message = error_of(write(tmp_path, f'[imap]\npasword = "{PASSWORD}"\n'))
    assert "imap.pasword" in message
    assert PASSWORD not in message


def test_repr_and_str_of_settings_hide_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, f'[imap]\nhost = "mail.example.com"\nusername = "c"\npassword = "{PASSWORD}"\n')
    settings = load_settings(path)
    assert settings.imap.resolved_password() == PASSWORD
    for text in (repr(settings), str(settings), repr(settings.imap), str(settings.imap)):
        assert PASSWORD not in text
    monkeypatch.setenv("MAILROOM_IMAP__PASSWORD", PASSWORD + "-env")
    assert PASSWORD not in repr(load_settings())


def test_repr_of_settings_hides_a_password_in_the_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """config.example.toml tells operators to put the PostgreSQL password in
    MAILROOM_DATABASE__URL: 'Secrets are never printed or logged'."""
    monkeypatch.setenv("MAILROOM_DATABASE__URL", f"postgresql+psycopg://mailroom:{PASSWORD}@db:5432/mailroom")
    settings = load_settings()
    assert PASSWORD in settings.database_url  # still usable
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings)


# -- IMAP validation -------------------------------------------------------------------------------


def test_cleartext_imap_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[imap]\nhost = "mail.example.com"\nusername = "c"\nsecurity = "none"\n')
    message = error_of(path)
    assert "imap" in message
    assert "none" in message


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.53", "::1"])
def test_cleartext_imap_to_a_loopback_host_is_allowed(tmp_path: Path, host: str) -> None:
    path = write(tmp_path, f'[imap]\nhost = "{host}"\nusername = "c"\nsecurity = "none"\nport = 143\n')
    assert load_settings(path).imap.host == host


def test_xoauth2_without_a_token_command_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[imap]\nhost = "outlook.office365.com"\nusername = "c@x.org"\nauth = "xoauth2"\n')
    message = error_of(path)
    assert "imap" in message
    assert "oauth2_token_command" in message


def test_xoauth2_with_a_token_command_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[imap]\nhost = "outlook.office365.com"\nusername = "c@x.org"\nauth = "xoauth2"\n'
        'oauth2_token_command = ["/usr/local/bin/get-token", "complaints"]\n',
    )
    assert load_settings(path).imap.oauth2_token_command == ["/usr/local/bin/get-token", "complaints"]


def test_a_host_without_a_username_is_refused(tmp_path: Path) -> None:
    assert "username" in error_of(write(tmp_path, '[imap]\nhost = "mail.example.com"\n'))


def test_move_without_a_processed_folder_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[imap]\nhost = "m.example.com"\nusername = "c"\nprocessed_folder = ""\n')
    assert "processed_folder" in error_of(path)
    flag = write(
        tmp_path, '[imap]\nhost = "m.example.com"\nusername = "c"\nprocessed_folder = ""\naction = "flag"\n'
    )
    assert load_settings(flag).imap.action is MailboxAction.FLAG


def test_an_empty_maildir_path_turns_the_maildir_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(write(tmp_path, '[maildir]\npath = "examples/mailbox"\n')).maildir.path == Path(
        "examples/mailbox"
    )
    assert load_settings(write(tmp_path, '[maildir]\npath = ""\n')).maildir.path is None
    monkeypatch.setenv("MAILROOM_MAILDIR__PATH", "")
    assert load_settings(write(tmp_path, '[maildir]\npath = "examples/mailbox"\n')).maildir.path is None


@pytest.mark.parametrize("prefix", ["cmp", "CMP-X", "", "ABCDEFGHIJK", "1CMP"])
def test_an_invalid_id_prefix_is_refused(tmp_path: Path, prefix: str) -> None:
    assert "ids.prefix" in error_of(write(tmp_path, f'[ids]\nprefix = "{prefix}"\n'))


# -- config.example.toml documents every option, with the embedded defaults ------------------------


def _example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_every_key_in_the_example_is_accepted(tmp_path: Path) -> None:
    example = _example()
    example["imap"]["host"] = ""  # the example's IMAP is off anyway; keep the validators quiet
    Settings.model_validate(example)
    load_settings(EXAMPLE)


def test_the_example_shows_the_embedded_defaults() -> None:
    """'what is shown is the embedded default': loading it changes nothing."""
    assert load_settings(EXAMPLE).model_dump() == load_settings(None).model_dump()


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    names: list[str] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_fields(annotation, f"{prefix}{name}."))
        else:
            names.append(f"{prefix}{name}")
    return names


def _documented_keys() -> set[str]:
    """Keys set in the example, plus keys shown commented out ('# ca_file = ...')
    in their section."""
    keys: set[str] = set()

    def walk(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            # A sub-section ([web.oidc]) is walked into; scheduler.jobs is a table of tables
            # whose own keys are settings of one job each.
            if isinstance(value, dict) and prefix + key in ("web.oidc",):
                walk(f"{prefix}{key}.", value)
            else:
                keys.add(prefix + key)

    for section, table in _example().items():
        walk(f"{section}.", table)
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if header := re.fullmatch(r"\[(\w+(?:\.oidc)?)\]\s*", line):
            section = header.group(1)
        elif section and (commented := re.match(r"#\s?([a-z_][a-z0-9_]*)\s*=\s*\S", line)):
            keys.add(f"{section}.{commented.group(1)}")
    return keys


def test_every_setting_is_documented_in_the_example() -> None:
    fields = _fields(Settings)
    assert "imap.password" in fields and "storage.root" in fields  # the walk goes into sections
    missing = sorted(set(fields) - _documented_keys())
    assert missing == []


def test_the_example_documents_no_setting_that_does_not_exist() -> None:
    assert sorted(_documented_keys() - set(_fields(Settings))) == []
