#!/usr/bin/env bash
# Installs Mailroom for the current user so that Mailroom Administrator can be
# double-clicked from the desktop: the binaries in ~/.local/bin, the icon and the
# launcher in ~/.local/share. Run from the repository after `cargo build --release`.
#
#   assets/install-desktop.sh            (PREFIX=/usr/local as root for all users)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-$HOME/.local}
install -d "$prefix/bin" "$prefix/share/applications" "$prefix/share/icons/hicolor/256x256/apps" \
  "$prefix/share/icons/hicolor/scalable/apps"
# mailroomd beside mailroom-admin: the GUI's Start Service looks there first.
install -m 0755 "$root/target/release/mailroom-admin" "$root/target/release/mailroomd" \
  "$root/target/release/mailroomctl" "$prefix/bin/"
install -m 0644 "$root/assets/mailroom-admin.png" "$prefix/share/icons/hicolor/256x256/apps/mailroom-admin.png"
install -m 0644 "$root/assets/mailroom-admin.svg" "$prefix/share/icons/hicolor/scalable/apps/mailroom-admin.svg"
sed "s|^Exec=.*|Exec=$prefix/bin/mailroom-admin|" "$root/assets/mailroom-admin.desktop" \
  >"$prefix/share/applications/mailroom-admin.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/share/applications" || true
echo "Installed. Mailroom Administrator is in your applications menu; it starts the service when none runs."
