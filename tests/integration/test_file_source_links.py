"""No symlinks (issue 9): a link in a mail folder is never followed, so a file
the worker can read (/etc/shadow) is never filed as a mail; the rest goes on."""

from __future__ import annotations

from pathlib import Path

from mailroom.ingest.maildir_source import MaildirSource
from mailroom.services import Services
from mailroom.worker import run_once
from tests.support import mailgen

SECRET = b"root:$6$not-for-the-records$:19000:0:99999:7:::\n"


def test_a_linked_file_or_folder_is_skipped_and_never_filed(services: Services, tmp_path: Path) -> None:
    secret = tmp_path / "etc" / "shadow"
    secret.parent.mkdir()
    secret.write_bytes(SECRET)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(mailgen.complaint(1))
    (inbox / "shadow.eml").symlink_to(secret)
    (inbox / "etc").symlink_to(secret.parent, target_is_directory=True)
    box = tmp_path / "box"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1794663200.M1.host").symlink_to(secret)
    (box / "new" / "1794663201.M2.host").write_bytes(mailgen.complaint(2))

    source = MaildirSource([inbox, box])
    report = run_once(services, [source])

    assert report.outcomes == {"complaint": 2}
    assert sorted((path.name, reason) for path, reason in source.errors) == [
        ("1794663200.M1.host", "symbolic link: not followed"),
        ("etc", "symbolic link: not followed"),
        ("shadow.eml", "symbolic link: not followed"),
    ]
    filed = [p for p in services.storage.root.rglob("*") if p.is_file()]
    assert filed and all(SECRET not in p.read_bytes() for p in filed)
