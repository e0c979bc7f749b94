#!/usr/bin/env bash
# Screenshots for the README: the real Mailroom Administrator under Xvfb against a
# real mailroomd with a sample configuration. Writes docs/main-window.png,
# docs/routing-tab.png and docs/security-tab.png. Needs: xvfb imagemagick xdotool (Debian packages).
#
#   tests/gui/screenshots.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build -q --release -p mailroom-service -p mailroom-admin
bin=$root/target/release
ctl() { "$bin/mailroomctl" --socket "$work/admin.sock" "$@" >/dev/null; }
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" 2>/dev/null &
for _ in $(seq 100); do ctl status && break; sleep 0.1; done
echo pw | ctl mailbox add ann@corp.test --name "Ann Example" --alias sales@corp.test --password-stdin
echo pw | ctl mailbox add bob@corp.test --name "Bob Builder" --password-stdin
ctl routing reroute on
ctl routing add corp.test --inbound
ctl restart
# A saved change waiting for a restart, so the banner shows.
ctl routing add old-corp.test --reroute-to corp.test

cat >"$work/shoot.sh" <<SHOOT
set -e
"$bin/mailroom-admin" --socket "$work/admin.sock" &
xdotool search --sync --name "Mailroom Administrator" >/dev/null
sleep 3
import -window root -crop 1100x700+0+0 "$root/docs/main-window.png"
xdotool mousemove 45 37 click 1      # toolbar: Properties
sleep 1
xdotool mousemove 218 67 click 1     # tab: Routing
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/routing-tab.png"
xdotool mousemove 360 67 click 1     # tab: Security
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/security-tab.png"
SHOOT
xvfb-run -a -s "-screen 0 1280x800x24" bash "$work/shoot.sh"
echo "wrote docs/main-window.png, docs/routing-tab.png and docs/security-tab.png"
