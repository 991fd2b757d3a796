"""The letters part of a rule pack, and the landlord a letter comes from.

A rule pack (``rules/housing-ombudsman-2024.toml``, or ``policy.rule_pack``) holds,
besides its clocks, ``[letters.<type>]`` (title, stage, template, the case event
issuing the letter records, and ``[[letters.<type>.elements]]``: what the letter
must say), ``[ombudsman]`` (contact details printed on letters) and
``[exclusions.<id>]`` (the exclusions a refusal may rest on). ``load_letter_pack``
reads those into typed objects; every error is one line naming the file and key.

Templates are looked up in the pack's ``templates_dir`` (relative to the pack file)
if it names one, else in the bundled ``letter_templates/``.

The landlord (letterhead) and signatory come from ``policy.landlord_file``
(``mailroom.domain.policy.parse_policy``); without one, ``NEUTRAL_LANDLORD`` and
``NEUTRAL_SIGNATORY`` stand in, and ``mailroom rules check`` warns.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mailroom.config import Settings
from mailroom.domain.case_steps import ClockEvent
from mailroom.domain.policy import (
    Landlord,
    LandlordPolicy,
    PackExclusion,
    PolicyError,
    Signatory,
    parse_policy,
)
from mailroom.errors import UserError
from mailroom.letters.check import ElementSpec, parse_element_specs
from mailroom.letters.types import LetterType
from mailroom.rule_pack_source import BUNDLED_RULE_PACK

__all__ = [
    "BUNDLED_TEMPLATES",
    "NEUTRAL_LANDLORD",
    "NEUTRAL_SIGNATORY",
    "LetterError",
    "LetterPack",
    "LetterSpec",
    "Sender",
    "letter_pack",
    "load_letter_pack",
    "pack_path",
    "sender",
]

BUNDLED_TEMPLATES = BUNDLED_RULE_PACK.parents[1] / "letter_templates"

# Letters drafted before ``policy.landlord_file`` is set carry these: plainly not a
# real landlord's name, and nothing invented (no address, phone or person).
NEUTRAL_LANDLORD = Landlord(name="Your landlord")
NEUTRAL_SIGNATORY = Signatory(name="Complaints Team", role="Complaints handling")


class LetterError(UserError):
    """A letter cannot be drafted, checked, replaced or approved. One line."""


@dataclass(frozen=True)
class LetterSpec:
    """``[letters.<type>]`` of a rule pack."""

    type: LetterType
    title: str
    stage: int  # 1 or 2; 0 = the case's current stage
    template: Path
    records_event: ClockEvent | None  # what issuing it records on the case
    elements: tuple[ElementSpec, ...]


@dataclass(frozen=True)
class LetterPack:
    source: str
    id: str
    code: str
    letters: Mapping[LetterType, LetterSpec]
    ombudsman: Mapping[str, str]
    exclusions: Mapping[str, PackExclusion]

    def letter(self, letter_type: LetterType) -> LetterSpec:
        spec = self.letters.get(letter_type)
        if spec is None:
            raise LetterError(f"{self.source}: has no [letters.{letter_type.value}]")
        return spec


def pack_path(settings: Settings) -> Path:
    return settings.policy.rule_pack or BUNDLED_RULE_PACK


def load_letter_pack(text: str, source: str, base: Path | None = None) -> LetterPack:
    """The letters, Ombudsman details and exclusions of a pack. ``base``: the folder
    the pack's ``templates_dir`` is relative to."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LetterError(f"{source}: not valid TOML: {exc}") from None
    templates = BUNDLED_TEMPLATES
    if "templates_dir" in data:
        templates = (base or Path.cwd()) / str(data["templates_dir"])
    letters = _table(source, data, "letters")
    known = {t.value: t for t in LetterType}
    found: dict[LetterType, LetterSpec] = {}
    for key, body in letters.items():
        if key not in known:
            raise LetterError(f"{source}: letters.{key}: unknown letter type (known: {', '.join(known)})")
        found[known[key]] = _letter(source, known[key], body, templates)
    ombudsman = _table(source, data, "ombudsman")
    exclusions = _table(source, data, "exclusions")
    return LetterPack(
        source=source,
        id=str(data.get("id", "")),
        code=str(data.get("code", "")),
        letters=MappingProxyType(found),
        ombudsman=MappingProxyType({str(k): str(v) for k, v in ombudsman.items()}),
        exclusions=MappingProxyType({key: _exclusion(source, key, body) for key, body in exclusions.items()}),
    )


