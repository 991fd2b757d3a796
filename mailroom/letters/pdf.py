"""DOCX -> PDF with LibreOffice, headless: tagged, PDF/UA, en-GB, bookmarks (``PDF_EXPORT``).

``convert_to_pdf`` runs one ``soffice --convert-to pdf`` per call with a private,
throwaway profile: simple, about 1.5-2 s a letter (LibreOffice start-up dominates).

``PdfConverter`` keeps one LibreOffice running and hands it each conversion. There is
no Python UNO bridge on these machines (Debian's ``python3-uno`` is not installed with
``libreoffice-writer-nogui --no-install-recommends``, and ``unoserver`` needs it), so the
converter uses LibreOffice's own single-instance mechanism instead: a ``soffice`` started
with the same ``-env:UserInstallation`` as a running instance passes its command line
(``--convert-to``, files, ``--outdir``) to that instance over the profile's pipe, waits
until it has been processed, and exits. Three details make this work:

- the kept instance has a small placeholder document open; without one, LibreOffice
  quits after the first forwarded conversion leaves no document open (and a fresh
  placeholder each start: a killed instance leaves the document's lock file behind,
  and a headless LibreOffice that finds its document locked quits);
- the profile is created first (``--terminate_after_init``), and requests are sent
  only once the instance's pipe has been up for a moment: on a fresh profile
  LibreOffice restarts itself during start-up, and a request sent while the first
  process's pipe is briefly up makes the requester an instance of its own;
- the input filter is forced (``--infilter="MS Word 2007 XML"``), so nothing that is not
  a Word document gets converted by LibreOffice's type detection (it happily turned
  random bytes into a one-page PDF of text); inputs are also checked to be DOCX first.

About 0.15-0.2 s per letter once the instance is up (see ``bench/letters.py``). The
instance serves one conversion at a time; run one converter per worker process to
convert in parallel. If the instance dies it is restarted; if a conversion times out
the instance is killed (it may be stuck on that document) and restarted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
import zipfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["PDF_EXPORT", "PdfConverter", "PdfError", "convert_to_pdf", "soffice_path"]

# The input filter per accepted format, forced so LibreOffice's type detection never
# picks another (see the module docstring). The evidence pack converts ODT and RTF
# attachments too (docs/records.md); letters are always DOCX.
INPUT_FILTERS = {"docx": "MS Word 2007 XML", "odt": "writer8", "rtf": "Rich Text Format"}
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Accessible PDFs (docs/letters.md, "Screen readers"): tagged (a structure tree a
# screen reader follows, /MarkInfo /Marked true, the document's language as /Lang),
# PDF/UA where LibreOffice supports it (7.2 on; an older one ignores the option),
# bookmarks from the headings, and the document title shown instead of the file
# name. LibreOffice 7.4 takes export options as JSON after the filter name.
_EXPORT_OPTIONS = {
    "UseTaggedPDF": True,
    "PDFUACompliance": True,
    "ExportBookmarks": True,
    "DisplayPDFDocumentTitle": True,
}
PDF_EXPORT = "pdf:writer_pdf_Export:" + json.dumps(
    {name: {"type": "boolean", "value": str(value).lower()} for name, value in _EXPORT_OPTIONS.items()},
    separators=(",", ":"),
)
_COMMON = ("--headless", "--norestore", "--nolockcheck", "--nologo", "--nodefault")


class PdfError(RuntimeError):
    """A DOCX could not be converted. The message is one line."""


class _NotForwarded(Exception):
    """A request meant for the kept instance was converted by the requester itself."""


_PIPE_SETTLE = 0.3  # seconds the instance pipe must stay up before requests are sent


def soffice_path() -> str:
    """The ``soffice`` executable, or PdfError if LibreOffice is not installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise PdfError("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    return found


def _one_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and "javaldx" not in line]
    joined = " | ".join(lines)
    return joined[-limit:] if joined else "no output"


