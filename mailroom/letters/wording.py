"""Wording warnings for `mailroom templates check` (issue 15, item 4): things a
person editing a template should look at, never reasons to refuse it.

- **Reading age.** A paragraph of the template's own words (fields count as one
  short word each, tags as nothing) whose Flesch-Kincaid reading age
  (``readability.py``) is above ``[letters] max_reading_age``. Paragraphs of fewer
  than ``MIN_WORDS`` words (headings, sign-offs) are left out: the formula needs
  sentences to mean anything.
- **A lead-in that repeats the field.** For each field a template prints (``{{ name
  }}``), the lead-in is the last sentence of template text just before it (in its
  paragraph, else the paragraph before). What staff typically write there is the
  opening sentence of the field's help text (what they are asked for) and of its
  sample text (``samples.py``). When the lead-in and either opening share at least
  ``MIN_SHARED`` content-word stems and those are at least ``OVERLAP`` of the
  shorter one's stems (the overlap coefficient), the resident would read the same
  idea twice: "We have considered whether to use our discretion... We considered
  whether to accept it anyway".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mailroom.letters.readability import readability

__all__ = ["Repeat", "content_stems", "hard_paragraphs", "lead_in_repeats", "stem"]

MIN_WORDS = 10
MIN_SHARED = 2
OVERLAP = 0.5
_EXCERPT = 70
_LEAD_IN_WORDS = 2  # content words: fewer ("Outcome:") and the lead-in is the paragraph before

_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}")
_EXPRESSION = re.compile(r"\{\{.*?\}\}")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOPWORD_TEXT = """
    a about above after again all also am an and any anything are as at be because been before being
    below between both but by can could did do does doing done down during each even every few for from
    further had has have having he her here hers him his how i if in into is it it's its itself just me
    more most much my no nor not now of off on once only or other our ours out over own same she should
    so some such than that the their theirs them then there these they this those through to too under
    until up us very was we were what when where whether which while who whom why will with would yet
    you your yours anyway please
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SUFFIXES = ("ation", "ing", "ed", "es", "s")


def stem(word: str) -> str:
    """A crude stem: one common suffix, then a final "e", off ("considered", "considering"
    -> "consider"; "used", "use" -> "us")."""
    w = word.lower().replace("'", "")
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 2:
            w = w[: -len(suffix)]
            break
    return w[:-1] if w.endswith("e") and len(w) > 2 else w


def content_stems(text: str) -> dict[str, str]:
    """The words that carry meaning, in order, by stem: stem -> the first word with it."""
    found: dict[str, str] = {}
    for word in _WORD.findall(text.lower()):
        if word not in _STOPWORDS and len(word) > 1:
            found.setdefault(stem(word), word)
    return found


def template_words(paragraph: str) -> str:
    """A template paragraph as a reader meets its wording: tags gone, fields one word."""
    return " ".join(_EXPRESSION.sub("x", _TAG.sub(" ", paragraph)).split())


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def hard_paragraphs(paragraphs: Iterable[str], max_reading_age: float) -> list[str]:
    """One warning per paragraph above ``max_reading_age``."""
    found = []
    for paragraph in paragraphs:
        words = template_words(paragraph)
        measured = readability(words)
        if measured.words >= MIN_WORDS and measured.reading_age > max_reading_age:
            found.append(
                f"reading age {measured.reading_age:.0f} is above {max_reading_age:g} "
                f"(Flesch-Kincaid: {measured.words} words, {measured.sentences} sentence(s), "
                f"{measured.syllables} syllables): '{_excerpt(words)}'"
            )
    return found


@dataclass(frozen=True)
class Repeat:
    field: str
    lead_in: str
    source: str  # "help text" or "sample text"
    opening: str
    shared: tuple[str, ...]

    def message(self) -> str:
        return (
            f"the lead-in before {{{{ {self.field} }}}} says what staff are likely to write there: "
            f"'{_excerpt(self.lead_in)}' and its {self.source} '{_excerpt(self.opening)}' share "
            f"{', '.join(self.shared)}; reword the lead-in so the field's text follows on from it"
        )


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    flat = re.split(r"\s\(|;", flat, maxsplit=1)[0]  # "... used (2.3); needed when ..." -> "... used"
    return _SENTENCE.split(flat, maxsplit=1)[0]


def _last_sentence(text: str) -> str:
    sentences = [s for s in _SENTENCE.split(" ".join(text.split())) if s]
    return sentences[-1] if sentences else ""


def lead_in(paragraphs: Sequence[str], field: str) -> list[str]:
    """The last sentence of template text before each place ``{{ field }}`` is printed."""
    found = []
    printed = re.compile(r"\{\{-?\s*" + re.escape(field) + r"\b")
    for n, paragraph in enumerate(paragraphs):
        match = printed.search(paragraph)
        if match is None:
            continue
        before = template_words(paragraph[: match.start()])
        back = n
        while len(content_stems(before)) < _LEAD_IN_WORDS and back > 0:
            back -= 1
            before = template_words(paragraphs[back])
        if before:
            found.append(_last_sentence(before))
    return found


def lead_in_repeats(paragraphs: Sequence[str], fields: Mapping[str, tuple[str, str]]) -> list[Repeat]:
    """``fields``: name -> (help text, sample text) of each field staff fill in."""
    found = []
    for name, (help_text, sample) in fields.items():
        for lead in lead_in(paragraphs, name):
            lead_stems = content_stems(lead)
            for source, text in (("help text", help_text), ("sample text", sample)):
                opening = _first_sentence(text)
                opening_stems = content_stems(opening)
                shared = [word for key, word in lead_stems.items() if key in opening_stems]
                smaller = min(len(lead_stems), len(opening_stems))
                if len(shared) >= MIN_SHARED and smaller and len(shared) / smaller >= OVERLAP:
                    found.append(Repeat(name, lead, source, opening, tuple(shared)))
    return found
