"""Staff may type a complaint ID or the printed reference with its check character."""

from __future__ import annotations

import pytest

from mailroom.domain.ids import case_reference, check_character, typed_complaint_id


@pytest.mark.parametrize("typed", ["CMP-2026-000123", "cmp-2026-000123", "  CMP-2026-000123 "])
def test_a_bare_id_is_taken_as_it_is(typed: str) -> None:
    assert typed_complaint_id(typed) == "CMP-2026-000123"


def test_the_printed_reference_gives_its_id() -> None:
    reference = case_reference("CMP-2026-000123")
    assert typed_complaint_id(reference) == "CMP-2026-000123"
    assert typed_complaint_id(reference.lower()) == "CMP-2026-000123"


def test_a_wrong_check_character_is_refused_naming_the_right_reference() -> None:
    right = check_character("CMP-2026-000123")
    wrong = next(c for c in "0123456789ABCDEFGHJKLMNPQRTVWXY" if c != right)
    with pytest.raises(ValueError, match=r"check character is wrong .* CMP-2026-000123-" + right):
        typed_complaint_id(f"CMP-2026-000123-{wrong}")


def test_a_reference_to_another_case_by_one_digit_is_caught() -> None:
    """The point of the check character: 000123's reference with 000124 typed."""
    reference = case_reference("CMP-2026-000123")
    with pytest.raises(ValueError):
        typed_complaint_id(reference.replace("000123", "000124"))
