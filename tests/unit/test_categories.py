"""Complaint categories: the keyword rule that suggests one, and the landlord policy's
``[complaints]`` section that lists them (docs/reports.md, "Categories")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailroom.domain.policy import (
    DEFAULT_CATEGORIES,
    DEFAULT_CATEGORY_KEYWORDS,
    PolicyError,
    parse_policy,
)
from mailroom.reports.categories import MAX_TEXT, case_text, suggest_category

POLICIES = Path(__file__).resolve().parents[2] / "rules" / "policies"
KEYWORDS = {
    "Repairs": ("repair", "leak", "boiler"),
    "Damp and mould": ("damp", "mould", "condensation"),
    "Staff conduct": ("rude", "member of staff"),
}
BASE = """
[landlord]
name = "Example Homes"
[signatory]
name = "Complaints Team"
role = "Complaints Officer"
[procedure]
stages = 2
"""


def test_the_category_whose_keywords_occur_most_is_suggested() -> None:
    text = "The LEAK from upstairs caused damp, and now there is mould and condensation on the wall."
    assert suggest_category(text, KEYWORDS) == "Damp and mould"  # 3 against 1


def test_a_keyword_matches_at_the_start_of_a_word_in_any_case() -> None:
    assert suggest_category("Water is Leaking through the ceiling", KEYWORDS) == "Repairs"
    assert suggest_category("It was a bleak winter", KEYWORDS) == ""  # "leak" inside a word
    assert suggest_category("The member   of\nstaff was RUDE", KEYWORDS) == "Staff conduct"


def test_a_tie_goes_to_the_category_listed_first() -> None:
    text = "The boiler is broken and the bedroom is damp."
    assert suggest_category(text, KEYWORDS) == "Repairs"
    reordered = {"Damp and mould": KEYWORDS["Damp and mould"], "Repairs": KEYWORDS["Repairs"]}
    assert suggest_category(text, reordered) == "Damp and mould"


def test_no_keyword_no_suggestion() -> None:
    assert suggest_category("I would like to complain about my neighbour's cat.", KEYWORDS) == ""
    assert suggest_category("", KEYWORDS) == ""
    assert suggest_category("damp", {}) == ""
    assert suggest_category("damp", {"Other": ()}) == ""


def test_keywords_are_literal_text_never_patterns() -> None:
    hostile = {"Odd": ("(a+)+$", ".*"), "Repairs": ("repair",)}
    assert suggest_category("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa! please repair it", hostile) == "Repairs"
    assert suggest_category("we saw (a+)+$ and .* written on the wall", hostile) == "Odd"


def test_only_the_start_of_a_long_text_is_read_in_bounded_time() -> None:
    text = "a " * MAX_TEXT + "damp " * 10
    assert suggest_category(text, KEYWORDS) == ""  # past MAX_TEXT
    huge = "leak " * 2_000_000  # 10 MB of mail body
    started = time.perf_counter()
    assert suggest_category(huge, KEYWORDS) == "Repairs"
    assert time.perf_counter() - started < 2
    assert len(case_text("x" * 50_000, "y" * 50_000)) == MAX_TEXT
    assert case_text("Damp", "Damp", "", "mould") == "Damp\nmould"  # the same text counts once


def test_without_a_complaints_section_the_built_in_list_and_keywords_apply() -> None:
    policy = parse_policy(BASE)
    assert policy.categories == DEFAULT_CATEGORIES
    assert dict(policy.category_keywords) == {
        name: words for name, words in DEFAULT_CATEGORY_KEYWORDS.items() if words
    }
    assert "Other" in policy.categories and "Other" not in policy.category_keywords


def test_a_policy_lists_its_own_categories_and_keywords() -> None:
    policy = parse_policy(
        BASE
        + """
[complaints]
categories = ["Repairs", "Damp and mould", "Parking", "Other"]
[complaints.category_keywords]
Parking = ["Parking", "car  park", "permit"]
"damp and mould" = ["damp", "mould", "black spots"]
"""
    )
    assert policy.categories == ("Repairs", "Damp and mould", "Parking", "Other")
    assert dict(policy.category_keywords) == {
        "Repairs": DEFAULT_CATEGORY_KEYWORDS["Repairs"],  # kept: a built-in name not given keywords
        "Damp and mould": ("damp", "mould", "black spots"),
        "Parking": ("parking", "car park", "permit"),
    }
    text = "Someone parks in my parking space; the car park permit scheme does not work."
    assert suggest_category(text, policy.category_keywords) == "Parking"


def test_an_empty_keyword_list_turns_a_built_in_categorys_keywords_off() -> None:
    policy = parse_policy(BASE + '[complaints.category_keywords]\n"Repairs" = []\n')
    assert "Repairs" not in policy.category_keywords
    assert suggest_category("the boiler leaks", policy.category_keywords) == ""


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('categories = "Repairs"', "complaints.categories: must be a list of text"),
        ("categories = []", "complaints.categories: must list at least one category"),
        ('categories = ["Repairs", " repairs "]', "complaints.categories: 'repairs' is listed twice"),
        ('categories = ["Repairs", ""]', "complaints.categories: must be a list of text"),
        (f'categories = ["{"x" * 61}"]', "is longer than 60 characters"),
        ('categories = ["Bad\\u0007name"]', "complaints.categories: 'Bad\\x07name' has control characters"),
        ("colours = 1", "complaints.colours: unknown key"),
        ('category_keywords = ["damp"]', "complaints.category_keywords: must be a table"),
        (
            'categories = ["Repairs"]\n[complaints.category_keywords]\nRepiars = ["leak"]',
            "complaints.category_keywords.Repiars: not one of complaints.categories (did you mean Repairs?)",
        ),
        (
            '[complaints.category_keywords]\nRepairs = "leak"',
            "complaints.category_keywords.Repairs: must be a list of text",
        ),
        (
            "[complaints.category_keywords]\nRepairs = [" + ", ".join(['"w"'] * 101) + "]",
            "complaints.category_keywords.Repairs: 101 keywords; at most 100",
        ),
    ],
)
def test_a_bad_complaints_section_is_one_line_naming_the_key(section: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(BASE + "[complaints]\n" + section + "\n", "landlord.toml")
    assert str(caught.value).startswith("landlord.toml: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_example_policy_lists_the_built_in_categories() -> None:
    policy = parse_policy((POLICIES / "ongo-2025.toml").read_text(), "ongo-2025.toml")
    assert policy.categories == DEFAULT_CATEGORIES
    assert "black spots" in policy.category_keywords["Damp and mould"]
    assert "Other" not in policy.category_keywords
