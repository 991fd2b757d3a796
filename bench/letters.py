"""Letter drafting benchmark: render + check throughput, and DOCX -> PDF throughput.

Drafts: a one-page stage 1 acknowledgement (letter_templates/stage1-acknowledgement.docx
if it exists and renders with generated sample values, else a one-page template built
here) drafted with
- naive docxtpl: ``DocxTemplate(bytes)``, ``render`` (sandboxed, autoescaped), ``save``
  per letter, as library-notes §3 describes;
- ``LetterRenderer`` (template parsed once, compiled Jinja kept) followed by the
  mandated-element check (read the DOCX back with ``docx_text``, ``check_letter``);
per core (one process) and with two processes.

PDFs: one ``soffice`` per file (``convert_to_pdf``) against ``PdfConverter`` (one
LibreOffice kept running; each letter forwarded to it), one letter per request and
all letters in one request.

Usage: python -m bench.letters [--seconds S] [--pdfs N] [--cold-pdfs K] [--no-pdf] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx
from docxtpl import DocxTemplate

from mailroom.letters.check import CaseFacts, ElementSpec, check_letter, parse_element_specs
from mailroom.letters.docx_text import read_docx_text
from mailroom.letters.render import LetterRenderer, TemplateError, clean_context, make_environment

ROOT = Path(__file__).resolve().parents[1]
REAL_TEMPLATE = ROOT / "letter_templates" / "stage1-acknowledgement.docx"
PACK = ROOT / "rules" / "housing-ombudsman-2024.toml"

CONTEXT: dict[str, Any] = {
    "landlord_name": "Riverside Homes",
    "case_reference": "C-2026-0042",
    "letter_date": "23 November 2026",
    "complainant_name": "Ms Aoife O'Neil",
    "address": "Flat 3, 12 Mill Lane\nRiverside\nRS1 2AB",
    "complaint_summary": (
        "Damp & mould in the back bedroom since August; two repair visits were missed "
        '("no access" recorded though she was in). She wants the mould treated <urgently>.'
    ),
    "outcomes_sought": "Mould treated, the cause fixed, and compensation for damaged clothes.",
    "responsible_parts": "We are responsible for the repair; the contractor's conduct is also ours.",
    "response_due": "Friday 4 December 2026",
    "handler_name": "Sam Patel",
    "handler_phone": "0161 496 0000",
}

SPECS = parse_element_specs(
    [
        {
            "id": "stage",
            "description": "Stage 1",
            "paragraph": "6.2",
            "tag": "V",
            "patterns": [r"\bstage\s*(1|one)\b"],
            "case_check": "stage",
        },
        {
            "id": "definition",
            "description": "Complaint definition",
            "paragraph": "5.6",
            "tag": "V/M",
            "patterns": [r"understand", r"outcome"],
        },
        {
            "id": "clarify",
            "description": "Asks to clarify",
            "paragraph": "5.6",
            "tag": "M",
            "patterns": [r"\b(unclear|not right|clarif)"],
        },
        {
            "id": "responsibility",
            "description": "Responsibility",
            "paragraph": "5.7",
            "tag": "M",
            "patterns": [r"responsib"],
        },
        {
            "id": "response_date",
            "description": "Response date",
            "paragraph": "6.3",
            "tag": "S/V",
            "patterns": [r"\b(respond|response|reply)\b"],
            "case_check": "response_date",
        },
        {
            "id": "adjustments",
            "description": "Reasonable adjustments",
            "paragraph": "3.1",
            "tag": "V",
            "patterns": [r"adjustment|support"],
        },
        {
            "id": "ombudsman",
            "description": "Housing Ombudsman",
            "paragraph": "3.7",
            "tag": "GP",
            "patterns": [r"housing ombudsman", r"0300 111 3000"],
        },
    ]
)
FACTS = CaseFacts(stage=1, response_due=date(2026, 12, 4))


def build_template(path: Path) -> Path:
    """A one-page acknowledgement with header, footer and a small table."""
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "{{ landlord_name }} - Complaints - Ref {{ case_reference }}"
    section.footer.paragraphs[0].text = "{{ landlord_name }}, 1 High Street, Riverside RS1 1AA"
    document.add_paragraph("{{ letter_date }}")
    document.add_paragraph("{{ complainant_name }}\n{{ address }}")
    document.add_paragraph("Dear {{ complainant_name }},")
    document.add_paragraph("Stage 1 complaint: acknowledgement", style="Heading 1")
    document.add_paragraph(
        "Thank you for your complaint, which we received on 20 November 2026. We have logged it at stage 1 "
        "of our complaints procedure under reference {{ case_reference }}."
    )
    document.add_paragraph("Our understanding of your complaint is: {{ complaint_summary }}")
    document.add_paragraph("The outcome you are seeking is: {{ outcomes_sought }}")
    document.add_paragraph(
        "{{ responsible_parts }} If any of this is unclear or not right, please tell us so we can clarify it."
    )
    table = document.add_table(rows=3, cols=2)
    for row, (label, value) in enumerate(
        [
            ("Case handler", "{{ handler_name }}"),
            ("Telephone", "{{ handler_phone }}"),
            ("Reference", "{{ case_reference }}"),
        ]
    ):
        table.cell(row, 0).text = label
        table.cell(row, 1).text = value
    document.add_paragraph("We will respond in full by {{ response_due }}.")
    document.add_paragraph(
        "If you need any reasonable adjustments or support to take part in the complaints process, "
        "let us know."
    )
    document.add_paragraph(
        "You can contact the Housing Ombudsman at any time on 0300 111 3000 or at housing-ombudsman.org.uk."
    )
    document.add_paragraph("Yours sincerely,")
    document.add_paragraph("{{ handler_name }}\nComplaints Team")
    document.save(str(path))
    return path


@dataclass(frozen=True)
class Workload:
    template: Path
    context: dict[str, Any]
    specs: list[ElementSpec]
    facts: CaseFacts
    label: str


def _uk_date(text: str) -> date:
    return datetime.strptime(text, "%A %d %B %Y").date()


def real_workload() -> Workload | None:
    """The real stage 1 acknowledgement with the sample context the template tests use
    and the rule pack's elements, if all of that is there and renders."""
    if not (REAL_TEMPLATE.exists() and PACK.exists()):
        return None
    try:
        from tests.support.letter_samples import sample_context

        context = sample_context("stage1-acknowledgement")
        with PACK.open("rb") as handle:
            specs = parse_element_specs(tomllib.load(handle)["letters"]["stage1-acknowledgement"]["elements"])
        facts = CaseFacts(stage=1, response_due=_uk_date(context["response_due"]))
        LetterRenderer().render(REAL_TEMPLATE, context)
    except (ImportError, KeyError, ValueError, TemplateError) as exc:
        print(f"(real template not usable: {exc}; using the built-in one)")
        return None
    return Workload(REAL_TEMPLATE, context, specs, facts, "letter_templates/stage1-acknowledgement.docx")


