"""How hard a paragraph is to read: the Flesch-Kincaid grade level, as a reading age.

    grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59
    reading age = grade + 5   (a US school grade starts at about age 5 plus the grade)

Pure and small: sentences end at ".", "!" or "?" (or the paragraph's end); a word is
a run of letters (apostrophes inside are part of it); numbers, web and email
addresses count as words of one syllable, as a reader takes them in at a glance.
Syllables are counted by rule, not by dictionary: vowel groups (y counts as a vowel
after a consonant), less a silent final "e" ("make"), but not "-le" after a
consonant ("table") nor a final "ee" ("agree"); "-es" and "-ed" endings are silent
unless after the letters that sound them ("boxes", "wanted"); every word has at least
one, a word of three letters or fewer exactly one. Good to a syllable or so on most
English words, which is what the formula needs: it is a guide for the person writing
a template, not a verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Readability", "readability", "reading_age", "syllables"]

_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?:[\"')\]]*)(?=\s|$)")
# y is a vowel after a consonant ("happy", "system"), not at the start ("yes") nor after a vowel ("day").
_VOWEL_GROUP = re.compile(r"[aeiou]+|(?<=[^aeiou])y")
_VOWELS = "aeiouy"
_SOUNDED_ES = ("ses", "zes", "xes", "ches", "shes", "ges", "ces")
_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|\S+\.(?:uk|com|org|net)\S*", re.IGNORECASE)
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "mr.", "mrs.", "ms.", "dr.", "no.")


def syllables(word: str) -> int:
    """The syllables of one English word (letters only; anything else is ignored)."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) <= 3:
        return 1 if w else 0
    groups = len(_VOWEL_GROUP.findall(w))
    if w.endswith("e") and w[-2] not in _VOWELS and not (w.endswith("le") and w[-3] not in _VOWELS):
        groups -= 1  # silent final e: "make", "whole"; not "table", "agree", "issue"
    elif w.endswith("es") and w[-3] not in _VOWELS and not w.endswith(_SOUNDED_ES):
        groups -= 1  # "homes", "makes"; not "boxes", "pages", "issues"
    elif w.endswith("ed") and w[-3] not in _VOWELS + "td":
        groups -= 1  # "asked", "used"; not "wanted", "needed", "agreed"
    return max(1, groups)


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int

    @property
    def grade(self) -> float:
        """The Flesch-Kincaid grade level (0 for no words)."""
        if not self.words:
            return 0.0
        return 0.39 * self.words / max(1, self.sentences) + 11.8 * self.syllables / self.words - 15.59

    @property
    def reading_age(self) -> float:
        return self.grade + 5


def readability(text: str) -> Readability:
    """Words, sentences and syllables of a paragraph."""
    flat = " ".join(text.split())
    lowered = flat.lower()
    for abbreviation in _ABBREVIATIONS:  # "e.g." ends no sentence
        lowered = lowered.replace(abbreviation, abbreviation.replace(".", ""))
    words = count = 0
    for token in _TOKEN.findall(lowered):
        if _ADDRESS.fullmatch(token.strip(".,;:()\"'")) or re.fullmatch(r"[^a-z]*\d[^a-z]*", token):
            words, count = words + 1, count + 1
            continue
        for word in _WORD.findall(token):
            words, count = words + 1, count + syllables(word)
    without_addresses = _ADDRESS.sub("x", lowered)
    sentences = len(_SENTENCE_END.findall(without_addresses))
    if without_addresses.rstrip() and not re.search(r"[.!?][\"')\]]*$", without_addresses.rstrip()):
        sentences += 1  # the last sentence has no full stop (a heading, a list item)
    return Readability(words, max(1, sentences) if words else 0, count)


def reading_age(text: str) -> float:
    """The paragraph's Flesch-Kincaid reading age (grade + 5)."""
    return readability(text).reading_age
