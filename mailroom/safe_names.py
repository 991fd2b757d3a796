"""File names that are safe to create on Linux and Windows.

Attachment names come from the sender and are untrusted: they may carry path
components (``../../etc/passwd``), control characters, Windows device names
(``CON.txt``), bidi overrides that disguise an extension, or be far longer than
a file system allows. Filing passes every name through ``safe_filename`` and
then ``unique_name`` before writing anything.
"""

from __future__ import annotations

import re
import unicodedata

# Windows refuses these as a file's base name whatever the extension ("CON.txt",
# "nul.tar.gz"). It also treats the superscript digits as 1-3 for COM/LPT.
_DEVICE_STEMS = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"] + [
    f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
]
_RESERVED = frozenset(_DEVICE_STEMS)

_PATH_SEPARATORS = re.compile(r"[/\\]")
_WINDOWS_ILLEGAL = re.compile(r'[<>:"|?*]')
# C0, DEL and C1 controls; lone surrogates (cannot be written as UTF-8); line and
# paragraph separators; bidi controls and the BOM, which can make "evil\u202egpj.exe"
# display as "evilexe.jpg".
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)

_MIN_BYTES = 16  # room for a readable stem plus a short extension
_MAX_EXT_BYTES = 16  # longer "extensions" are treated as part of the stem


def safe_filename(name: str, fallback: str, max_bytes: int = 150) -> str:
    """Return ``name`` made safe to use as a single file name on Linux and Windows.

    Keeps readable Unicode (é, ü, 中文) and the extension; the UTF-8 length is
    at most ``max_bytes``. When nothing usable is left, returns the sanitised
    ``fallback`` (or ``"file"`` if even that is empty).
    """
    if max_bytes < _MIN_BYTES:
        raise ValueError(f"max_bytes must be at least {_MIN_BYTES}")
    for candidate in (name, fallback):
        cleaned = _sanitise(candidate, max_bytes)
        if cleaned:
            return cleaned
    return "file"


def unique_name(name: str, taken: set[str], max_bytes: int = 150) -> str:
    """Return ``name``, or ``stem (2).ext``, ``stem (3).ext``..., not in ``taken``.

    Comparison ignores case, because Windows and macOS file systems do. The
    result is added to ``taken`` so a loop over a mail's attachments cannot hand
    out the same name twice. ``name`` should already be a ``safe_filename``.
    """
    folded = {t.casefold() for t in taken}
    result = name
    counter = 1
    while result.casefold() in folded:
        counter += 1
        stem, ext = _split_ext(name)
        suffix = f" ({counter}){ext}"
        result = _truncate_utf8(stem, max_bytes - _utf8_len(suffix)).rstrip(" .") + suffix
    taken.add(result)
    return result


def _sanitise(name: str, max_bytes: int) -> str:
    text = unicodedata.normalize("NFC", name)
    text = _INVISIBLE.sub("", text)
    text = _last_component(text)
    text = _WINDOWS_ILLEGAL.sub("_", text)
    # Windows silently drops trailing dots and spaces; leading dots hide files on Unix.
    text = text.strip(" .")
    if not text:
        return ""
    text = _fit(text, max_bytes)
    if _is_reserved(text):
        text = _fit("_" + text, max_bytes)
    return text


def _last_component(text: str) -> str:
    """Drop directories: only the final real path component names the file."""
    parts = [p for p in _PATH_SEPARATORS.split(text) if p.strip(" .")]
    return parts[-1] if parts else ""


def _is_reserved(text: str) -> bool:
    # Windows also ignores trailing spaces before the first dot: "CON .txt" is CON.
    stem = text.split(".", 1)[0].rstrip(" ")
    return stem.upper() in _RESERVED


def _split_ext(text: str) -> tuple[str, str]:
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or _utf8_len(ext) + 1 > _MAX_EXT_BYTES:
        return text, ""
    return stem, "." + ext


def _fit(text: str, max_bytes: int) -> str:
    """Bound the UTF-8 length, truncating the stem and keeping the extension."""
    if _utf8_len(text) <= max_bytes:
        return text
    stem, ext = _split_ext(text)
    if _utf8_len(ext) > max_bytes // 2:
        # Keep at least half the budget for the stem, so the name stays readable.
        stem, ext = text, ""
    stem = _truncate_utf8(stem, max_bytes - _utf8_len(ext)).rstrip(" .")
    return stem + ext


def _truncate_utf8(text: str, max_bytes: int) -> str:
    # Cutting the encoded form and ignoring the partial tail keeps whole characters.
    return text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", "ignore")


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))
