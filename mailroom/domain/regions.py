"""The UK nations whose bank holidays a landlord's working days follow."""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    """The landlord's nation: whose bank holidays are non-working days."""

    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"
