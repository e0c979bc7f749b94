#!/usr/bin/env bash
# POP3 retrieval, side by side on one machine: 2,000 messages of 10 KiB are delivered
# to a Mailroom mailbox and to the reference Dovecot's (through the reference Postfix,
# both with smtp-source), then Python's poplib logs in and RETRs every message from
# each. Three rounds; prints each time and the best.
#
#   tests/bench/pop3-vs-dovecot.sh        (as root: the reference peers need it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers/reference-peers.sh}
messages=2000 length=10240
work=$(mktemp -d)
chmod 755 "$work" # the reference Postfix runs as its own user and must reach its queue
smtp_port=12026 pop3_port=11120 postfix_port=10025 dovecot_port=11110

cleanup() {
  [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null || true
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
ctl set smtp-listen "127.0.0.1:$smtp_port" >/dev/null
ctl set pop3-listen "127.0.0.1:$pop3_port" >/dev/null
echo secret1 | ctl mailbox add u1@bench.test --password-stdin >/dev/null
ctl start >/dev/null
smtp-source -s 10 -m "$messages" -l "$length" -f sender@outside.test -t u1@bench.test "127.0.0.1:$smtp_port"

bash "$peers" start "$work/peers" "$postfix_port" "$dovecot_port" 10026 >"$work/peers.log" 2>&1 || { cat "$work/peers.log" >&2; exit 1; }
smtp-source -s 10 -m "$messages" -l "$length" -f sender@outside.test -t u1@peer.test "127.0.0.1:$postfix_port"
for _ in $(seq 600); do
  [[ $(find "$work/peers/vmail/inbox/new" "$work/peers/vmail/inbox/cur" -type f | wc -l) -ge $messages ]] && break
  sleep 0.1
done

retrieve() { # port user
  python3 - "$1" "$2" "$messages" <<'PY'
import poplib, sys, time
port, user, expected = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
times = []
for _ in range(3):
    t = time.perf_counter()
    p = poplib.POP3("127.0.0.1", port)
    p.user(user); p.pass_("secret1")
    count = p.stat()[0]
    assert count == expected, (count, expected)
    octets = 0
    for i in range(1, count + 1):
        octets += sum(len(l) for l in p.retr(i)[1])
    p.quit()
    times.append(time.perf_counter() - t)
print(" ".join(f"{x:.3f}" for x in times), f"best {min(times):.3f}s = {expected / min(times):.0f} RETR/s")
PY
}
echo "mailroom: $(retrieve "$pop3_port" u1@bench.test)"
echo "dovecot:  $(retrieve "$dovecot_port" u1)"
