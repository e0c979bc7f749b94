#!/usr/bin/env bash
# Durable SMTP acceptance, side by side on one machine: Postfix's smtp-source sends
# 5,000 messages of 10 KiB over 20 parallel sessions, first to Mailroom (delivering to
# a local mailbox), then to the reference Postfix from ../shared/peers (delivering to
# a Maildir). Both answer 250 only after the message is on disk.
#
#   tests/bench/smtp-vs-postfix.sh        (as root: the reference peers need it)
#
# Mailroom runs twice: first with the client on its own address (127.0.0.1 to 127.0.0.1,
# which the inbound checks skip as this machine's own mail), then listening on
# 127.0.0.2, where mail from 127.0.0.1 is outside mail: SPF at MAIL FROM, DKIM (none
# here), DMARC and ARC, against a dnsmasq on loopback publishing the sender domain's
# SPF and DMARC records, with an Authentication-Results header written into each
# message.
#
# Prints the messages per second of each. Also see
# `cargo bench -p mailroom-service --bench smtp_accept` for latency and memory.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers/reference-peers.sh}
sessions=20 messages=5000 length=10240
work=$(mktemp -d)
chmod 755 "$work" # the reference Postfix runs as its own user and must reach its queue
mailroom_port=12025 postfix_port=10025 dns_port=12053

cleanup() {
  [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null || true
  [[ -n ${dns:-} ]] && kill "$dns" 2>/dev/null || true
  bash "$peers" stop "$work/peers" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build -q --release -p mailroom-service -p mailroom-client
bin=${BIN:-$root/target/release}
ctl() { "$bin/mailroomctl" --socket "$work/admin.sock" "$@"; }
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" --no-start 2>"$work/mailroomd.log" &
daemon=$!
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl set smtp-listen "127.0.0.1:$mailroom_port" >/dev/null
ctl set pop3-listen 127.0.0.1:0 >/dev/null
echo x | ctl mailbox add user@bench.test --password-stdin >/dev/null
ctl start >/dev/null

rate() { python3 -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]):.0f}')" "$1" "$2"; }
run() { # host:port recipient
  local t0 t1
  t0=$(date +%s.%N)
  smtp-source -s "$sessions" -m "$messages" -l "$length" -f sender@outside.test -t "$2" "$1"
  t1=$(date +%s.%N)
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$t1"
}

stored() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from messages').fetchone()[0])" "$work/data/mailroom.db"; }
mailroom_secs=$(run "127.0.0.1:$mailroom_port" user@bench.test)
echo "mailroom, unchecked: $messages messages in ${mailroom_secs}s = $(rate "$messages" "$mailroom_secs") messages/s ($(stored) stored)"

dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --pid-file= \
  --listen-address=127.0.0.1 --bind-interfaces --port=$dns_port --local=/test/ \
  '--txt-record=outside.test,v=spf1 ip4:127.0.0.1 -all' '--txt-record=_dmarc.outside.test,v=DMARC1; p=reject' 2>/dev/null &
dns=$!
ctl set dns-server "127.0.0.1:$dns_port" >/dev/null
ctl set smtp-listen "127.0.0.2:$mailroom_port" >/dev/null
ctl restart >/dev/null
for _ in $(seq 100); do ctl status | grep -q '127.0.0.2' && break; sleep 0.1; done
checked_secs=$(run "127.0.0.2:$mailroom_port" user@bench.test)
echo "mailroom, checked:   $messages messages in ${checked_secs}s = $(rate "$messages" "$checked_secs") messages/s ($(stored) stored)"
python3 - "$work/data/mailroom.db" <<'PY'
import email, sqlite3, sys
data = sqlite3.connect(sys.argv[1]).execute("select data from contents order by id desc limit 1").fetchone()[0]
results = email.message_from_bytes(bytes(data))["Authentication-Results"]
print("  last message:", " ".join(str(results).split()))
PY

bash "$peers" start "$work/peers" "$postfix_port" 11110 10026 >"$work/peers.log" 2>&1 || { cat "$work/peers.log" >&2; exit 1; }
postfix_secs=$(run "127.0.0.1:$postfix_port" user@peer.test)
echo "postfix:  $messages messages in ${postfix_secs}s = $(rate "$messages" "$postfix_secs") messages/s"
python3 -c "import sys; print(f'ratio: mailroom / postfix = {float(sys.argv[2]) / float(sys.argv[1]):.1f}x unchecked, {float(sys.argv[2]) / float(sys.argv[3]):.1f}x checked')" "$mailroom_secs" "$postfix_secs" "$checked_secs"
