"""Work queues of the review desk and the command line: read-only use cases over the
store, one module per queue (docs/queues.md).

Each queue function takes the services, the ``officer`` looking (their own cases
only; None for everyone's, enforced in SQL so pages stay right), a page number from
1 and a page size, its filters and a sort, and returns a ``Page`` of frozen rows:

- ``drafts.drafts_page``: letters awaiting review, with the due date they answer;
- ``triage.triage_page``, ``guesses.guesses`` and ``guesses.guesses_for`` (a whole
  page at once): mail the rules could not place, and the cases each may belong to;
- ``quarantine.quarantine_page``: mail that could not be ingested;
- ``post.post_page``: letters to print and post;
- ``outbox.outbox_page``: outbound mail that failed or bounced;
- ``deadlines.deadlines_page``: running Code clocks by due bucket (``buckets.py``);
- ``team.team_view`` and ``counts.queue_counts``: the numbers for managers and the
  start page.

Import the module of the queue a page needs; this package imports nothing itself.
"""
