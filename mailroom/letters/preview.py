"""A letter as it will print, for the review desk: the current revision's DOCX
converted to PDF by the kept-running LibreOffice (``pdf.PdfConverter``), then each
page drawn as a PNG by poppler's ``pdftoppm`` (Debian ``poppler-utils``).

Cached on disk by the DOCX's SHA-256, which the letter row records for its current
revision: ``<storage>/.previews/<sha256>/`` holds ``letter.pdf``, ``page-1.png``...
and ``index.json`` (how many pages, their sizes). A second preview of the same
revision reads ``index.json`` and stats the pages: no LibreOffice, no poppler.
A new revision has a new SHA-256, so nothing is ever stale; two letters with the
same DOCX share one preview.

Written like everything else under the storage root (``filing.Storage``: private
modes, never through a symlink): the pages are made in a private temporary folder,
copied into ``.previews/.tmp-<token>/`` and that folder renamed to ``<sha256>`` in one
step, so a preview is either all there or not there, and two requests racing for
the same revision cannot interleave their pages (the second rename loses, and its
copy is removed). A cache, not a record: nothing is fsynced, and a preview whose
pages do not match its index (a crash before the data reached the disk) is drawn
again. Nothing removes old previews yet; deleting ``.previews`` is always safe.

Bounded: the DOCX must still match the SHA-256 filed for it; LibreOffice has the
converter's own timeout; ``pdftoppm`` and ``pdfinfo`` run without a shell, with a
timeout, and draw at most ``PAGE_CAP`` pages (``Preview.total_pages`` says how many
the letter has).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mailroom.filing import sha256_hex
from mailroom.letters.pack import LetterError
from mailroom.letters.pdf import PdfError
from mailroom.services import Services

__all__ = [
    "DPI",
    "PAGE_CAP",
    "PREVIEWS",
    "Converter",
    "Preview",
    "PreviewError",
    "preview",
    "preview_pages",
    "preview_pdf",
]

PREVIEWS = ".previews"
DPI = 96  # a screen's resolution: an A4 page is 794 x 1123 pixels
PAGE_CAP = 20  # a letter runs to 2-4 pages; anything longer is shown in part
TOOL_TIMEOUT = 30.0  # seconds for pdftoppm (20 pages take about 3 s of CPU) and pdfinfo
MAX_DRAWERS = 4  # pdftoppm processes one preview runs at once (at most one per CPU)
STALE_TEMPORARY = 3600.0  # seconds after which an unfinished preview folder is a crash's leftover
_INDEX = "index.json"
_PDF = "letter.pdf"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PAGE = re.compile(r"page-(\d+)\.png")


class PreviewError(LetterError):
    """A letter cannot be previewed. One line."""


class Converter(Protocol):
    """What previews need of ``pdf.PdfConverter``."""

    def convert(self, docx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path: ...


@dataclass(frozen=True)
class Preview:
    draft_id: int
    revision: int
    sha256: str  # of the DOCX previewed
    pdf: Path  # absolute, under the storage root
    pages: tuple[Path, ...]  # PNGs in page order, at most PAGE_CAP
    total_pages: int  # pages in the PDF

    @property
    def truncated(self) -> bool:
        return self.total_pages > len(self.pages)


def preview_pages(services: Services, draft_id: int, converter: Converter) -> list[Path]:
    """PNG images of the pages of the letter's current revision (at most ``PAGE_CAP``)."""
    return list(preview(services, draft_id, converter).pages)


def preview_pdf(services: Services, draft_id: int, converter: Converter) -> Path:
    """The PDF of the letter's current revision, as the preview was drawn from."""
    return preview(services, draft_id, converter).pdf


