"""A receipt is what its bytes are: a PDF or a photo of at most 2 MiB, whatever the member's app declares."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.claims.receipts import MAX_RECEIPT_BYTES, Receipt, read_receipt
from cashback.platform.errors import InvalidInput

PDF = b"%PDF-1.7\n%receipt\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
HEIF = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic"
CODES = {"invalid_receipt", "receipt_too_large", "unsupported_receipt_type"}


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def refused(text: str) -> str:
    with pytest.raises(InvalidInput) as error:
        read_receipt(text)
    return error.value.code


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (HEIF, "image/heif"),
    ],
)
def test_pdfs_and_photos_are_read_as_their_bytes_say(content: bytes, media_type: str) -> None:
    assert read_receipt(b64(content)) == Receipt(content, media_type)


def test_a_data_urls_declared_type_is_ignored_for_the_bytes() -> None:
    # A PDF sent as a "photo", and a text file sent as a PDF
    assert read_receipt("data:image/png;base64," + b64(PDF)).media_type == "application/pdf"
    assert refused("data:application/pdf;base64," + b64(b"just text")) == "unsupported_receipt_type"
    assert refused("data:application/pdf," + b64(PDF)) == "invalid_receipt"  # not base64 at all


def test_2_mib_is_the_largest_receipt() -> None:
    largest = PDF + b"\0" * (MAX_RECEIPT_BYTES - len(PDF))
    assert read_receipt(b64(largest)).content == largest
    assert refused(b64(largest + b"\0")) == "receipt_too_large"


def test_a_huge_text_is_refused_by_its_length_without_being_decoded() -> None:
    # 40 MB of "A" would decode to 30 MB of zeros: refused as too large, not read
    assert refused("A" * 40_000_000) == "receipt_too_large"
    assert refused("data:image/jpeg;base64," + "A" * 3_000_000) == "receipt_too_large"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid_receipt"),
        ("   ", "invalid_receipt"),
        ("not base64!", "invalid_receipt"),
        ("QUJD=", "invalid_receipt"),  # bad padding
        ("сканчека", "invalid_receipt"),  # not ASCII
        (b64(b"GIF89a..."), "unsupported_receipt_type"),
        (b64(b"<html>receipt</html>"), "unsupported_receipt_type"),
        (b64(b"\x00\x00\x00\x18ftypisom"), "unsupported_receipt_type"),  # an MP4, not a photo
    ],
)
def test_what_is_not_a_receipt_is_refused_with_a_code(text: str, code: str) -> None:
    assert refused(text) == code


def outcome(text: str) -> bytes | str:
    """The receipt's bytes, or the code it was refused with; any other exception escapes the test."""
    try:
        return read_receipt(text).content
    except InvalidInput as error:
        return error.code


@given(st.binary(max_size=2048))
def test_any_bytes_are_read_back_or_refused_with_a_receipt_code(content: bytes) -> None:
    assert outcome(b64(content)) in {content, *CODES}


@given(st.one_of(st.text(max_size=200), st.text(alphabet="ABCDEFabcdef0123456789+/=:;,data", max_size=200)))
def test_any_text_is_read_or_refused_with_a_receipt_code(text: str) -> None:
    assert isinstance(outcome(text), bytes) or outcome(text) in CODES


@given(st.sampled_from([PDF, JPEG, PNG, WEBP, HEIC]), st.binary(max_size=512))
def test_every_pdf_or_photo_round_trips(head: bytes, tail: bytes) -> None:
    assert read_receipt(b64(head + tail)).content == head + tail
