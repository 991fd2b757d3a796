"""The data the complaint reports need (issue 13, part 1; docs/reports.md), on SQLite
and PostgreSQL: a category suggested when a case opens from a mail or a phone call,
set or confirmed by staff from the landlord policy's list; the outcome and
compensation of real issued letters; Housing Ombudsman referrals, determinations and
orders complied with, read back for a period; the number of homes per year; the
commands; and migration 0013 on a store that has rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from mailroom.accounts.audit import Actor, entries_of_case, recent
from mailroom.cli import app as mailroom
from mailroom.clock import LONDON, FixedClock
from mailroom.domain.models import Channel
from mailroom.errors import IntakeError, UserError
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.letters.drafts import approve, draft
from mailroom.letters.types import LetterType
from mailroom.other_channels import OtherChannelComplaint, log_complaint
from mailroom.records.audit_chain import verify_chain
from mailroom.records.retention_policy import OMBUDSMAN_DETERMINATION
from mailroom.reports.categories import (
    CATEGORY_SET,
    CategoryError,
    case_category,
    confirm_suggestion,
    set_category,
    suggest_for_case,
)
from mailroom.reports.homes import HomesError, homes_for, recorded_homes, set_homes
from mailroom.reports.model import OmbudsmanDetermination
from mailroom.reports.ombudsman import (
    ORDER_COMPLIED,
    REFERRED,
    OmbudsmanError,
    Order,
    determinations,
    determined,
    order_complied,
    referred,
)
from mailroom.reports.outcomes import (
    Outcome,
    OutcomeKind,
    compensation_pence,
    remedy_count,
    stage_outcomes,
)
from mailroom.services import Services, build_services
from mailroom.store.database import MIGRATIONS, make_engine, migrate
from mailroom.store.schema import Complaint, Event
from mailroom.worker import run_once
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE, sample_fields, stage1_case
from tests.support import mailgen

ANN = Actor("ann@landlord.example", "command line")
runner = CliRunner()


@pytest.fixture
def office(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    built = build_services(
        make_settings(tmp_path / "storage", db_url, policy={"landlord_file": LANDLORD_FILE}), clock
    )
    yield built
    built.store.engine.dispose()


def uk(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def phone(office: Services, subject: str, description: str, received: date = date(2026, 11, 16)) -> str:
    request = OtherChannelComplaint(
        Channel.PHONE, uk(received), "Ms Aisha Patel", "aisha.patel@example.org", subject, description
    )
    return log_complaint(office, request)


def stored(office: Services, complaint_id: str) -> Complaint:
    with office.store.transaction() as repo:
        complaint = repo.get_complaint(complaint_id)
        assert complaint is not None
        return complaint


def events_of(office: Services, complaint_id: str, kind: str) -> list[Event]:
    with office.store.transaction() as repo:
        return [event for event in repo.events_of_case(complaint_id) if event.kind == kind]


# -- categories ----------------------------------------------------------------------------------------


def test_a_case_opened_from_a_mail_or_a_call_carries_a_suggested_category(
    office: Services, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mails = {
        "damp": mailgen.complaint(
            1,
            subject="Black mould in the bedroom",
            body="The damp is back and the mould is spreading; condensation runs down the window.",
        ),
        "nothing": mailgen.complaint(2, subject="A complaint", body="I am not happy with you at all."),
        "hostile": mailgen.complaint(
            3, subject="\x1b[31mLEAK\x1b[0m", body="leak " * 50_000 + "mould " * 60_000
        ),
    }
    for name, raw in mails.items():
        (inbox / f"{name}.eml").write_bytes(raw)
    run_once(office, [MaildirSource([inbox])])
    with office.store.transaction() as repo:
        by_subject = {c.subject: c for c in repo.list_complaints()}
    damp = by_subject["Black mould in the bedroom"]
    assert (damp.category_suggested, damp.category, damp.category_by) == ("Damp and mould", "", "")
    assert by_subject["A complaint"].category_suggested == ""
    # Only the start of a long mail is read: there, only "leak" (Repairs) occurs.
    assert next(c for c in by_subject.values() if "LEAK" in c.subject).category_suggested == "Repairs"

    call = phone(office, "Officer was rude", "The member of staff who came round was rude to my son.")
    assert stored(office, call).category_suggested == "Staff conduct"
    # Suggested again from the stored case (the description and first mail), it stays.
    assert suggest_for_case(office, damp.id) == "Damp and mould"
    assert suggest_for_case(office, call) == "Staff conduct"
    assert verify_chain(office).ok


def test_staff_set_a_category_from_the_list_or_confirm_the_suggestion(office: Services) -> None:
    case = phone(office, "Leak", "Water is leaking through the kitchen ceiling from the flat above.")
    assert case_category(office, case).suggested == "Repairs"
    with pytest.raises(CategoryError, match=r"'Plumbing' is not a category; choose one of: Repairs, Damp"):
        set_category(office, case, "Plumbing", ANN)
    assert stored(office, case).category == ""

    assert set_category(office, case, "  damp AND   mould ", ANN) == "Damp and mould"
    complaint = stored(office, case)
    assert (complaint.category, complaint.category_by) == ("Damp and mould", ANN.email)
    assert confirm_suggestion(office, case, ANN) == "Repairs"  # staff changed their mind
    assert set_category(office, case, "Repairs", ANN) == "Repairs"  # already so: nothing recorded

    (first, second) = events_of(office, case, CATEGORY_SET)
    assert json.loads(first.payload) == {"category": "Damp and mould", "suggested": "Repairs", "was": ""}
    assert json.loads(second.payload) == {
        "category": "Repairs",
        "suggested": "Repairs",
        "was": "Damp and mould",
    }
    assert "confirmed the suggestion by ann@landlord.example (was Damp and mould)" in second.detail
    with office.store.transaction() as repo:
        audit = [(e.action, e.actor) for e in entries_of_case(repo.session, case)]
    assert audit == [("case.category", ANN.email)] * 2

    unsuggested = phone(office, "Complaint", "Nothing here names a category.")
    with pytest.raises(CategoryError, match="has no suggested category; name one of: Repairs"):
        confirm_suggestion(office, unsuggested, ANN)
    with pytest.raises(CategoryError, match="no complaint CMP-2026-999999"):
        set_category(office, "CMP-2026-999999", "Repairs", ANN)
    assert verify_chain(office).ok


# -- outcomes and remedies from issued letters -------------------------------------------------------


def test_the_outcome_and_compensation_come_from_the_issued_letters(office: Services) -> None:
    complaint_id = stage1_case(office, acknowledged=True)
    fields = sample_fields(office, LetterType.STAGE1_RESPONSE)  # upheld + partly upheld; £150
    made = draft(office, complaint_id, LetterType.STAGE1_RESPONSE, fields)
    assert made.check.passed, [(f.id, f.reason) for f in made.check.failures()]
    approve(office, made.draft_id, by="jo")
    refused_case = stage1_case(office, acknowledged=False)
    refusal = draft(office, refused_case, LetterType.REFUSAL, sample_fields(office, LetterType.REFUSAL))
    assert refusal.check.passed, [(f.id, f.reason) for f in refusal.check.failures()]
    approve(office, refusal.draft_id, by="jo")
    with office.store.transaction() as repo:
        record, events = repo.record_of_case(complaint_id), repo.events_of_case(complaint_id)
        refused_record, refused_events = repo.record_of_case(refused_case), repo.events_of_case(refused_case)
    assert stage_outcomes(record, events) == {1: Outcome(OutcomeKind.PARTLY_UPHELD)}
    assert (remedy_count(record), compensation_pence(record)) == (2, 15000)
    assert stage_outcomes(refused_record, refused_events) == {
        1: Outcome(OutcomeKind.REFUSED, "over-12-months")
    }
    assert (remedy_count(refused_record), compensation_pence(refused_record)) == (0, 0)



# -- the Ombudsman -------------------------------------------------------------------------------------


def test_ombudsman_cases_are_recorded_and_read_back_for_a_period(office: Services, clock: FixedClock) -> None:
    case = phone(office, "Damp", "The damp has never been fixed.")
    other = phone(office, "Repairs", "The boiler was never repaired.")
    clock.set(uk(date(2027, 6, 1)))
    referred(office, case, date(2027, 1, 10), ANN, "HOS 202412345")
    with pytest.raises(
        OmbudsmanError, match=r"already referred on 2027-01-10 .*record its determination first"
    ):
        referred(office, case, date(2027, 1, 12), ANN)
    with pytest.raises(OmbudsmanError, match="is not an Ombudsman reference"):
        referred(office, other, date(2027, 1, 12), ANN, "HOS\x1b[2J")
    with pytest.raises(OmbudsmanError, match="is before the referral on 2027-01-10"):
        determined(office, case, date(2027, 1, 9), "maladministration", ANN)
    with pytest.raises(
        OmbudsmanError, match="--finding: 'mostly fine' is not one of: severe maladministration"
    ):
        determined(office, case, date(2027, 4, 20), "mostly fine", ANN)
    with pytest.raises(OmbudsmanError, match="order 1 is due 2027-04-01, before the determination"):
        determined(
            office, case, date(2027, 4, 20), "maladministration", ANN, [Order("Apologise", date(2027, 4, 1))]
        )
    with pytest.raises(OmbudsmanError, match="--at 2027-06-02 is in the future"):
        determined(office, case, date(2027, 6, 2), "maladministration", ANN)
    with pytest.raises(OmbudsmanError, match="before the complaint was received"):
        referred(office, other, date(2026, 11, 15), ANN)
    with pytest.raises(OmbudsmanError, match="has no Ombudsman determination recorded"):
        order_complied(office, case, 1, date(2027, 5, 1), ANN)

    orders = [Order("Apologise in writing", date(2027, 5, 4)), Order("Pay £250", date(2027, 5, 18))]
    determination = determined(office, case, date(2027, 4, 20), " Maladministration ", ANN, orders, 25000)
    order_complied(office, case, 1, date(2027, 5, 1), ANN)  # in time
    order_complied(office, case, 2, date(2027, 5, 25), ANN)  # late
    for number, day, message in [
        (3, date(2027, 5, 1), "--order 3: the determination of 2027-04-20 has 2 order"),
        (1, date(2027, 5, 2), "order 1 was already complied with on 2027-05-01"),
        (1, date(2027, 4, 19), "--at 2027-04-19 is before the determination on 2027-04-20"),
    ]:
        with pytest.raises(OmbudsmanError, match=message):
            order_complied(office, case, number, day, ANN)
    determined(office, other, date(2027, 3, 31), "no maladministration", ANN)

    (event,) = events_of(office, case, OMBUDSMAN_DETERMINATION)
    assert event.id == determination
    assert event.at == datetime(2027, 4, 19, 23, 0, tzinfo=UTC)  # the start of 20 April, UK time
    assert json.loads(event.payload) == {
        "finding": "maladministration",
        "orders": [
            {"what": "Apologise in writing", "due": "2027-05-04"},
            {"what": "Pay £250", "due": "2027-05-18"},
        ],
        "compensation_pence": 25000,
    }
    assert [json.loads(e.payload) for e in events_of(office, case, ORDER_COMPLIED)] == [
        {"order": 1, "ref": str(determination)},
        {"order": 2, "ref": str(determination)},
    ]
    assert json.loads(events_of(office, case, REFERRED)[0].payload) == {"ombudsman_ref": "HOS 202412345"}

    year_2027_28 = determinations(office, date(2027, 4, 1), date(2028, 3, 31))
    assert year_2027_28 == [OmbudsmanDetermination(case, date(2027, 4, 20), "maladministration", 2, 1, 25000)]
    assert determinations(office, date(2026, 4, 1), date(2027, 3, 31)) == [
        OmbudsmanDetermination(other, date(2027, 3, 31), "no maladministration", 0, 0, 0)
    ]
    assert determinations(office, date(2027, 4, 21), date(2027, 12, 31)) == []

    # A review changes the determination: the latest counts, and its orders start afresh.
    determined(
        office, case, date(2027, 5, 30), "service failure", ANN, [Order("Apologise", date(2027, 6, 13))]
    )
    assert determinations(office, date(2027, 4, 1), date(2028, 3, 31)) == [
        OmbudsmanDetermination(case, date(2027, 5, 30), "service failure", 1, 0, 0)
    ]
    referred(office, case, date(2027, 5, 31), ANN)  # determined since: a new referral may follow
    with office.store.transaction() as repo:
        actions = [e.action for e in entries_of_case(repo.session, case)]
    assert actions == [
        "case.ombudsman_referred",
        "case.ombudsman_determination",
        "case.ombudsman_order_complied",
        "case.ombudsman_order_complied",
        "case.ombudsman_determination",
        "case.ombudsman_referred",
    ]
    assert verify_chain(office).ok


# -- homes ----------------------------------------------------------------------------------------------


def test_the_number_of_homes_is_recorded_per_year(office: Services, clock: FixedClock) -> None:
    assert homes_for(office, "2026-27") is None
    assert set_homes(office, "2026-27", 12500, ANN) is None
    clock.set(uk(date(2027, 4, 2)))
    assert set_homes(office, " 2026-27 ", 12600, ANN) == 12500
    assert set_homes(office, "2025-26", 12400, ANN) is None
    assert homes_for(office, "2026-27") == 12600
    assert homes_for(office, "2027-28") is None
    assert [(r.year, r.homes, r.recorded_at, r.recorded_by) for r in recorded_homes(office)] == [
        ("2025-26", 12400, clock.now(), ANN.email),
        ("2026-27", 12600, clock.now(), ANN.email),
    ]
    for year in ("2026-28", "2026", "26-27", "2026/27", "1999-00", "2026-27 Q1", "２０２６-27"):
        with pytest.raises(HomesError, match="is not a financial year like 2026-27"):
            set_homes(office, year, 100, ANN)
    for homes in (0, -5, 10_000_001):
        with pytest.raises(HomesError, match="is not a number of homes"):
            set_homes(office, "2026-27", homes, ANN)
    assert homes_for(office, "2026-27") == 12600
    with office.store.transaction() as repo:
        details = [e.detail for e in recent(repo.session, ["report.homes"])]
    assert details == ["2025-26: 12,400 homes", "2026-27: 12,600 homes (was 12,500)", "2026-27: 12,500 homes"]


# -- the commands ---------------------------------------------------------------------------------------


def config_file(office: Services, tmp_path: Path) -> Path:
    path = tmp_path / "mailroom.toml"
    path.write_text(
        f"[storage]\nroot = {json.dumps(str(office.settings.storage.root))}\n"
        f"[database]\nurl = {json.dumps(office.settings.database_url)}\n"
        f'[maildir]\npath = ""\n'
        f"[policy]\nlandlord_file = {json.dumps(str(LANDLORD_FILE))}\n",
        encoding="utf-8",
    )
    return path


def invoke(config: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(mailroom, [*args, "--config", str(config)])
    return result.exit_code, result.output, result.exception


def test_the_commands(office: Services, tmp_path: Path) -> None:
    config = config_file(office, tmp_path)
    case = phone(office, "Mould", "There is black mould in the bathroom.")

    assert invoke(config, "report", "homes", "--year", "2026-27", "--homes", "12500", "--by", "ann")[:2] == (
        0,
        "2026-27: 12,500 homes\n",
    )
    code, output, _ = invoke(config, "report", "homes", "--json")
    assert code == 0 and [(r["year"], r["homes"], r["recorded_by"]) for r in json.loads(output)] == [
        ("2026-27", 12500, "ann")
    ]
    code, _, error = invoke(config, "report", "homes", "--homes", "5")
    assert isinstance(error, IntakeError) and "--homes needs --year" in str(error)
    code, output, _ = invoke(config, "report", "homes", "--year", "2027-28")
    assert (code, output) == (0, "no number of homes recorded for 2027-28\n")

    code, output, _ = invoke(config, "cases", "category", case)
    assert code == 0 and output.startswith(
        f"{case}: category not set; suggested Damp and mould\nchoices: Repairs,"
    )
    code, output, error = invoke(config, "cases", "show", case, "--json")
    assert code == 0, (output, error)
    assert json.loads(output)["category"] == {"value": None, "suggested": "Damp and mould", "by": None}
    code, output, error = invoke(config, "cases", "show", case)
    assert "category: none (suggested: Damp and mould;" in output, error
    code, _, error = invoke(config, "cases", "category", case, "Plumbing")
    assert isinstance(error, CategoryError)
    code, output, _ = invoke(config, "cases", "category", case, "--confirm", "--by", "ann", "--json")
    assert (
        code == 0 and json.loads(output)["category"] == "Damp and mould" and json.loads(output)["by"] == "ann"
    )
    code, _, error = invoke(config, "cases", "category", case, "Repairs", "--confirm")
    assert isinstance(error, IntakeError)
    code, output, _ = invoke(config, "cases", "show", case)
    assert "category: Damp and mould (set by ann)" in output

    code, output, _ = invoke(config, "cases", "ombudsman", case, "referred", "--at", "2026-11-20", "--json")
    assert code == 0 and json.loads(output)["event"] == "ombudsman_referred"
    determined_args = ["--at", "2026-11-25", "--finding", "service failure", "--compensation", "100.00"]
    code, output, error = invoke(
        config, "cases", "ombudsman", case, "determined", *determined_args, "--order", "Apologise:2026-12-09"
    )
    assert code == 0, (output, error)
    assert output.startswith(f"{case}: ombudsman_determination on 2026-11-25 (event ")
    code, output, _ = invoke(
        config, "cases", "ombudsman", case, "complied", "--order", "1", "--at", "2026-11-26"
    )
    assert code == 0 and "ombudsman_order_complied on 2026-11-26" in output
    for args, wanted in [
        (
            ["determined", "--at", "2026-11-25", "--finding", "service failure", "--compensation", "1e9"],
            IntakeError,
        ),
        (["determined", "--at", "2026-11-25"], IntakeError),
        (["determined", "--at", "2026-11-25", "--finding", "x", "--order", "no date"], OmbudsmanError),
        (["complied", "--at", "2026-11-26", "--order", "first"], IntakeError),
        (["referred", "--at", "2026-11-26", "--finding", "maladministration"], IntakeError),
        (["referred", "--at", "26/11/2026"], IntakeError),
    ]:
        code, output, error = invoke(config, "cases", "ombudsman", case, *args)
        assert code == 1 and isinstance(error, wanted) and isinstance(error, UserError), (args, output, error)
    (found,) = determinations(office, date(2026, 4, 1), date(2027, 3, 31))
    assert found == OmbudsmanDetermination(case, date(2026, 11, 25), "service failure", 1, 1, 10000)


# -- the migration ---------------------------------------------------------------------------------------


def _migrate_to(engine: Engine, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_migration_0013_adds_the_columns_and_chains_the_complaints_again(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    engine = make_engine(db_url)
    _migrate_to(engine, "0010")
    # Rows from before the chain (0011), with 0010's columns: 0011, 0012 and 0013 each chain them.
    with engine.begin() as connection:
        for n in range(3):
            values = {"id": f"CMP-2026-00000{n}", "at": clock.now()}
            connection.execute(
                text(
                    "INSERT INTO complaints (id, status, stage, channel, received_at, complainant_name,"
                    " complainant_email, subject, description, flags, created_at, officer,"
                    " contact_preference, postal_address) VALUES (:id, 'open', 1, 'phone', :at, 'A',"
                    " 'a@example.org', 'Damp', 'mould', '', :at, '', 'email', '')"
                ),
                values,
            )
    migrate(engine)
    columns = {column["name"] for column in inspect(engine).get_columns("complaints")}
    assert {"category", "category_suggested", "category_by"} <= columns
    assert "homes" in inspect(engine).get_table_names()
    engine.dispose()
    services = build_services(make_settings(tmp_path / "storage", db_url), clock)
    try:
        report = verify_chain(services)
        assert report.ok and report.rows == 3, report.summary()
        with services.store.transaction() as repo:
            rows = repo.session.execute(
                select(Complaint.category, Complaint.category_suggested, Complaint.category_by)
            )
            assert set(rows) == {("", "", "")}  # existing cases: none set, none suggested
        set_category(services, "CMP-2026-000001", "Repairs", ANN)
        set_homes(services, "2026-27", 900, ANN)
        assert verify_chain(services).ok
    finally:
        services.store.engine.dispose()
    engine = make_engine(db_url)
    try:
        _migrate_to(engine, "0012", down=True)
        columns = {column["name"] for column in inspect(engine).get_columns("complaints")}
        assert not {"category", "category_suggested", "category_by"} & columns
        assert "homes" not in inspect(engine).get_table_names()
        migrate(engine)  # and up again
    finally:
        engine.dispose()
    services = build_services(make_settings(tmp_path / "storage", db_url), clock)
    try:
        assert verify_chain(services).ok
        assert stored(services, "CMP-2026-000001").category == ""
    finally:
        services.store.engine.dispose()
