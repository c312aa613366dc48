"""contracts.domain: the shared check for text a caller must give."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.domain import InvalidCommandError, required_text


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u00a0"])
def test_blank_text_is_refused_naming_the_field(blank: str) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        required_text(blank, "reason")
    assert refused.value.field == "reason"
    assert refused.value.problem == "is required"


@given(st.text().filter(lambda text: text.strip()))
def test_given_text_comes_back_without_surrounding_blanks(text: str) -> None:
    assert required_text(text, "field") == text.strip()
