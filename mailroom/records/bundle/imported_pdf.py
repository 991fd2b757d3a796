"""A PDF that goes into the bundle as it is (a letter, a PDF attachment), opened and
made inert first.

The file is untrusted: it may be encrypted, broken, have tens of thousands of pages,
or carry JavaScript, an open action, launch or URI links, forms or its own outline.
An evidence bundle must show, never run, so:

- a file that needs a password, cannot be parsed or has more than ``MAX_PAGES``
  pages is not used (the document is listed in the index only, with the reason);
- annotations are flattened into the page (a filled-in form keeps its values as
  drawn text) and then removed, with every link and action they held;
- each page keeps only the entries that say what it looks like (boxes, rotation,
  resources, contents), so page actions, thread beads and stray references to the
  source's catalog do not travel with it; only pages are copied, never the
  source's catalog (its open action, scripts, outline, form);
- the defanged file is written to the build's temporary folder and reopened from
  there: a file qpdf cannot write fails here, not in the middle of the bundle;
- ``sweep_actions`` goes over every object of the finished bundle as a backstop.
"""

from __future__ import annotations

import math
import warnings
from contextlib import ExitStack
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from mailroom.records.bundle.clean import one_line
from mailroom.records.bundle.unplaceable import Unplaceable

MAX_PAGES = 2_000  # pages of one PDF; a longer one is listed in the index only
A4_BOX = (0, 0, 595.276, 841.89)

_PAGE_KEYS = frozenset(
    {
        "/Type",
        "/Parent",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Rotate",
        "/Resources",
        "/Contents",
        "/Group",
        "/UserUnit",
    }
)
_RESOURCE_KEYS = frozenset(
    {"/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/ProcSet", "/Properties"}
)
_OPTIONAL_BOXES = ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")
# Entries that start something (scripts, actions, forms) or carry a payload.
_ACTIVE_KEYS = (
    Name.OpenAction,
    Name.AA,
    Name.JS,
    Name.JavaScript,
    Name.AcroForm,
    Name.Names,
    Name.EF,
    Name.URI,
)
# Action types that run code, reach outside the bundle or change what is shown.
_ACTIVE_ACTIONS = frozenset(
    {
        Name.JavaScript,
        Name.Launch,
        Name.URI,
        Name.SubmitForm,
        Name.ImportData,
        Name.ResetForm,
        Name.GoToR,
        Name.GoToE,
        Name.Rendition,
        Name.Sound,
        Name.Movie,
        Name.RichMediaExecute,
        Name.Hide,
        Name.Named,
        Name.SetOCGState,
        Name.GoTo3DView,
        Name.Thread,
    }
)


def open_pdf(path: Path, workdir: Path, name: str, opened: ExitStack) -> pikepdf.Pdf | Unplaceable:
    """The defanged PDF, reopened from ``workdir`` and closed by ``opened``; or why
    it cannot go into the bundle."""
    target = workdir / f"{name}.pdf"
    with warnings.catch_warnings():
        # pikepdf warns about repairs it made; a repaired file is used as repaired.
        warnings.simplefilter("ignore")
        try:
            source = pikepdf.open(path, password="")
        except pikepdf.PasswordError:
            return Unplaceable("encrypted PDF")
        except Exception as error:  # qpdf and the OS fail in many ways on hostile files
            return Unplaceable(f"unreadable PDF: {_one_line(error)}")
        try:
            pages = len(source.pages)
            if pages == 0:
                return Unplaceable("unreadable PDF: it has no pages")
            if pages > MAX_PAGES:
                return Unplaceable(
                    f"PDF of {pages:,} pages, more than the {MAX_PAGES:,} a bundle takes from one file"
                )
            defang(source)
            source.save(target)
        except Exception as error:
            return Unplaceable(f"unreadable PDF: {_one_line(error)}")
        finally:
            source.close()
        try:
            clean = pikepdf.open(target)
        except Exception as error:  # what qpdf wrote, it reads; but never fail the bundle
            return Unplaceable(f"unreadable PDF: {_one_line(error)}")
    opened.callback(clean.close)
    return clean


def _one_line(error: Exception) -> str:
    """The error in a line, without the file's path (qpdf starts its messages with
    it; the OS puts it at the end): where the original is stored is nobody's business
    in the bundle, and the build's temporary path says nothing."""
    if isinstance(error, OSError) and error.strerror:
        return one_line(error.strerror, 160)
    text = str(error) or type(error).__name__
    return one_line(text.split(": ", 1)[-1] if text.startswith("/") else text, 160)


def defang(pdf: pikepdf.Pdf) -> None:
    """Flatten and drop annotations, keep only each page's look, drop the catalog's
    active entries: in place."""
    _flatten_annotations(pdf)
    for page in pdf.pages:
        _keep_look_only(page.obj)
    for key in list(pdf.Root.keys()):
        if key not in ("/Type", "/Pages"):
            del pdf.Root[key]


def _flatten_annotations(pdf: pikepdf.Pdf) -> None:
    try:
        if Name.AcroForm in pdf.Root:
            pdf.generate_appearance_streams()
        pdf.flatten_annotations("all")
    except Exception:  # a form qpdf cannot draw: its annotations are dropped all the same
        pass


def _keep_look_only(page: Dictionary) -> None:
    for key in list(page.keys()):
        if key not in _PAGE_KEYS:
            del page[key]
    media = _box(page.get(Name.MediaBox))
    page.MediaBox = Array(media if media else A4_BOX)
    for key in _OPTIONAL_BOXES:
        if key in page:
            box = _box(page.get(key))
            if box:
                page[key] = Array(box)
            else:
                del page[key]
    rotate = page.get(Name.Rotate)
    if rotate is not None:
        if isinstance(rotate, int) and rotate % 90 == 0:
            page.Rotate = rotate % 360
        else:
            del page[Name.Rotate]
    resources = page.get(Name.Resources)
    if isinstance(resources, Dictionary):
        for key in list(resources.keys()):
            if key not in _RESOURCE_KEYS:
                del resources[key]
    elif resources is not None:
        del page[Name.Resources]


def _box(value: object) -> list[float] | None:
    """A page box as [x0 y0 x1 y1] with x0 < x1 and y0 < y1, or None if it is not one."""
    if not isinstance(value, Array) or len(value) != 4:
        return None
    try:
        x0, y0, x1, y1 = (float(number) for number in value)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(number) for number in (x0, y0, x1, y1)):
        return None
    if abs(x1 - x0) < 1 or abs(y1 - y0) < 1:
        return None
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def sweep_actions(pdf: pikepdf.Pdf) -> None:
    """Remove every active entry and action from every object but the catalog
    (which the bundle writes itself), nested dictionaries and arrays included."""
    root = pdf.Root.objgen
    for top in pdf.objects:
        if isinstance(top, (Dictionary, Stream, Array)) and not (
            isinstance(top, Dictionary) and top.objgen == root
        ):
            _sweep(top)


def _sweep(top: pikepdf.Object) -> None:
    stack = [top]
    while stack:
        node = stack.pop()
        children: list[pikepdf.Object | None]
        if isinstance(node, Array):
            children = list(node)
        else:
            for key in _ACTIVE_KEYS:
                if key in node:
                    del node[key]
            subtype = node.get(Name.S)
            if isinstance(subtype, Name) and subtype in _ACTIVE_ACTIONS:
                for entry in list(node.keys()):
                    del node[entry]
            children = [node.get(entry) for entry in node.keys()]  # noqa: SIM118 - a Stream is no mapping
        stack.extend(
            child for child in children if isinstance(child, (Dictionary, Array)) and not child.is_indirect
        )
