"""Draw the app icon with QPainter and write every size and container the packages need.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_icons.py      # writes resources/icons/

Outputs (committed): gptoss-desktop-N.png for N in 16..1024, gptoss-desktop.ico (Windows:
PNG-compressed entries, 16..256) and gptoss-desktop.icns (macOS: PNG entries, 16..1024).
The containers are written by hand: Pillow is not a dependency and Qt's own ICO/ICNS
writers live in image-format plugins the app does not ship.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
NAME = "gptoss-desktop"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (Apple's "Icon Composer" types).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
    (b"ic11", 32),  # 16@2x
    (b"ic12", 64),  # 32@2x
    (b"ic13", 256),  # 128@2x
    (b"ic14", 512),  # 256@2x
)


def render_png(size: int) -> bytes:
    """The icon at `size` pixels, drawn directly at that size (no downscaling blur), as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPainterPath

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 1024, size / 1024)  # draw on a 1024 grid

    # The tile: a rounded square, deep blue to teal.
    tile = QRectF(64, 64, 896, 896)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomRight())
    gradient.setColorAt(0.0, QColor("#1e3a8a"))
    gradient.setColorAt(1.0, QColor("#0e7490"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(gradient))
    painter.drawRoundedRect(tile, 200, 200)

    # A speech bubble with its tail at the lower left.
    bubble = QPainterPath()
    bubble.addRoundedRect(QRectF(196, 250, 632, 440), 150, 150)
    tail = QPainterPath()
    tail.moveTo(QPointF(300, 640))
    tail.lineTo(QPointF(250, 800))
    tail.lineTo(QPointF(460, 680))
    tail.closeSubpath()
    painter.setBrush(QColor("#ffffff"))
    painter.drawPath(bubble.united(tail))

    # Three dots: two dimmed (the reasoning), the last one bright (the answer).
    for x, colour in ((360, "#94a3b8"), (512, "#94a3b8"), (664, "#0e7490")):
        painter.setBrush(QColor(colour))
        painter.drawEllipse(QPointF(x, 470), 62, 62)
    painter.end()

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG entries (supported since Windows Vista)."""
    sizes = [s for s in ICO_SIZES if s in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG entries: big-endian type + length (header included) + data."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    """Write every PNG size and both containers into resources/icons/."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    pngs = {size: render_png(size) for size in PNG_SIZES}
    for size, data in pngs.items():
        (OUT / f"{NAME}-{size}.png").write_bytes(data)
    (OUT / f"{NAME}.ico").write_bytes(ico(pngs))
    (OUT / f"{NAME}.icns").write_bytes(icns(pngs))
    print(f"wrote {len(pngs)} PNGs, {NAME}.ico and {NAME}.icns to {OUT}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
