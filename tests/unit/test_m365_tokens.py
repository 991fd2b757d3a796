"""App-only tokens from Entra ID through MSAL (mailroom/m365/tokens.py), against the
Entra ID stand-in in tests/support/graph_server.py over HTTPS (MSAL takes nothing
else): a secret or a certificate read from a file, one token request per
resource per process, a refusal as one line naming the AADSTS code, and neither
the secret nor a token in any log record or error line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mailroom.config import ConfigError, M365Settings, Settings
from mailroom.m365.tokens import (
    GRAPH_SCOPE,
    OUTLOOK_SCOPE,
    MsalTokenProvider,
    TokenError,
    invalidate,
    provider_from_settings,
)
from tests.support.graph_server import GraphServer


@pytest.fixture(scope="module")
def entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphServer, Path]]:
    with GraphServer(tls=True) as server:
        yield server, server.ca_file(tmp_path_factory.mktemp("entra"))


def _m365(server: GraphServer, ca_file: Path, **values: Any) -> dict[str, Any]:
    return {
        "tenant_id": server.tenant,
        "client_id": server.client_id,
        "authority_host": server.root,
        "ca_file": str(ca_file),
        "timeout": 10,
        **values,
    }


def _secret_settings(entra: tuple[GraphServer, Path], tmp_path: Path, secret: str | None = None) -> Settings:
    server, ca_file = entra
    secret_file = tmp_path / "client_secret"
    secret_file.write_text((secret or server.client_secret) + "\n", encoding="utf-8")
    return Settings.model_validate({"m365": _m365(server, ca_file, client_secret_file=str(secret_file))})


def test_a_secret_from_its_file_gets_a_token_once_per_process(
    entra: tuple[GraphServer, Path], tmp_path: Path
) -> None:
    server, _ = entra
    settings = _secret_settings(entra, tmp_path)
    before = len(server.token_requests)
    provider = provider_from_settings(settings, "graph")
    token = provider()
    assert token and provider() == token  # the second from MSAL's in-memory cache
    # The scheduler builds its transport on every run: it must get the same provider back.
    assert provider_from_settings(settings, "graph") is provider
    assert provider_from_settings(settings, "graph")() == token
    asked = server.token_requests[before:]
    assert [request["scope"] for request in asked] == [GRAPH_SCOPE]
    assert asked[0]["grant_type"] == "client_credentials"

    # Exchange Online's resource is another token, from the same app.
    outlook = provider_from_settings(settings, "outlook")
    assert outlook is not provider and outlook() != token
    assert server.token_requests[-1]["scope"] == OUTLOOK_SCOPE


def test_invalidate_makes_the_next_call_ask_entra_again(
    entra: tuple[GraphServer, Path], tmp_path: Path
) -> None:
    server, _ = entra
    provider = provider_from_settings(_secret_settings(entra, tmp_path), "graph")
    first = provider()
    asked = len(server.token_requests)
    invalidate(provider)  # as after Graph answered 401 to it
    second = provider()
    assert second != first and len(server.token_requests) == asked + 1
    invalidate(lambda: "from a command")  # nothing to forget: no error


def test_a_revoked_secret_is_one_line_naming_the_aadsts_code_never_the_secret(
    entra: tuple[GraphServer, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = entra
    secret = "Zq8~wrong-secret-value-0123456789abcdef"
    settings = _secret_settings(entra, tmp_path, secret)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TokenError) as refused:
        MsalTokenProvider(settings.m365, GRAPH_SCOPE)()
    message = str(refused.value)
    assert refused.value.code == "AADSTS7000215"
    assert "AADSTS7000215" in message and "Invalid client secret provided" in message
    assert server.client_id in message
    assert "\n" not in message and "Trace ID" not in message
    assert secret not in message and secret not in caplog.text

    # The real secret, revoked in the app registration: the same, after the cache is emptied.
    (tmp_path / "good").mkdir()
    good = _secret_settings(entra, tmp_path / "good")
    provider = MsalTokenProvider(good.m365, GRAPH_SCOPE)
    token = provider()
    server.revoke_secret()
    try:
        assert provider() == token  # still cached: Entra ID is not asked while it lasts
        provider.invalidate()
        with pytest.raises(TokenError, match="AADSTS7000215"):
            provider()
    finally:
        server.restore_secret()
    assert provider() != token  # recovers as soon as the secret works again
    assert server.client_secret not in caplog.text and token not in caplog.text


def test_tokens_never_reach_a_log_record(
    entra: tuple[GraphServer, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """MSAL, requests and urllib3 log at DEBUG; none of it may hold the token or the secret."""
    server, _ = entra
    caplog.set_level(logging.DEBUG)
    settings = _secret_settings(entra, tmp_path)
    provider = MsalTokenProvider(settings.m365, OUTLOOK_SCOPE)
    token = provider()
    assert any(record.name.startswith(("msal", "urllib3")) for record in caplog.records)  # it did log
    for record in caplog.records:
        text = record.getMessage()
        assert token not in text and server.client_secret not in text


def test_a_certificate_signs_the_client_assertion(entra: tuple[GraphServer, Path], tmp_path: Path) -> None:
    server, ca_file = entra
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailroom")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + certificate.public_bytes(serialization.Encoding.PEM)
    cert_file = tmp_path / "mailroom.pem"
    cert_file.write_bytes(pem)
    server.client_certificate = certificate
    try:
        settings = Settings.model_validate({"m365": _m365(server, ca_file, certificate_file=str(cert_file))})
        before = len(server.token_requests)
        assert provider_from_settings(settings, "graph")()
        request = server.token_requests[before]
        assert "client_secret" not in request and request["client_assertion"].count(".") == 2

        # The key alone needs the thumbprint given.
        key_only = tmp_path / "key.pem"
        key_only.write_bytes(pem.split(b"-----BEGIN CERTIFICATE-----")[0])
        bare = M365Settings.model_validate(_m365(server, ca_file, certificate_file=str(key_only)))
        with pytest.raises(ConfigError, match="certificate_thumbprint"):
            MsalTokenProvider(bare, GRAPH_SCOPE)
        thumbprint = certificate.fingerprint(hashes.SHA1()).hex()  # Entra ID's x5t
        given = bare.model_copy(update={"certificate_thumbprint": thumbprint})
        assert MsalTokenProvider(given, GRAPH_SCOPE)()
    finally:
        server.client_certificate = None


def test_an_unreachable_authority_is_one_line(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("Yy7~some-secret-value-abcdefghijklmnop", encoding="utf-8")
    m365 = M365Settings(
        tenant_id="contoso.onmicrosoft.com",
        client_id="app",
        client_secret_file=secret_file,
        authority_host="https://127.0.0.1:9",  # nothing listens on the discard port
        timeout=5,
    )
    with pytest.raises(TokenError) as failed:
        MsalTokenProvider(m365, GRAPH_SCOPE)()
    message = str(failed.value)
    assert message.startswith("Microsoft 365 token for app app: cannot use authority https://127.0.0.1:9")
    assert "\n" not in message and "Yy7~" not in message


def test_settings_keep_secrets_in_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="client_secret"):
        M365Settings.model_validate({"tenant_id": "t", "client_id": "c", "client_secret": "inline"})
    with pytest.raises(ValueError, match="exactly one of client_secret_file and certificate_file"):
        M365Settings(tenant_id="t", client_id="c")
    with pytest.raises(ValueError, match="authority_host must be an https:// URL"):
        M365Settings(authority_host="http://login.example")
    with pytest.raises(ValueError, match="graph_url must be an https:// URL"):
        M365Settings(graph_url="http://graph.example")
    assert M365Settings(graph_url="http://127.0.0.1:8080").graph_url  # a local test server
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        MsalTokenProvider(M365Settings(tenant_id="t", client_id="c", client_secret_file=empty), GRAPH_SCOPE)
    with pytest.raises(ConfigError, match=r"m365\.client_secret_file: cannot read"):
        MsalTokenProvider(
            M365Settings(tenant_id="t", client_id="c", client_secret_file=tmp_path / "absent"), GRAPH_SCOPE
        )
    with pytest.raises(ConfigError, match="tenant_id: not set"):
        provider_from_settings(Settings(), "graph")
