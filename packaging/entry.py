"""The frozen app's entry point: the same `main` as the `gptoss-desktop` command.

A frozen app has no `python` to start, so the python tool's sandbox starts this executable with
`--python-kernel` (gptoss_desktop.core.tools.launch.KERNEL_FLAG): it then runs the kernel and
nothing else of the app is imported.
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--python-kernel"]:
        from gptoss_desktop.core.tools.kernel import main as kernel

        sys.exit(kernel())
    from gptoss_desktop.cli import main

    sys.exit(main())
