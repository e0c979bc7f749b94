#!/bin/bash
# What the Administrator costs while it only shows things (walk defect 7 of issue 31):
# its window on Recipients with 1,000 mailboxes, under Xvfb with software OpenGL,
# measured for 30 s on a quiet server and for 30 s while Postfix's smtp-source floods
# the server with mail for one of the mailboxes (so that the counts shown keep
# changing). Prints the Administrator's CPU time in each, in clock ticks and as a share
# of one core, and how much mail the flood delivered.
#
# VIEW=ims measures the Internet Mail Service page instead of Recipients.
#
# Usage: tests/bench/admin-idle.sh [BIN_DIR]   (default target/release; build with
#        cargo build --release -p mailroom-service -p mailroom-client -p mailroom-admin)
# Needs: Xvfb, xdotool, postfix (smtp-source).
set -euo pipefail

BIN=$(cd "${1:-target/release}" && pwd)
SECS=${SECS:-30}
MAILBOXES=${MAILBOXES:-1000}
DIR=$(mktemp -d)
SCREEN=:47
PORT=$((20000 + RANDOM % 20000))
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

ctl() { "$BIN/mailroomctl" --socket "$DIR/admin.sock" "$@" >/dev/null; }

"$BIN/mailroomd" --data-dir "$DIR/data" --socket "$DIR/admin.sock" >"$DIR/mailroomd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$DIR/admin.sock" ] && break; sleep 0.1; done
ctl set smtp-listen "127.0.0.1:$PORT"
ctl routing reroute on
ctl routing add corp.test --inbound
ctl restart
echo "adding $MAILBOXES mailboxes..." >&2
for i in $(seq "$MAILBOXES"); do
    echo "pw-user-$i-long" | "$BIN/mailroomctl" --socket "$DIR/admin.sock" \
        mailbox add "user$i@corp.test" --name "User $i" --password-stdin >/dev/null
done

Xvfb "$SCREEN" -screen 0 1280x800x24 >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
DISPLAY=$SCREEN LIBGL_ALWAYS_SOFTWARE=1 "$BIN/mailroom-admin" --socket "$DIR/admin.sock" >"$DIR/admin.log" 2>&1 &
ADMIN=$!
PIDS+=($ADMIN)
sleep 5
# Recipients, by the tree's type-ahead (or the page it opens on).
WIN=$(DISPLAY=$SCREEN xdotool search --pid "$ADMIN" | head -1)
if [ "${VIEW:-recipients}" = ims ]; then
    SHOWN="Internet Mail Service"
    DISPLAY=$SCREEN xdotool windowfocus --sync "$WIN"
else
    SHOWN="Recipients ($MAILBOXES)"
    DISPLAY=$SCREEN xdotool windowfocus --sync "$WIN" key r
fi
# Past the service's first minute, whose uptime the status bar counts in seconds (a
# repaint a second); from then on it changes once a minute.
UP=$(date +%s)
uptime() { "$BIN/mailroomctl" --socket "$DIR/admin.sock" status | awk '/^uptime:/ { print $2 + 0 }'; }
while (( $(date +%s) - UP < 5 || $(uptime) < 65 )); do
    sleep 1
done

ticks() { awk '{print $14 + $15}' "/proc/$ADMIN/stat"; }
HZ=$(getconf CLK_TCK)
measure() {
    local before after
    before=$(ticks)
    sleep "$SECS"
    after=$(ticks)
    awk -v t=$((after - before)) -v s="$SECS" -v hz="$HZ" -v what="$1" \
        'BEGIN { printf "%-34s %5d ticks in %d s = %5.2f%% of a core\n", what, t, s, 100 * t / (s * hz) }'
}

measure "quiet, $SHOWN:"
smtp-source -c -s 10 -m 10000000 -l 2048 -f flood@outside.test -t user1@corp.test "127.0.0.1:$PORT" >/dev/null 2>&1 &
FLOOD=$!
PIDS+=($FLOOD)
sleep 5
measure "under an SMTP flood, $SHOWN:"

kill "$FLOOD" 2>/dev/null || true
sqlite3 "$DIR/data/mailroom.db" 'SELECT COUNT(*) || " messages delivered by the flood" FROM messages' 2>/dev/null || true
