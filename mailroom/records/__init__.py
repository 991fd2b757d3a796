"""Records: the Ombudsman evidence pack, the tamper-evident audit chain, retention and
subject access requests (docs/records.md)."""
