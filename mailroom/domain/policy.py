"""A landlord's own complaints policy (``rules/policies/*.toml``), layered on a rule pack.

A rule pack (``rules/housing-ombudsman-2024.toml``, ``rules/spso-mchp.toml``) holds what
the Code allows; a landlord policy holds what the landlord says it does: its letterhead,
who signs, its own timescales, its procedure, its exclusions and the categories its
complaints are counted under (``[complaints]``, with defaults). ``check_policy`` compares
the two and returns findings:

- ``conflict``: the policy breaks the Code (a 15-working-day stage 1 response breaks 6.3;
  a 6-month window refuses complaints 2.3 requires to be accepted within 12 months);
- ``review``: allowed only with care, or outside what software can judge (an exclusion
  with no Code basis).

A policy's stricter timescales are not findings: they run the clocks
(``deadlines.stricter_timescales``).

Pure: callers pass the TOML text in, with a name for it (usually the file's path) that
every error and finding names. Errors are one line (``PolicyError``), never a traceback.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from mailroom.errors import UserError

Severity = Literal["conflict", "review"]

# Clock names a policy may set, in working days. ``<stage>_extension`` is the most a
# ``<stage>_response`` clock may be extended by (the pack's ``extension_cap``).
# The MP/councillor enquiry clocks are the landlord's own: no Code clock covers them.
TIMESCALE_NAMES = (
    "stage1_acknowledgement",
    "stage1_response",
    "stage1_extension",
    "stage2_acknowledgement",
    "stage2_response",
    "stage2_extension",
    "mp_enquiry_acknowledgement",
    "mp_enquiry_response",
)

# Paragraph references for the procedure checks; a pack's ``[paragraphs]`` table
# overrides them (rules/spso-mchp.toml does). Defaults: Housing Ombudsman Code 2024.
DEFAULT_PARAGRAPHS: Mapping[str, str] = MappingProxyType(
    {
        "informal_stage": "5.2",
        "max_stages": "5.3",
        "min_stages": "6.10",
        "complaint_window": "2.3",
        "escalation_reasons": "6.12",
        "escalation_grounds": "6.10/6.12",
        "escalation_window": "5.11",
        "ombudsman_wait": "HOS guidance",
        "exclusions": "2.2/2.5",
        "calendar_days": "6.2-6.16",
    }
)

# A pack clock whose ``paragraph`` is this is the landlord's own, not a Code clock
# (housing-ombudsman-2024.toml: mp_enquiry_response).
LANDLORD_CLOCK = "policy"

# Extension paragraphs of the Housing Ombudsman Code, keyed by the response clock's own
# paragraph, for packs whose clocks do not say ``extension_paragraph`` (housing-ombudsman-2024.toml).
_HOS_EXTENSION_PARAGRAPHS = {"6.3": "6.4", "6.14": "6.15"}


# Complaint categories (``[complaints] categories``) when a policy lists none: the
# report's "complaints by category" (docs/reports.md, "Categories"). Staff set a
# case's category from the list; keywords only suggest one.
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "Repairs",
    "Damp and mould",
    "Anti-social behaviour",
    "Staff conduct",
    "Communication",
    "Rent and service charges",
    "Estate and grounds",
    "Lettings and allocations",
    "Building safety",
    "Other",
)
# The words that suggest each category (``[complaints.category_keywords]``), matched
# at the start of a word in any case: "leak" finds "leaking". No "ASB": it would find
# "asbestos".
DEFAULT_CATEGORY_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Repairs": ("repair", "leak", "broken", "boiler", "heating", "hot water", "roof", "plumb"),
        "Damp and mould": ("damp", "mould", "mold", "condensation"),
        "Anti-social behaviour": ("anti-social", "antisocial", "neighbour", "noise", "nuisance", "harass"),
        "Staff conduct": ("rude", "unprofessional", "attitude", "shouted", "member of staff"),
        "Communication": ("no reply", "no response", "not replied", "ignored", "call back", "kept informed"),
        "Rent and service charges": ("rent", "service charge", "arrears", "direct debit", "overcharg"),
        "Estate and grounds": ("grass", "grounds", "communal", "bins", "rubbish", "fly-tip", "fence"),
        "Lettings and allocations": ("allocation", "transfer", "waiting list", "bidding", "move home"),
        "Building safety": ("fire", "smoke alarm", "gas safety", "carbon monoxide", "asbestos", "cladding"),
    }
)
MAX_CATEGORY = 60  # characters: complaints.category is String(60)
MAX_KEYWORDS = 100  # a category's keywords: the suggestion stays one small pattern


class PolicyError(UserError, ValueError):
    """A policy or rule pack is invalid. The message is one line naming the file and key."""


# ---------------------------------------------------------------------------------------
# The landlord policy


@dataclass(frozen=True)
class Landlord:
    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    # The review desk's accent colour, "#rrggbb" (docs/desk.md); "" for the neutral one.
    colour: str = ""


@dataclass(frozen=True)
class Signatory:
    name: str  # a team or office is fine ("Customer Resolution Team"); no invented people
    role: str
    stage2_name: str | None = None
    stage2_role: str | None = None


@dataclass(frozen=True)
class Timescales:
    working_days: Mapping[str, int]  # clock name (TIMESCALE_NAMES) -> working days
    calendar_days_max: Mapping[str, int]  # clock name -> calendar days, where the policy uses them


@dataclass(frozen=True)
class Procedure:
    stages: int  # formal stages
    informal_stage: bool = False  # a "stage 0" / "concern" / informal complaint stage
    informal_stage_working_days: int | None = None
    complaint_window_months: int | None = None  # None: the pack's
    escalation_reasons_required: bool = False
    escalation_window_working_days: int | None = None  # time allowed to ask for stage 2
    escalation_only_on_grounds: tuple[str, ...] = ()  # stage 2 allowed only on these grounds
    ombudsman_wait_weeks: int | None = None  # "wait 8 weeks / designated person" wording


@dataclass(frozen=True)
class Exclusion:
    id: str
    description: str
    code_basis: str | None = None  # an exclusion id of the rule pack


@dataclass(frozen=True)
class LandlordPolicy:
    source: str
    landlord: Landlord
    signatory: Signatory
    timescales: Timescales
    procedure: Procedure
    exclusions: tuple[Exclusion, ...]
    # ``[complaints]``: the categories staff choose from, and the keywords that suggest them.
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    category_keywords: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: DEFAULT_CATEGORY_KEYWORDS
    )


_STR, _INT, _BOOL, _STR_LIST, _TABLE = "text", "a whole number", "true or false", "a list of text", "a table"

_SECTIONS: Mapping[str, Mapping[str, str]] = {
    "landlord": {
        "name": _STR,
        "address": _STR,
        "phone": _STR,
        "email": _STR,
        "website": _STR,
        "colour": _STR,
    },
    "signatory": {"name": _STR, "role": _STR, "stage2_name": _STR, "stage2_role": _STR},
    "timescales": {**dict.fromkeys(TIMESCALE_NAMES, _INT), "calendar_days_max": _TABLE},
    "procedure": {
        "stages": _INT,
        "informal_stage": _BOOL,
        "informal_stage_working_days": _INT,
        "complaint_window_months": _INT,
        "escalation_reasons_required": _BOOL,
        "escalation_window_working_days": _INT,
        "escalation_only_on_grounds": _STR_LIST,
        "ombudsman_wait_weeks": _INT,
    },
    "complaints": {"categories": _STR_LIST, "category_keywords": _TABLE},
}
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "landlord": ("name",),
    "signatory": ("name", "role"),
    "timescales": (),
    "procedure": ("stages",),
    "complaints": (),
}
_EXCLUSION_KEYS: Mapping[str, str] = {"id": _STR, "description": _STR, "code_basis": _STR}
_TOP_LEVEL = (*_SECTIONS, "exclusions")


def parse_policy(text: str, source: str = "policy") -> LandlordPolicy:
    """Parse a landlord policy. Unknown keys and wrong types raise ``PolicyError``."""
    data = _toml(text, source)
    for key, value in data.items():
        if key not in _TOP_LEVEL:
            raise PolicyError(f"{source}: {key}: unknown section{_did_you_mean(key, _TOP_LEVEL)}")
        if key != "exclusions" and not isinstance(value, dict):
            raise PolicyError(f"{source}: {key}: must be a table ([{key}])")
    for name in ("landlord", "signatory", "procedure"):
        if name not in data:
            raise PolicyError(f"{source}: [{name}]: missing section")
    sections = {name: _section(source, name, data.get(name, {})) for name in _SECTIONS}
    timescales = sections["timescales"]
    calendar = _calendar_days(source, timescales.pop("calendar_days_max", {}))
    procedure = sections["procedure"]
    if procedure.get("informal_stage_working_days") is not None and not procedure.get("informal_stage"):
        raise PolicyError(
            f"{source}: procedure.informal_stage_working_days: set, but procedure.informal_stage is not true"
        )
    procedure["escalation_only_on_grounds"] = tuple(procedure.get("escalation_only_on_grounds", ()))
    colour = sections["landlord"].get("colour", "")
    if colour and not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
        example = '"#1d4f76"'
        raise PolicyError(f"{source}: landlord.colour: must be a colour like {example}, not {_show(colour)}")
    return LandlordPolicy(
        source=source,
        landlord=Landlord(**sections["landlord"]),
        signatory=Signatory(**sections["signatory"]),
        timescales=Timescales(MappingProxyType(timescales), MappingProxyType(calendar)),
        procedure=Procedure(**procedure),
        exclusions=_exclusions(source, data.get("exclusions", [])),
        **_categories(source, sections["complaints"]),
    )


def _section(source: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    schema = _SECTIONS[name]
    found: dict[str, Any] = {}
    for key, value in body.items():
        if key not in schema:
            raise PolicyError(f"{source}: {name}.{key}: unknown key{_did_you_mean(key, schema)}")
        found[key] = _typed(source, f"{name}.{key}", value, schema[key])
    for key in _REQUIRED[name]:
        if key not in found:
            raise PolicyError(f"{source}: {name}.{key}: missing")
    return found


def _typed(source: str, where: str, value: Any, kind: str) -> Any:
    """``value`` if it is of ``kind``; whole numbers must be at least 1 and text non-empty."""
    ok = {
        _STR: isinstance(value, str) and bool(value.strip()),
        _INT: isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        _BOOL: isinstance(value, bool),
        _STR_LIST: isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value),
        _TABLE: isinstance(value, dict),
    }[kind]
    if not ok:
        wanted = {_STR: "non-empty text", _INT: "a whole number of at least 1"}.get(kind, kind)
        raise PolicyError(f"{source}: {where}: must be {wanted}, not {_show(value)}")
    return value


def _calendar_days(source: str, body: Mapping[str, Any]) -> dict[str, int]:
    days: dict[str, int] = {}
    for key, value in body.items():
        if key not in TIMESCALE_NAMES:
            where = f"timescales.calendar_days_max.{key}"
            raise PolicyError(f"{source}: {where}: unknown clock{_did_you_mean(key, TIMESCALE_NAMES)}")
        days[key] = _typed(source, f"timescales.calendar_days_max.{key}", value, _INT)
    return days


def _categories(source: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``categories`` and ``category_keywords`` of ``[complaints]``. Without a list, the
    built-in one. A category keeps its built-in keywords unless the policy gives its
    own (``[]``: none)."""
    categories = DEFAULT_CATEGORIES
    if "categories" in body:
        categories = tuple(" ".join(name.split()) for name in body["categories"])
        if not categories:
            raise PolicyError(f"{source}: complaints.categories: must list at least one category")
        seen: set[str] = set()
        for name in categories:
            _check_label(source, "complaints.categories", name)
            if name.casefold() in seen:
                raise PolicyError(f"{source}: complaints.categories: {name!r} is listed twice")
            seen.add(name.casefold())
    built_in = {name.casefold(): words for name, words in DEFAULT_CATEGORY_KEYWORDS.items()}
    found = {name: built_in.get(name.casefold(), ()) for name in categories}
    for key, value in body.get("category_keywords", {}).items():
        where = f"complaints.category_keywords.{key}"
        named = next((c for c in categories if c.casefold() == " ".join(key.split()).casefold()), None)
        if named is None:
            raise PolicyError(
                f"{source}: {where}: not one of complaints.categories{_did_you_mean(key, categories)}"
            )
        words = tuple(" ".join(word.split()).casefold() for word in _typed(source, where, value, _STR_LIST))
        if len(words) > MAX_KEYWORDS:
            raise PolicyError(f"{source}: {where}: {len(words)} keywords; at most {MAX_KEYWORDS}")
        for word in words:
            _check_label(source, where, word)
        found[named] = tuple(dict.fromkeys(words))
    ordered = {name: found[name] for name in categories if found.get(name)}  # ties go by list order
    return {"categories": categories, "category_keywords": MappingProxyType(ordered)}


