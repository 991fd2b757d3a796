"""The steps staff record on a case: each starts, moves or stops a Code clock, and
moves the case through the procedure (``[procedure]`` of the rule pack).

A pure enumeration, kept apart from the use case that records them
(``mailroom/case_events.py``) so that the command line can name them in its
arguments without loading the store."""

from __future__ import annotations

import enum


class ClockEvent(enum.StrEnum):
    STAGE1_ACKNOWLEDGED = "stage1_acknowledged"
    STAGE1_EXTENDED = "stage1_extended"
    STAGE1_RESPONDED = "stage1_responded"
    ESCALATION_REQUESTED = "escalation_requested"
    ESCALATION_REFUSED = "escalation_refused"
    STAGE2_ACKNOWLEDGED = "stage2_acknowledged"
    STAGE2_EXTENDED = "stage2_extended"
    STAGE2_RESPONDED = "stage2_responded"
    REMEDY_PROMISED = "remedy_promised"
    REMEDY_COMPLETED = "remedy_completed"
    ACTION_PROMISED = "action_promised"
    ACTION_COMPLETED = "action_completed"
    MP_ENQUIRY_RECEIVED = "mp_enquiry_received"
    MP_ENQUIRY_ANSWERED = "mp_enquiry_answered"
    REFUSED = "refused"  # not accepted as a complaint (Code §2)
    WITHDRAWN = "withdrawn"  # the resident withdrew the complaint: its clocks end
    CLOSED = "closed"


# The kind of the event that corrects a wrong step (``case_events.correct_event``):
# the step stays on the audit trail and stops counting for clocks and state.
CORRECTED = "event_corrected"
