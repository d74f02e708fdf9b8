"""The HTML building blocks of the reports (profile and diff): escaped text and the page."""

from __future__ import annotations

import html

__all__ = ["page", "text"]

# C0 controls and DEL read as escapes (a newline in a value must not break a table row).
_CONTROLS = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)}
_CONTROLS.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})


def text(value: object) -> str:
    """``value`` as HTML-escaped text (quotes too, so it is safe in an attribute); control
    characters and lone surrogates are shown as escapes."""
    s = str(value).translate(_CONTROLS)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(s, quote=True)


def page(title: str, body: str, css: str = "", script: str = "") -> str:
    """A complete, self-contained HTML document: ``title`` (escaped here), inline ``css``, the
    ``body`` (HTML) and an optional inline ``script`` at its end."""
    js = f"<script>{script}</script>" if script else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{css}</style></head>"
        f"<body>{body}{js}</body></html>\n"
    )
