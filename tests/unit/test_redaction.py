"""Secrets never reach an error line in any form a server or library echoes them in."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.redaction import MASK, redact, scrub_credentials

TOKEN = "EwBwA8l6BAAUO9chh8cJscQLmU+LSWpbnr0vmwwAAQ=="
PASSWORD = 'p@ss "quoted" \\ back\x01slash'
USER = "complaints@northgatehomes.org.uk"


def _xoauth2(user: str, token: str) -> str:
    """What IMAP AUTHENTICATE XOAUTH2 sends (imapclient's oauth2_login)."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param(TOKEN, id="bare"),
        pytest.param(repr(TOKEN.encode()), id="bytes-repr"),
        pytest.param(json.dumps({"token": TOKEN}), id="json"),
        pytest.param(urllib.parse.quote(TOKEN, safe=""), id="url-encoded"),
        pytest.param(_xoauth2(USER, TOKEN), id="xoauth2-base64"),
        pytest.param(_xoauth2("a@b.c", TOKEN), id="xoauth2-base64-other-alignment"),
        pytest.param(_xoauth2("ab@b.c", TOKEN), id="xoauth2-base64-third-alignment"),
        pytest.param(_xoauth2(USER, TOKEN).replace("+", "-").replace("/", "_"), id="urlsafe-base64"),
        pytest.param(repr(_xoauth2(USER, TOKEN).encode()), id="base64-in-bytes-repr"),
        pytest.param(base64.b64encode(TOKEN.encode()).decode(), id="base64-alone"),
    ],
)
def test_every_echoed_form_of_a_token_is_masked(echo: str) -> None:
    line = redact(f"NO [AUTHENTICATIONFAILED] server said: {echo} (try again)", TOKEN)
    assert MASK in line
    assert TOKEN not in line
    assert _xoauth2(USER, TOKEN)[12:40] not in line
    assert line.startswith("NO [AUTHENTICATIONFAILED] server said: ") and line.endswith(" (try again)")


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param(PASSWORD, id="bare"),
        pytest.param(repr(PASSWORD), id="str-repr"),
        pytest.param(repr(PASSWORD.encode()), id="bytes-repr"),
        pytest.param(json.dumps(PASSWORD), id="json"),
        pytest.param('"' + PASSWORD.replace("\\", "\\\\").replace('"', '\\"') + '"', id="imap-quoted"),
        pytest.param(repr(json.dumps(PASSWORD)), id="json-in-repr"),
        pytest.param(base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(), id="smtp-auth-plain"),
        pytest.param(base64.b64encode(PASSWORD.encode()).decode(), id="smtp-auth-login"),
    ],
)
def test_every_echoed_form_of_a_password_is_masked(echo: str) -> None:
    line = redact(f"535 rejected {echo}", PASSWORD, "")
    assert line.startswith("535 rejected ") and MASK in line
    assert "p@ss" not in line and "quoted" not in line


def test_text_without_the_secret_is_left_alone() -> None:
    text = "454 4.7.0 TLS not available due to local problem; dGhpcyBpcyBmaW5l"
    assert redact(text, TOKEN, PASSWORD) == text
    assert redact(text) == text


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(min_size=6, max_size=40).filter(lambda s: s.strip() == s and s),
    before=st.binary(max_size=12),
    after=st.binary(max_size=12),
)
def test_any_secret_inside_any_base64_is_masked(secret: str, before: bytes, after: bytes) -> None:
    encoded = base64.b64encode(before + secret.encode() + after).decode()
    line = redact(f"error: {encoded} end", secret)
    assert encoded not in line and line.startswith("error: ") and line.endswith(" end")


@pytest.mark.parametrize(
    ("stderr", "kept"),
    [
        ("refresh failed: refresh_token=0.AXEA5jk2kfjsd8Qh.ZmFrZQ expired", "refresh failed: refresh_token="),
        ('{"error": "invalid_grant", "access_token": "ya29.a0AfH6SMB"}', '"error": "invalid_grant"'),
        ("sending Authorization: Bearer ya29.a0AfH6SMBx to the API", "to the API"),
        ("got eyJ0eXAiOiJKV1QiLCJhbGciOi.eyJhdWQiOiJodHRwczovL291dGxv.c2lnbmF0dXJl back", "got "),
        ("client secret Qx8Q~3nVtT9kz5mUv3yYJ0s1rA4bC7dE8fG9hI0 rejected", "rejected"),
    ],
)
def test_credential_looking_values_are_scrubbed_from_foreign_output(stderr: str, kept: str) -> None:
    line = scrub_credentials(stderr)
    assert MASK in line and kept in line
    for secret in ("0.AXEA5jk2", "ya29", "eyJhdWQ", "Qx8Q~3nV"):
        assert secret not in line


def test_ordinary_diagnostics_survive_scrubbing() -> None:
    text = "AADSTS70008: The provided authorization code or refresh token has expired. Run az login."
    assert scrub_credentials(text) == text