def preview(services: Services, draft_id: int, converter: Converter) -> Preview:
    """The preview of a letter's current revision (any status), from the cache or
    made now with ``converter`` (kept running by the caller: starting LibreOffice
    costs seconds, converting with a warm one a fraction of one)."""
    with services.store.transaction() as repo:
        letter = repo.get_letter(draft_id)
        if letter is None:
            raise PreviewError(f"no letter {draft_id}")
        relative, sha256, revision = letter.docx_path, letter.docx_sha256, letter.revision
    if not _SHA256.fullmatch(sha256):
        raise PreviewError(f"letter {draft_id}: no DOCX filed for revision {revision}")
    folder = f"{PREVIEWS}/{sha256}"
    cached = _cached(services, folder)
    if cached is None:
        cached = _make(services, draft_id, relative, sha256, folder, converter)
    pages, total = cached
    storage = services.storage
    return Preview(
        draft_id,
        revision,
        sha256,
        storage.resolve(f"{folder}/{_PDF}"),
        tuple(storage.resolve(f"{folder}/{name}") for name in pages),
        total,
    )


# -- the cache ----------------------------------------------------------------------------


def _cached(services: Services, folder: str) -> tuple[list[str], int] | None:
    """(page file names, total pages) of a complete preview in ``folder``, or None."""
    try:
        index = json.loads(services.storage.read(f"{folder}/{_INDEX}"))
        files: dict[str, int] = index["files"]
        for name, size in files.items():
            if services.storage.resolve(f"{folder}/{name}").stat().st_size != size:
                return None  # written but not on disk when the machine stopped: draw it again
        if index.get("dpi") != DPI or index.get("page_cap") != PAGE_CAP:
            return None  # drawn with other settings
        pages = [str(name) for name in index["pages"]]
        if not pages or any(not _PAGE.fullmatch(name) or name not in files for name in pages):
            return None  # not an index this module wrote
        return pages, int(index["total_pages"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _make(
    services: Services, draft_id: int, relative: str, sha256: str, folder: str, converter: Converter
) -> tuple[list[str], int]:
    try:
        data = services.storage.read(relative)
    except OSError as exc:
        raise PreviewError(f"letter {draft_id}: cannot read {relative}: {exc.strerror}") from None
    if sha256_hex(data) != sha256:
        raise PreviewError(f"letter {draft_id}: {relative} has changed since it was filed")
    with tempfile.TemporaryDirectory(prefix="mailroom-preview-") as work:
        scratch = Path(work)
        docx = scratch / "letter.docx"
        docx.write_bytes(data)
        try:
            pdf = converter.convert(docx, scratch / "pdf")
        except PdfError as exc:
            raise PreviewError(f"letter {draft_id}: PDF conversion failed: {exc}") from None
        total = _page_count(pdf)
        pages = _draw(pdf, scratch / "pages", draft_id, total)
        total = total or len(pages)
        files = {_PDF: pdf.read_bytes()}
        files.update({f"page-{number}.png": page.read_bytes() for number, page in enumerate(pages, 1)})
    names = [name for name in files if name != _PDF]
    index = {
        "sha256": sha256,
        "dpi": DPI,
        "page_cap": PAGE_CAP,
        "pages": names,
        "total_pages": total,
        "files": {name: len(content) for name, content in files.items()},
    }
    _publish(services, folder, {**files, _INDEX: json.dumps(index).encode()})
    return names, total


def _publish(services: Services, folder: str, files: dict[str, bytes]) -> None:
    """Write ``files`` into a fresh folder and rename it to ``folder`` in one step."""
    storage = services.storage
    _remove_leftovers(services)
    temporary = f"{PREVIEWS}/.tmp-{uuid.uuid4().hex}"
    try:
        for name, content in files.items():
            storage.write_atomic(f"{temporary}/{name}", content, durable=False)
        target = storage.resolve(folder)
        for attempt in (1, 2):
            try:
                os.rename(storage.resolve(temporary), target)
                return
            except OSError:
                if _cached(services, folder) is not None:
                    return  # another request drew the same revision a moment ago
                if attempt == 2:
                    raise PreviewError(f"cannot file the preview in {folder}") from None
            # An incomplete or outdated preview is in the way: move it aside (one
            # rename, so a reader never sees it half removed), then try again.
            aside = storage.resolve(f"{PREVIEWS}/.tmp-{uuid.uuid4().hex}")
            with contextlib.suppress(OSError):
                os.rename(target, aside)
            shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(storage.resolve(temporary), ignore_errors=True)


def _remove_leftovers(services: Services) -> None:
    """Unfinished preview folders older than an hour: left by a process that stopped
    half-way (one still drawing is seconds old)."""
    previews = services.storage.resolve(PREVIEWS)
    if not previews.is_dir():
        return
    now = time.time()
    with os.scandir(previews) as entries:
        for entry in entries:
            if not entry.name.startswith(".tmp-") or not entry.is_dir(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMPORARY:
                shutil.rmtree(entry.path, ignore_errors=True)


# -- poppler --------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise PreviewError(f"{name} is not installed: apt-get install poppler-utils")
    return found


def _run(command: Sequence[str], what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        # No shell, nothing on stdin; run() kills the tool when the timeout passes.
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=TOOL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise PreviewError(f"{what} did not finish within {TOOL_TIMEOUT:g} s") from None


def _draw(pdf: Path, out: Path, draft_id: int, total: int) -> list[Path]:
    """The PDF's first ``PAGE_CAP`` pages as PNGs, in page order.

    Drawing a page takes pdftoppm ~25 ms; writing it as PNG ~150 ms (zlib), so a
    letter of several pages is drawn by a few pdftoppm at once, each a run of pages
    (all of them at once when the page count is unknown)."""
    out.mkdir()
    last = min(total, PAGE_CAP) if total > 0 else PAGE_CAP
    runs = _runs(last, min(MAX_DRAWERS, os.cpu_count() or 1)) if total > 0 else [(1, last)]
    base = [_tool("pdftoppm"), "-png", "-r", str(DPI)]
    deadline = time.monotonic() + TOOL_TIMEOUT
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for number, (first, final) in enumerate(runs):
            # Output to a file, not a pipe: a chatty run cannot block on a full pipe
            # while we wait for another.
            log = out.parent / f"pdftoppm-{number}.log"
            with log.open("wb") as errors:
                command = [*base, "-f", str(first), "-l", str(final), str(pdf), str(out / "page")]
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=errors, stderr=errors)
            processes.append((process, log))
        for process, _ in processes:
            process.wait(timeout=max(deadline - time.monotonic(), 0.001))
    except subprocess.TimeoutExpired:
        raise PreviewError(f"letter {draft_id}: pdftoppm did not finish within {TOOL_TIMEOUT:g} s") from None
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    found = _numbered(out)
    failed = [(p.returncode, log) for p, log in processes if p.returncode != 0]
    if failed or not found or (total > 0 and len(found) != last):
        code, log = failed[0] if failed else (0, processes[0][1])
        detail = _one_line(log.read_bytes()) or f"exit {code}, {len(found)} of {last} pages"
        raise PreviewError(f"letter {draft_id}: pdftoppm could not draw the PDF ({detail})")
    return found


def _runs(pages: int, drawers: int) -> list[tuple[int, int]]:
    """Pages 1..``pages`` in at most ``drawers`` runs of consecutive pages, as even as can be."""
    drawers = max(1, min(drawers, pages))
    size, extra = divmod(pages, drawers)
    runs, first = [], 1
    for number in range(drawers):
        final = first + size - 1 + (1 if number < extra else 0)
        runs.append((first, final))
        first = final + 1
    return runs


def _numbered(folder: Path) -> list[Path]:
    """The pages pdftoppm wrote, in page order: it pads the numbers to the width of
    the last one (``page-01.png`` when there are ten or more), so sort by number."""
    pages: list[tuple[int, Path]] = []
    for path in folder.iterdir():
        match = _PAGE.fullmatch(path.name)
        if match:
            pages.append((int(match.group(1)), path))
    return [path for _, path in sorted(pages)]


def _page_count(pdf: Path) -> int:
    """Pages in the PDF (pdfinfo), or 0 if that cannot be told."""
    try:
        done = _run([_tool("pdfinfo"), str(pdf)], "pdfinfo")
    except PreviewError:
        return 0
    match = re.search(rb"^Pages:\s+(\d+)\s*$", done.stdout, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _one_line(output: bytes, limit: int = 200) -> str:
    text = " | ".join(line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip())
    return text[:limit]
