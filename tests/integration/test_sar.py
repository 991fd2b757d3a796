"""Subject access requests (issue 12, docs/records.md): every case a person is on, as
complainant or as a party, and every mail they sent that is on no case, exported in
the evidence pack's format, with other residents' data flagged for redaction."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailroom.cli import app
from mailroom.clock import FixedClock
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.parties import add_party
from mailroom.records.sar import NothingFound, subject_access_export
from mailroom.services import Services
from mailroom.worker import run_once
from tests.integration.test_letters import log, uk
from tests.support import mailgen

AISHA = "aisha.patel@example.org"
BEN = "ben.oduya@example.org"


def _two_cases(services: Services, clock: FixedClock, inbox: Path) -> tuple[str, str]:
    clock.set(uk(date(2026, 11, 20), 12))
    own = log(services, uk(date(2026, 11, 16), 9), email=AISHA, name="Ms Aisha Patel")
    other = log(
        services,
        uk(date(2026, 11, 17), 9),
        email=BEN,
        name="Mr Ben Oduya",
        subject="Noise from next door",
        description="Loud music every night; my neighbour at number 4 knows.",
    )
    add_party(services, other, AISHA, "Ms Aisha Patel", "representative")
    inbox.mkdir()
    (inbox / "ooo.eml").write_bytes(mailgen.out_of_office(sender=f"Aisha Patel <{AISHA}>"))
    run_once(services, [MaildirSource([inbox])])
    return own, other


def test_a_sar_exports_every_case_and_mail_and_flags_other_residents(
    services: Services, clock: FixedClock, tmp_path: Path
) -> None:
    own, other = _two_cases(services, clock, tmp_path / "in")
    result = subject_access_export(services, AISHA.upper(), tmp_path / "out", "Jo Records")
    assert result.cases == sorted([own, other])
    assert result.loose_mails == 1
    summary = json.loads((result.folder / "sar.json").read_text())
    assert [c["complaint_id"] for c in summary["cases"]] == sorted([own, other])
    for case in summary["cases"]:
        assert (result.folder / case["bundle"]).is_file() and (result.folder / case["zip"]).is_file()
    flagged = summary["redaction_review"]
    assert {(f["complaint_id"], f["email"]) for f in flagged if f["what"] == "complainant"} == {(other, BEN)}
    assert not [f for f in flagged if f["email"].lower() == AISHA]
    with zipfile.ZipFile(result.folder / "loose-mails.zip") as archive:
        (name,) = archive.namelist()
        assert b"I am away until Monday" in archive.read(name)


def test_a_sar_by_name_and_for_nobody(services: Services, clock: FixedClock, tmp_path: Path) -> None:
    own, other = _two_cases(services, clock, tmp_path / "in")
    by_name = subject_access_export(services, "  mr ben  ODUYA ", tmp_path / "out", "Jo Records")
    assert by_name.cases == [other] and own not in by_name.cases
    with pytest.raises(NothingFound):
        subject_access_export(services, "nobody@example.org", tmp_path / "out", "Jo Records")


@pytest.fixture
def config(tmp_path: Path, services: Services) -> Path:
    path = tmp_path / "mailroom.toml"
    settings = services.settings
    url = settings.database.url
    path.write_text(f'[storage]\nroot = "{settings.storage.root}"\n[database]\nurl = "{url}"\n')
    return path


def test_mailroom_sar_names_the_folder_and_refuses_nobody(
    services: Services, clock: FixedClock, tmp_path: Path, config: Path
) -> None:
    _two_cases(services, clock, tmp_path / "in")
    done = CliRunner().invoke(app, ["sar", AISHA, "--out", str(tmp_path / "out"), "-c", str(config)])
    assert done.exit_code == 0, done.output
    assert "2 case(s), 1 mail(s) on no case" in done.output
    missing = CliRunner().invoke(app, ["sar", "nobody@example.org", "-c", str(config)])
    assert missing.exit_code == 1