def _table(source: str, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise LetterError(f"{source}: {key}: must be a table ([{key}])")
    return value


def _letter(source: str, letter_type: LetterType, body: Any, templates: Path) -> LetterSpec:
    where = f"{source}: letters.{letter_type.value}"
    if not isinstance(body, dict):
        raise LetterError(f"{where}: must be a table")
    for key in ("title", "template"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            raise LetterError(f"{where}.{key}: must be non-empty text")
    stage = body.get("stage", 0)
    if stage not in (0, 1, 2) or isinstance(stage, bool):
        raise LetterError(f"{where}.stage: must be 0, 1 or 2, not {stage!r}")
    event_name = body.get("records_event", "")
    events = {e.value: e for e in ClockEvent}
    if not isinstance(event_name, str) or (event_name and event_name not in events):
        raise LetterError(
            f'{where}.records_event: {event_name!r} is not a case event (one of {", ".join(events)}, or "")'
        )
    elements = body.get("elements", [])
    if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
        raise LetterError(
            f"{where}.elements: must be a list of tables ([[letters.{letter_type.value}.elements]])"
        )
    specs: list[ElementSpec] = []
    for index, element in enumerate(elements):
        try:
            specs += parse_element_specs([element])
        except ValueError as exc:
            raise LetterError(f"{where}.elements[{index}]: {' '.join(str(exc).split())}") from None
    ids = [spec.id for spec in specs]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise LetterError(f"{where}.elements: id {twice[0]!r} is used twice")
    return LetterSpec(
        type=letter_type,
        title=body["title"].strip(),
        stage=int(stage),
        template=templates / body["template"],
        records_event=events[event_name] if event_name else None,
        elements=tuple(specs),
    )


def _exclusion(source: str, key: str, body: Any) -> PackExclusion:
    if not isinstance(body, dict):
        raise LetterError(f"{source}: exclusions.{key}: must be a table")
    return PackExclusion(key, str(body.get("description", "")), str(body.get("paragraph", "")))


# -- cached per process, reloaded when the file changes -------------------------------

_lock = threading.Lock()
_packs: dict[Path, tuple[tuple[int, int], LetterPack]] = {}
_landlords: dict[Path, tuple[tuple[int, int], LandlordPolicy]] = {}


def _stamp(path: Path, what: str) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise LetterError(f"{what}: cannot read {path}: {exc.strerror}") from None
    return stat.st_mtime_ns, stat.st_size


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise LetterError(f"{what}: cannot read {path}: {reason}") from None


def letter_pack(settings: Settings) -> LetterPack:
    """The configured pack's letters (``policy.rule_pack``, else the bundled pack)."""
    path = pack_path(settings).resolve()
    stamp = _stamp(path, "policy.rule_pack")
    cached = _packs.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    pack = load_letter_pack(_read(path, "policy.rule_pack"), str(path), path.parent)
    with _lock:
        _packs[path] = (stamp, pack)
    return pack


def landlord_policy(settings: Settings) -> LandlordPolicy | None:
    """The landlord's policy file (``policy.landlord_file``), or None when none is set."""
    configured = settings.policy.landlord_file
    if configured is None:
        return None
    path = configured.resolve()
    stamp = _stamp(path, "policy.landlord_file")
    cached = _landlords.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        policy = parse_policy(_read(path, "policy.landlord_file"), str(configured))
    except PolicyError as exc:
        raise LetterError(f"policy.landlord_file: {exc}") from None
    with _lock:
        _landlords[path] = (stamp, policy)
    return policy


@dataclass(frozen=True)
class Sender:
    """Who a letter is from: the letterhead and the signature."""

    landlord: Landlord
    signatory: Signatory
    configured: bool  # False: the neutral stand-ins (no policy.landlord_file)

    def context(self, stage: int) -> tuple[dict[str, str], dict[str, str]]:
        """(landlord, signatory) as template variables; stage 2 letters are signed by
        the policy's stage 2 signatory where it names one."""
        landlord = {
            "name": self.landlord.name,
            "address": self.landlord.address,
            "phone": self.landlord.phone,
            "email": self.landlord.email,
            "website": self.landlord.website,
        }
        sign = self.signatory
        name, role = sign.name, sign.role
        if stage == 2 and sign.stage2_name:
            name, role = sign.stage2_name, sign.stage2_role or sign.role
        return landlord, {"name": name, "role": role}


def sender(settings: Settings) -> Sender:
    policy = landlord_policy(settings)
    if policy is None:
        return Sender(NEUTRAL_LANDLORD, NEUTRAL_SIGNATORY, configured=False)
    return Sender(policy.landlord, policy.signatory, configured=True)
