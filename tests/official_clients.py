"""Harness for driving vendors' official client libraries against our emulators.

The emulator is served on a loopback port from a background thread (:func:`served`). The client library runs in
a child Python process (:func:`drive`): ``squareup``, ``easypost`` and ``ShopifyAPI`` install top-level packages
named ``square``, ``easypost`` and ``shopify``, the very names pytest gives our test folders (tests/ is on
``sys.path``), so they cannot be imported by a test process. A driver script takes a scenario name and JSON
arguments and prints one JSON document: what the library returned, reduced to plain values.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import serve_in_thread

__all__ = ["drive", "served"]


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the block; yields its base URL (no trailing slash)."""
    with serve_in_thread(app) as urls:
        yield urls[0]


def drive(script: Path, scenario: str, **arguments: Any) -> Any:
    """Run ``scenario`` of the driver ``script`` in a child process; returns the JSON it printed.

    The child runs from the script's folder (so ``import square`` finds the vendor's library, not tests/square);
    a non-zero exit fails the test with the child's stderr (the library's own error and traceback).
    """
    done = subprocess.run(
        [sys.executable, "-P", str(script), scenario, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=script.parent,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{script.name} {scenario} failed:\n{done.stderr}")
    return json.loads(done.stdout)
