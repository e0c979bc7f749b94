#!/usr/bin/env bash
# What the inbound defences cost: smtp-source sends the same 10 KiB messages over 20
# parallel sessions (a new connection for each message, as strangers' servers do) to
# Mailroom on 127.0.0.2, where mail from 127.0.0.1 is outside mail, once per
# configuration, each adding one defence to the one before:
#
#   none           every defence off (and SPF/DKIM/DMARC off, so the figures are the
#                  defences' own)
#   + reverse DNS  the client's PTR looked up and confirmed (iprev), for each connection
#   + DNS lists    a blocklist and an allowlist looked up for each connection (the
#                  client is on neither)
#   + greylisting  the client's network passed once before the run, as a real sender's
#                  would have: what is left is the look-up at each RCPT
#   + greet delay  a 2 s greeting wait, which the client passed once before the run:
#                  clients that passed are greeted at once
#   + rspamd       every message scanned by a real rspamd (2 workers) before the 250
#
# A dnsmasq on loopback answers every DNS question (the lists' zones, the client's PTR
# and A records). Then the same message is posted straight to rspamd's /checkv2, 20 at
# a time, for rspamd's own time per message; and the reference Postfix from
# ../shared/peers takes the same load, with no defences, for scale.
#
#   tests/bench/filtering.sh        (as root: the reference peers and rspamd need it)
#
# Prints messages per second and microseconds per message (wall time divided by
# messages, the 20 sessions overlapping; the better of two runs) for each, and each
# defence's added cost. About four minutes, most of it the release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers/reference-peers.sh}
sessions=20 messages=${MESSAGES:-3000} length=10240
work=$(mktemp -d)
chmod 755 "$work" # the reference Postfix and rspamd run as their own users
mailroom_port=12029 postfix_port=10025 dns_port=12054 rspamd_port=12033

cleanup() {
  [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null || true
  [[ -n ${dns:-} ]] && kill "$dns" 2>/dev/null || true
  [[ -n ${rspamd:-} ]] && kill "$rspamd" 2>/dev/null || true
  bash "$peers" stop "$work/peers" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build -q --release -p mailroom-service -p mailroom-client
bin=${BIN:-$root/target/release}

dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --pid-file= \
  --listen-address=127.0.0.1 --bind-interfaces --port=$dns_port --local=/test/ \
  --host-record=client.outside.test,127.0.0.1 2>/dev/null &
dns=$!

ctl() { "$bin/mailroomctl" --socket "$work/admin.sock" "$@"; }
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" --no-start 2>"$work/mailroomd.log" &
daemon=$!
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
echo x | ctl mailbox add user@bench.test --password-stdin >/dev/null
# Changes the saved configuration with a Python statement on `c` and restarts.
configure() {
  ctl config show >"$work/config.json"
  python3 - "$work/config.json" "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
f = c["filtering"]
exec(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"))
PY
  ctl config load "$work/config.json" >/dev/null
  ctl restart >/dev/null
}
configure "
c['connections']['smtp_listen'] = '127.0.0.2:$mailroom_port'
c['pop3']['listen'] = '127.0.0.1:0'
c['connections']['dns_server'] = '127.0.0.1:$dns_port'
c['security']['message_authentication']['check_inbound'] = False
f['reverse_dns'] = False
f['dns_lists'] = [{'zone': 'zen.test', 'allow': False, 'answers': []}, {'zone': 'wl.test', 'allow': True, 'answers': []}]
"

# One message from 127.0.0.1 with Python; prints the reply code.
probe() {
  python3 - "$mailroom_port" <<'PY'
import smtplib, sys
try:
    s = smtplib.SMTP("127.0.0.2", int(sys.argv[1]), timeout=30)
    s.sendmail("sender@outside.test", ["user@bench.test"], "Subject: probe\r\n\r\nprobe\r\n")
    s.quit()
    print(250)
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0][0])
PY
}

secs() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }
declare -a names=() times=()
run() { # label host:port recipient; the better of two runs (the defences' costs are
  # small beside the run-to-run spread of one)
  local t0 t1 best=
  for _ in 1 2; do
    t0=$(date +%s.%N)
    smtp-source -s "$sessions" -m "$messages" -l "$length" -f sender@outside.test -t "$3" "$2"
    t1=$(date +%s.%N)
    best=$(python3 -c "import sys; print(min(float(a) for a in sys.argv[1:] if a))" "$(secs "$t0" "$t1")" "$best")
  done
  names+=("$1")
  times+=("$best")
}

