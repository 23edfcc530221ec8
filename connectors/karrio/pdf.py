"""karrio's PDF bundling, done with ``pypdf`` instead of the deprecated ``PyPDF2``.

karrio (2026.1) requires ``PyPDF2`` and uses it for one thing: ``bundle_pdfs`` merges the base64 PDF labels (and
FedEx's invoices) a carrier returns for a multi-package shipment into one document, with
``PyPDF2.PdfMerger(strict=False)``. PyPDF2 is unmaintained and its last release (3.0.1) has known
denial-of-service bugs on crafted PDFs (GHSA-4vvm-4w3v-6mr8 / CVE-2023-36464: an infinite loop; see
``omnibridge/security/advisories.toml``), and those PDFs come from the network (a carrier's answer). pip must
still install PyPDF2 (karrio declares it), so :func:`install` replaces karrio's ``bundle_pdfs`` with
:func:`bundle_pdfs` below, built on the maintained ``pypdf``, before karrio runs: no PDF is ever parsed by PyPDF2.
:func:`mitigation_problem` is what the dependency audit checks.
"""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["bundle_pdfs", "install", "mitigation_problem"]

_PATCHED = ("karrio.core.utils.helpers", "karrio.core.utils")


def bundle_pdfs(base64_strings: Sequence[str]) -> Any:
    """The PDFs (base64) merged in order into one ``pypdf.PdfWriter`` (karrio calls ``.write(stream)`` on it)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for encoded in base64_strings:
        writer.append(PdfReader(io.BytesIO(base64.b64decode(encoded)), strict=False))
    return writer


def install() -> None:
    """Make karrio bundle PDFs with :func:`bundle_pdfs` (idempotent; imports karrio's utilities). Called by
    :func:`connectors.karrio.gateway.load_karrio` before any gateway is built."""
    import importlib

    for name in _PATCHED:
        module = importlib.import_module(name)
        module.bundle_pdfs = bundle_pdfs  # type: ignore[attr-defined]


def mitigation_problem() -> str | None:
    """None when karrio, loaded the way omnibridge loads it (:func:`connectors.karrio.gateway.load_karrio`), can
    bundle PDFs only through pypdf; else what is wrong. The dependency audit runs this for PyPDF2's advisories."""
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return "pypdf is not installed; install omnibridge's 'carriers' extra"
    from connectors.karrio.gateway import karrio_available, load_karrio

    if not any(karrio_available(carrier) for carrier in ("ups", "fedex", "usps", "mydhl")):
        return None  # no karrio carrier: nothing of karrio's runs
    load_karrio()
    for name in _PATCHED:
        if getattr(sys.modules[name], "bundle_pdfs", None) is not bundle_pdfs:
            return f"{name}.bundle_pdfs is not omnibridge's pypdf bundler: karrio would parse PDFs with PyPDF2"
    return None
