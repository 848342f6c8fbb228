"""gptoss-desktop: a private, offline desktop chat app for gpt-oss."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gptoss-desktop")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