def choose_workload(folder: Path, builtin: bool) -> Workload:
    real = None if builtin else real_workload()
    if real is not None:
        return real
    template = build_template(folder / "bench-ack.docx")
    return Workload(template, dict(CONTEXT), SPECS, FACTS, "built-in one-page acknowledgement")


# --- drafting ----------------------------------------------------------------------


def naive_draft(template_bytes: bytes, context: dict[str, Any]) -> bytes:
    env = make_environment()
    tpl = DocxTemplate(io.BytesIO(template_bytes))
    tpl.render(clean_context(context), jinja_env=env)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def timed_rate(work: Callable[[], object], seconds: float) -> float:
    work()  # warm-up (and, for the renderer, the one-off template parse)
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or done < 3:
        work()
        done += 1
    return done / elapsed


def _rate_in_process(args: tuple[str, Workload, float]) -> float:
    return measure(*args)


def measure(kind: str, work: Workload, seconds: float) -> float:
    template, context, specs, facts = work.template, work.context, work.specs, work.facts
    data = template.read_bytes()
    renderer = LetterRenderer()
    jobs: dict[str, Callable[[], object]] = {
        "naive": lambda: naive_draft(data, context),
        "naive+check": lambda: check_letter(read_docx_text(naive_draft(data, context)), specs, facts),
        "render": lambda: renderer.render(template, context),
        "render+check": lambda: check_letter(
            read_docx_text(renderer.render(template, context)), specs, facts
        ),
    }
    if kind == "check":
        letter = renderer.render(template, context)
        return timed_rate(lambda: check_letter(read_docx_text(letter), specs, facts), seconds)
    return timed_rate(jobs[kind], seconds)