# A warm-up first, unrecorded: the first run into an empty database is the slowest.
smtp-source -s "$sessions" -m "$messages" -l "$length" -f sender@outside.test -t user@bench.test "127.0.0.2:$mailroom_port"
run "none" "127.0.0.2:$mailroom_port" user@bench.test
configure "f['reverse_dns'] = True"
run "+ reverse DNS" "127.0.0.2:$mailroom_port" user@bench.test
configure "f['dns_lists_enabled'] = True"
run "+ DNS lists" "127.0.0.2:$mailroom_port" user@bench.test
configure "f['greylisting'] = True; f['greylist_delay_secs'] = 1"
[[ $(probe) == 451 ]] || { echo "greylisting did not defer the first attempt" >&2; exit 1; }
sleep 1.5
[[ $(probe) == 250 ]] || { echo "greylisting did not pass the retry" >&2; exit 1; }
run "+ greylisting" "127.0.0.2:$mailroom_port" user@bench.test
configure "f['greet_delay_secs'] = 2"
[[ $(probe) == 250 ]] || { echo "the polite client was not greeted" >&2; exit 1; }
run "+ greet delay" "127.0.0.2:$mailroom_port" user@bench.test

# rspamd with its own throwaway configuration, asking our dnsmasq.
mkdir -p "$work/rspamd/local/local.d" "$work/rspamd/local/override.d" "$work/rspamd/db" "$work/rspamd/run" "$work/rspamd/log"
printf 'bind_socket = "127.0.0.1:%s";\ncount = 2;\n' "$rspamd_port" >"$work/rspamd/local/override.d/worker-normal.inc"
echo 'enabled = false;' >"$work/rspamd/local/override.d/worker-controller.inc"
echo 'enabled = false;' >"$work/rspamd/local/override.d/worker-proxy.inc"
printf 'dns {\n  nameserver = ["127.0.0.1:%s"];\n  timeout = 1s;\n}\n' "$dns_port" >"$work/rspamd/local/local.d/options.inc"
chown -R _rspamd "$work/rspamd"
r=$work/rspamd
rspamd -f -u _rspamd -g _rspamd --var=LOCAL_CONFDIR="$r/local" --var=DBDIR="$r/db" --var=RUNDIR="$r/run" \
  --var=LOGDIR="$r/log" >/dev/null 2>&1 &
rspamd=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$rspamd_port/ping" >/dev/null && break; sleep 0.2; done
configure "f['rspamd_enabled'] = True; f['rspamd_url'] = 'http://127.0.0.1:$rspamd_port'"
run "+ rspamd" "127.0.0.2:$mailroom_port" user@bench.test
scanned=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from contents where instr(data, cast('X-Spam-Status:' as blob))\").fetchone()[0])" "$work/data/mailroom.db")

# rspamd alone: the same kind of message posted to /checkv2, 20 at a time.
rspamd_secs=$(python3 - "$rspamd_port" "$messages" "$sessions" "$length" <<'PY'
import concurrent.futures, http.client, sys, time
port, n, sessions, length = (int(a) for a in sys.argv[1:5])
body = ("From: sender@outside.test\r\nTo: user@bench.test\r\nSubject: test\r\n\r\n" +
        "".join(f"La de da de da {i:05d}.\r\n" for i in range(length // 24))).encode()
def scan(_):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/checkv2", body, {"IP": "127.0.0.1", "From": "sender@outside.test", "Rcpt": "user@bench.test"})
    assert c.getresponse().read()
    c.close()
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(sessions) as pool:
    list(pool.map(scan, range(n)))
print(time.monotonic() - t0)
PY
)

bash "$peers" start "$work/peers" "$postfix_port" 11110 10026 >"$work/peers.log" 2>&1 || { cat "$work/peers.log" >&2; exit 1; }
run "postfix, no defences" "127.0.0.1:$postfix_port" user@peer.test

stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from messages').fetchone()[0])" "$work/data/mailroom.db")
echo "$messages messages of $length bytes per run, $sessions sessions; $stored stored by Mailroom in all (with the warm-up and probes); $scanned with rspamd's X-Spam headers"
python3 - "$messages" "$rspamd_secs" "${names[@]}" -- "${times[@]}" <<'PY'
import sys
n = int(sys.argv[1]); rspamd = float(sys.argv[2])
args = sys.argv[3:]; cut = args.index("--")
names, times = args[:cut], [float(t) for t in args[cut + 1:]]
us = lambda s: s / n * 1e6
base = times[0]
print(f"{'configuration':<22} {'msg/s':>7} {'us/msg':>7} {'added':>8}")
prev = base
for name, t in zip(names, times):
    added = "" if name in ("none", "postfix, no defences") else f"{us(t) - us(prev):+.0f}"
    print(f"{name:<22} {n / t:>7.0f} {us(t):>7.0f} {added:>8}")
    if not name.startswith("postfix"):
        prev = t
print(f"{'rspamd alone':<22} {n / rspamd:>7.0f} {us(rspamd):>7.0f}")
defended = times[names.index("+ greet delay")]
postfix = times[names.index("postfix, no defences")]
print(f"every defence but rspamd adds {us(defended) - us(base):.0f} us per message to {us(base):.0f} us;"
      f" mailroom with them / postfix without: {postfix / defended:.1f}x")
PY
