"""QtNetwork without its plugins (TLS backends, network information): the app never uses Qt for the network.

PySide6 links its bindings against QtNetwork, so the library itself comes along; this hook replaces
PyInstaller's own so that the plugins, and what they link (OpenSSL), stay out.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, folder) for source, folder in binaries if "/plugins/" not in folder.replace("\\", "/") + "/"]
