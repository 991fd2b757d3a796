"""Seeding for bench/desk_pages.py: a PostgreSQL database migrated by mailroom's own
code, filled by server-side SQL (``INSERT ... SELECT ... FROM generate_series``), so
100,000 complaints and a million mails take minutes.

Every value is a hash of the row's number (``bench.h``), so two runs seed the same
rows for the same sizes (apart from "now", which is the real clock: the desk reads
the system clock, and deadlines have to fall around its today).

What is seeded, for N complaints and M mails a complaint on average:
- complaints received over the two years before now, on 17 topics (damp and mould
  the most common, asbestos among the rarest), ten officers, statuses from each
  case's own timeline: recent cases open at stage 1, a sixth escalated to stage 2,
  most closed, some refused or withdrawn, 2% of older ones stuck open and overdue;
- case_parties (complainant; representatives; MPs on MP enquiries);
- 1 to 2M-1 mails a case (mean M): the complaint, replies, out-of-office replies,
  duplicates, MP enquiries; plus unmatched mail: open triage items (0.3% of mails),
  quarantined mails (0.05%), delivery reports (1%); bodies of 300-1,500
  characters from topic sentences, with names, addresses and sign-offs;
- documents: the raw mail of every mail, an attachment on one in five, letters;
- events: one per mail, one per case step, per letter;
- deadlines as ``mailroom/deadline_store.py`` stores them: the Code's clocks of
  every case, running or stopped, missed or met, remedies and MP enquiries;
- letters (three in four cases have theirs: drafts, approved, sent, for post),
  with their outbox mails (some failed or pending), reminder mails and ledger,
  case record items, audit entries, staff and id counters.

Secondary indexes of mails, documents and events (whatever the migrations made,
search indexes included) are dropped before the bulk insert and built again after:
triggers (if the search migration adds some) still run for every row.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from bench import desk_words as w

PARAS_PER_TOPIC = 300
EMAIL_DOMAINS = [
    "gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com",
    "live.co.uk", "sky.com", "aol.com", "virginmedia.com",
]  # fmt: skip
BIG_TABLES = ("mails", "documents", "events")
COUNTED = ("complaints", "case_parties", "mails", "documents", "events", "deadlines", "letters", "outbox")
MP_NAMES = [
    "Alison Reeve",
    "David Okoro",
    "Helen Maclean",
    "James Whitcombe",
    "Nadia Hussain",
    "Peter Lund",
    "Rosie Carver",
    "Tariq Mahmood",
]


@dataclass
class Seeded:
    complaints: int
    mails: int
    seconds: float
    steps: list[tuple[str, float]]
    counts: dict[str, int]


def _lit(value: datetime) -> str:
    return f"'{value.isoformat()}'::timestamptz"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


SAMPLE_NAME, SAMPLE_REFERENCE = "Ms Aisha Patel", "RVH-2026-0042"
SAMPLE_ADDRESS, SAMPLE_HANDLER = "Flat 3, 12 Exe View, Exeter EX2 4PQ", "Sam Okafor"
_LONG_DATE = re.compile(r"^[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}$")


def _iso_dates(value: Any) -> Any:
    """The samples' long dates ("Monday 7 December 2026") as ISO, as a draft stores them."""
    if isinstance(value, str) and _LONG_DATE.match(value):
        return datetime.strptime(value, "%A %d %B %Y").date().isoformat()
    if isinstance(value, list):
        return [_iso_dates(item) for item in value]
    if isinstance(value, dict):
        return {key: _iso_dates(item) for key, item in value.items()}
    return value


def _letter_json(cur: psycopg.Cursor[Any]) -> None:
    """bench.letter_json: per letter type, the fields, context and check a draft of it
    stores, from mailroom's own sample letters (letters/samples.py), checked and
    failing (one enforced element missing: a draft still to fix)."""
    from mailroom.letters.check import CheckResult, ElementResult
    from mailroom.letters.drafts import validate_fields
    from mailroom.letters.samples import pack, sample_context
    from mailroom.letters.types import FIELDS, LetterType

    cur.execute(
        "CREATE TABLE bench.letter_json (letter_type text, passed bool, fields text, context text,"
        " check_json text, PRIMARY KEY (letter_type, passed))"
    )
    for kind in LetterType:
        context = sample_context(kind)
        names = {spec.name for spec in FIELDS[kind]}
        fields = _iso_dates({k: v for k, v in context.items() if k in names and v is not None})
        with contextlib.suppress(Exception):  # as given, should a sample not validate
            fields = validate_fields(kind, fields)
        elements = pack()["letters"][kind.value].get("elements", [])
        for passed in (True, False):
            results = [
                ElementResult(
                    id=str(e["id"]),
                    paragraph=str(e.get("paragraph", "")),
                    description=str(e.get("description", "")),
                    status="pass" if passed or i > 0 else "fail",
                    enforced=any(tag in str(e.get("tag", "")) for tag in "VS"),
                    reason="found in the letter" if passed or i > 0 else "not found in the letter",
                )
                for i, e in enumerate(elements)
            ]
            check = CheckResult(passed, results).to_json()
            row = (kind.value, passed, json.dumps(fields, default=str), json.dumps(context, default=str))
            cur.execute(
                "INSERT INTO bench.letter_json VALUES (%s, %s, %s, %s, %s)", (*row, json.dumps(check))
            )


