"""The people who use the desk: accounts and roles, sign-in with lockout, sessions,
and the audit trail of what each of them did (docs/desk.md)."""
