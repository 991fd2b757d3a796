"""The kinds of things staff add to a case's record, as enumerations the command line
can name in its arguments without loading the store (``case_files.py`` records them)."""

from __future__ import annotations

import enum


class FiledCategory(enum.StrEnum):
    """Where a filed document goes in the pack (the Ombudsman's list of what it asks
    for: tenancy, reports and surveys, notes, its own correspondence, policies)."""

    TENANCY = "tenancy"  # section E
    REPORT = "report"  # section D: repairs records, surveys, inspections
    NOTE = "note"  # section C: file notes, internal emails saved as files
    OMBUDSMAN = "ombudsman"  # section G
    POLICY = "policy"  # section F: a policy relied on beyond the landlord policy file
    CORRESPONDENCE = "correspondence"  # section B: a letter received by post, say


class CallDirection(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