def _word_tables(cur: psycopg.Cursor[Any]) -> None:
    rng = random.Random(20261203)
    cur.execute("CREATE SCHEMA bench")
    cur.execute(
        "CREATE FUNCTION bench.h(a bigint, salt int) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        " AS $$ SELECT (hashint8extended(a, salt) & 2147483647)::int $$"
    )
    cur.execute("CREATE TABLE bench.first_names (i int PRIMARY KEY, name text)")
    cur.executemany("INSERT INTO bench.first_names VALUES (%s, %s)", list(enumerate(w.FIRST_NAMES)))
    cur.execute("CREATE TABLE bench.surnames (i int PRIMARY KEY, name text)")
    cur.executemany("INSERT INTO bench.surnames VALUES (%s, %s)", list(enumerate(w.SURNAMES)))
    cur.execute("CREATE TABLE bench.places (i int PRIMARY KEY, street text, town text, area text)")
    places = [(i, street, *w.TOWNS[(i * 7) % len(w.TOWNS)]) for i, street in enumerate(w.STREETS * 3)]
    cur.executemany("INSERT INTO bench.places VALUES (%s, %s, %s, %s)", places)
    cur.execute("CREATE TABLE bench.topics (t int PRIMARY KEY, name text, lo int, hi int, nsub int)")
    cur.execute("CREATE TABLE bench.subjects (t int, j int, text text, PRIMARY KEY (t, j))")
    cur.execute("CREATE TABLE bench.paras (id int PRIMARY KEY, t int, text text)")
    lo = 0
    for t, (weight, name, subjects, _) in enumerate(w.TOPICS):
        filled = sorted({w.fill(s, rng) for s in subjects for _ in range(6)})
        topic = (t, name, lo, lo + weight, len(filled))
        cur.execute("INSERT INTO bench.topics VALUES (%s, %s, %s, %s, %s)", topic)
        subjects_rows = [(t, j, s) for j, s in enumerate(filled)]
        cur.executemany("INSERT INTO bench.subjects VALUES (%s, %s, %s)", subjects_rows)
        paras = [(t * PARAS_PER_TOPIC + i, t, w.paragraph(t, rng)) for i in range(PARAS_PER_TOPIC)]
        cur.executemany("INSERT INTO bench.paras VALUES (%s, %s, %s)", paras)
        lo += weight


def _cases_sql(n: int, m: int, now: datetime) -> str:
    """bench.c: one row per complaint with its whole timeline (NULL: not yet)."""
    now_ = _lit(now)
    return f"""
CREATE UNLOGGED TABLE bench.c AS
WITH base AS (
  SELECT g, bench.h(g, 2) h2, bench.h(g, 3) h3, bench.h(g, 4) h4, bench.h(g, 5) h5,
         bench.h(g, 6) h6, bench.h(g, 7) h7, bench.h(g, 8) h8, bench.h(g, 9) h9, bench.h(g, 10) h10,
         {now_} - make_interval(secs => ({n} - g)::float8 * 63072000 / {n} + bench.h(g, 1) % 1800
           + 60) AS received
  FROM generate_series(1, {n}) g
), plan AS (
  SELECT b.*,
    (SELECT t FROM bench.topics WHERE b.h2 % 1000 >= lo AND b.h2 % 1000 < hi) AS topic,
    received + make_interval(hours => 4 + h3 % 68) AS p_ack,
    received + make_interval(hours => 4 + h3 % 68) + make_interval(days => 3 + h4 % 15,
      hours => h4 % 9) AS p_resp1,
    h5 % 100 < 15 AS escalates,
    CASE WHEN h6 % 100 < 4 THEN 'refused' WHEN h6 % 100 < 7 THEN 'withdrawn'
         WHEN h6 % 100 < 9 AND received < {now_} - interval '60 days' THEN 'stuck' ELSE 'normal' END AS ending
  FROM base b
), plan2 AS (
  SELECT p.*,
    p_resp1 + make_interval(days => 2 + h5 % 25) AS p_esc,
    p_resp1 + make_interval(days => 3 + h5 % 25 + h5 % 4, hours => h5 % 7) AS p_ack2,
    p_resp1 + make_interval(days => 13 + h5 % 25 + h5 % 4 + h6 % 26, hours => h5 % 7) AS p_resp2
  FROM plan p
), facts AS (
  SELECT p.*,
    CASE WHEN ending <> 'refused' AND p_ack <= {now_} THEN p_ack END AS ack_at,
    CASE WHEN ending = 'refused' AND p_ack <= {now_} THEN p_ack END AS refused_at,
    CASE WHEN ending = 'withdrawn' AND p_ack + interval '3 days' <= {now_}
         THEN p_ack + interval '3 days' END AS withdrawn_at,
    CASE WHEN ending = 'normal' AND p_resp1 <= {now_} THEN p_resp1 END AS resp1_at,
    CASE WHEN ending = 'normal' AND escalates AND p_esc <= {now_} THEN p_esc END AS esc_at,
    CASE WHEN ending = 'normal' AND escalates AND p_ack2 <= {now_} THEN p_ack2 END AS ack2_at,
    CASE WHEN ending = 'normal' AND escalates AND p_resp2 <= {now_} THEN p_resp2 END AS resp2_at,
    CASE WHEN ending = 'normal'
          AND (CASE WHEN escalates THEN p_resp2 ELSE p_resp1 END) + make_interval(days => 1
            + h7 % 12) <= {now_}
         THEN (CASE WHEN escalates THEN p_resp2 ELSE p_resp1 END) + make_interval(days => 1 + h7 % 12)
    END AS closed_at,
    fn.name AS first, sn.name AS last, pl.street, pl.town, pl.area,
    extract(year FROM received AT TIME ZONE 'Europe/London')::int AS yr
  FROM plan2 p
  JOIN bench.first_names fn ON fn.i = p.h10 % (SELECT count(*) FROM bench.first_names)
  JOIN bench.surnames sn ON sn.i = (p.h10 / 1009) % (SELECT count(*) FROM bench.surnames)
  JOIN bench.places pl ON pl.i = p.h3 % (SELECT count(*) FROM bench.places)
)
SELECT f.*,
  'CMP-' || f.yr || '-' || lpad((row_number() OVER (PARTITION BY f.yr ORDER BY f.g))::text, 6, '0') AS id,
  CASE WHEN refused_at IS NOT NULL THEN 'refused' WHEN withdrawn_at IS NOT NULL THEN 'withdrawn'
       WHEN closed_at IS NOT NULL THEN 'closed' ELSE 'open' END AS status,
  CASE WHEN esc_at IS NOT NULL THEN 2 ELSE 1 END AS stage,
  CASE WHEN h8 % 100 < 82 THEN 'email' WHEN h8 % 100 < 89 THEN 'phone' WHEN h8 % 100 < 94 THEN 'letter'
       WHEN h8 % 100 < 97 THEN 'in-person' ELSE 'social-media' END AS channel,
  CASE WHEN h9 % 100 < 7 OR received > {now_} - interval '1 day' THEN ''
       ELSE ({_array([e for _, e in w.OFFICERS])})[1 + h9 % {len(w.OFFICERS)}] END AS officer,
  CASE WHEN h8 % 100 >= 82 AND h8 % 3 = 0 THEN ''
       ELSE lower(first || '.' || last) || (h4 % 97) || '@'
            || ({_array(EMAIL_DOMAINS)})[1 + h3 % {len(EMAIL_DOMAINS)}] END AS email,
  (1 + h9 % 180) || ' ' || street || E'\\n' || town || E'\\n' || area || (1 + h4 % 28) || ' '
    || (h5 % 10) || chr(65 + h6 % 26) || chr(65 + h7 % 26) AS address,
  CASE WHEN h7 % 100 < 3 THEN 'mp_enquiry' ELSE '' END AS flags,
  1 + (h9 / 13) % {2 * m - 1} AS nm
FROM facts f
"""


