"""The Ombudsman evidence pack (issue 12, docs/records.md), built with the real use
cases, LibreOffice and poppler from a case with a full record: 30 mails (HTML,
non-ASCII, a forwarded message, 12 attachments: PDF, JPEG, PNG, DOCX, XLSX, ZIP),
five issued letters and two drafts, three notes of calls."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from mailroom.cli import app
from mailroom.clock import FixedClock
from mailroom.letters import drafts
from mailroom.letters.pack import LetterError
from mailroom.records.pack import PackResult, build_pack
from mailroom.services import Services, build_services
from tests.conftest import make_settings
from tests.integration.test_letters import LANDLORD_FILE
from tests.support.pack_case import RichCase, build_rich_case

pytestmark = pytest.mark.slow


@dataclass
class Built:
    services: Services
    clock: FixedClock
    case: RichCase
    first: PackResult
    second: PackResult
    text: str  # pdftotext of the whole bundle, whitespace collapsed
    manifest: dict[str, Any]


def _text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    done = subprocess.run(["pdftotext", *pages, str(pdf), "-"], capture_output=True, check=True)
    return " ".join(done.stdout.decode("utf-8").split())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("pack")
    clock = FixedClock(datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(
        root / "storage", f"sqlite:///{root / 'mailroom.db'}", policy={"landlord_file": LANDLORD_FILE}
    )
    services = build_services(settings, clock)
    case = build_rich_case(services, clock, root / "inbox")
    first = build_pack(services, case.complaint_id, root / "one", "Jo Records")
    # Later the same day (no clock lapses meanwhile): the same record, so the same bytes.
    clock.advance(timedelta(hours=5))
    second = build_pack(services, case.complaint_id, root / "two", "Jo Records")
    with zipfile.ZipFile(first.zip) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    yield Built(services, clock, case, first, second, _text(first.pdf), manifest)
    services.store.engine.dispose()


def _documents(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest["files"])


def test_the_bundle_text_holds_every_subject_letter_and_index_entry(built: Built) -> None:
    for subject in built.case.subjects:
        assert " ".join(subject.split()) in built.text, subject
    for letter_id in built.case.issued:
        assert f"letter {letter_id}," in built.text
    index_pages = _text(built.first.pdf, 1, 6)
    for entry in _documents(built.manifest):
        title = " ".join(entry["title"].split())
        assert title[:60] in index_pages, title
    for name in built.case.attachment_names:
        assert name in built.text
    for who in built.case.calls:
        assert who in built.text
    # The HTML mail's text is there; its script is not run or shown as markup.
    assert "mould is back" in built.text and "<script>" not in built.text


def test_the_page_labels_are_consecutive_and_every_page_is_stamped(built: Built) -> None:
    reader = PdfReader(built.first.pdf)
    count = len(reader.pages)
    assert count == built.first.pages == built.manifest["bundle"]["pages"]
    assert list(reader.page_labels) == [str(n) for n in range(1, count + 1)]
    for number in (1, count // 2, count):
        assert re.search(rf"\b{number}\b", _text(built.first.pdf, number, number))


def _outline(reader: PdfReader) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline)
    return found


def test_the_outline_has_a_bookmark_per_section_and_document_at_its_page(built: Built) -> None:
    outline = _outline(PdfReader(built.first.pdf))
    titles = [title for title, _ in outline]
    for letter in "ABCDEFG":
        assert any(title.startswith((f"Section {letter}", f"{letter} ")) for title in titles)
    for entry in _documents(built.manifest):
        if entry["bundle_pages"] is None:
            continue
        first_page = entry["bundle_pages"][0]
        marks = [page for title, page in outline if title.startswith(entry["ref"] + " ")]
        assert marks == [first_page - 1], (entry["ref"], marks, first_page)


def _link_targets(pdf: Path) -> list[int]:
    targets = []
    with pikepdf.open(pdf) as document:
        pages = {page.objgen: number for number, page in enumerate(document.pages, start=1)}
        names = {}
        if "/Names" in document.Root and "/Dests" in document.Root.Names:
            tree = pikepdf.NameTree(document.Root.Names.Dests)
            names = {str(k): v for k, v in tree.items()}
        for page in document.pages:
            for annotation in page.get("/Annots", []):
                if annotation.get("/Subtype") != "/Link":
                    continue
                dest = annotation.get("/Dest")
                action = annotation.get("/A")
                if dest is None and action is not None and action.get("/S") == "/GoTo":
                    dest = action.get("/D")
                assert dest is not None, "every link in the bundle is internal"
                if isinstance(dest, (pikepdf.String, str)):
                    dest = names[str(dest)]
                    dest = dest.get("/D", dest) if isinstance(dest, pikepdf.Dictionary) else dest
                targets.append(pages[dest[0].objgen])
    return targets


def test_every_index_link_resolves_to_its_documents_first_page(built: Built) -> None:
    targets = _link_targets(built.first.pdf)
    firsts = {entry["bundle_pages"][0] for entry in _documents(built.manifest) if entry["bundle_pages"]}
    assert firsts <= set(targets), sorted(firsts - set(targets))
    assert all(1 <= target <= built.first.pages for target in targets)


def test_the_zip_holds_every_original_and_its_manifest_hashes_match(built: Built) -> None:
    manifest = built.manifest
    assert manifest["bundle"]["sha256"] == hashlib.sha256(built.first.pdf.read_bytes()).hexdigest()
    with zipfile.ZipFile(built.first.zip) as archive:
        names = set(archive.namelist())
        for entry in _documents(manifest):
            data = archive.read(entry["name"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"] == entry["recorded_sha256"]
            assert entry["intact"]
        trail = [json.loads(line) for line in archive.read("audit.jsonl").splitlines()]
    assert {"manifest.json", "audit.jsonl"} <= names
    listed = {e["name"].split("-", 1)[1] for e in _documents(manifest) if e["shown"] == "listed"}
    assert {"rent-account-1.xlsx", "photos-1.zip", "rent-account-2.xlsx", "photos-2.zip"} <= listed
    kinds = {row["type"] for row in trail}
    assert {"event", "chain"} <= kinds
    assert manifest["audit_chain"]["intact"] is True


def test_building_twice_gives_the_same_bytes(built: Built) -> None:
    assert built.first.pdf.read_bytes() == built.second.pdf.read_bytes()
    assert built.first.zip.read_bytes() == built.second.zip.read_bytes()


def test_drafts_never_enter_section_a(built: Built) -> None:
    section_a = [e for e in _documents(built.manifest) if e["ref"].startswith("A")]
    letters_in_a = {int(m) for e in section_a for m in re.findall(r"\(letter (\d+),", e["title"])}
    assert letters_in_a == set(built.case.issued)
    marked = {item["letter"] for item in built.manifest["not_evidence"] if "letter" in item}
    assert set(built.case.drafts) <= marked
    with zipfile.ZipFile(built.first.zip) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".docx") and "letter-" in n]


def test_a_refused_approval_leaves_no_pdf_beside_the_issued_letters(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, case = built.services, built.case
    folder = services.storage.resolve(f"{case.complaint_id}/letters")
    before = sorted(p.name for p in folder.iterdir() if p.suffix == ".pdf")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise LetterError("letter cannot be issued: the outbox refused it")

    monkeypatch.setattr(drafts, "_issue", refuse)
    with pytest.raises(LetterError):
        drafts.approve(services, case.drafts[0], by="Jo Records")
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".pdf") == before
    with services.store.transaction() as repo:
        statuses = {lt.status for lt in repo.letters_of_case(case.complaint_id) if lt.id in case.drafts}
    assert statuses == {"draft"}


def test_a_file_left_in_the_letters_folder_is_marked_not_evidence(built: Built, tmp_path: Path) -> None:
    services, case = built.services, built.case
    stray = f"{case.complaint_id}/letters/99-stage1-response-r1.pdf"
    services.storage.write_atomic(stray, b"%PDF-1.4 stray")
    try:
        result = build_pack(services, case.complaint_id, tmp_path, "Jo Records")
        with zipfile.ZipFile(result.zip) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            assert not [n for n in archive.namelist() if "99-stage1" in n]
        assert stray in {item["path"] for item in manifest["not_evidence"]}
    finally:
        services.storage.remove_file(stray)


def test_mailroom_pack_writes_both_files(built: Built, tmp_path: Path) -> None:
    config = tmp_path / "mailroom.toml"
    settings = built.services.settings
    config.write_text(
        f'[storage]\nroot = "{settings.storage.root}"\n[database]\nurl = "{settings.database.url}"\n'
        f'[policy]\nlandlord_file = "{LANDLORD_FILE}"\n'
    )
    result = CliRunner().invoke(
        app, ["pack", built.case.complaint_id, "--out", str(tmp_path / "out"), "--json", "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert Path(shown["pdf"]).is_file() and Path(shown["zip"]).is_file()
    assert shown["audit_chain_intact"] is True
    missing = CliRunner().invoke(app, ["pack", "CMP-2026-999999", "-c", str(config)])
    assert missing.exit_code == 1