def _check_source(path: Path, fmt: str) -> None:
    if not path.is_file():
        raise PdfError(f"{path}: file not found")
    if fmt == "docx":
        _check_docx(path)
    elif fmt == "odt":
        _check_odt(path)
    elif fmt == "rtf":
        with path.open("rb") as handle:
            if handle.read(5) != b"{\\rtf":
                raise PdfError(f"{path.name}: not an RTF file (it does not start with {{\\rtf)")
    else:
        raise PdfError(f"{path.name}: cannot convert {fmt!r} (one of {', '.join(INPUT_FILTERS)})")


def _check_odt(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            mimetype = archive.read("mimetype") if "mimetype" in archive.namelist() else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise PdfError(f"{path.name}: not an ODT file ({_one_line(str(exc))})") from None
    if mimetype.strip() != _ODT_MIMETYPE:
        raise PdfError(f"{path.name}: not an ODT text document")


def _check_docx(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise PdfError(f"{path.name}: not a DOCX file ({_one_line(str(exc))})") from None
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise PdfError(f"{path.name}: not a DOCX file (no Word document inside the zip)")


def _profile_url(directory: Path) -> str:
    return f"-env:UserInstallation={directory.resolve().as_uri()}"


def _others_in_group(pgid: int) -> bool:
    """Whether a process other than the leader is in process group ``pgid`` (Linux /proc)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == pgid:
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, ...
            return True
    return False


def _instance_pipes(profile: Path) -> tuple[Path, ...]:
    """Where the socket through which a LibreOffice instance using ``profile`` takes
    requests from later ``soffice`` invocations can be: ``OSL_PIPE_<uid>_SingleOfficeIPC_<md5>``
    in /tmp (or /var/tmp if /tmp is not writable), the MD5 being of the profile URL in
    UTF-16LE, printed as hex without zero-padding (LibreOffice's
    desktop/source/app/officeipcthread.cxx and sal/osl/unx/pipe.cxx)."""
    digest = hashlib.md5(_profile_url(profile).split("=", 1)[1].encode("utf-16-le")).digest()
    name = f"OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{''.join(f'{b:x}' for b in digest)}"
    return (Path("/tmp") / name, Path("/var/tmp") / name)


def _remove(pipes: Sequence[Path]) -> None:
    """Remove the instance pipe of a stopped instance (LibreOffice may leave it behind
    when signalled; the name is unique to our private profile, so it is ours)."""
    for pipe in pipes:
        with contextlib.suppress(OSError):
            pipe.unlink()


def _kill_group(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop a process we started in its own session (``start_new_session``) and the
    rest of its process group (``soffice`` is a launcher; ``soffice.bin`` is its child).

    The leader is left unreaped (a zombie) until the group is gone, so its id cannot be
    reused and the signals reach only processes we started."""
    pgid = process.pid
    if process.returncode is not None:  # leader already reaped: only take out what is left
        if _others_in_group(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    if not _wait_group_or_zombie(process, grace):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    process.wait()


def _wait_group_or_zombie(process: subprocess.Popen[bytes], grace: float) -> bool:
    """Wait until the leader has exited (left unreaped) and the rest of its group is gone."""
    deadline = time.monotonic() + grace
    while os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    while _others_in_group(process.pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _run(command: Sequence[str], timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process, grace=1.0)
        process.communicate()
        raise PdfError(f"{what}: LibreOffice did not finish within {timeout:g} s") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _collect(sources: Sequence[Path], scratch: Path, out_dir: Path, output: str, what: str) -> list[Path]:
    """Move the PDFs from ``scratch`` into ``out_dir`` (atomically per file)."""
    results = []
    for source in sources:
        produced = scratch / f"{source.stem}.pdf"
        if not produced.is_file() or produced.stat().st_size == 0 or not _complete_pdf(produced):
            raise PdfError(f"{source.name}: {what} produced no PDF ({_one_line(output)})")
        target = out_dir / produced.name
        os.replace(produced, target)
        results.append(target)
    return results


def _complete_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.read(5) != b"%PDF-":
            return False
        handle.seek(max(path.stat().st_size - 1024, 0))
        return b"%%EOF" in handle.read()


def _prepare(
    docx_paths: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], fmt: str = "docx"
) -> tuple[list[Path], Path]:
    sources = [Path(p).resolve() for p in docx_paths]
    for source in sources:
        _check_source(source, fmt)
    stems = [s.stem for s in sources]
    if len(set(stems)) != len(stems):
        raise PdfError("two inputs have the same file name; their PDFs would collide")
    target = Path(out_dir).resolve()
    target.mkdir(parents=True, exist_ok=True)
    return sources, target


def convert_to_pdf(
    docx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, timeout: float = 120.0
) -> Path:
    """Convert one DOCX with a fresh ``soffice`` process; returns ``out_dir/<stem>.pdf``."""
    [source], target = _prepare([docx_path], out_dir)
    soffice = soffice_path()
    with tempfile.TemporaryDirectory(prefix="mailroom-lo-") as work:
        scratch = Path(work) / "out"
        command = [
            soffice,
            *_COMMON,
            _profile_url(Path(work) / "profile"),
            f"--infilter={INPUT_FILTERS['docx']}",
            "--convert-to",
            PDF_EXPORT,
            "--outdir",
            str(scratch),
            str(source),
        ]
        try:
            done = _run(command, timeout, source.name)
        finally:
            _remove(_instance_pipes(Path(work) / "profile"))  # only left if it was killed
        output = (done.stderr + done.stdout).decode("utf-8", "replace")
        scratch.mkdir(exist_ok=True)
        [pdf] = _collect([source], scratch, target, output, f"soffice (exit {done.returncode})")
        return pdf


class PdfConverter:
    """A kept-running LibreOffice for many conversions. Use as a context manager or
    call ``close()``; thread-safe (conversions are serialised)."""

    def __init__(self, *, timeout: float = 120.0, start_timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._soffice = soffice_path()
        self._work = Path(tempfile.mkdtemp(prefix="mailroom-lo-"))
        self._profile = _profile_url(self._work / "profile")
        self._lock = threading.Lock()
        self._server: subprocess.Popen[bytes] | None = None
        self._log = self._work / "office.log"
        self._pipes = _instance_pipes(self._work / "profile")
        self._finalizer = weakref.finalize(self, PdfConverter._cleanup, [None], self._work, self._pipes)
        self._generation = 0
        self._initialised = False
        self.restarts = 0
        self._closed = False

    # --- lifecycle

    @staticmethod
    def _cleanup(holder: list[subprocess.Popen[bytes] | None], work: Path, pipes: tuple[Path, ...]) -> None:
        if holder[0] is not None:
            _kill_group(holder[0])
            _remove(pipes)
        shutil.rmtree(work, ignore_errors=True)

    def _initialise_profile(self) -> None:
        """Create the profile with a throwaway run. On a fresh profile LibreOffice
        restarts itself once during start-up: its first process creates the instance
        pipe and removes it again ~0.1 s later, so a request sent in that window makes
        the requester an instance of its own, and the kept instance then hands its
        keepalive document over and quits."""
        command = [self._soffice, *_COMMON, self._profile, "--terminate_after_init"]
        done = _run(command, self.start_timeout, "profile set-up")
        if not (self._work / "profile" / "user").is_dir():
            raise PdfError(
                f"LibreOffice did not create its profile ({_one_line((done.stderr + done.stdout).decode())})"
            )
        self._initialised = True

    def _start(self) -> None:
        for attempt in (1, 2):
            try:
                self._start_once()
                return
            except _NotForwarded:
                self._restart()
                if attempt == 2:
                    raise PdfError(
                        "LibreOffice did not keep an instance running (requests were not handed to it)"
                    ) from None

    def _start_once(self) -> None:
        if not self._initialised:
            self._initialise_profile()
        self._generation += 1
        run = self._work / f"run{self._generation}"
        run.mkdir()
        # A fresh keepalive file each start: a killed instance leaves its lock file
        # (.~lock.keepalive.txt#) behind, and a headless LibreOffice that finds the
        # document locked does not open it and quits.
        keepalive = run / "keepalive.txt"
        keepalive.write_text("mailroom\n", encoding="utf-8")
        with self._log.open("ab") as log:
            server = subprocess.Popen(
                [self._soffice, *_COMMON, self._profile, str(keepalive)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._server = server
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, PdfConverter._cleanup, [server], self._work, self._pipes)
        # Until the instance has its pipe, a second soffice would become an instance
        # of its own. Requests sent once the pipe is up are queued until it is ready.
        deadline = time.monotonic() + self.start_timeout
        up_since: float | None = None
        while up_since is None or time.monotonic() - up_since < _PIPE_SETTLE:
            if server.poll() is not None or time.monotonic() > deadline:
                self._restart()
                raise PdfError(f"LibreOffice did not start ({_one_line(self._log_tail())})")
            pipe_up = any(pipe.exists() for pipe in self._pipes)
            up_since = (up_since or time.monotonic()) if pipe_up else None
            time.sleep(0.02)
        warm = run / "warmup.docx"
        _write_minimal_docx(warm)
        client_output, server_output = self._forward([warm], run / "out", self.start_timeout)
        if "warmup.docx" not in server_output:
            raise _NotForwarded  # the requester converted it itself
        if server.poll() is not None or not (run / "out" / "warmup.pdf").is_file():
            self._restart()
            raise PdfError(
                f"LibreOffice did not start a usable instance ({_one_line(client_output + server_output)})"
            )

    def _ensure(self) -> None:
        if self._server is not None and self._server.poll() is not None:
            self._restart()  # it died since the last conversion
        if self._server is None:
            self._start()

    def _restart(self) -> None:
        if self._server is not None:
            _kill_group(self._server)
            self._server = None
            _remove(self._pipes)
        self.restarts += 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._server = None
            self._finalizer()

    def __enter__(self) -> PdfConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return None if self._server is None else self._server.pid

    # --- converting

    def _log_tail(self) -> str:
        try:
            return self._log.read_bytes()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _forward(
        self, sources: Sequence[Path], scratch: Path, timeout: float, fmt: str = "docx"
    ) -> tuple[str, str]:
        """Hand a conversion to the kept instance; (requester's output, instance's output)."""
        scratch.mkdir(parents=True, exist_ok=True)
        log_size = self._log.stat().st_size if self._log.exists() else 0
        command = [
            self._soffice,
            *_COMMON,
            self._profile,
            f"--infilter={INPUT_FILTERS[fmt]}",
            "--convert-to",
            PDF_EXPORT,
            "--outdir",
            str(scratch),
            *map(str, sources),
        ]
        try:
            done = _run(command, timeout, ", ".join(s.name for s in sources))
        except PdfError:
            self._restart()
            raise
        with self._log.open("rb") as log:
            log.seek(log_size)
            server_output = log.read().decode("utf-8", "replace")
        return (done.stderr + done.stdout).decode("utf-8", "replace"), server_output

    def convert_many(
        self,
        docx_paths: Sequence[str | os.PathLike[str]],
        out_dir: str | os.PathLike[str],
        *,
        fmt: str = "docx",
    ) -> list[Path]:
        """Convert several files of one format (``INPUT_FILTERS``: DOCX unless told)
        in one request; returns the PDFs in input order."""
        sources, target = _prepare(docx_paths, out_dir, fmt)
        if not sources:
            return []
        with self._lock:
            if self._closed:
                raise PdfError("converter is closed")
            self._ensure()
            scratch = Path(tempfile.mkdtemp(prefix=".pdf-", dir=target))
            try:
                timeout = self.timeout + 5.0 * (len(sources) - 1)
                output = "".join(self._forward(sources, scratch, timeout, fmt))
                if self._server is not None and self._server.poll() is not None:
                    self._restart()  # died on this input: start afresh next time
                return _collect(sources, scratch, target, output, "LibreOffice")
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    def convert(self, docx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
        """Convert one DOCX; returns ``out_dir/<stem>.pdf``."""
        [pdf] = self.convert_many([docx_path], out_dir)
        return pdf


def _write_minimal_docx(path: Path) -> None:
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="word/document.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>warm-up</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
