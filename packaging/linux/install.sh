#!/bin/sh
# Install the unpacked gptoss-desktop folder for this user: program, menu entry, icons, AppStream data.
#
#     ./install.sh                 # into ~/.local (run it from inside the unpacked folder)
#     sudo ./install.sh --system   # into /usr/local, for every user
#     ./install.sh --uninstall     # (with --system too, if it was installed that way)
#
# PREFIX=DIR ./install.sh installs under DIR instead. The folder is copied to PREFIX/lib/gptoss-desktop,
# PREFIX/bin/gptoss-desktop links to its program, and the .desktop file's Exec names that link's target.
set -eu

ID="org.gptoss_desktop.GptossDesktop"
HERE="$(cd "$(dirname "$0")" && pwd)"
UNINSTALL=0
for arg in "$@"; do
    case "$arg" in
        --system) PREFIX="${PREFIX:-/usr/local}" ;;
        --uninstall) UNINSTALL=1 ;;
        *) echo "usage: $0 [--system] [--uninstall]" >&2; exit 2 ;;
    esac
done
PREFIX="${PREFIX:-$HOME/.local}"
APPDIR="$PREFIX/lib/gptoss-desktop"
SIZES="16 24 32 48 64 128 256 512"

if [ "$UNINSTALL" = 1 ]; then
    rm -rf "$APPDIR"
    rm -f "$PREFIX/bin/gptoss-desktop" "$PREFIX/share/applications/$ID.desktop" "$PREFIX/share/metainfo/$ID.metainfo.xml"
    for size in $SIZES; do rm -f "$PREFIX/share/icons/hicolor/${size}x${size}/apps/$ID.png"; done
    echo "removed gptoss-desktop from $PREFIX (your conversations and settings are kept)"
    exit 0
fi

[ -x "$HERE/gptoss-desktop" ] || { echo "run this from the unpacked gptoss-desktop folder" >&2; exit 1; }
mkdir -p "$PREFIX/bin" "$PREFIX/lib" "$PREFIX/share/applications" "$PREFIX/share/metainfo"
if [ "$HERE" != "$APPDIR" ]; then
    rm -rf "$APPDIR.new"
    cp -a "$HERE" "$APPDIR.new"
    rm -rf "$APPDIR"
    mv "$APPDIR.new" "$APPDIR"
fi
ln -sfn "$APPDIR/gptoss-desktop" "$PREFIX/bin/gptoss-desktop"
sed "s|^Exec=.*|Exec=$APPDIR/gptoss-desktop|" "$APPDIR/share/$ID.desktop" > "$PREFIX/share/applications/$ID.desktop"
cp "$APPDIR/share/$ID.metainfo.xml" "$PREFIX/share/metainfo/$ID.metainfo.xml"
for size in $SIZES; do
    mkdir -p "$PREFIX/share/icons/hicolor/${size}x${size}/apps"
    cp "$APPDIR/_internal/resources/icons/gptoss-desktop-$size.png" "$PREFIX/share/icons/hicolor/${size}x${size}/apps/$ID.png"
done
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
echo "installed gptoss-desktop $("$APPDIR/gptoss-desktop" --version | cut -d' ' -f2) into $APPDIR"
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "note: $PREFIX/bin is not on your PATH; the menu entry works regardless" ;; esac
