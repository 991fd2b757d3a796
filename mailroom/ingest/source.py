"""The contract every mail source (IMAP, Maildir, folder of .eml) fulfils.

The worker drives a source in this order, per folder:

1. ``scan(checkpoints)`` lists the keys of mails the source holds that may be
   new (for IMAP: UIDs above the folder's checkpoint, or every UID when the
   folder's UIDVALIDITY changed). The worker drops keys already in the ledger.
2. ``fetch(keys)`` yields the raw bytes in batches, without changing the mailbox
   (IMAP ``BODY.PEEK[]``: a mail a person already opened is still fetched).
3. The worker commits the raw mail and its outcome to the store and storage.
4. Only then ``acknowledge(keys)`` changes the mailbox (move to a folder, or
   flag). A crash before this step means the mail is fetched again and the
   ledger recognises it: reprocessing, never loss.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.errors import UserError


class SourceError(UserError):
    """The source could not be read (network, TLS, login). The message is one line.

    ``kind`` says what a person must fix, for the health alerts (mailroom/health/):
    "auth" (a login, token or secret refused), "certificate" (TLS verification), or
    "" (anything else, or not known: mailroom/health/record.py then reads the message)."""

    def __init__(self, message: str = "", *, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Checkpoint:
    """How far the worker has committed in one folder: UIDs are meaningful only
    together with their UIDVALIDITY."""

    uidvalidity: int
    last_uid: int
    # A Graph folder: the deltaLink of the last delta round whose mails are all
    # ledgered (committed with them); None for IMAP.
    delta_link: str | None = None


class MailSource(Protocol):
    account: str

    def scan(self, checkpoints: Mapping[str, Checkpoint]) -> list[SourceKey]:
        """Keys of mails that may be new, oldest first. ``checkpoints`` is keyed by folder."""
        ...

    def fetch(self, keys: Sequence[SourceKey]) -> Iterator[list[FetchedMail]]:
        """Yield the mails for ``keys`` in batches. Never marks them read."""
        ...

    def acknowledge(self, keys: Sequence[SourceKey]) -> None:
        """Apply the configured mailbox action; called only after the commit.

        Must tolerate keys that are stale (UIDVALIDITY changed, mail already
        moved): the worker re-acknowledges after a crash."""
        ...

    def wait_for_new_mail(self, timeout: float) -> None:
        """Block until new mail may have arrived, or ``timeout`` seconds pass."""
        ...

    def close(self) -> None: ...
