"""What a member reads: the text of each message the programme sends, in Russian (the default) or English.

A message body in the outbox names its template and carries only what the template needs; a code is never
in it (invariant 9). The certificate and email confirmation templates are rendered with the code the
notifications service derives at send time, and nothing else ever sees the rendered text but the provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Locale(StrEnum):
    RU = "ru"
    EN = "en"


DEFAULT_LOCALE = Locale.RU


class Template(StrEnum):
    CERTIFICATE_CODE = "certificate_code"
    EMAIL_CONFIRMATION = "email_confirmation"
    TOPUP_FAILED = "topup_failed"
    TOPUP_COMPLETED = "topup_completed"


class UnknownTemplate(ValueError):
    """A body no template renders: a programming error upstream, never retried into success."""


@dataclass(frozen=True)
class Rendered:
    text: str
    subject: str | None = None  # emails only


def locale_of(value: object) -> Locale:
    """The body's locale; anything unknown reads as the default rather than failing a member's message."""
    try:
        return Locale(str(value))
    except ValueError:
        return DEFAULT_LOCALE


def roubles(amount: int) -> str:
    """Whole roubles grouped by thousands with a space, as both languages read them here: "80 000"."""
    return f"{amount:,}".replace(",", " ")


_MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_name(month: str, locale: Locale) -> str:
    """ "2026-10" -> "октябрь 2026" / "October 2026"; an unreadable month is shown as it came."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    names = _MONTHS_RU if locale is Locale.RU else _MONTHS_EN
    return f"{names[int(number) - 1]} {year}"


def _certificate_code(body: Mapping[str, Any], locale: Locale, code: str | None) -> Rendered:
    amount = roubles(int(body["denomination"]))
    if locale is Locale.EN:
        return Rendered(f"Your smartphone certificate for {amount} RUB: {code}. Anyone with this code can use it.")
    return Rendered(f"Ваш сертификат на смартфон на {amount} руб.: {code}. Не сообщайте код посторонним.")


def _email_confirmation(body: Mapping[str, Any], locale: Locale, code: str | None) -> Rendered:
    minutes = int(body.get("valid_minutes", 15))
    if locale is Locale.EN:
        return Rendered(
            f"Your confirmation code is {code}. It is valid for {minutes} minutes.\n\n"
            "If you did not ask for it, ignore this email.",
            subject="Confirm your email for the cashback programme",
        )
    return Rendered(
        f"Ваш код подтверждения: {code}. Он действует {minutes} минут.\n\n"
        "Если вы не запрашивали код, просто проигнорируйте это письмо.",
        subject="Подтвердите email в программе кешбэка",
    )


def _topup_failed(body: Mapping[str, Any], locale: Locale, code: str | None) -> Rendered:
    amount, month, reason = roubles(int(body["amount"])), month_name(str(body["month"]), locale), body.get("reason")
    if locale is Locale.EN:
        why = f" ({reason})" if reason else ""
        return Rendered(
            f"We could not top up your phone with {amount} bonuses for {month}{why}. "
            "The bonuses are back on your balance."
        )
    why = f" (причина: {reason})" if reason else ""
    return Rendered(
        f"Не удалось пополнить счёт телефона на {amount} бонусов за {month}{why}. Бонусы вернулись на баланс."
    )


def _topup_completed(body: Mapping[str, Any], locale: Locale, code: str | None) -> Rendered:
    amount, month = roubles(int(body["amount"])), month_name(str(body["month"]), locale)
    if locale is Locale.EN:
        return Rendered(f"Your phone has been topped up with {amount} RUB of cashback for {month}.")
    return Rendered(f"Счёт телефона пополнен на {amount} руб. кешбэка за {month}.")


_RENDERERS: dict[Template, Callable[[Mapping[str, Any], Locale, str | None], Rendered]] = {
    Template.CERTIFICATE_CODE: _certificate_code,
    Template.EMAIL_CONFIRMATION: _email_confirmation,
    Template.TOPUP_FAILED: _topup_failed,
    Template.TOPUP_COMPLETED: _topup_completed,
}
CODE_TEMPLATES = frozenset({Template.CERTIFICATE_CODE, Template.EMAIL_CONFIRMATION})


def template_of(body: Mapping[str, Any]) -> Template:
    try:
        return Template(str(body.get("template")))
    except ValueError:
        raise UnknownTemplate(f"no template {body.get('template')!r}") from None


def render(body: Mapping[str, Any], code: str | None = None) -> Rendered:
    """The message as its recipient reads it; `code` for the templates that carry one (CODE_TEMPLATES)."""
    template = template_of(body)
    if template in CODE_TEMPLATES and not code:
        raise ValueError(f"{template.value} is rendered with its code")
    try:
        return _RENDERERS[template](body, locale_of(body.get("locale")), code)
    except (KeyError, TypeError, ValueError) as error:
        raise UnknownTemplate(f"a {template.value} body without what it needs: {type(error).__name__}") from None
