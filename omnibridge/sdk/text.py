"""Decoding files people save from spreadsheets (Excel, Numbers, LibreOffice, Google Sheets).

They arrive as UTF-8, UTF-8 with a byte-order mark (Excel's "CSV UTF-8") or Windows-1252 (Excel's plain "CSV" on
Windows). :func:`decode_spreadsheet` reads all three; anything else is a :class:`TextEncodingError` whose message
names the encoding that was expected and how to save the file so that it reads.
"""

from __future__ import annotations

__all__ = ["AUTO", "TextEncodingError", "decode_spreadsheet"]

AUTO = "auto"
"""The encoding setting meaning: UTF-8 (with or without BOM), else Windows-1252."""

FIX = "save it from your spreadsheet as 'CSV UTF-8 (Comma delimited)'"


class TextEncodingError(ValueError):
    """The bytes are not text in the expected encoding; ``str()`` is one line naming the encoding and the fix."""


def decode_spreadsheet(content: bytes, encoding: str = AUTO) -> str:
    """The text of ``content``. With ``encoding`` :data:`AUTO`: UTF-8 (a leading BOM is dropped), else
    Windows-1252. With a named codec: that codec (``utf-8`` also drops a BOM). Raises :class:`TextEncodingError`."""
    if encoding.strip().lower() != AUTO:
        codec = "utf-8-sig" if encoding.strip().lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
        try:
            return content.decode(codec)
        except LookupError:
            raise TextEncodingError(f"unknown encoding {encoding!r}: use 'auto', 'utf-8' or 'cp1252'") from None
        except UnicodeDecodeError as exc:
            raise TextEncodingError(
                f"the file is not {encoding} text (byte 0x{content[exc.start]:02x} at offset {exc.start}): {FIX}, "
                f"or set the encoding it was saved in"
            ) from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise TextEncodingError(
            f"the file is neither UTF-8 nor Windows-1252 text (byte 0x{content[exc.start]:02x} at offset "
            f"{exc.start}): {FIX}"
        ) from None
