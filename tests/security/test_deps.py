"""The offline dependency audit: listed vulnerable versions fail it, checked mitigations pass, and it says what it
could not check (it never uses the network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from omnibridge.security import deps

PYTEST = Version(pytest.__version__)


def advisories(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "advisories.toml"
    path.write_text('reviewed = "2026-12-01"\n' + "".join(entries))
    return path


def entry(package: str, affected: str, *extra: str) -> str:
    lines = [
        "[[advisory]]",
        'id = "GHSA-test-0000-0000"',
        'aliases = ["CVE-2099-0001"]',
        f'package = "{package}"',
        f'affected = "{affected}"',
        'summary = "a crafted input loops forever"',
        'fixed = "99.0"',
        *extra,
    ]
    return "\n" + "\n".join(lines) + "\n"


def test_an_installed_listed_version_fails_the_audit_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = advisories(tmp_path, entry("PyTest", f"<={PYTEST}"), entry("pytest", f">{PYTEST}"))
    assert deps.main(["--advisories", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"VULNERABLE: PyTest {PYTEST}: GHSA-test-0000-0000 / CVE-2099-0001: a crafted input loops forever" in out
    assert out.count("VULNERABLE") == 1  # the other range does not hold the installed version
    assert "NOT checked: any vulnerability that is not in that list" in out
    assert "(reviewed 2026-12-01), offline" in out


def test_a_mitigation_counts_only_when_its_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mitigated = entry("pytest", ">=0", 'mitigation = "never called"', 'check = "gc:enable"')  # returns None
    assert deps.main(["--advisories", str(advisories(tmp_path, mitigated))]) == 0
    assert "MITIGATED: pytest" in capsys.readouterr().out

    failing = entry("pytest", ">=0", 'mitigation = "never called"', 'check = "os:getcwd"')  # returns a problem
    assert deps.main(["--advisories", str(advisories(tmp_path, failing))]) == 1
    assert "mitigation not in place" in capsys.readouterr().out

    unchecked = entry("pytest", ">=0", 'mitigation = "trust me"')
    assert deps.main(["--advisories", str(advisories(tmp_path, unchecked))]) == 1
    assert "mitigation claimed but not checked" in capsys.readouterr().out


def test_a_version_that_cannot_be_compared_is_reported_as_not_checked(tmp_path: Path) -> None:
    _, listed = deps.load_advisories(advisories(tmp_path, entry("legacy", "<2")))
    result = deps.audit(listed, [("legacy", "1.0-custom-build+x y"), ("other", "1.0")])
    [finding] = result.findings
    assert finding.status == "unchecked"
    assert "not a PEP 440 version" in finding.detail
    assert result.failed


def test_a_broken_list_is_refused_with_the_entry_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = advisories(tmp_path, entry("pytest", "not a range"))
    assert deps.main(["--advisories", str(path)]) == 2
    err = capsys.readouterr().err
    assert "advisory 1 (GHSA-test-0000-0000): affected 'not a range' is not a PEP 440 specifier" in err
    assert deps.main(["--advisories", str(tmp_path / "missing.toml")]) == 2


def test_the_repository_list_names_pypdf2s_infinite_loop_and_the_installed_set_passes() -> None:
    reviewed, listed = deps.load_advisories()
    assert reviewed
    pypdf2 = [advisory for advisory in listed if advisory.package == "PyPDF2"]
    assert [advisory.id for advisory in pypdf2] == ["GHSA-4vvm-4w3v-6mr8"]
    assert "CVE-2023-36464" in pypdf2[0].aliases
    assert pypdf2[0].affected.contains("3.0.1")
    result = deps.audit(listed, deps.installed_distributions())
    assert not result.failed, deps.render(result)
