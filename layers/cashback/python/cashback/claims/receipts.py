"""A member's receipt for a claimed order: base64 text in the request, an image or a PDF once read.

Its type is what its bytes say, never what the member's app declares: support and the network open it,
and a file that only claims to be a picture must not reach them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cashback.platform.errors import InvalidInput

MAX_RECEIPT_BYTES = 2 * 1024 * 1024
# The base64 text of the largest receipt (4 characters for every 3 bytes, padded), and room for an optional
# `data:<type>;base64,` prefix: longer text is refused before any of it is decoded.
MAX_RECEIPT_BASE64 = 4 * -(-MAX_RECEIPT_BYTES // 3)
MAX_DATA_URL_PREFIX = 128
MAX_RECEIPT_TEXT = MAX_RECEIPT_BASE64 + MAX_DATA_URL_PREFIX

# ISO base media files (HEIF) name their major brand after `ftyp`; what phones' cameras write.
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}


@dataclass(frozen=True)
class Receipt:
    content: bytes
    media_type: str


def media_type_of(content: bytes) -> str | None:
    """The receipt's media type from its magic bytes; None for anything but a PDF or a photo."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp":
        brand = content[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
    return None


def _payload(text: str) -> str:
    """The base64 part of `text`: a data URL's declared type is dropped unread (the bytes decide)."""
    if not text.startswith("data:"):
        return text
    comma = text.find(",", 0, MAX_DATA_URL_PREFIX)
    if comma < 0 or not text[:comma].endswith(";base64"):
        raise InvalidInput("the receipt is not base64 text", code="invalid_receipt")
    return text[comma + 1 :]


def read_receipt(text: str) -> Receipt:
    """The receipt in `text` (base64, optionally a data URL): at most 2 MiB, a PDF, JPEG, PNG, WebP or HEIC."""
    if len(text) > MAX_RECEIPT_TEXT:
        raise InvalidInput("the receipt is larger than 2 MB", code="receipt_too_large")
    payload = _payload(text.strip())
    if len(payload) > MAX_RECEIPT_BASE64:
        raise InvalidInput("the receipt is larger than 2 MB", code="receipt_too_large")
    try:
        content = base64.b64decode(payload, validate=True)
    except ValueError:  # binascii.Error, and text that is not ASCII
        raise InvalidInput("the receipt is not base64 text", code="invalid_receipt") from None
    if not content:
        raise InvalidInput("the receipt is empty", code="invalid_receipt")
    if len(content) > MAX_RECEIPT_BYTES:
        raise InvalidInput("the receipt is larger than 2 MB", code="receipt_too_large")
    media_type = media_type_of(content)
    if media_type is None:
        raise InvalidInput("a receipt is a photo (JPEG, PNG, WebP, HEIC) or a PDF", code="unsupported_receipt_type")
    return Receipt(content, media_type)
