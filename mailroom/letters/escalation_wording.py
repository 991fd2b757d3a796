"""6.12: a landlord must not make stage 2 depend on the resident explaining why.

A letter fails when any sentence makes escalation conditional on the resident
explaining, justifying or giving reasons. Two independent tests, so that neither a
new phrasing nor a reworded stock sentence slips through:

- a list of known phrasings ("we will only progress a stage 2 request that
  explains...", "please explain why you want a review", "because you did not give
  reasons");
- a structural rule: one sentence holding a condition (only, unless, if, provided,
  must, need to...), escalation (stage 2, escalate, review, take it further) and a
  demand for the resident's reasons (explain why, your reasons, justify, grounds).

Either is excused only by a negation just before the demand ("you do not have to
give reasons", "you never need to explain why"), the wording the templates use to
tell residents the opposite."""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["conditional_escalation", "sentences"]

_FLAGS = re.IGNORECASE

_PHRASES = tuple(
    re.compile(p, _FLAGS)
    for p in (
        r"\b(?:will|can|would|shall|may)? ?only\b.{0,60}\b(?:progress|escalat\w*|consider|accept|look at|"
        r"review|move|take)\b.{0,80}\b(?:explain\w*|reasons?|justif\w*|grounds|why)\b",
        r"\bunless you\b.{0,60}\b(?:explain\w*|justif\w*|reasons?|grounds|tell us why|say why)\b",
        r"\b(?:provided|providing|as long as|so long as|on condition that|subject to)\b.{0,80}"
        r"\b(?:explain\w*|reasons?|justif\w*|grounds|why)\b",
        r"\b(?:must|need to|needs to|required to|have to|has to|should)\s+(?:\w+\s+){0,3}?"
        r"(?:explain|justify|give (?:us )?(?:your |any |the |clear |valid )?reasons|provide (?:us with )?"
        r"(?:your |any |the |clear |valid )?reasons|state (?:your )?(?:reasons|grounds)|set out why|"
        r"tell us why|say why)\b",
        r"\bplease (?:explain|tell us why|say why|set out why|justify|give (?:us )?(?:your )?reasons|"
        r"provide (?:your )?reasons)\b",
        r"\b(?:request|requests|application|applications)\s+(?:that|which)\s+(?:explains?|sets? out|gives?|"
        r"justif\w*)\b",
        r"\b(?:because|as|since) you (?:have not|haven't|did not|didn't|do not|don't)\s+(?:explain\w*|"
        r"justif\w*|(?:give|given|provide\w*|tell|told|say|said|set out)\s+(?:us\s+)?(?:any |your |the |a )?"
        r"(?:reasons?|why|grounds))\b",
        r"\b(?:without|no)\s+(?:clear |valid |good |any )?(?:reasons?|grounds|explanation)\b.{0,60}"
        r"\b(?:not|cannot|can't|won't|unable)\b.{0,20}\b(?:accept|escalat\w*|progress|consider|review)",
    )
)

_CONDITION = re.compile(
    r"\b(?:only|unless|if|provided|providing|as long as|so long as|subject to|on condition|must|need to|"
    r"needs to|required|requires?|have to|has to|should|please|depends? on|dependent on|will need)\b",
    _FLAGS,
)
_ESCALATION = re.compile(
    r"\b(?:stage\s*(?:2|two|ii)|escalat\w*|review\w*|final stage|look at (?:it|this|your complaint) again|"
    r"take (?:it|this|your complaint|the matter) further|next stage)\b",
    _FLAGS,
)
_DEMAND = re.compile(
    r"\b(?:your reasons?|reasons? (?:for|why)|(?:give|provide|state|set out|include)\s+(?:us\s+)?"
    r"(?:with\s+)?(?:your |any |the |clear |full |valid )?(?:reasons?|grounds)|justif\w*|"
    r"grounds (?:for|to)|explain(?:s|ing)? why|(?:you|that|which|to) explains?|tell us why|say why|"
    r"set out why|why you (?:want|wish|are asking|need))\b",
    _FLAGS,
)
# Said just before a demand, these tell the resident the opposite of a condition.
_NEGATION = re.compile(
    r"\b(?:do not|don't|does not|doesn't|did not|didn't|never|need not|needn't|no need|not required|"
    r"not have to|not need to|without (?:having to|needing to)|whether or not|up to you whether|"
    r"not a condition)\b"
    r"[^.;]{0,30}$",
    _FLAGS,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])")


def sentences(paragraphs: list[str]) -> Iterator[str]:
    """The sentences of the letter, paragraph by paragraph."""
    for paragraph in paragraphs:
        yield from (s for s in _SENTENCE_END.split(paragraph) if s.strip())


def _negated(sentence: str, at: int) -> bool:
    return bool(_NEGATION.search(sentence[max(0, at - 60) : at]))


def _demanding(sentence: str) -> bool:
    for phrase in _PHRASES:
        if any(not _negated(sentence, m.start()) for m in phrase.finditer(sentence)):
            return True
    if not (_CONDITION.search(sentence) and _ESCALATION.search(sentence)):
        return False
    return any(not _negated(sentence, m.start()) for m in _DEMAND.finditer(sentence))


def conditional_escalation(paragraphs: list[str]) -> list[str]:
    """The sentences that make stage 2 depend on the resident giving reasons."""
    found = []
    straight = [p.replace("\u2019", "'").replace("\u2018", "'") for p in paragraphs]
    for sentence in sentences(straight):
        relevant = _ESCALATION.search(sentence) or re.search(r"\bbecause you\b", sentence, _FLAGS)
        if relevant and _demanding(sentence):
            found.append(sentence)
    return found
