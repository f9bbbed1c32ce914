"""The language of a member's messages: from the phone's Accept-Language at enrolment, Russian by
default, shown in and changed through /members/me."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.members.rules import Language, language_from
from tests.fixtures.handlers import invoke, sample_event

pytestmark = pytest.mark.usefixtures("moto_tables")


def enrol(accept_language: str | None) -> dict:
    event = sample_event("members-enrol", body=None)
    if accept_language is not None:
        event["headers"]["accept-language"] = accept_language
    status, member = invoke("members", event)
    assert status == 201, member
    return member


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "ru"), ("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("de-DE,en;q=0.5", "ru")],
)
def test_a_member_enrols_in_their_phones_first_language_if_it_is_english(header: str | None, language: str) -> None:
    assert enrol(header)["language"] == language
    assert invoke("members", sample_event("members-me"))[1]["language"] == language


def test_a_member_changes_their_language_and_nothing_else() -> None:
    # Given a member enrolled in Russian
    before = enrol(None)

    # When they switch to English, then try a language the programme does not speak
    status, after = invoke("members", sample_event("members-update", body={"language": "en"}))
    refused, error = invoke("members", sample_event("members-update", body={"language": "de"}))

    # Then English is kept, the rest of the record unchanged, and the unknown language refused
    assert status == 200
    assert after == {**before, "language": "en"}
    assert (refused, error["error"]["code"]) == (422, "invalid_request")
    assert invoke("members", sample_event("members-me"))[1]["language"] == "en"


@given(region=st.sampled_from(["", "-GB", "-US", ";q=1"]), rest=st.text(max_size=100))
def test_english_first_gives_english_whatever_follows(region: str, rest: str) -> None:
    assert language_from(f"en{region},{rest}") is Language.EN


@given(tag=st.from_regex(r"[a-df-z][a-z]{1,2}(-[A-Z]{2})?", fullmatch=True), rest=st.text(max_size=100))
def test_any_other_first_language_gives_russian(tag: str, rest: str) -> None:
    assert language_from(f"{tag},{rest}") is Language.RU
