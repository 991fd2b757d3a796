"""The review desk: the web pages inbox staff, officers, managers and records staff
work in (docs/desk.md). Server-rendered with Flask and Jinja; every view calls the
same use case as the command line; no business logic lives here."""
