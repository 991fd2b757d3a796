"""safe_filename and unique_name: names from senders become safe single file names."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailroom.safe_names import safe_filename, unique_name

RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x", "x"),
        ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
        ("/etc/passwd", "passwd"),
        ("photos/../mould.jpg", "mould.jpg"),
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("lpt9.tar.gz", "_lpt9.tar.gz"),
        ("NUL .txt", "_NUL .txt"),
        ("console.txt", "console.txt"),
        ("évidence.pdf", "évidence.pdf"),
        ("Mängel-Übersicht.docx", "Mängel-Übersicht.docx"),
        ("投诉信.pdf", "投诉信.pdf"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("bad\x00name\x07\x1b.pdf", "badname.pdf"),
        (" .hidden ", "hidden"),
        ("report. . .", "report"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
    ],
)
def test_known_names(name: str, expected: str) -> None:
    assert safe_filename(name, "fallback.bin") == expected


def test_nfc_normalises_decomposed_accents() -> None:
    decomposed = unicodedata.normalize("NFD", "évidence.pdf")
    assert safe_filename(decomposed, "f") == "évidence.pdf"


@pytest.mark.parametrize("name", ["", "..", ".", "...", "/", "\\..\\", " ", "\x00\x01", "../.."])
def test_nothing_usable_gives_the_fallback(name: str) -> None:
    assert safe_filename(name, "attachment-3.bin") == "attachment-3.bin"


def test_unsafe_fallback_is_sanitised_too() -> None:
    assert safe_filename("..", "../CON") == "_CON"
    assert safe_filename("..", "..") == "file"


def test_long_name_keeps_its_extension_within_the_byte_budget() -> None:
    name = "damp-evidence-" + "x" * 300 + ".jpg"
    result = safe_filename(name, "f")
    assert result.endswith(".jpg")
    assert result.startswith("damp-evidence-xxx")
    assert len(result.encode("utf-8")) == 150


def test_truncation_never_splits_a_character() -> None:
    result = safe_filename("投" * 100 + ".pdf", "f", max_bytes=40)
    assert result == "投" * 12 + ".pdf"  # 12 x 3 bytes + 4 = 40


def test_too_small_a_budget_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        safe_filename("x", "y", max_bytes=3)


def test_unique_name_numbers_duplicates_case_insensitively() -> None:
    taken: set[str] = set()
    names = [unique_name(n, taken) for n in ("photo.jpg", "Photo.JPG", "photo.jpg", "notes")]
    assert names == ["photo.jpg", "Photo (2).JPG", "photo (3).jpg", "notes"]
    assert taken == set(names)


def test_unique_name_stays_within_the_byte_budget() -> None:
    name = safe_filename("x" * 200 + ".pdf", "f")
    taken = {name}
    second = unique_name(name, taken)
    assert second.endswith(" (2).pdf")
    assert len(second.encode("utf-8")) <= 150


# --------------------------------------------------------------------------- properties

# Pieces that exercise the rules, mixed with arbitrary text (lone surrogates included).
TRICKY = [".", "..", "/", "\\", " ", "\x00", ":", "<", "*", "?", "|", '"', "CON", "nul", "COM1", "Lpt²"]
TRICKY += ["\u202e", "é", "e\u0301", "中", "🎉", ".txt", "\r\n"]
names = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(TRICKY)), max_size=60).map("".join)


@given(name=names, fallback=names, max_bytes=st.integers(min_value=16, max_value=255))
@example(name="CON.txt", fallback="", max_bytes=16)
@example(name="..", fallback="..", max_bytes=16)
@example(name="a" * 20 + "." + "b" * 15, fallback="", max_bytes=16)
def test_result_is_always_a_safe_single_name(name: str, fallback: str, max_bytes: int) -> None:
    result = safe_filename(name, fallback, max_bytes=max_bytes)
    assert result
    assert "/" not in result
    assert "\\" not in result
    assert "\x00" not in result
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in result)
    assert not any(c in '<>:"|?*' for c in result)
    assert result not in (".", "..")
    assert not result.startswith((".", " "))
    assert not result.endswith((".", " "))
    assert len(result.encode("utf-8")) <= max_bytes
    assert result.split(".", 1)[0].rstrip(" ").upper() not in RESERVED


@given(name=names)
def test_safe_filename_is_idempotent(name: str) -> None:
    once = safe_filename(name, "fallback.bin")
    assert safe_filename(once, "other.bin") == once


@given(st.lists(names, max_size=20))
def test_unique_names_never_collide(raw_names: list[str]) -> None:
    taken: set[str] = set()
    results = [unique_name(safe_filename(n, "attachment.bin"), taken) for n in raw_names]
    assert len({r.casefold() for r in results}) == len(results)
    assert all(len(r.encode("utf-8")) <= 150 for r in results)
