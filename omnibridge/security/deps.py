"""An offline dependency audit: the installed distributions against the advisory list kept in the repository.

``python -m omnibridge.security.deps`` reads ``omnibridge/security/advisories.toml`` (or ``--advisories FILE``),
lists every installed distribution (:mod:`importlib.metadata`) and reports each one whose version an advisory
names. It never uses the network, so it checks only what the list holds: it says so, with the list's review
date, and names what it could not check (an advised package whose installed version is not a PEP 440 version).

An affected version with a ``mitigation`` counts as mitigated only when its ``check`` (``"module:function"``,
returning None when the mitigation is in place, else what is wrong) passes. Exit status: 0 when nothing
vulnerable is installed, 1 when something is (or could not be checked), 2 when the advisory list is unusable.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["ADVISORIES", "Advisory", "AdvisoryListError", "Audit", "Finding", "audit", "load_advisories", "main"]

ADVISORIES = Path(__file__).with_name("advisories.toml")
_REQUIRED = ("id", "package", "affected", "summary", "fixed")


class AdvisoryListError(ValueError):
    """The advisory list cannot be read: the message names the file, the entry and the field."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """One known vulnerability: ``package`` versions matching ``affected`` have it."""

    id: str
    package: str
    affected: SpecifierSet
    summary: str
    fixed: str
    aliases: tuple[str, ...] = ()
    mitigation: str | None = None
    check: str | None = None

    @property
    def name(self) -> str:
        return " / ".join((self.id, *self.aliases))


@dataclass(frozen=True, slots=True)
class Finding:
    """An installed ``package`` ``version`` an advisory names; ``status`` is ``vulnerable``, ``mitigated`` or
    ``unchecked`` (its version is no PEP 440 version), with why in ``detail``."""

    advisory: Advisory
    version: str
    status: str
    detail: str


@dataclass
class Audit:
    """What one audit found and what it covered."""

    source: Path
    reviewed: str
    advisories: int
    distributions: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(finding.status != "mitigated" for finding in self.findings)


def load_advisories(path: Path = ADVISORIES) -> tuple[str, list[Advisory]]:
    """The list's review date and advisories. Raises :class:`AdvisoryListError` naming what is wrong."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdvisoryListError(f"{path}: no such file; expected the advisory list (see docs/security.md)") from None
    except tomllib.TOMLDecodeError as exc:
        raise AdvisoryListError(f"{path}: not valid TOML ({exc})") from None
    reviewed = document.get("reviewed")
    if not isinstance(reviewed, str) or not reviewed:
        raise AdvisoryListError(f'{path}: expected reviewed = "YYYY-MM-DD" (when the list was last reviewed)')
    entries = document.get("advisory", [])
    if not isinstance(entries, list):
        raise AdvisoryListError(f"{path}: expected [[advisory]] tables")
    return reviewed, [_advisory(path, number, entry) for number, entry in enumerate(entries, start=1)]


def audit(
    advisories: Sequence[Advisory],
    distributions: Iterable[tuple[str, str]],
    *,
    source: Path = ADVISORIES,
    reviewed: str = "",
) -> Audit:
    """Match installed ``(name, version)`` pairs against ``advisories`` (mitigation checks run here)."""
    by_package: dict[str, list[Advisory]] = {}
    for advisory in advisories:
        by_package.setdefault(canonicalize_name(advisory.package), []).append(advisory)
    installed = sorted(set(distributions))
    result = Audit(source, reviewed, len(advisories), len(installed))
    for name, raw in installed:
        for advisory in by_package.get(canonicalize_name(name), []):
            try:
                version = Version(raw)
            except InvalidVersion:
                detail = f"installed version {raw!r} is not a PEP 440 version: compare it with {advisory.affected}"
                result.findings.append(Finding(advisory, raw, "unchecked", detail))
                continue
            if advisory.affected.contains(version, prereleases=True):
                result.findings.append(_judged(advisory, raw))
    return result


def installed_distributions() -> list[tuple[str, str]]:
    """Every distribution importable here, as ``(name, version)``."""
    found = []
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found.append((str(name), str(distribution.version)))
    return found