def _check_label(source: str, where: str, text: str) -> None:
    if len(text) > MAX_CATEGORY:
        raise PolicyError(f"{source}: {where}: {_show(text)} is longer than {MAX_CATEGORY} characters")
    if not text.isprintable():
        raise PolicyError(f"{source}: {where}: {_show(text)} has control characters")


def _exclusions(source: str, body: Any) -> tuple[Exclusion, ...]:
    if not isinstance(body, list) or not all(isinstance(entry, dict) for entry in body):
        raise PolicyError(f"{source}: exclusions: must be a list of tables ([[exclusions]])")
    found: list[Exclusion] = []
    for index, entry in enumerate(body):
        where = f"exclusions[{index}]"
        values: dict[str, Any] = {}
        for key, value in entry.items():
            if key not in _EXCLUSION_KEYS:
                raise PolicyError(
                    f"{source}: {where}.{key}: unknown key{_did_you_mean(key, _EXCLUSION_KEYS)}"
                )
            values[key] = _typed(source, f"{where}.{key}", value, _EXCLUSION_KEYS[key])
        for key in ("id", "description"):
            if key not in values:
                raise PolicyError(f"{source}: {where}.{key}: missing")
        if any(e.id == values["id"] for e in found):
            raise PolicyError(f"{source}: {where}.id: {values['id']!r} is used twice")
        found.append(Exclusion(**values))
    return tuple(found)


