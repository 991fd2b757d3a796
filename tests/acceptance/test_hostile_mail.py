"""Acceptance (issue 9): hostile mail costs bounded work. One `mailroom run --once`
over a real Dovecot mailbox holding a mail of every hostile class, one over the
size limit and ordinary complaints: each is logged, triaged or quarantined with
its reason within its budget, the ordinary ones are logged, and the outbox is
still sent over real SMTP in the same run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from mailroom.config import load_settings
from mailroom.filing import sha256_hex
from mailroom.outbound import enqueue
from mailroom.services import build_services
from tests.support import hostile, mailgen
from tests.support.dovecot import Dovecot, ImapUser, crlf
from tests.support.harness import bulk_append, run_mailroom, server_bodies, write_config
from tests.support.smtp import ServerFactory

LIMIT = 4_000_000  # above every hostile class (the largest is 2.6 MB)
RUN_SECONDS = 120  # the whole run; about 10 s here, most of it start-up and Dovecot


def test_every_hostile_class_is_bounded_and_the_outbox_still_goes(
    dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path, smtp_server: ServerFactory, ca_file: Path
) -> None:
    collector, port = smtp_server()
    classes = hostile.hostile_classes()
    big = hostile.oversize(5_000_000)
    normal = [mailgen.complaint(1), mailgen.complaint(2)]
    bulk_append(dovecot, imap_user, [normal[0], *classes.values(), big, normal[1]])
    config = write_config(tmp_path, dovecot, imap_user, storage={"max_message_bytes": LIMIT})
    with config.open("a") as toml:
        toml.write(
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "starttls"\n'
            f'ca_file = "{ca_file}"\nsender = "complaints@landlord.example"\n'
        )
    services = build_services(load_settings(config))
    with services.store.transaction() as repo:
        enqueue(
            repo,
            dedupe_key="notice:hostile-mail-run",
            sender="complaints@landlord.example",
            recipients=["officer@landlord.example"],
            subject="Queued before the run",
            body_text="Sent by the same run that met the hostile mail.\n",
            now=services.clock.now(),
        )
    services.store.engine.dispose()

    started = time.monotonic()
    result = run_mailroom(config, "run", "--once", timeout=RUN_SECONDS * 2)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < RUN_SECONDS

    listed = json.loads(run_mailroom(config, "mail", "list", "--json").stdout)
    assert len(listed) == len(classes) + 3
    by_hash = {item["sha256"]: item for item in listed}
    for raw in normal:
        assert by_hash[sha256_hex(crlf(raw))]["outcome"] == "complaint"
    # (Dovecot may rewrite line ends of the malformed ones: find them by Message-ID.)
    by_id = {item["message_id"]: item for item in listed}
    for name in classes:
        item = by_id[f"<hostile-{name.replace('_', '-')}@mail.example.com>"]
        if name.startswith("date_"):  # the sender's Date: cannot open a case
            assert item["outcome"] == "triage", (name, item)
            assert "Date" in item["reason"] and item["complaint_id"] is None
        else:  # within the parse limits: read, never quarantined
            assert item["outcome"] not in ("quarantined",), (name, item["reason"])

    (oversized,) = [item for item in listed if item["outcome"] == "quarantined"]
    assert oversized["size"] == len(crlf(big))
    assert oversized["reason"].startswith(f"over the size limit: {len(crlf(big))} > {LIMIT} bytes")
    stored = (tmp_path / "storage" / oversized["path"] / "message.eml").read_bytes()
    assert stored == crlf(big)[: 64 * 1024]  # only its head was fetched (RFC822.SIZE checked first)

    parts = by_id["<hostile-mime-parts@mail.example.com>"]
    manifest = json.loads((tmp_path / "storage" / parts["path"] / "manifest.json").read_text())
    assert manifest["left_in_message_eml"]["mime_parts_not_split_out"] > 290_000

    assert [m["Subject"] for m in collector.messages] == ["Queued before the run"]
    assert server_bodies(dovecot, imap_user, "INBOX") == []  # every mail acknowledged, none left
