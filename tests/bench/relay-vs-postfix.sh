#!/usr/bin/env bash
# Relay throughput, side by side on one machine: smtp-source submits 5,000 messages of
# 10 KiB over 20 sessions, first to Mailroom, then to the reference Postfix from
# ../shared/peers; each relays them to the same smtp-sink (Mailroom through its smart
# host setting, Postfix through its relayhost). Both are timed the same way: from the
# first submission until the sink has received the last message.
#
# Mailroom runs twice: first with DKIM signing off, then on (its default: two
# signatures, RSA-2048 and Ed25519, for corp.test, the senders' domain); the reference
# Postfix does not sign.
#
#   tests/bench/relay-vs-postfix.sh        (as root: the reference peers need it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers/reference-peers.sh}
messages=${MESSAGES:-5000} sessions=20 length=10240
work=$(mktemp -d)
chmod 755 "$work" # the reference Postfix and smtp-sink run as their own users
smtp_port=12027 postfix_port=10025 sink_port=10026

cleanup() {
  [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null || true
  [[ -n ${sink:-} ]] && kill "$sink" 2>/dev/null || true
  bash "$peers" stop "$work/peers" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build -q --release -p mailroom-service -p mailroom-client
bin=${BIN:-$root/target/release}

# One sink for both: every message it receives becomes a file in $work/sink.
mkdir -p "$work/sink" && chown nobody "$work/sink"
smtp-sink -u nobody -m 512 -d "$work/sink/m" "127.0.0.1:$sink_port" 1024 &
sink=$!
received() { find "$work/sink" -type f | wc -l; }
timed() { # label expected-total command...
  local label=$1 expected=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  "$@"
  while (( $(received) < expected )); do sleep 0.02; done
  t1=$(date +%s.%N)
  last_secs=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1")
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]}: {int(sys.argv[4])} messages relayed in {s:.2f}s = {int(sys.argv[4])/s:.0f} messages/s')" "$t0" "$t1" "$label" "$messages"
}

ctl() { "$bin/mailroomctl" --socket "$work/admin.sock" "$@"; }
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" --no-start 2>"$work/mailroomd.log" &
daemon=$!
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
# Relay for loopback clients (smtp-source cannot authenticate), like Postfix's mynetworks.
ctl config show | python3 -c '
import json, sys
c = json.load(sys.stdin)
c["routing"]["reroute"] = True
c["routing"]["table"] = [{"sent_to": "corp.test", "reroute_to": None}]
c["routing_restrictions"]["allow_listed_clients"] = True
c["routing_restrictions"]["client_networks"] = ["127.0.0.0/8"]
c["connections"]["smtp_listen"] = "127.0.0.1:'"$smtp_port"'"
c["connections"]["smart_host"] = "[127.0.0.1]:'"$sink_port"'"
c["pop3"]["listen"] = "127.0.0.1:0"
c["delivery"]["max_concurrent"] = 20
c["delivery"]["max_per_destination"] = 20
c["security"]["message_authentication"]["sign_outbound"] = False
json.dump(c, open(sys.argv[1], "w"))' "$work/config.json"
ctl config load "$work/config.json" >/dev/null
ctl start >/dev/null

send() { smtp-source -s "$sessions" -m "$messages" -l "$length" -f sender@corp.test -t friend@outside.test "$1"; }
signatures() { grep -c '^DKIM-Signature:' "$(find "$work/sink" -type f -newer "$work/config.json" | tail -1)" || true; }
timed "mailroom, unsigned" "$messages" send "127.0.0.1:$smtp_port"
unsigned_secs=$last_secs
echo "  signatures on the last message: $(signatures)"

ctl config show | python3 -c '
import json, sys
c = json.load(sys.stdin)
c["security"]["message_authentication"]["sign_outbound"] = True
json.dump(c, open(sys.argv[1], "w"))' "$work/config.json"
ctl config load "$work/config.json" >/dev/null
ctl restart >/dev/null
timed "mailroom, signed" $((2 * messages)) send "127.0.0.1:$smtp_port"
signed_secs=$last_secs
echo "  signatures on the last message: $(signatures)"

bash "$peers" start "$work/peers" "$postfix_port" 11110 "$sink_port" >"$work/peers.log" 2>&1 || { cat "$work/peers.log" >&2; exit 1; }
timed postfix $((3 * messages)) send "127.0.0.1:$postfix_port"
python3 -c "import sys; u, s, p = map(float, sys.argv[1:]); print(f'ratio: mailroom / postfix = {p / u:.1f}x unsigned, {p / s:.1f}x signed (postfix unsigned)')" "$unsigned_secs" "$signed_secs" "$last_secs"