# ---------------------------------------------------------------------------------------
# The rule pack's limits


@dataclass(frozen=True)
class ClockLimit:
    name: str
    paragraph: str
    working_days: int
    extension_cap: int | None = None
    extension_paragraph: str | None = None
    title: str = ""
    starts: str = ""
    stops: str = ""


@dataclass(frozen=True)
class PackExclusion:
    id: str
    description: str
    paragraph: str


@dataclass(frozen=True)
class PackLimits:
    source: str
    id: str
    code: str
    clocks: Mapping[str, ClockLimit]
    max_stages: int
    min_stages: int
    complaint_window_months: int
    escalation_reasons_required: bool
    escalation_window_months: int | None  # time the pack allows to ask for stage 2; None: no limit
    exclusions: Mapping[str, PackExclusion]
    paragraphs: Mapping[str, str]

    @property
    def label(self) -> str:
        """How messages name the pack: "the Housing Ombudsman Complaint Handling Code 2024"."""
        return f"the {self.code or self.id or self.source}"


def load_pack_clocks(text: str, source: str = "rule pack") -> dict[str, ClockLimit]:
    """Every counted clock of any pack (``[clocks.*]`` with ``working_days``), by name.

    Clocks whose date is set on the case (``due_from``, no ``working_days``) are left out:
    a policy has no number of days to compare with them.
    """
    return _clocks(_toml(text, source), source)


