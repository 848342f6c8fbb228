"""Print a bundle's size and what dominates it, so growth is noticed when it happens.

    python3 packaging/bundle_size.py dist/gptoss-desktop [--top 12]

Sizes are of files on disk (symbolic links count once, as the files they point to). Groups are the
top-level entries of the bundle's _internal/ folder, with PySide6/Qt split into its lib/ and plugins/.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

MIB = 1024 * 1024


def group_of(relative: Path) -> str:
    """The line a file is counted under."""
    parts = relative.parts
    if parts and parts[0] == "_internal":
        parts = parts[1:]
    if len(parts) >= 3 and parts[0] == "PySide6" and parts[1] == "Qt":
        if parts[2] == "lib" and len(parts) > 3:
            name = parts[3].split(".so")[0].split(".dylib")[0]
            return f"PySide6/Qt/lib/{'libicu*' if name.startswith('libicu') else name}"
        return f"PySide6/Qt/{parts[2]}"
    if len(parts) == 1:
        return "(other files)" if parts[0] != "gptoss-desktop" else "gptoss-desktop (program)"
    return parts[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    sizes: Counter[str] = Counter()
    total = files = 0
    for path in args.bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        sizes[group_of(path.relative_to(args.bundle))] += size
        total += size
        files += 1
    print(f"bundle {args.bundle}: {total / MIB:.1f} MiB in {files} files")
    for name, size in sizes.most_common(args.top):
        print(f"  {size / MIB:7.1f} MiB  {100 * size / total:4.1f} %  {name}")
    rest = total - sum(size for _, size in sizes.most_common(args.top))
    print(f"  {rest / MIB:7.1f} MiB  {100 * rest / total:4.1f} %  everything else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
