"""Complaint IDs, their check character, and finding case references in subjects."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.domain.ids import (
    FoundReference,
    case_reference,
    check_character,
    find_references,
    format_complaint_id,
)

CHECK_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTVWXY"
ID_SHAPE = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{4}-\d{4,10}$")  # ids.prefix pattern, year, 4..10 digits

CASE = "CMP-2026-000123"
REF = case_reference(CASE)


# -- format ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "year", "serial", "digits", "expected"),
    [
        ("CMP", 2026, 123, 6, "CMP-2026-000123"),
        ("CMP", 2026, 1, 4, "CMP-2026-0001"),
        ("NH2", 2027, 9_999_999_999, 10, "NH2-2027-9999999999"),
        ("CMP", 2026, 1_234_567, 6, "CMP-2026-1234567"),  # never truncated when the serial outgrows it
        ("X", 999, 5, 4, "X-0999-0005"),
    ],
)
def test_format_complaint_id(prefix: str, year: int, serial: int, digits: int, expected: str) -> None:
    assert format_complaint_id(prefix, year, serial, digits) == expected


# -- check character -------------------------------------------------------------------------------


def test_case_reference_is_the_id_a_hyphen_and_its_check_character() -> None:
    assert case_reference(CASE) == f"{CASE}-{check_character(CASE)}"


@pytest.mark.parametrize(
    ("complaint_id", "reference"),
    [
        # Printed on letters already sent: these must never change.
        ("CMP-2026-000123", "CMP-2026-000123-7"),
        ("CMP-2026-000001", "CMP-2026-000001-X"),
    ],
)
def test_known_references_are_stable(complaint_id: str, reference: str) -> None:
    assert case_reference(complaint_id) == reference


def test_the_check_character_ignores_case() -> None:
    assert check_character(CASE.lower()) == check_character(CASE)


@given(prefix=st.from_regex(r"[A-Z][A-Z0-9]{0,9}", fullmatch=True), serial=st.integers(0, 10**10 - 1))
def test_the_check_character_is_from_the_unambiguous_alphabet(prefix: str, serial: int) -> None:
    check = check_character(format_complaint_id(prefix, 2026, serial, 10))
    assert len(check) == 1
    assert check in CHECK_ALPHABET
    assert check not in "IOSZU"


def test_every_check_character_is_used() -> None:
    seen = {check_character(format_complaint_id("CMP", 2026, n, 6)) for n in range(500)}
    assert seen == set(CHECK_ALPHABET)


# -- find_references -------------------------------------------------------------------------------


def test_finds_a_checked_reference_in_brackets() -> None:
    assert find_references(f"Re: [{REF}]", "CMP") == [FoundReference(CASE, REF, True)]


def test_finding_is_case_insensitive_and_returns_the_id_in_capitals() -> None:
    found = find_references(f"re: your complaint {REF.lower()} - still waiting", "CMP")
    assert found == [FoundReference(CASE, REF.lower(), True)]


def test_a_reference_without_its_check_character_is_found_but_not_checked() -> None:
    assert find_references(f"Re: {CASE} still waiting", "CMP") == [FoundReference(CASE, CASE, False)]


def test_a_wrong_check_character_is_found_but_not_checked() -> None:
    wrong = next(c for c in CHECK_ALPHABET if c != check_character(CASE))
    assert find_references(f"Re: {CASE}-{wrong}", "CMP") == [FoundReference(CASE, f"{CASE}-{wrong}", False)]


@pytest.mark.parametrize(
    "subject",
    [
        f"Re: X{REF}",  # glued to a letter before
        f"Re: 9{REF}",  # glued to a digit before
        f"Re: x{CASE}",  # lower-case letters count too
        f"Re: {CASE}X",  # glued to a letter after
        f"Re: {CASE}x",
        f"Re: {CASE}12345",  # an eleven-digit serial is not an ID at all
        "Re: CMP-26-000123",  # two-digit year
        "Re: CMP-2026-123",  # serial too short
        "Re: ABC-2026-000123",  # another prefix
        "Re: XCMP-2026-000123",
    ],
)
def test_ids_glued_to_other_alphanumerics_or_malformed_are_not_found(subject: str) -> None:
    assert find_references(subject, "CMP") == []


def test_a_check_character_glued_to_more_text_is_not_a_check_character() -> None:
    """'CMP-2026-000123-7x' is not the reference -7: at most the bare ID."""
    found = find_references(f"Re: {REF}X", "CMP")
    assert all(not ref.check_ok for ref in found)


@pytest.mark.parametrize("around", ["({})", "[{}]", "{}.", "{},", "ref:{}", "{}:", "'{}'", "<{}>", "{}\n"])
def test_references_next_to_punctuation_are_found(around: str) -> None:
    assert find_references(around.format(REF), "CMP") == [FoundReference(CASE, REF, True)]


def test_several_references_are_found_in_order_without_duplicates() -> None:
    other = "CMP-2026-000124"
    subject = f"Re: {case_reference(other)} and {REF} (also {case_reference(other)})"
    found = find_references(subject, "CMP")
    assert [ref.complaint_id for ref in found] == [other, CASE]
    assert all(ref.check_ok for ref in found)


def test_the_checked_form_is_preferred_when_an_id_appears_twice() -> None:
    """GIVEN 'CMP-2026-000123 ... CMP-2026-000123-7' THEN one reference, checked."""
    found = find_references(f"Re: {CASE} / {REF}", "CMP")
    assert found == [FoundReference(CASE, REF, True)]


def test_a_later_unchecked_or_wrong_form_does_not_replace_a_checked_one() -> None:
    wrong = next(c for c in CHECK_ALPHABET if c != check_character(CASE))
    found = find_references(f"{REF} {CASE} {CASE}-{wrong}", "CMP")
    assert found == [FoundReference(CASE, REF, True)]


def test_a_prefix_with_regex_characters_is_taken_literally() -> None:
    assert find_references("Re: C.P-2026-000123", "C+P") == []
    assert find_references("Re: C+P-2026-000123", "C+P") == [
        FoundReference("C+P-2026-000123", "C+P-2026-000123", False)
    ]


def test_every_serial_length_from_4_to_10_digits_is_found() -> None:
    for digits in range(4, 11):
        complaint_id = format_complaint_id("CMP", 2026, 7, digits)
        assert find_references(f"Re: {case_reference(complaint_id)}", "CMP") == [
            FoundReference(complaint_id, case_reference(complaint_id), True)
        ]


# -- the check character catches single typos ------------------------------------------------------


@st.composite
def complaint_ids(draw: st.DrawFn) -> tuple[str, int]:
    """An ID of a configured shape, and where its prefix ends."""
    prefix = draw(st.from_regex(r"[A-Z][A-Z0-9]{0,9}", fullmatch=True))
    digits = draw(st.integers(4, 10))
    year = draw(st.integers(0, 9999))
    serial = draw(st.integers(0, 10**digits - 1))
    complaint_id = format_complaint_id(prefix, year, serial, digits)
    assert ID_SHAPE.match(complaint_id)
    return complaint_id, len(prefix)


@settings(max_examples=500)
@given(generated=complaint_ids(), data=st.data())
def test_changing_any_digit_changes_the_check_character(
    generated: tuple[str, int], data: st.DataObject
) -> None:
    """GIVEN an ID of the configured shape WHEN any one digit of its year or serial
    is mistyped as another digit (the typo still reads as an ID with that prefix)
    THEN the check character differs, so the reference is not accepted."""
    complaint_id, prefix_length = generated
    positions = [i for i, char in enumerate(complaint_id) if char.isdigit() and i > prefix_length]
    position = data.draw(st.sampled_from(positions))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != complaint_id[position]]))
    typo = complaint_id[:position] + replacement + complaint_id[position + 1 :]
    assert check_character(typo) != check_character(complaint_id)


@settings(max_examples=500)
@given(generated=complaint_ids(), data=st.data())
def test_changing_any_prefix_letter_to_another_letter_changes_the_check_character(
    generated: tuple[str, int], data: st.DataObject
) -> None:
    complaint_id, prefix_length = generated
    positions = [i for i in range(prefix_length) if complaint_id[i].isalpha()]
    position = data.draw(st.sampled_from(positions))
    letters = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != complaint_id[position]]
    typo = complaint_id[:position] + data.draw(st.sampled_from(letters)) + complaint_id[position + 1 :]
    assert check_character(typo) != check_character(complaint_id)


@settings(max_examples=500)
@given(generated=complaint_ids(), data=st.data())
def test_swapping_two_adjacent_different_characters_changes_the_check_character(
    generated: tuple[str, int], data: st.DataObject
) -> None:
    """GIVEN an ID WHEN two neighbouring, different characters after the prefix
    (digits and the hyphens between them) are swapped THEN the check character differs."""
    complaint_id, prefix_length = generated
    pairs = [i for i in range(prefix_length, len(complaint_id) - 1) if complaint_id[i] != complaint_id[i + 1]]
    assert pairs  # there is always a hyphen next to a digit
    i = data.draw(st.sampled_from(pairs))
    swapped = complaint_id[:i] + complaint_id[i + 1] + complaint_id[i] + complaint_id[i + 2 :]
    assert check_character(swapped) != check_character(complaint_id)


@settings(max_examples=300)
@given(
    prefix=st.from_regex(r"[A-Z]{2,10}", fullmatch=True).filter(lambda p: len(set(p)) > 1),
    serial=st.integers(0, 999_999),
    data=st.data(),
)
def test_swapping_two_adjacent_different_prefix_letters_changes_the_check_character(
    prefix: str, serial: int, data: st.DataObject
) -> None:
    complaint_id = format_complaint_id(prefix, 2026, serial, 6)
    pairs = [i for i in range(len(prefix) - 1) if prefix[i] != prefix[i + 1]]
    i = data.draw(st.sampled_from(pairs))
    swapped = complaint_id[:i] + complaint_id[i + 1] + complaint_id[i] + complaint_id[i + 2 :]
    assert check_character(swapped) != check_character(complaint_id)


def test_every_single_digit_typo_of_a_real_id_is_rejected_by_find_references() -> None:
    """End to end: a mistyped digit in a printed reference is never accepted as checked."""
    for position, char in enumerate(REF[:-2]):
        if not char.isdigit():
            continue
        for digit in "0123456789":
            if digit == char:
                continue
            typo = REF[:position] + digit + REF[position + 1 :]
            assert [ref.check_ok for ref in find_references(f"Re: {typo}", "CMP")] == [False], typo