def _complaints_sql(now: datetime) -> list[str]:
    p = PARAS_PER_TOPIC
    return [
        f"""
INSERT INTO complaints (id, status, stage, channel, received_at, complainant_name, complainant_email,
  subject, description, flags, created_at, officer, contact_preference, postal_address)
SELECT c.id, c.status, c.stage, c.channel, c.received,
  CASE WHEN c.h5 % 10 = 0 THEN CASE WHEN c.h6 % 2 = 0 THEN 'Mrs ' ELSE 'Mr ' END || c.last
       ELSE c.first || ' ' || c.last END,
  c.email, s.text || CASE WHEN c.h4 % 3 = 0 THEN ' - ' || c.street ELSE '' END,
  p.text, c.flags, c.received + make_interval(secs => 5 + c.h2 % 120), c.officer,
  CASE WHEN c.email = '' OR c.h4 % 100 < 5 THEN 'post' ELSE 'email' END,
  CASE WHEN c.h4 % 2 = 0 OR c.email = '' OR c.h4 % 100 < 5 THEN c.address ELSE '' END
FROM bench.c c
JOIN bench.topics t ON t.t = c.topic
JOIN bench.subjects s ON s.t = c.topic AND s.j = c.h3 % t.nsub
JOIN bench.paras p ON p.id = c.topic * {p} + c.h4 % {p}
""",
        """
INSERT INTO case_parties (complaint_id, email, name, role)
SELECT id, email, first || ' ' || last, 'complainant' FROM bench.c WHERE email <> ''
UNION ALL
SELECT id, 'advice' || g || '@citizensadvice.org.uk', 'Citizens Advice caseworker', 'representative'
FROM bench.c WHERE h5 % 100 < 5
UNION ALL
SELECT id, 'constituency' || (h2 % 650) || '@parliament.uk', 'Office of the Member of Parliament', 'mp'
FROM bench.c WHERE flags = 'mp_enquiry'
""",
        """
INSERT INTO id_counters (prefix, year, last_value)
SELECT 'CMP', yr, count(*) FROM bench.c GROUP BY yr
""",
        f"""
INSERT INTO staff (email, name, manager_email, digest, active)
SELECT e, n, '{w.MANAGER[1]}', false, true
FROM unnest({_array([e for _, e in w.OFFICERS])}, {_array([n for n, _ in w.OFFICERS])}) AS u(e, n)
UNION ALL SELECT '{w.MANAGER[1]}', '{w.MANAGER[0]}', '', true, true
""",
    ]


# The columns of a mail row, from x (case mail facts) and its two paragraphs p1, p2.
_MAIL_SELECT = """
SELECT x.mid, md5('t' || x.mid), encode(sha256(('m' || x.mid)::bytea), 'hex'),
  octet_length(x.body) + 2400 + CASE WHEN x.mh % 5 = 0 THEN 80000 + x.mh % 900000 ELSE 0 END,
  x.r, least(x.r + make_interval(secs => 5 + x.mh % 300), {now}),
  '<' || md5('m' || x.mid) || '@' || split_part(x.from_email, '@', 2) || '>',
  CASE WHEN x.k > 1 THEN '<' || md5('out' || x.mid) || '@landlord.example>' ELSE '' END,
  x.from_name, x.from_email, x.subject, x.body, x.outcome, x.rule, x.reason,
  CASE WHEN x.outcome = 'automatic' THEN NULL ELSE x.cid END,
  CASE WHEN x.outcome = 'duplicate' THEN x.mid - 1 END,
  CASE WHEN x.outcome = 'automatic' THEN '_automatic/' || to_char(x.r AT TIME ZONE 'UTC', 'YYYY-MM') || '/'
       ELSE x.cid || '/' END
    || 'mail-' || to_char(x.r AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') || '-' || md5('t' || x.mid),
  x.r < {now} - interval '10 minutes', false, 1
"""

_MAIL_COLUMNS = """
INSERT INTO mails (id, token, sha256, size, received_at, ingested_at, message_id, in_reply_to, from_name,
  from_email, subject, body_text, outcome, rule, reason, complaint_id, duplicate_of, storage_path, filed,
  triage_open, attempts)
"""


