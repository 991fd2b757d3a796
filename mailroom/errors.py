"""The one base class of the errors a person can fix: bad input, a missing
record, a step that does not fit. ``mailroom`` prints them as one line on stderr
and exits with ``exit_code``; anything else is a bug and keeps its traceback.

Kept free of imports so that the command line can catch every user error
without loading the modules that raise them."""

from __future__ import annotations


class UserError(Exception):
    exit_code = 1


class IntakeError(UserError):
    """Input a person gave that cannot be taken: an argument, a file, a complaint ID."""


class NoDatabaseError(UserError):
    """A command that needs the records was run where there are none."""