def load_pack_limits(text: str, source: str = "rule pack") -> PackLimits:
    """The clocks, ``[limits]``, ``[exclusions.*]`` and ``[paragraphs]`` of a rule pack.

    Lenient about keys it does not use (packs carry letters, contacts and more), strict
    about the types of those it does.
    """
    data = _toml(text, source)
    limits = data.get("limits")
    if not isinstance(limits, dict):
        raise PolicyError(f"{source}: [limits]: missing section (max_stages, complaint_window_months)")
    max_stages = _required_int(source, limits, "limits.max_stages")
    exclusions = data.get("exclusions", {})
    if not isinstance(exclusions, dict):
        raise PolicyError(f"{source}: exclusions: must be tables ([exclusions.<id>])")
    paragraphs = data.get("paragraphs", {})
    if not isinstance(paragraphs, dict) or not all(isinstance(v, str) for v in paragraphs.values()):
        raise PolicyError(f"{source}: paragraphs: must be a table of text")
    reasons = limits.get("escalation_reasons_required", False)
    if not isinstance(reasons, bool):
        raise PolicyError(f"{source}: limits.escalation_reasons_required: must be true or false")
    return PackLimits(
        source=source,
        id=str(data.get("id", "")),
        code=str(data.get("code", "")),
        clocks=MappingProxyType(_clocks(data, source)),
        max_stages=max_stages,
        min_stages=_pack_int(source, limits, "limits.min_stages") or max_stages,
        complaint_window_months=_required_int(source, limits, "limits.complaint_window_months"),
        escalation_reasons_required=reasons,
        escalation_window_months=_pack_int(source, limits, "limits.escalation_window_months"),
        exclusions=MappingProxyType(
            {key: _pack_exclusion(source, key, body) for key, body in exclusions.items()}
        ),
        paragraphs=MappingProxyType({**DEFAULT_PARAGRAPHS, **paragraphs}),
    )


