"""`mailroom templates check`: a template is linted (broken or split tags, names no
letter gives) and then rendered with realistic sample data for its letter type,
once with every field filled and once with every optional field left empty, so a
name that only fails at render time fails here, quoting the paragraph, and never on
a resident's letter."""

from __future__ import annotations

from pathlib import Path

from mailroom.letters.docx_text import DocxReadError, read_docx_text
from mailroom.letters.render import LetterRenderer, TemplateError, clean_context, lint_template
from mailroom.letters.samples import sample_context
from mailroom.letters.types import FIELDS, LetterType, template_variables
from mailroom.letters.wording import hard_paragraphs, lead_in_repeats

# ``[letters] max_reading_age`` (config.py) when no setting is given.
DEFAULT_MAX_READING_AGE = 14.0


def check_template(path: Path, kind: LetterType | None, allowed: frozenset[str] | None = None) -> list[str]:
    """One line per problem with the template at ``path``; none when it is fit to use.
    ``kind`` None: lint only (there is no sample data for an unknown type)."""
    problems = lint_template(path, allowed if allowed is not None else _allowed(kind))
    if problems or kind is None:
        return problems
    renderer = LetterRenderer()
    seen: set[str] = set()
    for filled, label in ((True, "all fields filled"), (False, "optional fields empty")):
        try:
            renderer.render(path, clean_context(sample_context(kind, optional=filled)))
        except TemplateError as exc:
            if str(exc) not in seen:  # the same fault with either sample: said once
                seen.add(str(exc))
                problems.append(f"{exc} (rendering {kind.value} with sample data, {label})")
    return problems


def _allowed(kind: LetterType | None) -> frozenset[str]:
    if kind is not None:
        return template_variables(kind)
    return frozenset().union(*(template_variables(t) for t in LetterType))


def template_warnings(
    path: Path, kind: LetterType | None, max_reading_age: float = DEFAULT_MAX_READING_AGE
) -> list[str]:
    """One line per wording warning for the template at ``path`` (none for a file that
    is not a DOCX: ``check_template`` reports that). ``kind`` None: the reading age only
    (the fields and their samples are those of a letter type)."""
    try:
        paragraphs = read_docx_text(path).paragraphs
    except DocxReadError:
        return []
    found = hard_paragraphs(paragraphs, max_reading_age)
    if kind is not None:
        samples = sample_context(kind)
        fields = {
            spec.name: (
                spec.description,
                samples[spec.name] if isinstance(samples.get(spec.name), str) else "",
            )
            for spec in FIELDS[kind]
            if spec.type == "multiline"  # prose staff write; a date or a name follows any lead-in
        }
        found += [repeat.message() for repeat in lead_in_repeats(paragraphs, fields)]
    return [f"{path.name}: warning: {line}" for line in found]
