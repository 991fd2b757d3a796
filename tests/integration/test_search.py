"""Case search (mailroom/search, docs/search.md) on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from mailroom.clock import FixedClock
from mailroom.domain.ids import case_reference, check_character
from mailroom.search import SearchPage, search_cases
from mailroom.search.ranking import CANDIDATES_PER_SOURCE
from mailroom.search.snippets import MARK_END, MARK_START, SNIPPET_CHARS
from mailroom.services import Services, build_services
from mailroom.store.database import MIGRATIONS, make_engine
from mailroom.store.repository import Repository
from mailroom.store.schema import Complaint, Mail
from tests.conftest import make_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = "alice@landlord.example"
BOB = "bob@landlord.example"


@pytest.fixture
def services(tmp_path: Path, db_url: str, clock: FixedClock) -> Iterator[Services]:
    built = build_services(make_settings(tmp_path / "storage", db_url), clock)
    yield built
    built.store.engine.dispose()


def _cid(serial: int) -> str:
    return f"CMP-2026-{serial:06d}"


def add_case(
    repo: Repository,
    serial: int,
    *,
    name: str = "Sam Resident",
    email: str = "",
    subject: str = "A complaint",
    description: str = "Please look into this.",
    address: str = "",
    officer: str = "",
    days: int = 0,
) -> str:
    complaint_id = _cid(serial)
    repo.add_complaint(
        Complaint(
            id=complaint_id,
            status="open",
            stage=1,
            channel="email",
            received_at=T0 + timedelta(days=days),
            complainant_name=name,
            complainant_email=email or f"resident{serial}@example.net",
            subject=subject,
            description=description,
            flags="",
            created_at=T0,
            officer=officer,
            postal_address=address,
        )
    )
    return complaint_id


def add_mail(
    repo: Repository,
    complaint_id: str | None,
    *,
    subject: str = "Re: my complaint",
    body: str = "Any news?",
    from_name: str = "",
    from_email: str = "someone@example.net",
) -> int:
    token = f"t{repo.session.execute(text('SELECT COUNT(*) FROM mails')).scalar_one()}"
    return repo.add_mail(
        Mail(
            token=token,
            sha256="a" * 64,
            size=10,
            received_at=T0,
            ingested_at=T0,
            from_name=from_name,
            from_email=from_email,
            subject=subject,
            body_text=body,
            outcome="filed",
            rule="reply",
            reason="r",
            complaint_id=complaint_id,
            storage_path=f"x/{token}",
            filed=True,
            triage_open=False,
            attempts=1,
        )
    )


def search(
    services: Services, query: str, officer: str | None = None, limit: int = 25, offset: int = 0
) -> SearchPage:
    return search_cases(services, query, officer=officer, limit=limit, offset=offset)


def ids(page: SearchPage) -> list[str]:
    return [result.complaint_id for result in page.results]


# --------------------------------------------------------------------------- complaint IDs


def test_an_id_or_reference_finds_that_case_alone(services: Services) -> None:
    with services.store.transaction() as repo:
        for serial in range(1, 4):
            add_case(repo, serial, subject=f"about CMP-2026-00000{serial % 3 + 1}")  # text naming other IDs
    wanted = _cid(2)
    reference = case_reference(wanted)
    for query in (wanted, reference, reference.lower(), f"  {wanted.lower()} "):
        page = search(services, query)
        assert ids(page) == [wanted], query
        assert page.results[0].matched_in == "reference"
        assert page.results[0].reference == reference
        assert not page.has_more
    assert ids(search(services, _cid(9))) == []  # no such case


def test_a_wrong_check_character_finds_nothing_and_says_so(services: Services) -> None:
    with services.store.transaction() as repo:
        add_case(repo, 1)
    wrong = next(char for char in "0123456789ABCDEFGHJK" if char != check_character(_cid(1)))
    page = search(services, f"{_cid(1)}-{wrong}")
    assert page.results == ()
    assert "check character" in page.notice


# --------------------------------------------------------------------------- what is searched

FIELDS_CASES = [
    ("Okonkwo", 1, "name"),
    ("adaeze.okonkwo@example.org", 1, "email"),
    ("ADAEZE.OKONKWO@EXAMPLE.ORG", 1, "email"),
    ("okonkwo example.org", 1, "name"),
    ("Larkspur", 2, "address"),
    ("ls6 2ab", 2, "address"),
    ("boiler", 3, "subject"),
    ("condensation windows", 2, "description"),
    ("Whitcombe", 3, "party"),
    ("cllr.whitcombe@council.example", 3, "party"),
    ("photographs", 4, "mail subject"),
    ("asbestos", 4, "mail text"),
    ("harrington-solicitors.example", 4, "mail sender"),
    ("Fitzgerald", 4, "mail sender"),
]


def test_finds_by_each_searched_field(services: Services) -> None:
    # One database for all the queries: a throwaway PostgreSQL database costs seconds.
    with services.store.transaction() as repo:
        add_case(repo, 1, name="Adaeze Okonkwo", email="adaeze.okonkwo@example.org", subject="Noise")
        add_case(
            repo,
            2,
            subject="Damp",
            description="There is condensation on all the windows every morning.",
            address="14 Larkspur Road\nLeeds LS6 2AB",
        )
        add_case(repo, 3, subject="Boiler broken again")
        repo.add_party(_cid(3), "cllr.whitcombe@council.example", "Councillor Whitcombe", "councillor")
        add_case(repo, 4, subject="Fence")
        add_mail(repo, _cid(4), subject="Photographs of the fence", body="Attached as promised.")
        add_mail(repo, _cid(4), body="The survey found asbestos in the shed roof.")
        add_mail(repo, _cid(4), from_name="Ms Fitzgerald", from_email="office@harrington-solicitors.example")
        add_mail(repo, None, body="asbestos Okonkwo boiler Larkspur")  # unfiled: never searched
    for query, serial, matched_in in FIELDS_CASES:
        page = search(services, query)
        assert ids(page) == [_cid(serial)], query
        result = page.results[0]
        assert result.matched_in == matched_in, query
        assert MARK_START not in result.snippet and MARK_END not in result.snippet
        assert "<" not in result.snippet and "\n" not in result.snippet


def test_a_result_row_carries_what_a_list_shows(services: Services) -> None:
    long_body = (
        "Nothing to see here. " * 300 + "The ceiling collapsed onto the bed. " + "More words follow. " * 50
    )
    with services.store.transaction() as repo:
        add_case(repo, 7, name="Priya Shah", subject="Ceiling", officer=ALICE, days=3)
        add_mail(repo, _cid(7), subject="Update", body=long_body)
    (result,) = search(services, "collapsed").results
    assert result.complaint_id == _cid(7)
    assert result.reference == case_reference(_cid(7))
    assert (result.status, result.stage, result.officer) == ("open", 1, ALICE)
    assert (result.complainant_name, result.subject) == ("Priya Shah", "Ceiling")
    assert result.received_at == T0 + timedelta(days=3) and result.received_at.tzinfo is not None
    assert result.matched_in == "mail text"
    assert "collapsed" in result.snippet  # the excerpt is around the match, not the start
    assert len(result.snippet) <= SNIPPET_CHARS


def test_each_case_appears_once_however_many_places_match(services: Services) -> None:
    with services.store.transaction() as repo:
        add_case(repo, 1, name="Kowalczyk", subject="Kowalczyk roof", description="Kowalczyk")
        repo.add_party(_cid(1), "kowalczyk@example.net", "Kowalczyk", "complainant")
        for _ in range(5):
            add_mail(repo, _cid(1), subject="Kowalczyk", body="Kowalczyk")
    page = search(services, "kowalczyk")
    assert ids(page) == [_cid(1)]
    assert not page.has_more


def test_stemmed_words_and_stop_words(services: Services) -> None:
    with services.store.transaction() as repo:
        add_case(repo, 1, subject="Leaking pipes under the sink")
    assert ids(search(services, "leak pipe")) == [_cid(1)]
    assert ids(search(services, "the leaks and the pipes")) == [_cid(1)]  # stop words need not appear
    assert ids(search(services, "leak garden")) == []  # every term must match
    assert ids(search(services, "the")) == []  # nothing left to search for


# --------------------------------------------------------------------------- officers and pages


def test_an_officer_sees_only_their_own_cases_and_pages_count_only_those(services: Services) -> None:
    with services.store.transaction() as repo:
        for serial in range(1, 8):
            add_case(repo, serial, subject="Roof leak", officer=ALICE if serial % 2 else BOB, days=serial)
        add_case(repo, 20, subject="Garden", officer=BOB)
        add_mail(repo, _cid(20), body="Only Bob's case mentions the hedge.")
    everyone = search(services, "roof leak", limit=10)
    assert len(everyone.results) == 7

    first = search(services, "roof leak", officer=ALICE, limit=3)
    assert len(first.results) == 3 and first.has_more
    second = search(services, "roof leak", officer=ALICE, limit=3, offset=3)
    assert len(second.results) == 1 and not second.has_more
    seen = ids(first) + ids(second)
    assert sorted(seen) == [_cid(1), _cid(3), _cid(5), _cid(7)]  # each once, Alice's only
    assert {result.officer for result in first.results + second.results} == {ALICE}

    assert ids(search(services, "hedge", officer=ALICE)) == []
    assert ids(search(services, "hedge", officer=BOB)) == [_cid(20)]
    assert ids(search(services, _cid(20), officer=ALICE)) == []  # not even by its reference
    assert ids(search(services, "roof", officer="")) == []  # the team's cases: none here


def test_pages_follow_one_order_without_gaps_or_repeats(services: Services) -> None:
    with services.store.transaction() as repo:
        for serial in range(1, 13):
            add_case(repo, serial, subject="Window repair", days=serial % 4)  # many equal scores
    pages = [search(services, "window", limit=5, offset=offset) for offset in (0, 5, 10)]
    assert [page.has_more for page in pages] == [True, True, False]
    seen = [complaint_id for page in pages for complaint_id in ids(page)]
    assert sorted(seen) == [_cid(serial) for serial in range(1, 13)]


# --------------------------------------------------------------------------- ranking


def test_a_name_or_subject_hit_ranks_before_weaker_ones(services: Services) -> None:
    with services.store.transaction() as repo:
        # The weaker hits are newer and repeat the word: neither may lift them.
        add_case(repo, 1, subject="Damp in the bedroom", days=0)
        add_case(repo, 2, subject="Repairs", description="damp damp damp by the door", days=5)
        add_case(repo, 3, subject="Heating", days=9)
        add_mail(repo, _cid(3), subject="Photos", body="damp " * 40)
        add_case(repo, 4, subject="Noise", days=7)
        add_mail(repo, _cid(4), subject="More about the damp", body="see above")
        add_case(repo, 5, name="Harriet Damp", subject="Parking", days=8)
    page = search(services, "damp")
    order = ids(page)
    assert set(order[:2]) == {_cid(1), _cid(5)}  # subject and name
    assert order[2:] == [_cid(2), _cid(4), _cid(3)]  # description, mail subject, mail text
    scores = [result.score for result in page.results]
    assert scores == sorted(scores, reverse=True)


# --------------------------------------------------------------------------- keeping the index current


def test_rows_written_after_the_migration_are_found(services: Services) -> None:
    with services.store.transaction() as repo:
        add_case(repo, 1, subject="Mice")
        unfiled = add_mail(repo, None, subject="Rodent droppings", body="under the stairs")
    assert ids(search(services, "droppings")) == []  # not filed to a case yet

    with services.store.transaction() as repo:  # triage files the mail: UPDATE of complaint_id
        mail = repo.session.get(Mail, unfiled)
        assert mail is not None
        mail.complaint_id = _cid(1)
    assert ids(search(services, "droppings")) == [_cid(1)]

    with services.store.transaction() as repo:
        add_mail(repo, _cid(1), body="The pest controller visits on Tuesday.")
        repo.add_party(_cid(1), "advocate@shelter.example", "Morwenna Trelawny", "representative")
        complaint = repo.get_complaint(_cid(1))
        assert complaint is not None
        complaint.subject = "Rats"  # corrected: the old word goes, the new one comes
        complaint.status = "closed"  # not indexed: changes nothing in search
    assert ids(search(services, "pest controller")) == [_cid(1)]
    assert ids(search(services, "Trelawny")) == [_cid(1)]
    assert ids(search(services, "rats")) == [_cid(1)]
    assert ids(search(services, "mice")) == []
    assert search(services, "rats").results[0].status == "closed"

    with services.store.transaction() as repo:  # moved to another case
        mail = repo.session.get(Mail, unfiled)
        assert mail is not None
        mail.complaint_id = add_case(repo, 2, subject="Other")
    assert ids(search(services, "droppings")) == [_cid(2)]


def test_rows_stored_before_the_migration_are_found(tmp_path: Path, db_url: str, clock: FixedClock) -> None:
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        connection.execute(
            text(
                "INSERT INTO complaints (id, status, stage, channel, received_at, complainant_name,"
                " complainant_email, subject, description, flags, created_at, officer, contact_preference,"
                " postal_address) VALUES (:id, 'open', 1, 'email', :at, 'Grainne Ni Bhriain',"
                " 'grainne@example.ie', 'Broken lift', 'The lift has been out for weeks.', '', :at, '',"
                " 'post', '3 Quayside Court')"
            ),
            {"id": _cid(1), "at": T0},
        )
        connection.execute(
            text(
                "INSERT INTO case_parties (complaint_id, email, name, role)"
                " VALUES (:id, 'mp@parliament.example', 'Tobias Ferncastle MP', 'mp')"
            ),
            {"id": _cid(1)},
        )
        connection.execute(
            text(
                "INSERT INTO mails (token, sha256, size, received_at, ingested_at, message_id, in_reply_to,"
                " from_name, from_email, subject, body_text, outcome, rule, reason, complaint_id,"
                " storage_path, filed, triage_open, attempts) VALUES ('old', :sha, 1, :at, :at, '', '',"
                " 'Grainne', 'grainne@example.ie', 'Still broken', 'My wheelchair cannot use the stairs.',"
                " 'filed', 'reply', 'r', :id, 'x/old', :yes, :no, 1)"
            ),
            {"id": _cid(1), "at": T0, "sha": "b" * 64, "yes": True, "no": False},
        )
    engine.dispose()

    built = build_services(make_settings(tmp_path / "storage", db_url), clock)  # migrates to head
    try:
        for query in ("lift", "Quayside", "Ferncastle", "wheelchair", "grainne@example.ie"):
            assert ids(search(built, query)) == [_cid(1)], query
    finally:
        built.store.engine.dispose()


def test_downgrade_removes_every_search_object(tmp_path: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        command.downgrade(config, "0008")
        if connection.dialect.name == "sqlite":
            left = connection.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'search%'"))
        else:
            left = connection.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search%'"))
        assert list(left) == []
        # No trigger is left pointing at a dropped table: writes still work.
        connection.execute(
            text(
                "INSERT INTO mails (token, sha256, size, received_at, ingested_at, message_id, in_reply_to,"
                " from_name, from_email, subject, body_text, outcome, rule, reason, storage_path, filed,"
                " triage_open, attempts) VALUES ('t', :sha, 1, :at, :at, '', '', '', '', '', '', 'x', 'x',"
                " 'x', 'x/t', :no, :no, 1)"
            ),
            {"sha": "c" * 64, "at": T0, "no": False},
        )
    engine.dispose()


def test_the_search_objects_are_in_place_at_head(services: Services) -> None:
    """SQLite: a later migration that rebuilds complaints, case_parties or mails
    (alembic batch mode) drops their triggers, and search would silently go
    stale. PostgreSQL: the query must repeat the index expressions exactly, or
    every search is a sequential scan."""
    with services.store.transaction() as repo:
        session = repo.session
        if session.get_bind().dialect.name == "sqlite":
            triggers = session.execute(
                text(
                    "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search%'"
                )
            )
            assert sorted(triggers) == sorted(
                (table, f"search_{table}_{event}")
                for table in ("complaints", "case_parties", "mails")
                for event in ("ai", "au", "ad")
            )
            return
        from mailroom.search import postgres
        from mailroom.search.ranking import ranked_sql

        session.execute(text("SET LOCAL enable_seqscan = off"))  # a few rows: let only the index compete
        for officer in (None, ALICE):
            sql = "EXPLAIN " + ranked_sql(postgres.branches(officer))
            params = {"terms": "damp", "officer": officer, "cap": 10, "limit": 10, "offset": 0}
            plan = "\n".join(row[0] for row in session.execute(text(sql), params))
            for index in postgres.INDEXES:
                assert index in plan, plan


# --------------------------------------------------------------------------- hostile input

HOSTILE = [
    '"',
    '""',
    '"unbalanced',
    "NEAR(roof leak)",
    "roof NEAR leak",
    "*",
    "roof*",
    "^roof",
    "subject:roof",
    "{subject}: roof",
    "complainant_name : x",
    "(((roof",
    "roof)))",
    "roof OR leak",
    "AND",
    "NOT roof",
    "-roof",
    "roof & leak | !damp <-> x",
    "'; DROP TABLE complaints; --",
    "roof\x00leak",
    "\x00",
    "\ud800 roof",
    MARK_START + "roof" + MARK_END,
    "%_\\",
    ":officer :terms",
    "CMP-2026-",
    "CMP-2026-000001-",
    "CMP-2026-000001-Z9",
    "cmp-2026-0000000000000001",
    "roof " * 2000,
    "x" * 10_000,
    "\u202eroof\u202c",
    "🙂" * 3000,
    "",
    "   ",
]


def test_hostile_queries_return_normally(services: Services) -> None:
    with services.store.transaction() as repo:
        add_case(repo, 1, subject="Roof leak")
    for query in HOSTILE:
        page = search(services, query)
        assert isinstance(page, SearchPage), query
        assert len(page.query) <= 200
    # Syntax in the query is only words: these still find the case.
    for query in ('"roof', "roof*", "(roof leak)", "(((roof", "roof\x00leak", "roof: ^leak"):
        assert ids(search(services, query)) == [_cid(1)], query
    assert ids(search(services, "roof")) == [_cid(1)]  # and the database is unharmed


def test_out_of_range_paging_is_held_in_range(services: Services) -> None:
    with services.store.transaction() as repo:
        add_case(repo, 1, subject="Roof leak")
    assert ids(search(services, "roof", limit=0)) == [_cid(1)]
    assert ids(search(services, "roof", limit=10**9, offset=-5)) == [_cid(1)]
    deep = search(services, "roof", offset=10**9)
    assert deep.results == () and not deep.has_more and deep.notice


def test_a_word_in_every_case_is_capped_and_says_so(services: Services) -> None:
    with services.store.transaction() as repo:
        for serial in range(1, CANDIDATES_PER_SOURCE + 3):
            repo.session.add(
                Complaint(
                    id=_cid(serial),
                    status="open",
                    stage=1,
                    channel="email",
                    received_at=T0,
                    complainant_name="N",
                    complainant_email="n@example.net",
                    subject="Common",
                    description="",
                    flags="",
                    created_at=T0,
                )
            )
    page = search(services, "common", limit=10)
    assert page.truncated and page.has_more
    assert not search(services, _cid(1)).truncated
