"""Sample letter contexts (from ``mailroom/letters/samples.py``, which `templates
check` uses too) and a reader for the text of a rendered letter."""

from __future__ import annotations

import io
from typing import Any, cast

from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from mailroom.letters.samples import (
    DECISIONS as DECISIONS,
)
from mailroom.letters.samples import (
    LANDLORD as LANDLORD,
)
from mailroom.letters.samples import (
    OUTSTANDING as OUTSTANDING,
)
from mailroom.letters.samples import (
    PACK_PATH as PACK_PATH,
)
from mailroom.letters.samples import (
    POINTS as POINTS,
)
from mailroom.letters.samples import (
    REMEDIES as REMEDIES,
)
from mailroom.letters.samples import (
    STAGE1 as STAGE1,
)
from mailroom.letters.samples import (
    STAGE2 as STAGE2,
)
from mailroom.letters.samples import (
    TEMPLATES as TEMPLATES,
)
from mailroom.letters.samples import (
    pack as pack,
)
from mailroom.letters.samples import (
    sample_context as sample_context,
)

ROOT = PACK_PATH.parents[1]


def letter_paragraphs(docx: bytes) -> list[tuple[str, str]]:
    """Every paragraph of a DOCX as ``(part, text)``, part ``"body"``, ``"header"`` or
    ``"footer"``, in order: headers and footers first. Reads every ``w:p`` (tables,
    content controls and text boxes included) and headers/footers through the package
    relationships, so reading never adds parts."""
    document = Document(io.BytesIO(docx))
    found: list[tuple[str, str]] = []
    for rel in document.part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if kind in ("header", "footer"):
            element = rel.target_part.element
            found += [(kind, _text(p)) for p in element.iter(qn("w:p"))]
    found += [("body", _text(p)) for p in document.element.body.iter(qn("w:p"))]
    return found


def _text(p: Any) -> str:
    """A ``w:p`` element's text as Word shows it (line breaks ``\\n``, tabs ``\\t``)."""
    return Paragraph(p, cast(Any, None)).text
