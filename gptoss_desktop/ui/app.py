"""Start the desktop app: the QApplication, the services (every worker thread), the main window."""

from __future__ import annotations

import gc
import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from ..core.paths import app_paths
from ..core.settings import load_settings
from ..services.app_services import AppServices
from ..services.garbage import MainThreadCollector
from ..services.threads import running_worker_threads
from .dialogs.about import AboutDialog, app_icon
from .signals import CloseOnSignals
from .style import apply_appearance
from .window.main_window import MainWindow

#: The .desktop file's name (packaging/linux/): Wayland shows that file's icon and name for the window.
DESKTOP_ID = "org.gptoss_desktop.GptossDesktop"
#: Set to close the window as soon as it has been shown (the packaged app's smoke test); set to
#: "about" to open Help ▸ About first and print what it shows; "wait" only says it was shown and
#: leaves the closing to a signal (tests of logout and Ctrl+C).
QUIT_AFTER_SHOWN_ENV = "GPTOSS_DESKTOP_QUIT_AFTER_SHOWN"
_HANGUP = (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()


def create_window(model_path: str | None = None) -> MainWindow:
    """Build the services and the window on them (an application object must exist); load the given or
    remembered model. The services are the window's children: they go when it does."""
    paths = app_paths()
    settings = load_settings(paths.settings_file)
    services = AppServices(paths.database)
    window = MainWindow(services, settings, paths.settings_file)
    services.setParent(window)
    path = model_path or settings.model_path
    if path:
        window.load_model(path)
    return window


def run_app(model_path: str | None = None) -> int:
    """Run the app until its window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("gptoss-desktop")
    app.setApplicationDisplayName("gpt-oss desktop")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName(DESKTOP_ID)
    apply_appearance(app, load_settings(app_paths().settings_file))  # before any widget exists: no re-layout
    collector = MainThreadCollector(app)  # before any worker thread starts
    window = create_window(model_path)
    window.show()
    # Logging out, `kill` or Ctrl+C in the terminal close the window as its close button does.
    signals = CloseOnSignals(window, (signal.SIGTERM, signal.SIGINT, *_HANGUP))
    if os.environ.get(QUIT_AFTER_SHOWN_ENV):
        QTimer.singleShot(0, lambda: _report_and_close(window))
    settle_garbage_collector()
    try:
        code = app.exec()
    finally:
        signals.restore()
        collector.stop()
    still_running = running_worker_threads()
    if still_running:  # Python's exit would destroy them running and abort: leave without that
        print(f"gptoss-desktop: threads still running at exit: {', '.join(still_running)}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _report_and_close(window: MainWindow) -> None:
    """Say what was shown, then close through the normal path (threads joined), so exit 0 means a clean run."""
    state = "visible" if window.isVisible() else "hidden"
    print(f"shown: {window.windowTitle()} {window.width()}x{window.height()} {state}", flush=True)
    if os.environ.get(QUIT_AFTER_SHOWN_ENV) == "wait":
        return
    if os.environ.get(QUIT_AFTER_SHOWN_ENV) == "about":
        window.menu_actions["about"].trigger()
        about = window.findChild(AboutDialog)
        if about is not None:
            icon = "no icon" if about.icon.pixmap().isNull() else "icon"
            print(f"about: {about.version.text()}, {icon}", flush=True)
            for row in about.rows():
                print("about: " + " | ".join(row), flush=True)
    window.close()


def settle_garbage_collector() -> None:
    """Move everything built at start out of the collector's reach.

    Python's full collections walk every tracked object; with Qt's wrappers for a whole
    window that is a pause of about 90 ms, which lands in the middle of scrolling or
    streaming. Frozen objects are never walked again; new garbage is still collected.
    """
    gc.collect()
    gc.freeze()