def render(result: Audit) -> str:
    """The report: findings first, then what was and was not checked."""
    lines = []
    for finding in result.findings:
        advisory = finding.advisory
        lines.append(
            f"{finding.status.upper()}: {advisory.package} {finding.version}: {advisory.name}: {advisory.summary}"
        )
        lines.append(f"  affected {advisory.affected}; fixed: {advisory.fixed}; {finding.detail}")
    if not result.findings:
        lines.append("no installed distribution matches an advisory in the list")
    lines += [
        "",
        f"checked {result.distributions} installed distributions against {result.advisories} advisories in "
        f"{result.source} (reviewed {result.reviewed}), offline.",
        "NOT checked: any vulnerability that is not in that list (published after its review, or never added); run "
        "pip-audit or check https://osv.dev where a network is allowed, and add what applies (docs/security.md).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnibridge.security.deps", description=__doc__.split("\n")[0])
    parser.add_argument("--advisories", type=Path, default=ADVISORIES, help="the advisory list (TOML)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    args = parser.parse_args(argv)
    try:
        reviewed, advisories = load_advisories(args.advisories)
    except AdvisoryListError as exc:
        print(f"dependency audit: {exc}", file=sys.stderr)
        return 2
    result = audit(advisories, installed_distributions(), source=args.advisories, reviewed=reviewed)
    print(json.dumps(_as_json(result), indent=2) if args.json else render(result))
    return 1 if result.failed else 0


def _advisory(path: Path, number: int, entry: Any) -> Advisory:
    where = f"{path}: advisory {number}"
    if not isinstance(entry, dict):
        raise AdvisoryListError(f"{where}: expected a table")
    where = f"{where} ({entry.get('id', 'no id')})"
    for key in _REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise AdvisoryListError(f'{where}: expected {key} = "..." (a non-empty string)')
    unknown = sorted(set(entry) - {*_REQUIRED, "aliases", "mitigation", "check"})
    if unknown:
        raise AdvisoryListError(f"{where}: unknown field(s) {', '.join(unknown)}")
    try:
        affected = SpecifierSet(entry["affected"])
    except InvalidSpecifier:
        raise AdvisoryListError(
            f"{where}: affected {entry['affected']!r} is not a PEP 440 specifier; expected e.g. '>=2.2.0,<=3.0.1'"
        ) from None
    check = entry.get("check")
    if check is not None and (not isinstance(check, str) or ":" not in check or "mitigation" not in entry):
        raise AdvisoryListError(f"{where}: check must be 'module:function', next to a mitigation")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise AdvisoryListError(f"{where}: aliases must be a list of strings")
    return Advisory(
        entry["id"],
        entry["package"],
        affected,
        entry["summary"],
        entry["fixed"],
        tuple(aliases),
        entry.get("mitigation"),
        check,
    )


def _judged(advisory: Advisory, version: str) -> Finding:
    if advisory.mitigation is None:
        return Finding(advisory, version, "vulnerable", "no mitigation: upgrade or replace it")
    if advisory.check is None:
        return Finding(advisory, version, "vulnerable", f"mitigation claimed but not checked: {advisory.mitigation}")
    module, _, function = advisory.check.partition(":")
    try:
        problem = getattr(importlib.import_module(module), function)()
    except Exception as exc:
        problem = f"the check {advisory.check} failed ({type(exc).__name__}: {exc})"
    if problem is not None:
        return Finding(advisory, version, "vulnerable", f"mitigation not in place: {problem}")
    return Finding(advisory, version, "mitigated", f"{advisory.mitigation} (checked by {advisory.check})")


def _as_json(result: Audit) -> dict[str, Any]:
    return {
        "advisories_file": str(result.source),
        "reviewed": result.reviewed,
        "advisories": result.advisories,
        "distributions_checked": result.distributions,
        "failed": result.failed,
        "findings": [
            {
                "id": finding.advisory.id,
                "aliases": list(finding.advisory.aliases),
                "package": finding.advisory.package,
                "version": finding.version,
                "status": finding.status,
                "affected": str(finding.advisory.affected),
                "fixed": finding.advisory.fixed,
                "detail": finding.detail,
            }
            for finding in result.findings
        ],
        "not_checked": "vulnerabilities not in the advisory list; this audit never uses the network",
    }


if __name__ == "__main__":
    sys.exit(main())
