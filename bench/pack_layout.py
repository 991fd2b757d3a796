"""Evidence bundle layout benchmark: ``build_bundle`` on a large case, against the
target of well under 30 s and 500 MB peak memory on the 2-core build machine.

Makes the inputs first, in a temporary folder: 200 mails (headers, Polish and Welsh
text, quoted replies, 0.5-8 KB each), 50 attachments (15 PDFs of 1, 10 and 40
pages, 15 phone photographs of 4032×3024 pixels (a few MB each as JPEG), 10 PNG
screenshots, 10 listed only) and 100 chronology rows. Then builds the bundle in a
fresh process, so its peak resident memory (``ru_maxrss``) is the build's own, and
prints the time, the peak memory, the page count and the size, for ``--runs`` runs.

The CPU time is printed too: on a busy machine it says more than the wall time.
reportlab runs about twice as fast with its C accelerator (the ``rl_accel`` package).

Usage: python -m bench.pack_layout [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_SECONDS = 30.0
TARGET_RSS_MB = 500.0
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)

WORDS = [
    "damp",
    "mould",
    "bathroom",
    "ceiling",
    "repair",
    "visit",
    "surveyor",
    "heating",
    "boiler",
    "window",
    "leak",
    "tenancy",
    "rent",
    "wilgoć",
    "łazienka",
    "sufit",
    "naprawa",
    "grzyb",
    "okno",
    "ogrzewanie",
    "ŵyr",
    "ŷd",
    "gwaith",
    "atgyweirio",
]


def make_inputs(folder: Path) -> Any:
    from PIL import Image
    from reportlab.pdfgen.canvas import Canvas

    from mailroom.records.bundle.model import (
        Bundle,
        BundleDocument,
        BundleSection,
        ChronologyRow,
        Cover,
        TextPages,
    )

    rng = random.Random(12)

    def when(n: int) -> datetime:
        return START + timedelta(hours=7 * n)

    def doc(ref: str, title: str, n: int, **how: Any) -> BundleDocument:
        return BundleDocument(
            ref=ref, title=title, date=when(n), sha256=f"{n:064x}", zip_name=f"{ref}-{n}.bin", **how
        )

    def body(n: int) -> str:
        lines = []
        for _ in range(rng.randint(8, 110)):
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
            lines.append(("> " + line) if rng.random() < 0.2 else line)
        return f"Dear team,\n\n{chr(10).join(lines)}\n\nRegards,\nResident {n}"

    mails = tuple(
        doc(
            f"B{n + 1}",
            f"Mail: repair update {n + 1}",
            n,
            text=TextPages(
                (
                    ("From", f"resident{n}@example.org"),
                    ("To", "complaints@landlord.example"),
                    ("Date", when(n).isoformat()),
                    ("Subject", f"Re: repair update {n + 1} — łazienka"),
                ),
                body(n),
            ),
        )
        for n in range(200)
    )
    letters = []
    for n, pages in enumerate([1] * 5 + [10] * 5 + [40] * 5):
        path = folder / f"letter{n}.pdf"
        canvas = Canvas(str(path), invariant=1)
        for page in range(pages):
            text = canvas.beginText(72, 760)
            for line in range(45):
                text.textLine(
                    f"Letter {n} page {page + 1} line {line}: "
                    + " ".join(rng.choice(WORDS[:12]) for _ in range(8))
                )
            canvas.drawText(text)
            canvas.showPage()
        canvas.save()
        letters.append(doc(f"A{n + 1}", f"Letter {n + 1} ({pages} pages)", n, pdf=path))
    images = []
    for n in range(15):
        path = folder / f"photo{n}.jpg"
        noise = Image.effect_noise((1008, 756), 60).resize((4032, 3024)).convert("RGB")
        noise.save(path, "JPEG", quality=92)
        images.append(doc(f"C{n + 1}", f"Photo {n + 1} of the bathroom", n, image=path))
    for n in range(10):
        path = folder / f"screen{n}.png"
        Image.linear_gradient("L").resize((1920, 1080)).convert("RGB").save(path)
        images.append(doc(f"C{n + 16}", f"Screenshot {n + 1}", n, image=path))
    listed = tuple(
        doc(f"D{n + 1}", f"Spreadsheet {n + 1}", n, listed_reason="spreadsheet (XLSX)") for n in range(10)
    )
    return Bundle(
        cover=Cover(
            "Acme Homes",
            "CMP-2026-00012",
            "Zofia Wójcik",
            "Damp and mould in the bathroom",
            START,
            "Stage 2 open",
            "Jane Officer",
            START + timedelta(days=60),
        ),
        sections=(
            BundleSection("A", "Complaint and Code letters", tuple(letters)),
            BundleSection("B", "Correspondence", mails),
            BundleSection("C", "Photographs and screenshots", tuple(images)),
            BundleSection("D", "Other documents", listed),
        ),
        chronology=tuple(
            ChronologyRow(when(n), f"Event {n}: repair visit booked", f"B{n + 1}") for n in range(100)
        ),
        verification=("Audit chain: 1,234 entries, verified", "Head: " + "ab" * 32),
    )


def _build(bundle: Any, queue: Any) -> None:
    from mailroom.records.bundle.assemble import build_bundle

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    layout = build_bundle(bundle)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak_mb = after.ru_maxrss / 1024
    queue.put(
        {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "peak_rss_mb": peak_mb,
            "pages": layout.pages,
            "bytes": len(layout.pdf),
            "fallbacks": len(layout.fallbacks),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as folder:
        bundle = make_inputs(Path(folder))
        for _ in range(args.runs):
            queue = context.Queue()
            process = context.Process(target=_build, args=(bundle, queue))
            process.start()
            results.append(queue.get())
            process.join()
    worst = {
        "seconds": max(r["seconds"] for r in results),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }
    ok = worst["seconds"] < TARGET_SECONDS and worst["peak_rss_mb"] < TARGET_RSS_MB
    if args.json:
        print(json.dumps({"runs": results, "worst": worst, "ok": ok}))
        return
    for run in results:
        print(
            f"bundle: {run['pages']} pages, {run['bytes'] / 1e6:.1f} MB, built in {run['seconds']:.2f} s "
            f"({run['cpu_seconds']:.2f} s CPU), peak RSS {run['peak_rss_mb']:.0f} MB"
        )
    print(
        f"worst: {worst['seconds']:.2f} s (target < {TARGET_SECONDS:.0f} s), "
        f"{worst['peak_rss_mb']:.0f} MB (target < {TARGET_RSS_MB:.0f} MB): {'ok' if ok else 'OVER TARGET'}"
    )


if __name__ == "__main__":
    main()
