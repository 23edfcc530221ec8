from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnibridge.config.interpolate import interpolate


def test_variable_is_substituted_and_reported_as_env_value() -> None:
    result = interpolate("key-${TOKEN}-end", {"TOKEN": "abc123"})
    assert result.value == "key-abc123-end"
    assert result.env_values == ["abc123"]
    assert result.changed
    assert result.problems == []


def test_default_is_used_when_unset_or_empty() -> None:
    assert interpolate("${HOST:-localhost}", {}).value == "localhost"
    assert interpolate("${HOST:-localhost}", {"HOST": ""}).value == "localhost"
    assert interpolate("${HOST:-localhost}", {"HOST": "db"}).value == "db"
    assert interpolate("${HOST:-}", {}).value == ""


def test_default_values_are_not_env_values() -> None:
    assert interpolate("${HOST:-localhost}", {}).env_values == []


def test_missing_variable_is_a_problem_naming_it() -> None:
    result = interpolate("${NOPE}", {})
    assert result.value == ""
    [problem] = result.problems
    assert problem.variable == "NOPE"
    assert "'NOPE' is not set" in problem.message
    assert "${NOPE:-value}" in problem.expected


def test_set_but_empty_variable_without_default_is_empty_not_missing() -> None:
    result = interpolate("${EMPTY}", {"EMPTY": ""})
    assert result.value == ""
    assert result.problems == []


def test_escape_gives_literal() -> None:
    assert interpolate("cost $${PRICE}", {"PRICE": "9"}).value == "cost ${PRICE}"


@pytest.mark.parametrize("text", ["${}", "${1ABC}", "${A B}", "${A:default}"])
def test_invalid_reference_is_a_problem(text: str) -> None:
    [problem] = interpolate(text, {}).problems
    assert "invalid variable reference" in problem.message


def test_unterminated_reference_is_a_problem() -> None:
    [problem] = interpolate("abc ${OOPS", {}).problems
    assert "unterminated" in problem.message


def test_several_references_in_one_string() -> None:
    result = interpolate("${A}:${B:-2}:${C}", {"A": "1", "C": "3"})
    assert result.value == "1:2:3"
    assert result.env_values == ["1", "3"]


@given(st.text().filter(lambda t: "${" not in t))
def test_text_without_references_is_unchanged(text: str) -> None:
    result = interpolate(text, {"X": "y"})
    assert result.value == text
    assert not result.changed
