"""unpack_tnef: files inside winmail.dat, read with tnefparse from blobs built per [MS-OXTNEF]."""

from __future__ import annotations

import struct

import pytest
from tnefparse import TNEF

from mailroom.ingest.tnef import TnefError, unpack_tnef
from tests.support.tnef_builder import (
    ATT_ATTACH_DATA,
    ATT_ATTACH_REND_DATA,
    LVL_ATTACHMENT,
    TnefFile,
    attribute,
    build_tnef,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\x00\x00"


def test_builder_output_is_read_back_by_tnefparse_with_good_checksums() -> None:
    blob = build_tnef([TnefFile("MOULD~1.JPG", JPEG, "mould in the bathroom.jpg")])
    tnef = TNEF(blob, do_checksum=True)
    assert all(obj.good_checksum for obj in tnef.objects)
    assert [a.long_filename() for a in tnef.attachments] == ["mould in the bathroom.jpg"]
    assert tnef.attachments[0].data == JPEG


def test_files_come_out_byte_for_byte_in_order() -> None:
    blob = build_tnef([TnefFile("A.PDF", b"%PDF-1.4\n\x00\xff binary"), TnefFile("B.TXT", b"notes\r\n")])
    assert unpack_tnef(blob) == [("A.PDF", b"%PDF-1.4\n\x00\xff binary"), ("B.TXT", b"notes\r\n")]


def test_long_filename_is_preferred_to_the_short_title() -> None:
    blob = build_tnef([TnefFile("DAMPRE~1.DOC", b"doc", "Damp report – flat 3 (Zoë).doc")])
    assert unpack_tnef(blob) == [("Damp report – flat 3 (Zoë).doc", b"doc")]


def test_short_title_in_the_oem_code_page_is_decoded() -> None:
    # Outlook writes the title in cp1252; tnefparse's own .name would raise on it.
    blob = build_tnef([TnefFile("résumé.txt", b"cv")], title_encoding="cp1252")
    assert unpack_tnef(blob) == [("résumé.txt", b"cv")]


def test_names_are_returned_untrusted_for_filing_to_sanitise() -> None:
    blob = build_tnef([TnefFile("x", b"1", "..\\..\\boot.ini")])
    assert unpack_tnef(blob)[0][0] == "..\\..\\boot.ini"


def test_unnamed_file_gets_a_numbered_name() -> None:
    rend = struct.pack("<HIhhI", 1, 0xFFFFFFFF, -1, -1, 0)
    blob = build_tnef([]) + attribute(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, rend)
    blob += attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, b"data")
    assert unpack_tnef(blob) == [("tnef-part-1.bin", b"data")]


def test_html_body_is_added_as_a_file() -> None:
    blob = build_tnef([TnefFile("A.TXT", b"notes")], html_body=b"<p>The damp is back</p>")
    assert unpack_tnef(blob) == [("A.TXT", b"notes"), ("winmail-body.html", b"<p>The damp is back</p>")]


def test_tnef_without_attachments_gives_nothing() -> None:
    assert unpack_tnef(build_tnef([])) == []


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not tnef at all",
        b"\x78\x9f\x3e\x22",  # signature only
        struct.pack("<IH", 0x223E9F78, 1)
        + b"\x02\x02\x80\x06\x00\xff\xff\xff\x7f"
        + b"x" * 20,  # lying length
        struct.pack("<IH", 0x223E9F78, 1) + attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, b"orphan"),
    ],
    ids=["empty", "garbage", "signature-only", "lying-length", "attachment-before-rend-data"],
)
def test_broken_tnef_raises_tnef_error_only(blob: bytes) -> None:
    try:
        files = unpack_tnef(blob)
    except TnefError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(files, list)


def test_wrong_signature_is_a_tnef_error() -> None:
    with pytest.raises(TnefError, match="signature"):
        unpack_tnef(b"PK\x03\x04 a zip file")


def test_attribute_flood_is_refused_before_tnefparse_goes_quadratic() -> None:
    # tnefparse copies the rest of the blob for each record: 200,000 empty records
    # in 2.2 MB would cost about 200 GB of copying.
    record = attribute(0x01, 0x00078008, b"")
    blob = struct.pack("<IH", 0x223E9F78, 1) + record * 200_000
    with pytest.raises(TnefError, match="too many"):
        unpack_tnef(blob)


# -- hostile blobs (issue 9): counts bounded by the bytes present, nothing logged per property --


def _claims(mapi: bytes) -> bytes:
    return b"\x78\x9f\x3e\x22\x00\x00" + attribute(0x01, 0x00069003, mapi)


@pytest.mark.parametrize(
    "mapi",
    [
        struct.pack("<I", 0xFFFFFFFF),  # 2^32 properties in 21 bytes: hours in tnefparse
        struct.pack("<IHHI", 1, 0x1002, 0x3001, 0xFFFFFFFF),  # 2^32 short values: gigabytes
    ],
    ids=["property-count", "multi-value-count"],
)
def test_claimed_counts_cost_only_the_bytes_present(mapi: bytes, caplog: pytest.LogCaptureFixture) -> None:
    import time

    started = time.perf_counter()
    with caplog.at_level("DEBUG"):
        assert unpack_tnef(_claims(mapi)) == []
    assert time.perf_counter() - started < 1
    assert [r for r in caplog.records if r.name.startswith("tnefparse")] == []


def test_real_properties_still_decode_after_the_fork() -> None:
    blob = build_tnef([TnefFile("DAMPRE~1.DOC", b"doc", "Damp report.doc")], html_body=b"<p>hi</p>")
    assert unpack_tnef(blob) == [("Damp report.doc", b"doc"), ("winmail-body.html", b"<p>hi</p>")]
