"""deploy/omnibridge.service and its install steps: omnibridge comes from this repository (never from a PyPI name,
which belongs to another project), and the paths the unit makes writable cover what the daemon writes for the
example profile (its SQLite store and lock file, the ERP/WMS exchange folders)."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from pathlib import Path, PurePosixPath

import pytest

from connectors.files.settings import FilesSettings
from omnibridge.config import load_profile
from omnibridge.store.daemon_lock import lock_path
from omnibridge.store.engine import parse_url

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "omnibridge.service"
OPERATIONS = ROOT / "docs" / "operations.md"
EXAMPLE = ROOT / "config" / "omnibridge.example.yaml"
UNIT_ONLY_KEYS = {"StartLimitIntervalSec", "StartLimitBurst"}  # systemd ignores them in [Service]

Entries = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Entries:
    """Section -> key -> every value given (systemd allows a key several times)."""
    entries: Entries = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries[section][key.strip()].append(value.strip())
    return entries


def shell_lines(text: str) -> list[str]:
    """The install commands in the unit's header comment, or in the docs' systemd section's code block."""
    return [line.lstrip("#").strip() for line in text.splitlines() if line.lstrip("#").strip().startswith("sudo ")]


def systemd_section(markdown: str) -> str:
    section = markdown.split("## Running it under systemd", 1)[1].split("\n## ", 1)[0]
    return section.split("```bash", 1)[1].split("```", 1)[0]


def commands(lines: list[str]) -> list[list[str]]:
    """Each command of ``lines`` (split at ``&&`` and ``;``) as its words, comments dropped."""
    split = (shlex.split(command, comments=True) for line in lines for command in re.split(r"&&|;", line))
    return [words for words in split if words]


def pip_install_targets(lines: list[str]) -> list[str]:
    targets: list[str] = []
    for words in commands(lines):
        if any(word.endswith("/pip") or word == "pip" for word in words) and "install" in words:
            after = words[words.index("install") + 1 :]
            targets += [word for word in after if not word.startswith("-")]
    return targets


def is_local(target: str) -> bool:
    """A path to a checkout or to a wheel built from one (extras allowed), not a name a registry resolves."""
    path = re.sub(r"\[[^\]]*\]$", "", target)
    return path.startswith(("/", "./", "../", "~")) or path.endswith(".whl")


@pytest.mark.parametrize("source", ["unit", "docs"])
def test_omnibridge_is_installed_from_this_repository(source: str) -> None:
    text = UNIT.read_text(encoding="utf-8")
    if source == "docs":
        text = systemd_section(OPERATIONS.read_text(encoding="utf-8"))
    targets = pip_install_targets(shell_lines(text))
    assert targets, f"no pip install step in the {source}"
    assert [target for target in targets if not is_local(target)] == []


def test_the_unit_runs_the_omnibridge_the_install_steps_create() -> None:
    text = UNIT.read_text(encoding="utf-8")
    [venv] = [words[words.index("venv") + 1] for words in commands(shell_lines(text)) if "venv" in words]
    service = parse_unit(text)["Service"]
    for command in (*service["ExecStartPre"], *service["ExecStart"]):
        assert command.startswith(f"{venv}/bin/omnibridge "), command
    assert not UNIT_ONLY_KEYS & set(service), "start limits belong in [Unit]"


def writable_roots(entries: Entries) -> list[PurePosixPath]:
    service = entries["Service"]
    roots = [PurePosixPath("/var/lib") / name for value in service["StateDirectory"] for name in value.split()]
    roots += [PurePosixPath(path.lstrip("-+")) for value in service["ReadWritePaths"] for path in value.split()]
    return roots


def covered(path: Path, roots: list[PurePosixPath]) -> bool:
    return any(PurePosixPath(path).is_relative_to(root) for root in roots)


def test_the_writable_paths_cover_the_example_profiles_store_and_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = parse_unit(UNIT.read_text(encoding="utf-8"))
    assert entries["Service"]["ProtectSystem"] == ["strict"]  # only the listed paths are writable
    roots = writable_roots(entries)
    for name in ("OMNIBRIDGE_STORE_URL", "ERP_INBOX", "ERP_OUTBOX"):
        monkeypatch.delenv(name, raising=False)
    for value in entries["Service"]["Environment"]:
        for assignment in shlex.split(value):
            name, _, setting = assignment.partition("=")
            monkeypatch.setenv(name, setting)
    loaded = load_profile(EXAMPLE)

    database = Path(str(parse_url(loaded.store_url).database))
    assert covered(database, roots), f"the store {database} is not writable under the unit ({roots})"
    assert covered(lock_path(str(database)), roots)
    assert covered(Path(entries["Service"]["WorkingDirectory"][0]), roots)

    folders = [
        folder
        for channel in loaded.channels
        if isinstance(channel.settings, FilesSettings)
        for folder in (
            channel.settings.inbox,
            channel.settings.processed_dir,
            channel.settings.failed_dir,
            channel.settings.outbox_dir,
        )
    ]
    assert folders, "the example profile has no ERP/WMS file channel any more: update this test"
    assert [folder for folder in folders if not covered(folder, roots)] == []


def test_the_unit_makes_every_file_the_daemon_creates_owner_only() -> None:
    service = parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]
    assert service["UMask"] == ["0077"]
    assert service["StateDirectoryMode"] == ["0700"]
