"""Where the rule pack comes from: the bundled Housing Ombudsman pack, or the file
``policy.rule_pack`` names, with the landlord's ``policy.clocks`` and the stricter
timescales of its policy file (``policy.landlord_file``) applied.

Light on purpose: every command checks the pack before it does anything else."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mailroom.domain.deadlines import RulePack, RulePackError, load_rule_pack

if TYPE_CHECKING:
    from mailroom.config import Settings

BUNDLED_RULE_PACK = Path(__file__).resolve().parents[1] / "rules" / "housing-ombudsman-2024.toml"


def load_settings_rule_pack(settings: Settings) -> RulePack:
    return load_pack(settings.policy.rule_pack, settings.policy.clocks, landlord_timescales(settings))


def landlord_timescales(settings: Settings) -> Mapping[str, int]:
    """The working-day timescales of the landlord's policy file; none without one.
    A file that does not parse stops mailroom here, in one line (LetterError)."""
    if settings.policy.landlord_file is None:
        return {}
    from mailroom.letters.pack import landlord_policy  # only when a file is set: it is not light

    policy = landlord_policy(settings)
    return policy.timescales.working_days if policy is not None else {}


def load_pack(
    rule_pack: Path | None, clocks: Mapping[str, int], landlord: Mapping[str, int] | None = None
) -> RulePack:
    """The pack in force; RulePackError (one line) when it does not load or a
    policy clock is laxer than the Code. ``landlord``: the policy file's timescales,
    applied where stricter."""
    path = rule_pack or BUNDLED_RULE_PACK
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulePackError(f"policy.rule_pack: cannot read {path}: {exc.strerror}") from None
    return load_rule_pack(text, clocks, landlord)
