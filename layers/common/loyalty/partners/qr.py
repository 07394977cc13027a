"""A link's QR code as SVG (print) and PNG (chat apps), with segno (pure Python, no dependencies).

Imported only by the QR routes, when they answer, so no other route's cold start pays for segno.
"""

from __future__ import annotations

import io


def _qr(text: str) -> object:
    import segno

    return segno.make_qr(text, error="m")  # 15 % of the symbol may be damaged or covered and it still reads


def qr_svg(text: str) -> str:
    """An SVG document of a QR code of ``text``: scalable for print (1 unit a module), the 4-module quiet zone."""
    out = io.BytesIO()
    _qr(text).save(out, kind="svg", scale=1, border=4, xmldecl=False, nl=False, title="QR code")  # type: ignore[attr-defined]
    return out.getvalue().decode()


def qr_png(text: str) -> bytes:
    """A PNG of a QR code of ``text``: 8 px modules (a phone screen shows it sharp), the 4-module quiet zone."""
    out = io.BytesIO()
    _qr(text).save(out, kind="png", scale=8, border=4)  # type: ignore[attr-defined]
    return out.getvalue()
