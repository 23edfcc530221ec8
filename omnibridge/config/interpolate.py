"""``${VAR}`` and ``${VAR:-default}`` substitution in string values.

Rules (the same for every profile, connector profile and mapping file):

* ``${NAME}`` is replaced by the environment variable ``NAME``; if it is not set, that is a problem to report.
* ``${NAME:-default}`` uses ``default`` when ``NAME`` is unset *or empty* (as in POSIX shells).
* ``$${`` is a literal ``${``.
* ``NAME`` is letters, digits and ``_``, not starting with a digit. Anything else inside ``${...}``, or a ``${``
  that is never closed, is a problem to report.

Values read from the environment are returned in :attr:`Interpolated.env_values`; messages about a field whose
value came from the environment never echo it. Which of them are credentials is decided by the settings models
(``SecretStr``), which are registered as secrets after validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class InterpolationProblem:
    """One reference that could not be substituted. ``variable`` is set when a variable was simply missing."""

    message: str
    expected: str
    variable: str | None = None


@dataclass
class Interpolated:
    """The substituted text, the values taken from the environment, and any problems found."""

    value: str
    changed: bool = False
    env_values: list[str] = field(default_factory=list)
    problems: list[InterpolationProblem] = field(default_factory=list)


def interpolate(text: str, env: Mapping[str, str]) -> Interpolated:
    """Substitute every ``${...}`` reference in ``text`` from ``env``.

    Never raises: a missing variable is substituted by the empty string and reported in ``problems``.
    """
    result = Interpolated(value=text)
    if "${" not in text:
        return result

    def substitute(match: re.Match[str]) -> str:
        text_found = match.group(0)
        if text_found == "$${":
            return "${"
        inner = match.group(1)
        if inner is None:
            result.problems.append(
                InterpolationProblem(
                    "unterminated variable reference '${'",
                    "${NAME} or ${NAME:-default}, or $${ for a literal '${'",
                )
            )
            return text_found
        reference = _REFERENCE.match(inner)
        if reference is None:
            result.problems.append(
                InterpolationProblem(
                    f"invalid variable reference '${{{inner}}}'",
                    "${NAME} or ${NAME:-default} where NAME is letters, digits and '_'",
                )
            )
            return text_found
        name, default = reference.group(1), reference.group(2)
        value = env.get(name)
        if value is not None and (value != "" or default is None):
            if value:
                result.env_values.append(value)
            return value
        if default is not None:
            return default
        result.problems.append(
            InterpolationProblem(
                f"environment variable '{name}' is not set",
                f"'{name}' set in the environment, or a default: ${{{name}:-value}}",
                variable=name,
            )
        )
        return ""

    result.value = _TOKEN.sub(substitute, text)
    result.changed = result.value != text
    return result
