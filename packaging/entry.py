"""The frozen app's entry point: the same `main` as the `gptoss-desktop` command."""

import sys

from gptoss_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
