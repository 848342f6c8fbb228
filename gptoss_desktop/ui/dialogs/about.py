"""Help ▸ About: the app's version and the licences of what ships with it, which the LGPL and MIT require us to show."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ... import __version__

ICON_NAME = "gptoss-desktop"


@dataclass(frozen=True)
class Component:
    """One bundled (or, for the weights, separately downloaded) part and its licence."""

    name: str
    distribution: str | None  # the package whose metadata holds its version, if any
    licence: str


COMPONENTS = (
    Component("Qt for Python (PySide6)", "PySide6-Essentials", "LGPL-3.0"),
    Component("llama.cpp (llama-cpp-python)", "llama-cpp-python", "MIT"),
    Component("gpt-oss weights", None, "Apache-2.0"),
    Component("Python", None, "PSF-2.0"),
    Component("Pygments", "pygments", "BSD-2-Clause"),
    Component("pypdfium2", "pypdfium2", "Apache-2.0 / BSD-3-Clause"),
    Component("PDFium", None, "BSD-3-Clause / Apache-2.0"),
    Component("python-docx", "python-docx", "MIT"),
    Component("lxml", "lxml", "BSD-3-Clause"),
    Component("charset-normalizer", "charset-normalizer", "MIT"),
    Component("huggingface_hub", "huggingface_hub", "Apache-2.0"),
    Component("httpx", "httpx", "BSD-3-Clause"),
    Component("httpx2", "httpx2", "BSD-3-Clause"),
    Component("platformdirs", "platformdirs", "MIT"),
    Component("NumPy", "numpy", "BSD-3-Clause"),
)


def resource_root() -> Path:
    """Where resources/ is: inside a PyInstaller bundle, or at the top of the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[3] / "resources"


def app_icon() -> QIcon:
    """The app's icon at every size shipped (empty when run from a package without resources/)."""
    icon = QIcon()
    for path in sorted((resource_root() / "icons").glob(f"{ICON_NAME}-*.png")):
        icon.addFile(str(path))
    return icon


def licence_folder() -> Path | None:
    """The full licence texts a packaged build carries (packaging/gptoss-desktop.spec puts them there)."""
    bundle = getattr(sys, "_MEIPASS", None)
    folder = Path(bundle) / "licenses" if bundle is not None else None
    return folder if folder is not None and folder.is_dir() else None


def component_version(component: Component) -> str:
    """The installed version of a component, from package metadata (a frozen build copies it)."""
    if component.name == "Python":
        return ".".join(str(n) for n in sys.version_info[:3])
    if component.name == "gpt-oss weights":
        return "separate download"
    if component.name == "PDFium":
        return "inside pypdfium2"
    if component.distribution is None:
        return ""
    try:
        found = version(component.distribution)
    except PackageNotFoundError:
        return "unknown"
    if component.distribution == "PySide6-Essentials":
        return f"{found} (Qt {qVersion()})"
    return found


class AboutDialog(QDialog):
    """Version, licence and the components' licences; the LGPL notice says Qt may be replaced."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About gptoss-desktop")
        self.setAccessibleName("About gptoss-desktop")
        self.resize(620, 560)
        self.icon = QLabel()
        self.icon.setAccessibleName("gptoss-desktop icon")
        pixmap = app_icon().pixmap(64, 64)
        if not pixmap.isNull():
            self.icon.setPixmap(pixmap)
        self.title = QLabel("gpt-oss desktop")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.version = QLabel(f"Version {__version__}")
        self.version.setAccessibleName("Version")
        self.version.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        summary = QLabel(
            "A private, offline chat app for OpenAI's open-weight gpt-oss models. "
            "Licensed under the Apache License 2.0."
        )
        summary.setWordWrap(True)
        heading = QVBoxLayout()
        heading.addWidget(self.title)
        heading.addWidget(self.version)
        heading.addWidget(summary)
        top = QHBoxLayout()
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(heading, 1)

        self.components = self._component_table()
        notice = QLabel(
            "Qt for Python is used under the GNU LGPL 3.0: its libraries are separate files in the "
            "installed folder and may be replaced with your own build. The gpt-oss weights are not part "
            "of the app; they are published by OpenAI under the Apache License 2.0."
        )
        notice.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        folder = licence_folder()
        self.licence_button: QPushButton | None = None
        if folder is not None:
            self.licence_button = buttons.addButton("Licence Texts…", QDialogButtonBox.ButtonRole.ActionRole)
            self.licence_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("Included components and their licences:"))
        layout.addWidget(self.components, 1)
        layout.addWidget(notice)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the components table shows: component, version, licence."""

        def cell(row: int, column: int) -> str:
            item = self.components.item(row, column)
            return item.text() if item is not None else ""

        return [(cell(row, 0), cell(row, 1), cell(row, 2)) for row in range(self.components.rowCount())]

    def _component_table(self) -> QTableWidget:
        """A read-only table: component, version, licence."""
        table = QTableWidget(len(COMPONENTS), 3)
        table.setAccessibleName("Components and licences")
        table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(False)
        for row, component in enumerate(COMPONENTS):
            for column, text in enumerate((component.name, component_version(component), component.licence)):
                table.setItem(row, column, QTableWidgetItem(text))
        table.resizeRowsToContents()
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        return table


def show_about(parent: QWidget) -> AboutDialog:
    """Open the About dialog over `parent`, or bring back the one already open."""
    dialog = parent.findChild(AboutDialog)
    if dialog is None:
        dialog = AboutDialog(parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.activateWindow()
    return dialog
