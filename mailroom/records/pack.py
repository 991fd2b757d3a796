"""``mailroom pack CMP-…``: one complaint's full record as an evidence pack for the
Ombudsman (docs/records.md): ``<id>-pack.pdf``, a bundle in English court e-bundle
conventions, and ``<id>-pack.zip`` with every original, ``manifest.json`` and
``audit.jsonl``. The command line and the desk's case page both call ``build_pack``.

The same record gives the same bytes: the pack's "prepared" instant is the record's
last change, not the time of the build, and nothing else in it varies.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mailroom.accounts.audit import Actor, record
from mailroom.letters.pdf import PdfConverter
from mailroom.records.bundle.assemble import build_bundle
from mailroom.records.bundle.model import Bundle, Cover, TextPages
from mailroom.records.pack_archive import canonical_json, json_lines, write_zip
from mailroom.records.pack_files import FilePreparer
from mailroom.records.pack_sections import arrange, resident_of
from mailroom.records.pack_sources import CaseSources, NoSuchCase, read_case_sources
from mailroom.records.pack_trail import case_trail
from mailroom.services import Services

__all__ = ["NoSuchCase", "PackResult", "build_pack", "pack_names"]

PACK_ACTION = "records.pack"


@dataclass(frozen=True)
class PackResult:
    complaint_id: str
    pdf: Path
    zip: Path
    pdf_sha256: str
    pages: int
    documents: int  # documents in the bundle with pages
    listed: int  # documents only listed (their originals are in the zip)
    chain_intact: bool
    chain_line: str  # the audit chain's verification in one line
    problems: tuple[str, ...]  # files that differ from their recorded hash, or are missing


def pack_names(complaint_id: str) -> tuple[str, str]:
    return f"{complaint_id}-pack.pdf", f"{complaint_id}-pack.zip"


class _LazyConverter:
    """LibreOffice is started only when a case has a document to convert."""

    def __init__(self, given: PdfConverter | None) -> None:
        self._given = given
        self._own: PdfConverter | None = None

    def __call__(self) -> PdfConverter:
        if self._given is not None:
            return self._given
        if self._own is None:
            self._own = PdfConverter()
        return self._own

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


@contextmanager
def _work_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mailroom-pack-") as work:
        yield Path(work)


def build_pack(
    services: Services,
    complaint_id: str,
    out_dir: Path,
    prepared_by: str,
    *,
    converter: PdfConverter | None = None,
    source: str = "",
    actor: Actor | None = None,
) -> PackResult:
    """Build the pack of one case into ``out_dir``; NoSuchCase when there is none.
    ``prepared_by`` is printed on the cover; ``actor`` goes on the audit trail (default:
    ``prepared_by`` from ``source``)."""
    sources = read_case_sources(services, complaint_id)
    trail = case_trail(services, complaint_id)
    lazy = _LazyConverter(converter)
    pdf_name, zip_name = pack_names(complaint_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _work_folder() as work:
            preparer = FilePreparer(services, complaint_id, work, lazy)
            prepared = {item.document_id: preparer.prepare(item) for item in _files(sources)}
            contents = arrange(sources, prepared, _policy_pages(sources))
            bundle = Bundle(
                cover=_cover(services, sources, prepared_by),
                sections=contents.sections,
                chronology=contents.chronology,
                verification=trail.verification_lines(),
                title=f"{complaint_id} evidence bundle",
            )
            layout = build_bundle(bundle)
    finally:
        lazy.close()
    pdf_path = out_dir / pdf_name
    _write_atomic(pdf_path, layout.pdf)
    pdf_sha256 = hashlib.sha256(layout.pdf).hexdigest()
    manifest: dict[str, Any] = {
        "complaint_id": complaint_id,
        "record_as_of": sources.as_of.isoformat(),
        "prepared_by": prepared_by,
        "bundle": {"name": pdf_name, "sha256": pdf_sha256, "pages": layout.pages},
        "sections": {s.letter: s.title for s in contents.sections},
        "not_evidence": contents.not_evidence,
        "audit_chain": trail.summary(),
    }
    pages = {ref: [p.first, p.last] for ref, p in layout.documents.items() if p.first}

    def generated(files: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
        manifest["files"] = [{**entry, "bundle_pages": pages.get(entry["ref"])} for entry in files]
        return [("audit.jsonl", json_lines(trail.rows)), ("manifest.json", canonical_json(manifest))]

    zip_path = out_dir / zip_name
    files = write_zip(services, zip_path, contents.zip_entries, generated, sources.as_of)
    unreadable = [f"{f['name']}: not the recorded bytes" for f in files if not f["intact"]]
    problems = tuple(dict.fromkeys(contents.tampered + unreadable))
    with services.store.transaction() as repo:
        record(
            repo.session,
            services.clock.now(),
            actor or Actor(prepared_by, source),
            PACK_ACTION,
            complaint_id=complaint_id,
            target=pdf_name,
            detail=f"bundle {pdf_sha256[:16]}…, {layout.pages} pages",
        )
    listed = sum(1 for entry in contents.zip_entries if entry.shown == "listed")
    return PackResult(
        complaint_id=complaint_id,
        pdf=pdf_path,
        zip=zip_path,
        pdf_sha256=pdf_sha256,
        pages=layout.pages,
        documents=len(contents.zip_entries) - listed,
        listed=listed,
        chain_intact=trail.intact,
        chain_line=trail.line,
        problems=problems,
    )


def _files(sources: CaseSources) -> Iterator[Any]:
    for mail in sources.mails:
        if mail.raw is not None:
            yield mail.raw
        yield from mail.attachments
    for letter in sources.letters:
        if letter.pdf is not None:
            yield letter.pdf
    yield from sources.filed


def _policy_pages(sources: CaseSources) -> dict[str, tuple[bytes, TextPages]]:
    found = {}
    for policy in sources.policies:
        try:
            data = policy.path.read_bytes()
        except OSError as exc:
            data = f"(could not be read: {exc.strerror})".encode()
        headers = (
            ("Policy", policy.label),
            ("File", policy.path.name),
            ("SHA-256", hashlib.sha256(data).hexdigest()),
        )
        found[policy.zip_name] = (data, TextPages(headers=headers, body=data.decode("utf-8", "replace")))
    return found


def _cover(services: Services, sources: CaseSources, prepared_by: str) -> Cover:
    from mailroom.adjustments import adjustment_lines
    from mailroom.letters.pack import sender

    complaint = sources.complaint
    parties = complaint.get("parties") or []
    others = [f"{p['name'] or p['email']} ({p['role']})" for p in parties if p.get("role") != "complainant"]
    facts = [
        ("Stage", str(complaint.get("stage", ""))),
        ("Received by", str(complaint.get("channel", ""))),
        ("Officer", str(complaint.get("officer") or "the complaints team")),
    ]
    if others:
        facts.append(("Other parties", ", ".join(others)))
    # Reasonable adjustments in force (3.1, 5.10); when each was made is in the chronology.
    facts += adjustment_lines(complaint.get("contact") or {})
    return Cover(
        landlord=sender(services.settings).landlord.name,
        complaint_id=str(complaint["id"]),
        resident=resident_of(complaint),
        subject=str(complaint.get("subject") or ""),
        received=datetime.fromisoformat(str(complaint["received_at"])),
        status=str(complaint.get("status", "")).replace("_", " ").capitalize(),
        prepared_by=prepared_by,
        prepared_at=sources.as_of,
        facts=tuple(facts),
    )


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)