def _clocks(data: Mapping[str, Any], source: str) -> dict[str, ClockLimit]:
    clocks = data.get("clocks")
    if not isinstance(clocks, dict) or not clocks:
        raise PolicyError(f"{source}: [clocks.*]: the pack defines no clocks")
    found: dict[str, ClockLimit] = {}
    for name, body in clocks.items():
        if not isinstance(body, dict):
            raise PolicyError(f"{source}: clocks.{name}: must be a table")
        days = _pack_int(source, body, f"clocks.{name}.working_days", key="working_days")
        if days is None:
            continue
        if "paragraph" not in body:
            raise PolicyError(f"{source}: clocks.{name}.paragraph: missing")
        paragraph = str(body["paragraph"])
        cap = _pack_int(source, body, f"clocks.{name}.extension_cap", key="extension_cap")
        extension_paragraph = body.get("extension_paragraph")
        if cap is not None and extension_paragraph is None:
            extension_paragraph = _HOS_EXTENSION_PARAGRAPHS.get(paragraph, paragraph)
        found[name] = ClockLimit(
            name=name,
            paragraph=paragraph,
            working_days=days,
            extension_cap=cap,
            extension_paragraph=None if extension_paragraph is None else str(extension_paragraph),
            title=str(body.get("title", "")),
            starts=str(body.get("starts", "")),
            stops=str(body.get("stops", "")),
        )
    return found


def _required_int(source: str, body: Mapping[str, Any], where: str) -> int:
    value = _pack_int(source, body, where)
    if value is None:
        raise PolicyError(f"{source}: {where}: missing")
    return value


