"""Text from people and the database is data: one rule for which characters are unsafe, one function
that shows them visibly (screens, messages, errors), and one check that refuses them on input.

Unsafe are the control characters (C0 but newline and tab, DEL, C1 — ESC starts every terminal escape
sequence, CSI/OSC included), the bidirectional controls (a right-to-left override turns `abc` into
`cba` on screen) and the Unicode line/paragraph separators. No rich, no typer here: workflows use
`check_text`, renderers and the error handler use `visible`.
"""

from __future__ import annotations

import re

from csdesk.errors import InvalidValue

# Bidi embeddings/overrides/isolates and marks (U+061C, U+200E/F, U+202A–E, U+2066–9), line and
# paragraph separators (U+2028/9), and every C0/C1 control.
_OTHER = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_ALL = re.compile(f"[\x00-\x1f{_OTHER}]")
_UNSAFE_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")  # newline and tab allowed


def _show(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text, lines: bool = True) -> str:
    """The text with every unsafe character written out as an escape (ESC → `\\x1b`, RLO → `\\u202e`).

    `lines=True` keeps newlines and tabs (a multi-line note stays multi-line); `lines=False` shows them
    too, for what must stay one line (an error message).
    """
    text = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_BUT_LINES if lines else _UNSAFE_ALL
    return pattern.sub(_show, text) if pattern.search(text) else text


def unsafe(text: str, lines: bool = True) -> bool:
    """Does the text hold a character that `visible` would write out?"""
    return bool((_UNSAFE_BUT_LINES if lines else _UNSAFE_ALL).search(text))


def check_text(value: str, what: str, lines: bool = True) -> str:
    """Refuse unsafe characters in typed text. Free text (`lines=True`) keeps newlines and tabs (a CRLF
    pasted from Windows becomes a newline); names and codes (`lines=False`) are one line."""
    if lines and "\r" in value:
        value = value.replace("\r\n", "\n")
    found = (_UNSAFE_BUT_LINES if lines else _UNSAFE_ALL).search(value)
    if found:
        shown = _show(found)
        if lines:
            raise InvalidValue(f"{what} contains control characters ({shown}); only newlines and tabs may be typed in text")
        raise InvalidValue(f"{what} contains control characters ({shown}); it must be one line of plain text")
    return value


_JSON_UNSAFE = re.compile(f"[{_OTHER}]")


def json_safe(dumped: str) -> str:
    """JSON text with DEL, C1 and bidi controls written as \\uXXXX escapes too (json.dumps escapes only
    C0 when ensure_ascii is off): the same data, and nothing that a terminal would act on."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
