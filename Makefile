# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast soak lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Runs the worker once on the embedded defaults (SQLite and files under storage/),
# reading the bundled sample mailbox in examples/mailbox.
demo: $(STAMP)
	MAILROOM_MAILDIR__PATH=examples/mailbox $(BIN)/mailroom run --once
	$(BIN)/mailroom letters draft-pending
	$(BIN)/mailroom cases list
	@$(BIN)/mailroom users list --json | grep -q demo-inbox@ || { \
	  echo "demo desk password" | $(BIN)/mailroom users add "Demo Inbox" --email demo-inbox@example.org --role inbox --password-file - >/dev/null; \
	  echo "demo desk password" | $(BIN)/mailroom users add "Demo Manager" --email demo-manager@example.org --role manager --password-file - >/dev/null; }
	@echo
	@echo "The review desk on this demo data:  $(BIN)/mailroom web   then open http://127.0.0.1:8080/"
	@echo "Sign in as demo-inbox@example.org (or demo-manager@example.org), password: demo desk password"

# Real components the tests start themselves: Dovecot (IMAP) and LibreOffice
# (headless DOCX->PDF) from Debian; PostgreSQL is started if it is stopped.
system-deps:
	@command -v dovecot >/dev/null 2>&1 || { \
	  echo "installing dovecot-imapd (IMAP server the tests start on loopback)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }
	@command -v soffice >/dev/null 2>&1 || { \
	  echo "installing libreoffice-writer-nogui (DOCX to PDF for letters, headless)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui >/dev/null; }
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { \
	  echo "installing fonts-dejavu-core (the evidence pack's text: docs/records.md)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null; }
	@command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "installing chromium (the desk's browser tests) and poppler-utils (letter previews)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium poppler-utils >/dev/null; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true

# Tests run in parallel, one pytest-xdist worker per core (TEST_WORKERS=0: all in
# one process, no xdist); the fixtures are per-worker safe (tests/conftest.py). Budget: `make test`
# within 15 minutes on the 2-core machine (DEVELOPERS.md), slowest 20 listed.
# `make soak` runs the repetitions marked `soak` (20 SIGKILL rounds, 60 working
# days of reminders, 500 mails) that `make test` leaves out; `make test-fast`
# also leaves out the `slow` tests, for the edit-test loop (not a substitute).
TEST_WORKERS ?= auto
# worksteal: a worker that runs out of tests takes queued ones from the other, so a
# few long tests (SIGKILL rounds, the browser scan) do not leave a core idle at the end.
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=20

test: $(STAMP) system-deps
	$(PYTEST) -m "not soak"

soak: $(STAMP) system-deps
	$(PYTEST) -m soak

test-fast: $(STAMP) system-deps
	$(PYTEST) -m "not soak and not slow"

lint: $(STAMP)
	$(BIN)/ruff check mailroom tests bench
	$(BIN)/mypy

bench: $(STAMP) system-deps
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.calendar_add_working_days
	$(BIN)/python -m bench.ingest_throughput
	$(BIN)/python -m bench.parse_budget
	$(BIN)/python -m bench.reminder_sweep
	$(BIN)/python -m bench.letters
	$(BIN)/python -m bench.letter_preview
	$(BIN)/python -m bench.desk_pages
	$(BIN)/python -m bench.pack_layout
	$(BIN)/python -m bench.evidence_pack
	$(BIN)/python -m bench.report_figures
	$(BIN)/python -m bench.graph_ingest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