def _pack_int(source: str, body: Mapping[str, Any], where: str, *, key: str | None = None) -> int | None:
    key = key or where.rsplit(".", 1)[-1]
    if key not in body:
        return None
    value = body[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PolicyError(f"{source}: {where}: must be a whole number of at least 1, not {_show(value)}")
    return value


def _pack_exclusion(source: str, key: str, body: Any) -> PackExclusion:
    if not isinstance(body, dict):
        raise PolicyError(f"{source}: exclusions.{key}: must be a table")
    return PackExclusion(key, str(body.get("description", "")), str(body.get("paragraph", "")))


# ---------------------------------------------------------------------------------------
# The check


@dataclass(frozen=True)
class Finding:
    severity: Severity
    setting: str  # dotted key in the policy ("timescales.stage1_response")
    paragraph: str  # Code paragraph, or the guidance it rests on
    message: str  # one line, plain English

    def line(self) -> str:
        return f"{self.severity}: {self.setting} ({self.paragraph}): {self.message}"


def check_policy(pack: PackLimits, policy: LandlordPolicy) -> list[Finding]:
    """Where the landlord's policy breaks the pack (``conflict``) or needs a person (``review``)."""
    return [
        *_check_timescales(pack, policy.timescales),
        *_check_stages(pack, policy.procedure),
        *_check_escalation(pack, policy.procedure),
        *_check_window(pack, policy.procedure),
        *_check_exclusions(pack, policy.exclusions),
    ]


def _check_timescales(pack: PackLimits, timescales: Timescales) -> list[Finding]:
    found = [
        finding
        for name, days in timescales.working_days.items()
        if (finding := _check_clock(pack, name, days)) is not None
    ]
    for name, days in timescales.calendar_days_max.items():
        setting = f"timescales.calendar_days_max.{name}"
        clock = pack.clocks.get(name)
        limit = "working days"
        if clock is not None:
            limit = f"{clock.working_days} working days for the {clock.name} clock"
            if clock.extension_cap:
                total = clock.working_days + clock.extension_cap
                limit += f", {total} with the longest extension allowed without good reason"
        found.append(
            Finding(
                "review",
                setting,
                clock.paragraph if clock is not None else pack.paragraphs["calendar_days"],
                f"{setting} = {days} calendar days (about {days * 5 // 7} working days) is a calendar-day "
                f"limit, but {pack.label} counts working days ({limit}); state the limit in working days",
            )
        )
    return found


def _check_clock(pack: PackLimits, name: str, days: int) -> Finding | None:
    setting = f"timescales.{name}"
    if name.endswith("_extension"):
        clock = pack.clocks.get(name.removesuffix("_extension") + "_response")
        if clock is None or clock.extension_cap is None or days <= clock.extension_cap:
            return None
        return Finding(
            "conflict",
            setting,
            clock.extension_paragraph or clock.paragraph,
            f"{setting} = {days} working days is longer than the {clock.extension_cap} working days "
            f"{pack.label} allows for extending the {clock.name} clock without good reason; "
            "cap it, and record a good reason for any longer extension",
        )
    clock = pack.clocks.get(name)
    if clock is None or days <= clock.working_days:
        return None  # stricter, or a clock of the landlord's own the pack does not run
    if clock.paragraph == LANDLORD_CLOCK:
        return Finding(
            "review",
            setting,
            clock.paragraph,
            f"{setting} = {days} working days is longer than the {clock.working_days} working days "
            f"{pack.label} runs for the {clock.name} clock; it is not a Code clock, but mailroom only "
            "lets a policy shorten the pack's clocks, so the pack's value is used",
        )
    return Finding(
        "conflict",
        setting,
        clock.paragraph,
        f"{setting} = {days} working days is longer than the {clock.working_days} working days "
        f"{pack.label} allows for the {clock.name} clock{_from(clock)}; "
        "a policy may be stricter than the Code, never laxer",
    )


def _check_stages(pack: PackLimits, procedure: Procedure) -> list[Finding]:
    found: list[Finding] = []
    p = pack.paragraphs
    if procedure.stages > pack.max_stages:
        found.append(
            Finding(
                "conflict",
                "procedure.stages",
                p["max_stages"],
                f"procedure.stages = {procedure.stages} formal stages, but {pack.label} allows at most "
                f"{pack.max_stages}; extra stages delay the resident's access to the Ombudsman",
            )
        )
    elif procedure.stages < pack.min_stages:
        found.append(
            Finding(
                "conflict",
                "procedure.stages",
                p["min_stages"],
                f"procedure.stages = {procedure.stages} formal stage(s), but {pack.label} requires "
                f"{pack.min_stages}: a resident still unhappy after stage 1 must be able to go to stage 2",
            )
        )
    if procedure.informal_stage:
        days = procedure.informal_stage_working_days
        found.append(
            Finding(
                "conflict",
                "procedure.informal_stage",
                p["informal_stage"],
                "procedure.informal_stage = true"
                + (f" ({days} working days)" if days else "")
                + f", but {pack.label} allows no informal or 'stage 0' complaint stage; "
                "a complaint must be logged at stage 1 when it is made",
            )
        )
    return found


def _check_escalation(pack: PackLimits, procedure: Procedure) -> list[Finding]:
    found: list[Finding] = []
    p = pack.paragraphs
    if procedure.escalation_reasons_required and not pack.escalation_reasons_required:
        found.append(
            Finding(
                "conflict",
                "procedure.escalation_reasons_required",
                p["escalation_reasons"],
                "procedure.escalation_reasons_required = true, but under "
                f"{pack.label} residents must not be required to explain why they want stage 2; "
                "the landlord makes reasonable efforts to understand why instead",
            )
        )
    if procedure.escalation_only_on_grounds:
        grounds = "; ".join(procedure.escalation_only_on_grounds)
        found.append(
            Finding(
                "conflict",
                "procedure.escalation_only_on_grounds",
                p["escalation_grounds"],
                f"procedure.escalation_only_on_grounds = [{grounds}], but under {pack.label} a complaint "
                "not resolved to the resident's satisfaction at stage 1 must go to stage 2, on any grounds",
            )
        )
    if procedure.escalation_window_working_days is not None:
        days = procedure.escalation_window_working_days
        found.append(
            Finding(
                "review",
                "procedure.escalation_window_working_days",
                p["escalation_window"],
                f"procedure.escalation_window_working_days = {days}: {_escalation_window(pack)}; "
                "a late request may be refused only for a valid reason, explained in writing with the "
                "right to go to the Ombudsman",
            )
        )
    if procedure.ombudsman_wait_weeks is not None:
        weeks = procedure.ombudsman_wait_weeks
        found.append(
            Finding(
                "review",
                "procedure.ombudsman_wait_weeks",
                p["ombudsman_wait"],
                f"procedure.ombudsman_wait_weeks = {weeks}: residents need not wait {weeks} weeks or go "
                "through a designated person before the Ombudsman once the landlord's process ends (in "
                "England the democratic filter was removed on 1 Oct 2023; unconfirmed); keep this wording "
                "out of letters",
            )
        )
    return found


def _check_window(pack: PackLimits, procedure: Procedure) -> list[Finding]:
    months = procedure.complaint_window_months
    if months is None or months >= pack.complaint_window_months:
        return []
    # A conflict, not a review: refusing a complaint inside the pack's window breaks it
    # (2.3 requires acceptance within 12 months), however strict the policy looks.
    return [
        Finding(
            "conflict",
            "procedure.complaint_window_months",
            pack.paragraphs["complaint_window"],
            f"procedure.complaint_window_months = {months} is shorter than the "
            f"{pack.complaint_window_months} months within which {pack.label} requires complaints to be "
            "accepted (from the issue or the resident becoming aware of it); accept complaints inside "
            "that window, and consider older ones with discretion",
        )
    ]


def _check_exclusions(pack: PackLimits, exclusions: tuple[Exclusion, ...]) -> list[Finding]:
    found: list[Finding] = []
    paragraph = pack.paragraphs["exclusions"]
    for exclusion in exclusions:
        setting = f"exclusions.{exclusion.id}"
        if exclusion.code_basis is None:
            found.append(
                Finding(
                    "review",
                    setting,
                    paragraph,
                    f"{setting} ({exclusion.description!r}) has no code_basis: it goes beyond "
                    f"{pack.label}'s exclusions, so it must be fair and reasonable and applied case by case, "
                    "never as a blanket exclusion",
                )
            )
        elif exclusion.code_basis not in pack.exclusions:
            known = ", ".join(pack.exclusions) or "none"
            found.append(
                Finding(
                    "review",
                    f"{setting}.code_basis",
                    paragraph,
                    f"{setting}.code_basis = {exclusion.code_basis!r} is not an exclusion of {pack.label} "
                    f"(known: {known}); treat it as an exclusion with no Code basis",
                )
            )
    return found


# ---------------------------------------------------------------------------------------
# Helpers


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None


def _did_you_mean(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"


def _show(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def _escalation_window(pack: PackLimits) -> str:
    if pack.escalation_window_months is None:
        return f"{pack.label} sets no deadline for asking for stage 2, so this one is the landlord's own"
    return (
        f"{pack.label} normally allows {pack.escalation_window_months} months from the stage 1 response "
        "to ask for stage 2"
    )


def _from(clock: ClockLimit) -> str:
    return f" (counted from {clock.starts})" if clock.starts else ""