def _case_mails_sql(m: int, now: datetime) -> str:
    now_, p, k_max = _lit(now), PARAS_PER_TOPIC, 2 * m
    # a: one row a mail of a case; b: what the classifier made of it; c: its sender,
    # subject and rule; x: its text.
    a = f"""
      SELECT c.id AS cid, c.channel, c.flags, c.email, c.address, c.subject AS csubject, k,
        (c.g - 1) * {k_max} + k AS mid, bench.h((c.g - 1) * {k_max} + k, 11) AS mh,
        c.first || ' ' || c.last AS name, replace(c.address, E'\\n', ', ') AS line,
        greatest(c.received, least(
          c.received + (k - 1) * make_interval(days => 1 + bench.h(c.g * 100 + k, 12) % 5)
                     + make_interval(secs => CASE WHEN k > 1 THEN bench.h(c.g * 100 + k, 13) % 20000
                       ELSE 0 END),
          {now_} - make_interval(secs => 60 + bench.h(c.g * 100 + k, 14) % 86400))) AS r,
        p1.text AS p1, p2.text AS p2
      FROM (SELECT bc.*, co.subject FROM bench.c bc JOIN complaints co ON co.id = bc.id) c
      CROSS JOIN generate_series(1, {k_max - 1}) k
      JOIN bench.paras p1 ON p1.id = c.topic * {p} + bench.h(c.g * 100 + k, 15) % {p}
      JOIN bench.paras p2 ON p2.id = c.topic * {p} + bench.h(c.g * 100 + k, 16) % {p}
      WHERE k <= c.nm"""
    b = f"""
    SELECT a.*,
      CASE WHEN a.k = 1 AND a.channel = 'email' THEN 'complaint'
           WHEN a.k = 1 THEN 'reply'
           WHEN a.mh % 100 < 6 THEN 'automatic'
           WHEN a.mh % 100 < 9 THEN 'duplicate'
           WHEN a.mh % 100 < 12 AND a.flags = 'mp_enquiry' THEN 'mp_enquiry'
           ELSE 'reply' END AS outcome
    FROM ({a}) a"""
    c = f"""
  SELECT b.*,
    CASE WHEN b.outcome = 'mp_enquiry'
         THEN ({_array(MP_NAMES)})[1 + b.mh % {len(MP_NAMES)}] || ' MP' ELSE b.name END AS from_name,
    CASE WHEN b.outcome = 'mp_enquiry' THEN 'constituency' || (b.mh % 650) || '@parliament.uk'
         WHEN b.email = '' THEN lower(replace(b.name, ' ', '.')) || '@gmail.com'
         ELSE b.email END AS from_email,
    CASE WHEN b.k = 1 THEN b.csubject
         WHEN b.outcome = 'automatic' THEN 'Automatic reply: RE: ' || b.csubject
         WHEN b.outcome = 'mp_enquiry' THEN 'MP enquiry on behalf of ' || b.name || ' ' || b.cid
         ELSE (ARRAY['RE: ', 'Re: ', 'RE: RE: ', 'Fwd: '])[1 + b.mh % 4] || b.csubject
              || ' [' || b.cid || ']' END AS subject,
    CASE b.outcome WHEN 'complaint' THEN 'new_complaint' WHEN 'automatic' THEN 'out_of_office'
         WHEN 'duplicate' THEN 'identical_bytes' WHEN 'mp_enquiry' THEN 'mp_or_councillor'
         ELSE CASE WHEN b.mh % 100 < 15 THEN 'triage' ELSE 'subject_reference' END END AS rule,
    CASE b.outcome WHEN 'complaint' THEN 'no other rule applied: a new complaint'
         WHEN 'automatic' THEN 'has X-Autoreply header'
         WHEN 'duplicate' THEN 'same bytes as mail ' || (b.mid - 1)
         WHEN 'mp_enquiry' THEN 'sender is at parliament.uk (mp)'
         ELSE CASE WHEN b.mh % 100 < 15 THEN 'resolved by a person: attach'
                   ELSE 'subject quotes ' || b.cid || ' and ' || b.email || ' is a party' END END AS reason
  FROM ({b}) b"""
    x = f"""
SELECT c.*,
  CASE WHEN c.outcome = 'automatic' THEN
    'Thank you for your email. I am away until ' || to_char(c.r + interval '6 days', 'FMDay FMDD FMMonth')
    || ' with limited access to email. If your message is urgent please ring 0300 123 4567.'
  WHEN c.outcome = 'mp_enquiry' THEN
    E'Dear Sir or Madam,\\n\\nI have been contacted by my constituent, ' || c.name || ', of ' || c.line
    || E', who has asked me to raise the following concerns with you.\\n\\n' || c.p1 || E'\\n\\n' || c.p2
    || E'\\n\\nI would be grateful for your early response and for a copy of your reply to my constituent.'
    || E'\\n\\nYours sincerely\\n\\n' || c.from_name
  ELSE
    (ARRAY['Dear Sir or Madam,', 'Hello,', 'To whom it may concern,', 'Hi,'])[1 + c.mh % 4]
    || E'\\n\\n' || c.p1 || E'\\n\\n' || c.p2 || E'\\n\\n'
    || (ARRAY['Kind regards', 'Regards', 'Thanks', 'Yours faithfully', 'Many thanks'])[1 + c.mh % 5]
    || E'\\n' || c.name || CASE WHEN c.mh % 2 = 0 THEN E'\\n' || c.address ELSE '' END
  END AS body
FROM ({c}) c"""
    return _MAIL_COLUMNS + _MAIL_SELECT.format(now=now_) + f"FROM ({x}) x"


