"""The QR code of a member code, as an SVG document (segno: pure Python, no dependencies).

Imported only by the card route, when it answers, so no other route's cold start pays for segno.
"""

from __future__ import annotations

import io


def qr_svg(text: str) -> str:
    """An SVG (with its namespace, no XML declaration) of a QR code of ``text``: error correction M, 4 px modules,
    the standard 4-module quiet zone. A 15-character member code is alphanumeric: a version 1 symbol (21 × 21)."""
    import segno

    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="svg", scale=4, border=4, xmldecl=False, nl=False,
                                        title="Member code")
    return out.getvalue().decode()
