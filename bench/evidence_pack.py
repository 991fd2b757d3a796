"""Evidence pack benchmark: ``mailroom pack`` end to end (the record read from the
store, every file read and hashed, DOCX attachments converted by LibreOffice, the
bundle laid out, the zip written) for a case with 200 mails and 50 attachments,
against the issue's budget of 30 s and 500 MB peak resident memory on this 2-core
machine.

The case is made through the real use cases (tests/support/pack_case.py): the
worker ingests the mails from a Maildir, five letters are drafted and issued with
LibreOffice, three calls are noted. Then, each in a fresh process so that its peak
memory (``ru_maxrss``) is its own:

- cold: a new LibreOffice started for the build, nothing cached (the first pack
  of a case);
- warm converter: a LibreOffice already running (as in the desk's worker), the
  conversion cache emptied, so every DOCX is converted again;
- cached: the conversions kept from the build before (the case's ``.pack-cache``),
  as a second pack of the same case is made.

Usage: python -m bench.evidence_pack [--mails N] [--attachments N] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGET_SECONDS = 30.0
TARGET_RSS_MB = 500.0


def _services(root: Path, clock: Any) -> Any:
    from mailroom.services import build_services
    from tests.conftest import make_settings
    from tests.integration.test_letters import LANDLORD_FILE

    settings = make_settings(
        root / "storage", f"sqlite:///{root / 'mailroom.db'}", policy={"landlord_file": LANDLORD_FILE}
    )
    return build_services(settings, clock)


def _clock() -> Any:
    from mailroom.clock import FixedClock

    return FixedClock(datetime(2026, 12, 11, 10, tzinfo=UTC))


def make_case(root: Path, mails: int, attachments: int) -> str:
    from tests.support.pack_case import build_rich_case

    clock = _clock()
    services = _services(root, clock)
    case = build_rich_case(services, clock, root / "inbox", mails=mails, attachments=attachments)
    services.store.engine.dispose()
    return case.complaint_id


def _build(root: Path, complaint_id: str, out: Path, warm: bool, queue: Any) -> None:
    from mailroom.letters.pdf import PdfConverter
    from mailroom.records.pack import build_pack

    services = _services(root, _clock())
    converter = None
    if warm:
        converter = PdfConverter()
        _warm_up(converter, out)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = build_pack(services, complaint_id, out, "bench", converter=converter)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if converter is not None:
        converter.close()
    queue.put(
        {
            "seconds": seconds,
            "peak_rss_mb": peak / 1024,
            "rss_before_mb": before / 1024,
            "pages": result.pages,
            "documents": result.documents,
            "listed": result.listed,
            "pdf_mb": result.pdf.stat().st_size / 2**20,
            "zip_mb": result.zip.stat().st_size / 2**20,
            "pdf_sha256": result.pdf_sha256,
        }
    )


def _warm_up(converter: Any, folder: Path) -> None:
    from tests.support.pack_case import docx_bytes

    source = folder / "warm-up.docx"
    source.write_bytes(docx_bytes("warm up"))
    converter.convert_many([source], folder / "warm-up")
    shutil.rmtree(folder / "warm-up", ignore_errors=True)
    source.unlink()


def measure(root: Path, complaint_id: str, name: str, warm: bool, clear_cache: bool) -> dict[str, Any]:
    if clear_cache:
        shutil.rmtree(root / "storage" / complaint_id / ".pack-cache", ignore_errors=True)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    out = root / f"out-{name}"
    out.mkdir()
    process = context.Process(target=_build, args=(root, complaint_id, out, warm, queue))
    process.start()
    figures: dict[str, Any] = queue.get(timeout=600)
    process.join()
    return {"run": name, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--attachments", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        complaint_id = make_case(root, args.mails, args.attachments)
        setup = time.perf_counter() - started
        runs = [
            measure(root, complaint_id, "cold", warm=False, clear_cache=True),
            measure(root, complaint_id, "warm converter", warm=True, clear_cache=True),
            measure(root, complaint_id, "cached conversions", warm=False, clear_cache=False),
        ]
    same = len({run.pop("pdf_sha256") for run in runs}) == 1
    report = {
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} CPUs",
        "case": {"mails": args.mails, "attachments": args.attachments, "setup_seconds": round(setup, 1)},
        "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
        "runs": runs,
        "same_bytes_every_run": same,
        "warm_over_cold": runs[1]["seconds"] / runs[0]["seconds"],
        "cached_over_cold": runs[2]["seconds"] / runs[0]["seconds"],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"evidence pack: {args.mails} mails, {args.attachments} attachments (case made in {setup:.0f} s)")
    for run in runs:
        within = run["seconds"] <= TARGET_SECONDS and run["peak_rss_mb"] <= TARGET_RSS_MB
        print(
            f"  {run['run']:<20} {run['seconds']:6.1f} s ({run['seconds'] / TARGET_SECONDS:4.0%} of budget)"
            f"  peak RSS {run['peak_rss_mb']:5.0f} MB ({run['peak_rss_mb'] / TARGET_RSS_MB:4.0%})"
            f"  {run['pages']} pages, {run['documents']} documents, {run['listed']} listed only,"
            f" PDF {run['pdf_mb']:.1f} MB, zip {run['zip_mb']:.1f} MB"
            f"  {'within' if within else 'OVER'} budget"
        )
    print(
        f"  warm converter / cold: {report['warm_over_cold']:.2f};"
        f" cached / cold: {report['cached_over_cold']:.2f}"
    )
    print(f"  same bytes every run: {same}")


if __name__ == "__main__":
    main()
