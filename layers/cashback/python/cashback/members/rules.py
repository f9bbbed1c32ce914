"""Members: identity by phone number, a goal for their bonuses, and an optional monthly write-off limit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from cashback.platform.errors import InvalidInput

# The operator's home country: numbers written without a country code are read as Russian.
DEFAULT_REGION = "RU"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


class Goal(StrEnum):
    PHONE_TOPUP = "phone_topup"
    SMARTPHONE = "smartphone"


class Language(StrEnum):
    """The language of the member's messages."""

    RU = "ru"
    EN = "en"


def language_from(accept_language: str | None) -> Language:
    """English when the client's first preference is English (`en`, `en-GB`, ...), else Russian."""
    first = (accept_language or "")[:64].split(",", 1)[0].split(";", 1)[0].strip().lower()
    return Language.EN if first == "en" or first.startswith("en-") else Language.RU


@dataclass(frozen=True)
class Profile:
    first_name: str
    last_name: str
    birth_date: date
    city: str


@dataclass(frozen=True)
class Member:
    member_id: str
    phone: str
    subscriber: bool
    created_at: datetime
    email: str | None = None
    email_confirmed: bool = False
    goal: Goal = Goal.PHONE_TOPUP
    monthly_writeoff_limit: int | None = None
    profile: Profile | None = None
    language: Language = Language.RU


def normalise_phone(raw: str) -> str:
    """E.164 (`+79161234567`) from any common spelling; refused when it is not a valid number."""
    import phonenumbers  # imported on use: its metadata is large and most requests never need it

    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{raw!r} is not a phone number", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{raw!r} is not a valid phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("that is not an email address", code="invalid_email")
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def mask_phone(phone: str) -> str:
    """For logs: enough to tell numbers apart in an incident, not enough to call anyone."""
    return phone[:4] + "*" * max(len(phone) - 6, 0) + phone[-2:]


def is_subscriber(phone: str, ranges: tuple[str, ...], directory_entry: bool | None) -> bool:
    """The directory's row wins (numbers ported in or out); otherwise the operator's number ranges."""
    if directory_entry is not None:
        return directory_entry
    return any(phone.startswith(prefix) for prefix in ranges)


def check_profile(first_name: str, last_name: str, birth_date: date, city: str, today: date) -> Profile:
    for label, value in (("first_name", first_name), ("last_name", last_name), ("city", city)):
        if not value.strip():
            raise InvalidInput(f"{label} is required", code="invalid_profile")
    youngest = date(today.year - 14, today.month, min(today.day, 28))  # 28: every month has one
    if not date(1900, 1, 1) <= birth_date <= youngest:
        raise InvalidInput("birth_date must be a real date at least 14 years ago", code="invalid_birth_date")
    return Profile(first_name.strip(), last_name.strip(), birth_date, city.strip())


def check_writeoff_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidInput("monthly_writeoff_limit is a whole number >= 0, or null", code="invalid_limit")
    return limit