def parallel_rate(kind: str, work: Workload, seconds: float, processes: int) -> float:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        rates = pool.map(_rate_in_process, [(kind, work, seconds)] * processes)
    return sum(rates)


# --- PDFs --------------------------------------------------------------------------


def pdf_figures(letter: bytes, folder: Path, count: int, cold: int) -> dict[str, float]:
    from mailroom.letters.pdf import PdfConverter, convert_to_pdf

    sources = []
    for number in range(max(count, cold)):
        path = folder / f"letter-{number:03d}.docx"
        path.write_bytes(letter)
        sources.append(path)
    started = time.perf_counter()
    for path in sources[:cold]:
        convert_to_pdf(path, folder / "cold")
    cold_rate = cold / (time.perf_counter() - started)

    started = time.perf_counter()
    with PdfConverter() as converter:
        converter.convert(sources[0], folder / "warm-up")
        startup = time.perf_counter() - started
        started = time.perf_counter()
        for path in sources[:count]:
            converter.convert(path, folder / "single")
        single_rate = count / (time.perf_counter() - started)
        started = time.perf_counter()
        converter.convert_many(sources[:count], folder / "batch")
        batch_rate = count / (time.perf_counter() - started)
    return {"cold": cold_rate, "kept": single_rate, "kept_batch": batch_rate, "startup_s": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per drafting measurement")
    parser.add_argument("--pdfs", type=int, default=20, help="letters for the kept-running converter")
    parser.add_argument("--cold-pdfs", type=int, default=3, help="letters for one soffice per file")
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument("--builtin", action="store_true", help="use the built-in template, not the real one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-letters-") as tmp:
        folder = Path(tmp)
        work = choose_workload(folder, args.builtin)
        source = work.label
        letter = LetterRenderer().render(work.template, work.context)
        verdict = check_letter(read_docx_text(letter), work.specs, work.facts)
        rates = {
            kind: measure(kind, work, args.seconds)
            for kind in ("naive", "naive+check", "render", "check", "render+check")
        }
        rates["naive x2"] = parallel_rate("naive", work, args.seconds, 2)
        rates["render+check x2"] = parallel_rate("render+check", work, args.seconds, 2)
        pdf = None if args.no_pdf else pdf_figures(letter, folder, args.pdfs, args.cold_pdfs)

    naive = rates["naive"]
    rows = [
        ("naive docxtpl: load+render+save, 1 process", rates["naive"], 1.0),
        ("naive docxtpl + check, 1 process", rates["naive+check"], rates["naive+check"] / naive),
        ("LetterRenderer render only, 1 process", rates["render"], rates["render"] / naive),
        ("check only (read back + check_letter), 1 process", rates["check"], rates["check"] / naive),
        ("LetterRenderer render + check, 1 process", rates["render+check"], rates["render+check"] / naive),
        ("naive docxtpl, 2 processes", rates["naive x2"], rates["naive x2"] / naive),
        ("render + check, 2 processes", rates["render+check x2"], rates["render+check x2"] / naive),
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "template": source,
                    "letters_per_s": rates,
                    "pdf": pdf,
                    "check_passed": verdict.passed,
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                },
                indent=2,
            )
        )
        return
    print(
        f"template: {source}; letter {len(letter):,} bytes; check passed: {verdict.passed}; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}"
    )
    print(f"{'drafts':<52}{'letters/s':>10}{'x naive':>9}")
    for label, rate, ratio in rows:
        print(f"{label:<52}{rate:>10.1f}{ratio:>9.1f}")
    if pdf is not None:
        print(f"\n{'PDFs (LibreOffice ' + 'headless)':<52}{'PDFs/s':>10}{'x cold':>9}")
        print(f"{'one soffice per file (convert_to_pdf)':<52}{pdf['cold']:>10.2f}{1.0:>9.1f}")
        kept_ratio = pdf["kept"] / pdf["cold"]
        print(f"{'kept-running PdfConverter, one per request':<52}{pdf['kept']:>10.2f}{kept_ratio:>9.1f}")
        print(
            f"{'kept-running PdfConverter, all in one request':<52}{pdf['kept_batch']:>10.2f}"
            f"{pdf['kept_batch'] / pdf['cold']:>9.1f}"
        )
        print(f"(PdfConverter start-up incl. first letter: {pdf['startup_s']:.1f} s)")


if __name__ == "__main__":
    main()
