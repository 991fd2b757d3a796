"""OAuth2 access tokens for IMAP XOAUTH2 login.

mailroom does not speak OAuth itself: ``imap.oauth2_token_command`` names a
program (an MSAL or google-auth helper, ``oama``, a vault CLI...) that prints a
current access token. Tokens live about an hour, so the IMAP source asks for a
fresh one on every connection and the helper does the caching and refreshing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence

from mailroom.ingest.source import SourceError
from mailroom.redaction import redact, scrub_credentials

_DETAIL_MAX = 200
_SECRET_ARG_MIN = 12


def command_token_provider(argv: Sequence[str], timeout: float = 30) -> Callable[[], str]:
    """A token provider that runs ``argv`` (no shell) and returns its stdout, stripped.

    Every failure raises SourceError with one line. The message names only the
    program (its arguments may hold a client secret) and never the token.
    """
    command = [str(arg) for arg in argv]
    if not command:
        raise ValueError("oauth2 token command is empty")
    program = os.path.basename(command[0])
    # The arguments may hold a client secret (``--client-secret=...``), and a
    # helper failing now may print the token it handed out last time. Short
    # arguments (subcommands, "account") are no secret and masking them would
    # garble the reason.
    values = [arg.partition("=")[2] if arg.startswith("-") else arg for arg in command[1:]]
    secrets = [value for value in values if len(value) >= _SECRET_ARG_MIN]
    issued: list[str] = []

    def provide() -> str:
        result = _run(command, program, timeout)
        token = result.stdout.decode("utf-8", errors="replace").strip()
        if result.returncode != 0:
            detail = _last_line(result.stderr, secrets=[token, *issued[-1:], *secrets])
            raise SourceError(
                f"oauth2 token command {program} failed with exit status {result.returncode}"
                + (f": {detail}" if detail else "")
            )
        if not token:
            raise SourceError(f"oauth2 token command {program} printed no token")
        if len(token.split()) != 1:
            # A second line or a space means a banner or prompt, not a bearer token.
            raise SourceError(f"oauth2 token command {program} printed more than a token")
        issued[:] = [token]
        return token

    return provide


def _run(command: list[str], program: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        # `from None`: TimeoutExpired carries the partial output, maybe the token.
        raise SourceError(f"oauth2 token command {program} timed out after {timeout:g}s") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SourceError(f"oauth2 token command {program} could not be run: {reason}") from None


def _last_line(stderr: bytes, *, secrets: list[str]) -> str:
    """The last line of the helper's stderr (usually the reason), with the
    secrets we know and anything that looks like a credential masked: the
    helper is not ours, and may print a refresh token or a client secret."""
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        return ""
    line = scrub_credentials(redact(lines[-1], *secrets))
    return " ".join(line.split())[:_DETAIL_MAX]
