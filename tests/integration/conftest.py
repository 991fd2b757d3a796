"""Fixtures for integration tests.

The Dovecot fixtures are imported rather than listed in ``pytest_plugins``:
pytest refuses ``pytest_plugins`` in a conftest below the root one whenever the
whole suite runs. Once tests/conftest.py lists "tests.support.dovecot", this
import can go.
"""

from tests.support.dovecot import dovecot, imap_user

__all__ = ["dovecot", "imap_user"]
