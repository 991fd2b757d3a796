"""What a report says besides its figures, from the settings: the landlord's name
(``policy.landlord_file``, else the letters' neutral stand-in) and the working-day
limit of each clock in the rule pack in force."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from mailroom.reports.report_context import ReportFacts

if TYPE_CHECKING:
    from mailroom.config import Settings

__all__ = ["report_facts"]


def report_facts(settings: Settings, produced_on: date) -> ReportFacts:
    from mailroom.letters.pack import NEUTRAL_LANDLORD, landlord_policy
    from mailroom.rule_pack_source import load_settings_rule_pack

    policy = landlord_policy(settings)
    landlord = policy.landlord if policy is not None else NEUTRAL_LANDLORD
    pack = load_settings_rule_pack(settings)
    limits = {clock.name: clock.working_days for clock in pack.clocks}
    return ReportFacts(landlord=landlord.name, produced_on=produced_on, limits=limits)