def _loose_mails_sql(kind: str, count: int, first_id: int, now: datetime, cases: int) -> str:
    """Mails outside any case: open triage items, quarantined mails, delivery reports.
    Half the triage items reply to one of our letters (In-Reply-To), a third quote a
    case reference in the subject and a quarter type one in the text."""
    now_, p = _lit(now), PARAS_PER_TOPIC
    outcome, rule, reason, days = {
        "triage": (
            "'triage'",
            "(ARRAY['subject_reference', 'thread_by_message_id', 'undecided', 'no_sender'])[1 + x.mh % 4]",
            "'reference in the subject names no known case, or the sender is not a party'",
            60,
        ),
        "quarantined": (
            "'quarantined'",
            "'quarantine'",
            "(ARRAY['classification failed: MIME nesting deeper than 20',"
            " 'over the size limit: first 64 KiB kept',"
            " 'parse timed out after 20 s', 'undecodable headers'])[1 + x.mh % 4]",
            400,
        ),
        "report": (
            "'automatic'",
            "'delivery_report'",
            "'delivery report (multipart/report)'",
            730,
        ),
    }[kind]
    return (
        _MAIL_COLUMNS
        + f"""
SELECT x.mid, md5('t' || x.mid), encode(sha256(('m' || x.mid)::bytea), 'hex'), octet_length(x.body) + 3100,
  x.r, least(x.r + interval '30 seconds', {now_}), '<' || md5('m' || x.mid) || '@mail.example.net>',
  CASE WHEN '{kind}' = 'triage' AND x.mh % 2 = 0
       THEN '<' || md5('ob' || (1 + x.mh % {cases})) || '@landlord.example>' ELSE '' END,
  x.from_name, x.from_email, x.subject, x.body, {outcome}, {rule}, {reason}, NULL, NULL,
  CASE '{kind}' WHEN 'triage' THEN '_triage/' WHEN 'quarantined' THEN '_quarantine/'
       ELSE '_automatic/' || to_char(x.r AT TIME ZONE 'UTC', 'YYYY-MM') || '/' END
    || 'mail-' || to_char(x.r AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') || '-' || md5('t' || x.mid),
  true, '{kind}' = 'triage', CASE WHEN '{kind}' = 'quarantined' THEN 1 + x.mh % 3 ELSE 1 END
FROM (
  SELECT {first_id} + gs.q AS mid, bench.h({first_id} + gs.q, 17) AS mh,
    'CMP-' || (extract(year FROM {now_})::int - gs.q % 2) || '-'
      || lpad((1 + bench.h(gs.q, 24) % greatest(1, {cases} / 2))::text, 6, '0') AS ref,
    {now_} - make_interval(secs => 120 + bench.h({first_id} + gs.q, 18) % ({days} * 86400)) AS r,
    CASE WHEN '{kind}' = 'report' THEN 'Mail Delivery System' ELSE fn.name || ' ' || sn.name END AS from_name,
    CASE WHEN '{kind}' = 'report' THEN 'mailer-daemon@landlord.example'
         ELSE lower(fn.name || sn.name) || (gs.q % 89) || '@' || (ARRAY['gmail.com', 'outlook.com',
           'yahoo.co.uk'])[1 + gs.q % 3]
    END AS from_email,
    CASE WHEN '{kind}' = 'report' THEN 'Undeliverable: Your complaint CMP-' || (2024 + gs.q % 3) || '-'
      || lpad((gs.q % 9999)::text, 6, '0')
         ELSE (ARRAY['', 'Fwd: ', 'RE: ', 'Urgent - '])[1 + gs.q % 4] || s.text END AS subject0,
    CASE WHEN '{kind}' = 'report'
      THEN 'Delivery has failed to these recipients or groups: the recipient''s mailbox is full.'
         ELSE 'Hello,' || E'\\n\\n' || p1.text || E'\\n\\n' || p2.text || E'\\n\\nThanks\\n'
           || fn.name END AS body0
  FROM generate_series(1, {count}) AS gs(q)
  JOIN bench.topics t ON t.t = bench.h({first_id} + gs.q, 19) % (SELECT count(*) FROM bench.topics)
  JOIN bench.subjects s ON s.t = t.t AND s.j = gs.q % t.nsub
  JOIN bench.paras p1 ON p1.id = t.t * {p} + bench.h({first_id} + gs.q, 20) % {p}
  JOIN bench.paras p2 ON p2.id = t.t * {p} + bench.h({first_id} + gs.q, 21) % {p}
  JOIN bench.first_names fn
    ON fn.i = bench.h({first_id} + gs.q, 22) % (SELECT count(*) FROM bench.first_names)
  JOIN bench.surnames sn ON sn.i = bench.h({first_id} + gs.q, 23) % (SELECT count(*) FROM bench.surnames)
) x0
CROSS JOIN LATERAL (
  SELECT x0.*,
    CASE WHEN '{kind}' = 'triage' AND x0.mh % 3 = 0 THEN x0.subject0 || ' [' || x0.ref || ']'
         ELSE x0.subject0 END AS subject,
    CASE WHEN '{kind}' = 'triage' AND x0.mh % 4 = 1
         THEN 'My reference number is ' || x0.ref || E'.\\n\\n' || x0.body0 ELSE x0.body0 END AS body
) x
"""
    )


_DOCUMENTS_SQL = """
INSERT INTO documents (complaint_id, mail_id, kind, path, sha256, size, original_name, content_type)
SELECT complaint_id, id, 'raw_mail', storage_path || '/message.eml', sha256, size, '', 'message/rfc822'
FROM mails
UNION ALL
SELECT complaint_id, id, 'attachment',
  storage_path || '/' || n.name, md5('a' || id) || md5('b' || id), 80000 + bench.h(id, 24) % 900000, n.name,
  CASE WHEN n.name LIKE '%.pdf' THEN 'application/pdf' WHEN n.name LIKE '%.png' THEN 'image/png'
       ELSE 'image/jpeg' END
FROM mails
CROSS JOIN LATERAL (SELECT (ARRAY['IMG_' || (1000 + id % 8999) || '.jpg', 'photo.jpeg', 'mould.png',
  'letter from GP.pdf', 'noise diary.pdf', 'receipt.jpg'])[1 + bench.h(id, 25) % 6] AS name) n
WHERE bench.h(id, 26) % 5 = 0 AND outcome <> 'automatic'
"""

_STEP_EVENTS_SQL = """
INSERT INTO events (complaint_id, mail_id, at, kind, detail, payload)
SELECT complaint_id, id, ingested_at, 'mail_' || outcome, rule || ': ' || reason, '' FROM mails
UNION ALL
SELECT id, NULL, received, 'logged', 'stage 1 complaint logged (' || channel || ')', '' FROM bench.c
UNION ALL
SELECT id, NULL, received + interval '1 hour', 'assigned', 'assigned to ' || officer, '' FROM bench.c
  WHERE officer <> ''
UNION ALL
SELECT id, NULL, ack_at, 'stage1_acknowledged', 'acknowledged by letter', '' FROM bench.c
  WHERE ack_at IS NOT NULL
UNION ALL
SELECT id, NULL, ack_at + interval '2 days', 'stage1_extended', 'more time needed for a surveyor',
  '{"until": "' || ((ack_at AT TIME ZONE 'Europe/London')::date + 28) || '"}'
FROM bench.c WHERE ack_at IS NOT NULL AND h8 % 100 < 8 AND ack_at + interval '2 days' < now()
  - interval '1 hour'
UNION ALL
SELECT id, NULL, resp1_at, 'stage1_responded', 'stage 1 response issued', '' FROM bench.c
  WHERE resp1_at IS NOT NULL
UNION ALL
SELECT id, NULL, esc_at, 'escalation_requested', 'resident asked for stage 2', '' FROM bench.c
  WHERE esc_at IS NOT NULL
UNION ALL
SELECT id, NULL, ack2_at, 'stage2_acknowledged', 'stage 2 acknowledged', '' FROM bench.c
  WHERE ack2_at IS NOT NULL
UNION ALL
SELECT id, NULL, resp2_at, 'stage2_responded', 'final response issued', '' FROM bench.c
  WHERE resp2_at IS NOT NULL
UNION ALL
SELECT id, NULL, refused_at, 'refused', 'not a complaint: a service request (2.1)', '' FROM bench.c
WHERE refused_at IS NOT NULL
UNION ALL
SELECT id, NULL, withdrawn_at, 'withdrawn', 'resident withdrew by phone', '' FROM bench.c
  WHERE withdrawn_at IS NOT NULL
UNION ALL
SELECT id, NULL, closed_at, 'closed', 'closed after the response', '' FROM bench.c WHERE closed_at IS NOT NULL
"""


