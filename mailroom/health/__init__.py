"""Health you cannot miss: how each mail source and outbound transport is doing.

- ``record``  the ``mailbox_health`` rows: every poll and every outbox run is
              recorded; an incident opens and closes there;
- ``alerts``  the alert and recovery mails an incident queues in the outbox;
- ``status``  what ``mailroom status`` and the desk's /readyz report.

docs/deployment.md ("Health") says what raises an alert and where it goes.
"""
