"""What a member reads: every template in Russian (the default) and English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.notifications.rules import UnknownTemplate, render, roubles

CERTIFICATE = {
    "template": "certificate_code",
    "certificate_id": "cert-1",
    "denomination": 80_000,
    "member_id": "m-1",
    "order_key": "order-0001",
    "nonce": "ab" * 16,
}


def test_a_certificate_sms_reads_in_russian_unless_the_member_chose_english() -> None:
    russian = render({**CERTIFICATE, "locale": "ru"}, "ABCD-EFGH-JKMN-P")
    english = render({**CERTIFICATE, "locale": "en"}, "ABCD-EFGH-JKMN-P")
    unknown = render({**CERTIFICATE, "locale": "de"}, "ABCD-EFGH-JKMN-P")
    untold = render(CERTIFICATE, "ABCD-EFGH-JKMN-P")

    assert russian.text == (
        "Ваш сертификат на смартфон на 80 000 руб.: ABCD-EFGH-JKMN-P. Не сообщайте код посторонним."
    )
    assert english.text == (
        "Your smartphone certificate for 80 000 RUB: ABCD-EFGH-JKMN-P. Anyone with this code can use it."
    )
    assert unknown == untold == russian


def test_an_email_confirmation_has_a_subject_and_the_code() -> None:
    body = {"template": "email_confirmation", "member_id": "m-1", "nonce": "n", "valid_minutes": 15}

    russian = render({**body, "locale": "ru"}, "042817")
    english = render({**body, "locale": "en"}, "042817")

    assert russian.subject == "Подтвердите email в программе кешбэка"
    assert russian.text.startswith("Ваш код подтверждения: 042817. Он действует 15 минут.")
    assert english.subject == "Confirm your email for the cashback programme"
    assert english.text.startswith("Your confirmation code is 042817. It is valid for 15 minutes.")


def test_top_up_notices_name_the_amount_the_month_and_why_it_failed() -> None:
    failed = {"template": "topup_failed", "amount": 1_350, "month": "2026-10", "reason": "number ported"}
    completed = {"template": "topup_completed", "amount": 350, "month": "2026-10"}

    assert render(failed).text == (
        "Не удалось пополнить счёт телефона на 1 350 бонусов за октябрь 2026 (причина: number ported). "
        "Бонусы вернулись на баланс."
    )
    assert render({**failed, "locale": "en"}).text == (
        "We could not top up your phone with 1 350 bonuses for October 2026 (number ported). "
        "The bonuses are back on your balance."
    )
    assert render(completed).text == "Счёт телефона пополнен на 350 руб. кешбэка за октябрь 2026."
    assert render({**completed, "locale": "en"}).text == (
        "Your phone has been topped up with 350 RUB of cashback for October 2026."
    )


@given(amount=st.integers(min_value=0, max_value=10**9), locale=st.sampled_from(["ru", "en"]))
def test_every_amount_is_shown_whole_and_grouped(amount: int, locale: str) -> None:
    text = render({"template": "topup_completed", "amount": amount, "month": "2026-01", "locale": locale}).text
    assert roubles(amount) in text
    assert roubles(amount).replace(" ", "") == str(amount)


@pytest.mark.parametrize(
    "body",
    [
        {"template": "newsletter"},
        {"template": "topup_failed", "month": "2026-10"},  # no amount
        {"template": "topup_completed", "amount": "many", "month": "2026-10"},
    ],
)
def test_a_body_no_template_can_render_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(UnknownTemplate):
        render(body)


def test_a_code_template_is_never_rendered_without_its_code() -> None:
    with pytest.raises(ValueError, match="rendered with its code"):
        render(CERTIFICATE)