def _deadlines_sql(now: datetime, version: str) -> str:
    now_ = _lit(now)
    return f"""
INSERT INTO deadlines (complaint_id, clock, paragraph, title, started_at, due, lapses_at, original_due,
  calendar_version, stopped_at, missed_at, ended_by, next_reminder_at, computed_at)
SELECT d.complaint_id, d.clock, d.paragraph, d.title, d.started_at, d.due, l.lapses_at, d.original_due,
  '{version}', d.stopped_at,
  CASE WHEN coalesce(d.stopped_at, {now_}) >= l.lapses_at THEN l.lapses_at END, d.ended_by,
  CASE WHEN d.stopped_at IS NULL AND d.status = 'open' THEN
    CASE WHEN l.lapses_at - interval '3 days' > {now_} THEN l.lapses_at - interval '3 days'
      + interval '9 hours'
         ELSE date_trunc('day', {now_}) + interval '1 day 9 hours' END END,
  {now_}
FROM (
  SELECT id AS complaint_id, status, 'stage1_acknowledgement' AS clock, '6.2' AS paragraph,
    'Acknowledge, define and log the stage 1 complaint' AS title, received AS started_at,
    (received AT TIME ZONE 'Europe/London')::date + 7 AS due,
      (received AT TIME ZONE 'Europe/London')::date + 7 AS original_due,
    coalesce(ack_at, refused_at) AS stopped_at, CASE WHEN refused_at IS NOT NULL THEN 'refused'
      ELSE '' END AS ended_by
  FROM bench.c
  UNION ALL
  SELECT id, status, 'stage1_response', '6.3', 'Stage 1 response', ack_at,
    (ack_at AT TIME ZONE 'Europe/London')::date + CASE WHEN h8 % 100 < 8 THEN 28 ELSE 14 END,
    (ack_at AT TIME ZONE 'Europe/London')::date + 14,
    coalesce(resp1_at, withdrawn_at), CASE WHEN withdrawn_at IS NOT NULL THEN 'withdrawn' ELSE '' END
  FROM bench.c WHERE ack_at IS NOT NULL
  UNION ALL
  SELECT id, status, 'stage2_acknowledgement', '6.11',
    'Acknowledge, define and log the stage 2 complaint', esc_at,
    (esc_at AT TIME ZONE 'Europe/London')::date + 7, (esc_at AT TIME ZONE 'Europe/London')::date + 7,
      ack2_at, ''
  FROM bench.c WHERE esc_at IS NOT NULL
  UNION ALL
  SELECT id, status, 'stage2_response', '6.14', 'Stage 2 (final) response', ack2_at,
    (ack2_at AT TIME ZONE 'Europe/London')::date + 28, (ack2_at AT TIME ZONE 'Europe/London')::date + 28,
      resp2_at, ''
  FROM bench.c WHERE ack2_at IS NOT NULL
  UNION ALL
  SELECT id, status, 'remedy#' || (g * 3), '7.3', 'Remedy promised in a response', coalesce(resp2_at,
    resp1_at),
    (coalesce(resp2_at, resp1_at) AT TIME ZONE 'Europe/London')::date + 20 + h9 % 60,
    (coalesce(resp2_at, resp1_at) AT TIME ZONE 'Europe/London')::date + 20 + h9 % 60,
    CASE WHEN h9 % 10 < 7 AND coalesce(resp2_at, resp1_at) + make_interval(days => 5 + h9 % 70) < {now_}
         THEN coalesce(resp2_at, resp1_at) + make_interval(days => 5 + h9 % 70) END, ''
  FROM bench.c WHERE coalesce(resp2_at, resp1_at) IS NOT NULL AND h8 % 100 < 10
  UNION ALL
  SELECT id, status, 'mp_enquiry_response', 'policy', 'Answer to an MP or councillor enquiry',
    received + interval '2 days', (received AT TIME ZONE 'Europe/London')::date + 16,
    (received AT TIME ZONE 'Europe/London')::date + 16,
    CASE WHEN received + make_interval(days => 4 + h4 % 20) < {now_} THEN received
      + make_interval(days => 4 + h4 % 20) END,
    ''
  FROM bench.c WHERE flags = 'mp_enquiry' AND received + interval '2 days' < {now_}
) d
CROSS JOIN LATERAL (SELECT ((d.due + 1)::timestamp AT TIME ZONE 'Europe/London') AS lapses_at) l
"""


