"""Acceptance: every mail of the shared real-world corpus goes through the real
IMAP path without a crash and ends logged, classified or quarantined with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.support.dovecot import Dovecot, ImapUser, crlf
from tests.support.harness import bulk_append, run_mailroom, write_config

CORPUS = SHARED / "corpora" / "mikel-mail"
NOT_MAIL = {"LICENSE", ".gitattributes"}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: {CORPUS}", pytrace=False)
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_MAIL)


def test_every_corpus_mail_ingests_over_imap(dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path) -> None:
    # An IMAP server cannot hold a zero-byte message (Dovecot refuses the APPEND);
    # those files go through the file path test below.
    files = [path for path in corpus_files() if path.stat().st_size > 0]
    assert len(files) >= 100
    bulk_append(dovecot, imap_user, [path.read_bytes() for path in files])
    config = write_config(tmp_path, dovecot, imap_user)
    result = run_mailroom(config, "run", "--once")
    assert result.returncode == 0, result.stderr
    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    assert len(listed) == len(files)
    assert all(item["reason"] and item["outcome"] for item in listed)
    by_hash = {item["sha256"]: item for item in listed}
    from mailroom.filing import sha256_hex

    reports = [p for p in files if p.parent.name == "multipart_report_emails"]
    assert len(reports) == 5
    for path in reports:
        # Dovecot stores bare-LF mail with CRLF line ends: look up the wire form.
        item = by_hash[sha256_hex(crlf(path.read_bytes()))]
        if item["outcome"] == "duplicate":  # the corpus holds a byte-identical copy
            item = next(other for other in listed if other["id"] == item["duplicate_of"])
        assert item["outcome"] == "automatic", (path.name, item["reason"])
        assert item["complaint_id"] is None


def test_every_corpus_file_ingests_from_files_too(tmp_path: Path) -> None:
    """`mailroom ingest` on the corpus files themselves (migration path)."""
    files = corpus_files()
    config = tmp_path / "mailroom.toml"
    config.write_text(
        f'[storage]\nroot = "{tmp_path / "storage"}"\n[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n'
        '[maildir]\npath = ""\n[worker]\nprogress = false\n'
    )
    result = run_mailroom(config, "ingest", *map(str, files))
    assert result.returncode == 0, result.stderr
    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    assert len(listed) == len(files)
    assert {item["outcome"] for item in listed} <= {
        "complaint",
        "automatic",
        "duplicate",
        "triage",
        "quarantined",
        "reply",
        "mp_enquiry",
    }
