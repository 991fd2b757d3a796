"""Ranked guesses of the case a triage mail belongs to, each with why in plain English.

Signals, each worth points; a case's score is the sum of its signals:

- a complaint ID typed in the subject or the text: with its right check character
  (the reference we print) 150, without one 120, with a wrong one 45 (the digits may
  be a typo for another case's). A typed ID outranks the sender's address and the
  subject together;
- the mail replies to a mail of the case, ours or theirs (In-Reply-To) 70;
- the sender is a party to the case (the complainant, a representative, an MP...;
  ``case_parties``, which always holds the complainant's address: ``parties.py``
  keeps it in step with ``complaints.complainant_email``): 60 when the case is
  open, 20 when it is not;
- the subject is the case's subject (after "Re:"/"Fwd:") on an open case: 30, or 10
  when more than a few open cases share it (then it says little).

So a party's address beats a mere same subject, and a typed ID wins. The work is
bounded whatever the store holds: the first ``TEXT_SCAN`` characters of a mail's
text are read, at most ``MAX_REFERENCES`` IDs and ``MAX_MESSAGE_IDS`` Message-IDs
per mail are looked up, and each address or subject gives at most ``CANDIDATES``
cases. ``guesses_for`` answers for a whole page of mails in the same seven
statements as for one (one per signal, batched), so the triage page costs the
same however many rows it shows. Nothing is decided here: ``triage.resolve``
attaches the mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, desc, func, select

from mailroom.domain.ids import check_character, find_references
from mailroom.queues.page import QueueError
from mailroom.queues.tables import COMPLAINTS, MAILS, OPEN, OUTBOX, PARTIES, optional, reading
from mailroom.services import Services

TEXT_SCAN = 20_000  # characters of the mail's text searched for a typed ID
MAX_REFERENCES = 10
MAX_MESSAGE_IDS = 20
CANDIDATES = 20  # cases read per address or subject
GENERIC_SUBJECT = 3  # more open cases than this share a subject: it says little

REFERENCE, BARE_ID, WRONG_CHECK = 150, 120, 45
REPLY = 70
PARTY_OPEN, PARTY_OTHER = 60, 20
SAME_SUBJECT, COMMON_SUBJECT = 30, 10

Signal = Callable[[int, str, int, str], None]  # (mail id, complaint id, points, why)

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv|tr|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Guess:
    complaint_id: str
    score: int
    why: str  # the signals, in plain English, strongest first
    complainant_name: str
    subject: str
    status: str
    officer: str | None


@dataclass(frozen=True)
class _Mail:
    id: int
    sender: str  # lower case; "" when none
    subject: str
    text: str  # the first TEXT_SCAN characters
    in_reply_to: str


# mail id -> complaint id -> [(points, why)]
_Found = dict[int, dict[str, list[tuple[int, str]]]]


def guesses(services: Services, mail_id: int, *, limit: int = 5) -> list[Guess]:
    """The cases ``mail_id`` most likely belongs to, best first (at most ``limit``)."""
    found = guesses_for(services, [mail_id], limit=limit)
    if mail_id not in found:
        raise QueueError(f"no mail {mail_id}")
    return found[mail_id]


def guesses_for(services: Services, mail_ids: Sequence[int], *, limit: int = 5) -> dict[int, list[Guess]]:
    """``guesses`` for each of ``mail_ids`` (a page of the triage queue), in one connection
    and a fixed number of statements. A mail id that does not exist is left out."""
    wanted = sorted(set(mail_ids))
    if not wanted:
        return {}
    with reading(services) as connection:
        mails = _mails(connection, wanted)
        found: _Found = {mail.id: {} for mail in mails}

        def signal(mail_id: int, complaint_id: str, points: int, why: str) -> None:
            found[mail_id].setdefault(complaint_id, []).append((points, why))

        _typed_ids(services, connection, mails, signal)
        _replies(connection, mails, signal)
        _parties(connection, mails, signal)
        _same_subject(connection, mails, signal)
        cases = _cases(connection, sorted({cid for per_mail in found.values() for cid in per_mail}))
    return {mail_id: _ranked(per_mail, cases, limit) for mail_id, per_mail in found.items()}


def _ranked(found: dict[str, list[tuple[int, str]]], cases: dict[str, Any], limit: int) -> list[Guess]:
    ranked = []
    for complaint_id, signals in found.items():
        case = cases.get(complaint_id)
        if case is None:
            continue
        reasons = sorted(signals, key=lambda reason: -reason[0])
        ranked.append(
            Guess(
                complaint_id=complaint_id,
                score=sum(points for points, _ in reasons),
                why="; ".join(why for _, why in reasons),
                complainant_name=case.complainant_name,
                subject=case.subject,
                status=case.status,
                officer=optional(case.officer),
            )
        )
    # Equal scores: the more recent case first (a resident's latest complaint).
    ranked.sort(key=lambda guess: (cases[guess.complaint_id].received_at, guess.complaint_id), reverse=True)
    ranked.sort(key=lambda guess: guess.score, reverse=True)
    return ranked[:limit]


def _mails(connection: Connection, mail_ids: list[int]) -> list[_Mail]:
    m = MAILS.c
    text = func.substr(m.body_text, 1, TEXT_SCAN).label("text")
    query = select(m.id, m.from_email, m.subject, m.in_reply_to, text).where(m.id.in_(mail_ids))
    return [
        _Mail(
            row.id,
            (row.from_email or "").strip().lower(),
            row.subject or "",
            row.text or "",
            row.in_reply_to or "",
        )
        for row in connection.execute(query)
    ]


def _typed_ids(services: Services, connection: Connection, mails: list[_Mail], signal: Signal) -> None:
    ids = services.settings.ids
    best: dict[int, dict[str, tuple[int, str]]] = {}  # mail -> complaint id -> its best mention
    for mail in mails:
        mentions = best.setdefault(mail.id, {})
        written = [
            (where, ref.text.upper())
            for where, words in (("subject", mail.subject), ("text", mail.text))
            for ref in find_references(words, ids.prefix)
        ]
        for where, as_written in written[: MAX_REFERENCES * 2]:
            complaint_id, points, why = _mention(where, as_written, ids.prefix, ids.digits)
            if points > mentions.get(complaint_id, (0, ""))[0]:
                mentions[complaint_id] = (points, why)
            if len(mentions) >= MAX_REFERENCES:
                break
    known = set(_existing(connection, {cid for mentions in best.values() for cid in mentions}))
    for mail_id, mentions in best.items():
        for complaint_id, (points, why) in mentions.items():
            if complaint_id in known:
                signal(mail_id, complaint_id, points, why)


def _mention(where: str, written: str, prefix: str, digits: int) -> tuple[str, int, str]:
    """(complaint id, points, why) of an ID as typed: "CMP-2026-000123", with "-K" or not."""
    match = re.fullmatch(rf"({re.escape(prefix.upper())}-\d{{4}}-\d+)(?:-([0-9A-Z]))?", written)
    assert match is not None  # find_references matched this shape
    complaint_id = _padded(match.group(1), digits)
    check = match.group(2)
    if not check:
        return complaint_id, BARE_ID, f"the {where} mentions {written} (without its check character)"
    if check == check_character(complaint_id) and match.group(1) == complaint_id:
        return complaint_id, REFERENCE, f"the {where} quotes its reference {written}"
    return (
        complaint_id,
        WRONG_CHECK,
        f"the {where} mentions {written}, whose check character is not {complaint_id}'s: "
        "it may be a typo for another case",
    )


def _padded(complaint_id: str, digits: int) -> str:
    """CMP-2026-0123 as the store writes it (CMP-2026-000123 with 6 digits)."""
    prefix, year, serial = complaint_id.rsplit("-", 2)
    return f"{prefix}-{year}-{int(serial):0{digits}d}" if len(serial) < digits else complaint_id


def _existing(connection: Connection, complaint_ids: Iterable[str]) -> list[str]:
    wanted = sorted(complaint_ids)
    if not wanted:
        return []
    query = select(COMPLAINTS.c.id).where(COMPLAINTS.c.id.in_(wanted))
    return [str(complaint_id) for (complaint_id,) in connection.execute(query)]


def _replies(connection: Connection, mails: list[_Mail], signal: Signal) -> None:
    named = {
        mail.id: list(dict.fromkeys(_MESSAGE_ID.findall(mail.in_reply_to)))[:MAX_MESSAGE_IDS]
        for mail in mails
    }
    message_ids = sorted({message_id for ids in named.values() for message_id in ids})
    if not message_ids:
        return
    m, o = MAILS.c, OUTBOX.c
    bound = CANDIDATES * len(mails)
    ours = select(o.message_id, o.complaint_id).where(
        o.message_id.in_(message_ids), o.complaint_id.is_not(None)
    )
    theirs = select(m.message_id, m.complaint_id).where(
        m.message_id.in_(message_ids), m.complaint_id.is_not(None)
    )
    cases_of: dict[str, dict[str, str]] = {}  # message id -> complaint id -> whose mail it was
    for query, whose in ((ours, "our mail"), (theirs, "a mail")):
        for message_id, complaint_id in connection.execute(query.limit(bound)):
            cases_of.setdefault(message_id, {}).setdefault(str(complaint_id), whose)
    for mail_id, ids in named.items():
        replied: dict[str, str] = {}  # one reply signal per case, however many mails it names
        for message_id in ids:
            for complaint_id, whose in cases_of.get(message_id, {}).items():
                replied.setdefault(complaint_id, whose)
        for complaint_id, whose in replied.items():
            signal(mail_id, complaint_id, REPLY, f"it replies to {whose} on this case")


def _parties(connection: Connection, mails: list[_Mail], signal: Signal) -> None:
    senders = sorted({mail.sender for mail in mails if mail.sender})
    if not senders:
        return
    p, c = PARTIES.c, COMPLAINTS.c
    # At most CANDIDATES cases per address, open ones and the most recent first.
    rank = func.row_number().over(
        partition_by=p.email, order_by=(desc(c.status == OPEN), c.received_at.desc(), c.id)
    )
    ranked = (
        select(p.email, p.complaint_id, p.role, c.status, rank.label("rank"))
        .join(COMPLAINTS, c.id == p.complaint_id)
        .where(p.email.in_(senders))
        .subquery()
    )
    cases_of: dict[str, list[Any]] = {}
    for row in connection.execute(select(ranked).where(ranked.c.rank <= CANDIDATES)):
        cases_of.setdefault(row.email, []).append(row)
    for mail in mails:
        for row in cases_of.get(mail.sender, []):
            who = "the complainant" if row.role == "complainant" else f"a party ({row.role})"
            if row.status == OPEN:
                why = f"the sender {mail.sender} is {who} on this open case"
                signal(mail.id, row.complaint_id, PARTY_OPEN, why)
            else:
                why = f"the sender {mail.sender} is {who} on this case ({row.status})"
                signal(mail.id, row.complaint_id, PARTY_OTHER, why)


def _same_subject(connection: Connection, mails: list[_Mail], signal: Signal) -> None:
    asked = {mail.id: _subjects(mail.subject) for mail in mails}
    subjects = sorted({subject for wanted in asked.values() for subject in wanted})
    if not subjects:
        return
    c = COMPLAINTS.c
    rank = func.row_number().over(partition_by=c.subject, order_by=(c.received_at.desc(), c.id))
    ranked = (
        select(c.subject, c.id, rank.label("rank"))
        .where(c.subject.in_(subjects), c.status == OPEN)
        .subquery()
    )
    cases_of: dict[str, list[str]] = {}
    for row in connection.execute(select(ranked).where(ranked.c.rank <= CANDIDATES)):
        cases_of.setdefault(row.subject, []).append(str(row.id))
    for mail in mails:
        matches = list(dict.fromkeys(cid for subject in asked[mail.id] for cid in cases_of.get(subject, [])))
        matches = matches[:CANDIDATES]
        if not matches:
            continue
        bare = min(asked[mail.id], key=len)
        common = len(matches) > GENERIC_SUBJECT
        many = f"{len(matches)}{'+' if len(matches) == CANDIDATES else ''}"
        for complaint_id in matches:
            if common:
                why = f"one of {many} open cases with the subject {bare!r}"
                signal(mail.id, complaint_id, COMMON_SUBJECT, why)
            else:
                signal(mail.id, complaint_id, SAME_SUBJECT, f"same subject as this open case: {bare!r}")


def _subjects(subject: str) -> set[str]:
    """The subject as a case would have it: as written, and without "Re:"/"Fwd:"."""
    bare = _REPLY_PREFIX.sub("", subject).strip()
    return {bare, subject.strip()} if bare else set()


def _cases(connection: Connection, complaint_ids: list[str]) -> dict[str, Any]:
    if not complaint_ids:
        return {}
    c = COMPLAINTS.c
    query = select(c.id, c.complainant_name, c.subject, c.status, c.officer, c.received_at).where(
        c.id.in_(complaint_ids)
    )
    return {str(row.id): row for row in connection.execute(query)}