def _letters_sql(now: datetime) -> list[str]:
    now_ = _lit(now)
    letters = f"""
CREATE UNLOGGED TABLE bench.l AS
SELECT row_number() OVER (ORDER BY s.created_at, s.g, s.letter_type) AS id, s.*, c.id AS complaint_id,
  c.email,
  c.first || ' ' || c.last AS name, c.address, c.officer, c.h2, c.h3, c.h4,
  CASE WHEN s.issued_at IS NULL THEN CASE WHEN c.h7 % 12 = 0 THEN 'approved' ELSE 'draft' END
       WHEN c.email = '' OR c.h4 % 100 < 5 THEN 'for_post' ELSE 'sent' END AS status
FROM (
  SELECT g, 'stage1-acknowledgement' AS letter_type, 1 AS stage, ack_at - interval '3 hours' AS created_at,
    ack_at AS issued_at FROM bench.c WHERE ack_at IS NOT NULL AND h9 % 4 <> 0
  UNION ALL SELECT g, 'stage1-response', 1, resp1_at - interval '1 day', resp1_at
    FROM bench.c WHERE resp1_at IS NOT NULL AND h9 % 4 <> 0
  UNION ALL SELECT g, 'stage2-acknowledgement', 2, ack2_at - interval '3 hours', ack2_at
    FROM bench.c WHERE ack2_at IS NOT NULL AND h9 % 4 <> 0
  UNION ALL SELECT g, 'stage2-response', 2, resp2_at - interval '2 days', resp2_at
    FROM bench.c WHERE resp2_at IS NOT NULL AND h9 % 4 <> 0
  UNION ALL SELECT g, 'refusal', 1, refused_at - interval '2 hours', refused_at
    FROM bench.c WHERE refused_at IS NOT NULL AND h9 % 4 <> 0
  UNION ALL SELECT g, 'stage1-acknowledgement', 1, received + interval '5 minutes', NULL
    FROM bench.c WHERE status = 'open' AND ack_at IS NULL AND refused_at IS NULL
  UNION ALL SELECT g, 'stage1-response', 1, least(ack_at + make_interval(days => 2 + h7 % 6), {now_}), NULL
    FROM bench.c WHERE status = 'open' AND ack_at IS NOT NULL AND resp1_at IS NULL AND withdrawn_at IS NULL
      AND h7 % 3 = 0
  UNION ALL SELECT g, 'stage2-response', 2, least(ack2_at + make_interval(days => 8 + h7 % 6), {now_}), NULL
    FROM bench.c WHERE status = 'open' AND ack2_at IS NOT NULL AND resp2_at IS NULL AND h7 % 3 = 0
) s
JOIN bench.c c ON c.g = s.g
"""
    outbox = f"""
INSERT INTO outbox (id, dedupe_key, message_id, sender, recipients, subject, raw, status, attempts,
  next_attempt_at, last_error, created_at, sent_at, complaint_id)
SELECT l.id, 'letter:' || l.id, '<' || md5('ob' || l.id) || '@landlord.example>',
  'complaints@landlord.example',
  l.email, initcap(replace(l.letter_type, '-', ' ')) || ': your complaint ' || l.complaint_id,
  CASE WHEN o.status <> 'sent' OR l.issued_at > {now_} - interval '14 days' THEN bench.blob(l.id, 48)
       ELSE bench.blob(l.id, 2) END,
  o.status, CASE o.status WHEN 'failed' THEN 5 WHEN 'pending' THEN 2 ELSE 1 END,
  CASE o.status WHEN 'pending' THEN {now_} + interval '10 minutes' ELSE l.issued_at END,
  CASE o.status WHEN 'bounced' THEN '552 5.2.2 <' || l.email || '>: mailbox full'
                WHEN 'failed' THEN '550 5.1.1 <' || l.email || '>: Recipient address rejected: User unknown'
                WHEN 'pending' THEN 'timed out connecting to smtp.office365.com:587' ELSE '' END,
  l.issued_at, CASE WHEN o.status IN ('sent', 'bounced') THEN l.issued_at + interval '40 seconds' END,
  l.complaint_id
FROM bench.l l
CROSS JOIN LATERAL (SELECT CASE
  WHEN l.issued_at > {now_} - interval '3 days' AND l.h2 % 25 = 0 THEN 'failed'
  WHEN l.issued_at > {now_} - interval '3 days' AND l.h2 % 25 = 1 THEN 'pending'
  WHEN l.h3 % 1200 = 0 THEN 'bounced' WHEN l.h3 % 400 = 0 THEN 'failed' ELSE 'sent' END AS status) o
WHERE l.status = 'sent'
"""
    insert = f"""
INSERT INTO letters (id, complaint_id, letter_type, status, revision, edited, fields_json, context_json,
  docx_path, docx_sha256, check_json, created_at, approved_at, approved_by, issued_at, pdf_path, pdf_sha256,
  outbox_id, message_id)
SELECT l.id, l.complaint_id, l.letter_type, l.status, 1 + l.h4 % 3, l.h4 % 7 = 0,
  replace(j.fields, '{SAMPLE_HANDLER}', coalesce(nullif(l.officer, ''), 'the complaints team')),
  replace(replace(replace(j.context, '{SAMPLE_NAME}', l.name), '{SAMPLE_REFERENCE}', l.complaint_id),
          '{SAMPLE_ADDRESS}', replace(l.address, E'\\n', ', ')),
  l.complaint_id || '/letters/letter-' || l.id || '-r' || (1 + l.h4 % 3) || '.docx',
  encode(sha256(('d' || l.id)::bytea), 'hex'), j.check_json, l.created_at,
  CASE WHEN l.status <> 'draft' THEN coalesce(l.issued_at, {now_}) - interval '10 minutes' END,
  CASE WHEN l.status <> 'draft' THEN coalesce(nullif(l.officer, ''), '{w.MANAGER[1]}') ELSE '' END,
  l.issued_at,
  CASE WHEN l.issued_at IS NOT NULL THEN l.complaint_id || '/letters/letter-' || l.id || '.pdf' ELSE '' END,
  CASE WHEN l.issued_at IS NOT NULL THEN encode(sha256(('p' || l.id)::bytea), 'hex') ELSE '' END,
  CASE WHEN l.status = 'sent' THEN l.id END,
  CASE WHEN l.status = 'sent' THEN '<' || md5('ob' || l.id) || '@landlord.example>' ELSE '' END
FROM bench.l l
JOIN bench.letter_json j ON j.letter_type = l.letter_type
  AND j.passed = (l.status <> 'draft' OR l.h3 % 5 <> 0)
"""
    extras = f"""
INSERT INTO documents (complaint_id, mail_id, kind, path, sha256, size, original_name, content_type)
SELECT complaint_id, NULL::int, 'letter_docx', docx_path, docx_sha256, 38000 + id % 9000, '',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document' FROM letters
UNION ALL
SELECT complaint_id, NULL, 'letter_pdf', pdf_path, pdf_sha256, 61000 + id % 9000, '', 'application/pdf'
FROM letters WHERE issued_at IS NOT NULL;
INSERT INTO case_record (complaint_id, letter_id, stage, kind, position, text, data_json, due, event_id,
  recorded_at)
SELECT l.complaint_id, l.id, l.stage, k.kind, k.position, k.text, '{{}}', NULL, NULL, l.issued_at
FROM bench.l l
CROSS JOIN LATERAL (VALUES ('point', 1, 'The repair was not completed when promised'),
                           ('decision', 2, 'Upheld: the repair took too long and we did not update you'),
                           ('remedy', 3, 'Compensation of ' || (50 + l.h2 % 400) || ' pounds')) k(kind,
                             position, text)
WHERE l.issued_at IS NOT NULL AND l.letter_type IN ('stage1-response', 'stage2-response');
INSERT INTO events (complaint_id, mail_id, at, kind, detail, payload)
SELECT o.complaint_id, r.id, o.created_at + interval '20 minutes', 'bounce_linked',
  'delivery report (mail ' || r.id || ') for letter ' || o.id || ' (outbox ' || o.id
    || ') bounced: mailbox full', ''
FROM outbox o
CROSS JOIN (SELECT min(id) AS first FROM mails WHERE rule = 'delivery_report') f
CROSS JOIN LATERAL (SELECT f.first + o.id % 50 AS id) r
WHERE o.status = 'bounced';
INSERT INTO events (complaint_id, mail_id, at, kind, detail, payload)
SELECT complaint_id, NULL::int, created_at, 'letter_drafted',
  'letter ' || id || ' drafted: ' || letter_type, ''
FROM bench.l
UNION ALL
SELECT complaint_id, NULL, issued_at,
  CASE WHEN status = 'for_post' THEN 'letter_for_post' ELSE 'letter_sent' END,
  'letter ' || id || CASE WHEN status = 'for_post' THEN ': print and post it' ELSE ': emailed to '
    || email END, ''
FROM bench.l WHERE issued_at IS NOT NULL;
INSERT INTO audit_log (at, actor, action, complaint_id, target, detail, source)
SELECT coalesce(issued_at, {now_}) - interval '10 minutes', coalesce(nullif(officer, ''), '{w.MANAGER[1]}'),
  'letter.approve', complaint_id, 'letter ' || id, letter_type, '10.20.' || (h2 % 200) || '.' || (h3 % 250)
FROM bench.l WHERE status <> 'draft'
UNION ALL
SELECT received + interval '1 hour', '{w.MANAGER[1]}', 'case.assign', id, 'case ' || id, 'to ' || officer, ''
FROM bench.c WHERE officer <> ''
"""
    return [letters, outbox, insert, extras]


