"""QtGui, trimmed to the Qt plugins a widgets-only app uses (PyInstaller's own hook collects every plugin type).

This hook replaces PyInstaller's hook-PySide6.QtGui.py (packaging/gptoss-desktop.spec puts this folder
first in hookspath). Plugins are dropped here, before the binary analysis, so the Qt libraries that only
those plugins need (QtOpenGL, QtXcbQpa's GL integrations, EGL device integrations) are not collected either.
"""

import os
import sys

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# Per plugin folder, the file stems kept; None keeps the whole folder, a missing folder is dropped.
if sys.platform.startswith("linux"):
    KEEP = {
        "platforms": {"libqxcb", "libqwayland", "libqoffscreen"},
        "platformthemes": {"libqxdgdesktopportal"},  # not gtk3: it would pull the system's GTK into the bundle
        "platforminputcontexts": None,  # compose key, dead keys, IBus input methods
        "wayland-decoration-client": None,
        "wayland-shell-integration": None,
        "wayland-graphics-integration-client": None,
        "iconengines": None,  # SVG icons from the desktop's icon theme
        "imageformats": {"libqsvg"},  # PNG is built into QtGui; nothing else is shown
    }
elif sys.platform == "darwin":
    KEEP = {
        "platforms": {"libqcocoa", "libqoffscreen"},
        "platforms/darwin": None,
        "iconengines": None,
        "imageformats": {"libqsvg"},
    }
else:
    KEEP = {
        "platforms": {"qwindows", "qoffscreen"},
        "iconengines": None,
        "imageformats": {"qsvg"},
    }


def kept(destination_folder: str, source: str) -> bool:
    """True for a plugin the app needs."""
    parts = destination_folder.replace("\\", "/").split("/plugins/", 1)
    if len(parts) < 2:
        return True  # not a plugin
    folder = parts[1].strip("/")
    if folder not in KEEP:
        return False
    stems = KEEP[folder]
    return stems is None or os.path.basename(source).split(".")[0] in stems


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, folder) for source, folder in binaries if kept(folder, source)]
