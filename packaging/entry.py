"""The frozen app's entry point: the same `main` as the `gptoss-desktop` command.

A frozen app has no `python` to start, so the python tool's sandbox starts this executable with
`--python-kernel` (gptoss_desktop.core.tools.launch.KERNEL_FLAG): it then runs the kernel and
nothing else of the app is imported. Likewise a model file is first loaded in a child, this
executable with `--probe-model-load PATH` (gptoss_desktop.core.local.load_probe.PROBE_FLAG), so a
file that makes llama.cpp abort costs a message, not the app.
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--python-kernel"]:
        from gptoss_desktop.core.tools.kernel import main as kernel

        sys.exit(kernel())
    if sys.argv[1:2] == ["--probe-model-load"]:
        from gptoss_desktop.core.local.load_probe import probe_args, probe_main

        parsed = probe_args(sys.argv[2:])
        sys.exit(probe_main(*parsed) if parsed else 2)
    from gptoss_desktop.cli import main

    sys.exit(main())