def _reminders_sql(now: datetime) -> str:
    now_ = _lit(now)
    return f"""
CREATE UNLOGGED TABLE bench.r AS
SELECT d.complaint_id || ':' || d.clock || ':' || d.due || ':' || s.step AS key, d.complaint_id, d.clock,
  s.step,
  coalesce(nullif(c.officer, ''), 'complaints-team@landlord.example') AS recipients, d.title, d.due,
  least(d.lapses_at - s.before, {now_} - interval '1 hour') AS at
FROM deadlines d
JOIN complaints c ON c.id = d.complaint_id
CROSS JOIN LATERAL (VALUES ('T-2', interval '3 days'), ('due', interval '1 day')) s(step, before)
WHERE d.id % 3 = 0 AND d.lapses_at - s.before < {now_};
INSERT INTO reminder_log (key, complaint_id, clock, step, recipients, digest, created_at)
SELECT key, complaint_id, clock, step, recipients, false, at FROM bench.r;
INSERT INTO outbox (dedupe_key, message_id, sender, recipients, subject, raw, status, attempts,
  next_attempt_at,
  last_error, created_at, sent_at, complaint_id)
SELECT 'reminder:' || key, '<' || md5('rm' || key) || '@landlord.example>', 'mailroom@landlord.example',
  recipients, 'Reminder (' || step || '): ' || title || ' for ' || complaint_id || ', due ' || due,
  bench.blob(hashtext(key), 2), 'sent', 1, at, '', at, at + interval '20 seconds', complaint_id
FROM bench.r
"""


def _secondary_indexes(cur: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    cur.execute(
        """
SELECT ic.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
""",
        (list(BIG_TABLES),),
    )
    return [(str(name), str(ddl)) for name, ddl in cur.fetchall()]


def _rebuild(dsn: str, ddls: list[str], workers: int = 2) -> None:
    """Build the dropped indexes again, ``workers`` at a time, full-text ones first
    (a GIN index over a million mails' text is most of the time)."""

    def build(ddl: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(b"SET maintenance_work_mem = '512MB'")
            connection.execute(ddl.encode())

    ordered = sorted(ddls, key=lambda ddl: ("using gin" not in ddl.lower(), ddl))
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(build, ordered))


def seed(dsn: str, complaints: int, mails_per_complaint: int, now: datetime, calendar_version: str) -> Seeded:
    """Fill the migrated, empty database at ``dsn`` (a libpq URL)."""
    n, m = complaints, mails_per_complaint
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()

    def step(name: str, *sql: str) -> None:
        t0 = time.perf_counter()
        for statement in sql:
            cur.execute(statement.encode())
        conn.commit()
        steps.append((name, round(time.perf_counter() - t0, 1)))

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET work_mem = '256MB'")
        _word_tables(cur)
        _letter_json(cur)
        cur.execute(
            "CREATE FUNCTION bench.blob(seed bigint, kib int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$"
            " SELECT decode(string_agg(md5(seed::text || '-' || j), ''), 'hex')"
            " FROM generate_series(1, kib * 64) j $$"
        )
        conn.commit()
        indexes = _secondary_indexes(cur)
        step("drop secondary indexes", *(f'DROP INDEX "{name}"' for name, _ in indexes))
        step("complaint facts", _cases_sql(n, m, now), "ANALYZE bench.c")
        step("complaints, parties, counters, staff", *_complaints_sql(now))
        loose = n * m
        k_max = 2 * m
        first_loose = n * k_max + 1
        triage = max(50, loose * 3 // 1000)
        quarantined = max(20, loose // 2000)
        reports = max(50, loose // 100)
        step("case mails", _case_mails_sql(m, now))
        step(
            "triage, quarantined and automatic mails",
            _loose_mails_sql("triage", triage, first_loose, now, n),
            _loose_mails_sql("quarantined", quarantined, first_loose + triage, now, n),
            _loose_mails_sql("report", reports, first_loose + triage + quarantined, now, n),
        )
        step("documents", _DOCUMENTS_SQL)
        step("events", _STEP_EVENTS_SQL)
        step("deadlines", _deadlines_sql(now, calendar_version))
        step("letters, outbox, case record, audit", *_letters_sql(now))
        step(
            "sequences",
            *(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                for table in ("mails", "letters", "outbox")
            ),
        )
        step("reminders and their mails", _reminders_sql(now))
        t0 = time.perf_counter()
        _rebuild(dsn, [ddl for _, ddl in indexes])
        steps.append(("rebuild secondary indexes (2 at a time)", round(time.perf_counter() - t0, 1)))
        step("drop bench scratch schema", "DROP SCHEMA bench CASCADE")
        conn.autocommit = True
        t0 = time.perf_counter()
        cur.execute("VACUUM (ANALYZE)")
        steps.append(("VACUUM (ANALYZE)", round(time.perf_counter() - t0, 1)))
        counts = {}
        for table in COUNTED:
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = int(cur.fetchone()[0])  # type: ignore[index]
    return Seeded(n, counts["mails"], round(time.perf_counter() - started, 1), steps, counts)
