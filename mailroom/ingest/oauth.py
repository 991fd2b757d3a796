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

_DETAIL_MAX = 200


def command_token_provider(argv: Sequence[str], timeout: float = 30) -> Callable[[], str]:
    """A token provider that runs ``argv`` (no shell) and returns its stdout, stripped.

    Every failure raises SourceError with one line. The message names only the
    program (its arguments may hold a client secret) and never the token.
    """
    command = [str(arg) for arg in argv]
    if not command:
        raise ValueError("oauth2 token command is empty")
    program = os.path.basename(command[0])

    def provide() -> str:
        result = _run(command, program, timeout)
        token = result.stdout.decode("utf-8", errors="replace").strip()
        if result.returncode != 0:
            detail = _last_line(result.stderr, redact=token)
            raise SourceError(
                f"oauth2 token command {program} failed with exit status {result.returncode}"
                + (f": {detail}" if detail else "")
            )
        if not token:
            raise SourceError(f"oauth2 token command {program} printed no token")
        if len(token.split()) != 1:
            # A second line or a space means a banner or prompt, not a bearer token.
            raise SourceError(f"oauth2 token command {program} printed more than a token")
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


def _last_line(stderr: bytes, *, redact: str) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    if redact:
        line = line.replace(redact, "***")
    return line[:_DETAIL_MAX]
