"""The reading-age formula and the repeated lead-in rule of `templates check`
(mailroom/letters/readability.py, mailroom/letters/wording.py), on known text."""

from __future__ import annotations

import pytest

from mailroom.letters.readability import readability, reading_age, syllables
from mailroom.letters.wording import content_stems, hard_paragraphs, lead_in_repeats, stem, template_words


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("cat", 1), ("the", 1), ("make", 1), ("whole", 1), ("homes", 1), ("asked", 1), ("used", 1),
        ("they", 1), ("you", 1), ("table", 2), ("people", 2), ("agree", 2), ("issue", 2), ("value", 2),
        ("boxes", 2), ("pages", 2), ("wanted", 2), ("agreed", 2), ("happy", 2), ("yellow", 2),
        ("system", 2), ("received", 2), ("complaint", 2), ("services", 3), ("considered", 3),
        ("discretion", 3), ("ombudsman", 3), ("responsible", 4), ("independent", 4), ("apology", 4),
        ("organisation", 5), ("Ombudsman's", 3), ("", 0),
    ],
)  # fmt: skip
def test_syllables_of_known_words(word: str, count: int) -> None:
    assert syllables(word) == count


def test_the_flesch_kincaid_grade_of_known_sentences() -> None:
    # 6 words, 1 sentence, 6 syllables: 0.39*6 + 11.8*1 - 15.59 = -1.45
    cat = readability("The cat sat on the mat.")
    assert (cat.words, cat.sentences, cat.syllables) == (6, 1, 6)
    assert cat.grade == pytest.approx(-1.45)
    # 14 words, 22 syllables, one sentence: 0.39*14 + 11.8*22/14 - 15.59 = 8.41, age 13.4
    lead = "We have considered whether to use our discretion to accept your complaint even so."
    assert (readability(lead).words, readability(lead).syllables) == (14, 22)
    assert reading_age(lead) == pytest.approx(8.412857 + 5, abs=1e-4)
    # Sentences end at . ! ? (not inside "e.g."), and a heading without one is one sentence.
    assert readability("Call us, e.g. on Monday. Or write! Will you? Thanks").sentences == 4
    # A web address, an email address and a number are one word of one syllable each.
    shown = readability(
        "Visit https://www.housing-ombudsman.org.uk/residents/ or email a@b.example on 0300 111 3000."
    )
    assert (shown.words, shown.syllables) == (9, 11)
    assert readability("").words == 0 and readability("").grade == 0


def test_a_hard_paragraph_warns_and_a_plain_one_does_not() -> None:
    plain = "We are sorry you have had reason to complain. We will look into it and write to you soon."
    hard = (
        "Notwithstanding the aforementioned considerations, the organisation's determination regarding "
        "responsibility necessitates comprehensive investigation of contemporaneous documentation."
    )
    (warning,) = hard_paragraphs([plain, hard, "Yours sincerely"], 14)
    assert warning.startswith("reading age ") and "is above 14" in warning and "Notwithstanding" in warning
    assert hard_paragraphs([plain], 14) == []
    assert hard_paragraphs([hard], 50) == []  # the level is the caller's


def test_template_words_drop_tags_and_count_a_field_as_one_word() -> None:
    assert (
        template_words("{% if x %}We received it on {{ received_date }}.{% endif %}")
        == "We received it on x."
    )


def test_stems_and_content_words() -> None:
    assert stem("considered") == stem("considering") == stem("consider") == "consider"
    assert stem("used") == stem("use") == stem("uses")
    assert list(content_stems("We have considered whether to use our discretion")) == [
        "consider",
        "us",
        "discretion",
    ]


REFUSAL = [
    "Our complaints policy says we will not normally accept an old complaint.",
    "We have considered whether to use our discretion to accept your complaint even so.",
    "{% if discretion_considered %}{{ discretion_considered }}{% endif %}",
    "You told us about it on {{ issue_date }}.",
]


def test_a_lead_in_that_says_what_staff_write_after_it_warns() -> None:
    fields = {"discretion_considered": ("", "We considered whether to accept it anyway, and decided not to.")}
    (repeat,) = lead_in_repeats(REFUSAL, fields)
    assert repeat.field == "discretion_considered" and repeat.source == "sample text"
    assert repeat.lead_in == REFUSAL[1] and repeat.shared == ("considered", "accept")
    assert "{{ discretion_considered }}" in repeat.message()
    # Text that follows on from the lead-in does not.
    following = {
        "discretion_considered": ("", "You were well enough to contact us about other repairs in 2024.")
    }
    assert lead_in_repeats(REFUSAL, following) == []


def test_the_lead_in_is_the_text_before_the_field_in_its_own_paragraph_when_there_is_some() -> None:
    fields = {"issue_date": ("When the issue happened", "Tuesday 5 March 2024")}
    assert lead_in_repeats(REFUSAL, fields) == []  # "You told us about it on": one content word shared
    own = ["We explained the decision.", "We reached this decision because {{ reason }}"]
    (repeat,) = lead_in_repeats(own, {"reason": ("", "We reached our decision because of the report.")})
    assert repeat.lead_in == "We reached this decision because"
