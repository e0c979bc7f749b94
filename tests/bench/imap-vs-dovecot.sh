#!/usr/bin/env bash
# IMAP, side by side on one machine: 10,000 messages of 10 KiB are delivered to a
# Mailroom mailbox and to the reference Dovecot's (through the reference Postfix, both
# with smtp-source), then Python's imaplib, on each:
#   - logs in (Mailroom checks an argon2id hash; the reference Dovecot a plain-text
#     password, so this one favours Dovecot; afterwards Dovecot is given Mailroom's
#     own argon2id hash, same parameters, and 30 logins to each are timed),
#   - SELECTs the folder of 10,000,
#   - FETCHes the headers of all (BODY.PEEK[HEADER], one command),
#   - FETCHes 2,000 whole messages (BODY.PEEK[], one command),
#   - SEARCHes by subject (a word only the last 100 messages have),
#   - SORTs the folder by date and THREADs it by references (where offered).
# Best of three rounds each. Then 200 sessions log in, select the folder and idle,
# and the memory they add to each server is measured (Mailroom's one process, started
# afresh on the same data; Dovecot's imap processes, one per session).
#
#   tests/bench/imap-vs-dovecot.sh        (as root: the reference peers need it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers/reference-peers.sh}
messages=${MESSAGES:-10000} length=10240 marked=100
work=$(mktemp -d)
chmod 755 "$work" # the reference Postfix runs as its own user and must reach its queue
smtp_port=12028 imap_port=11143 postfix_port=10025 dovecot_pop3=11110 dovecot_imap=11144

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
ctl set pop3-listen 127.0.0.1:0 >/dev/null
ctl set imap-listen "127.0.0.1:$imap_port" >/dev/null
echo secret1 | ctl mailbox add u1@bench.test --password-stdin >/dev/null
ctl start >/dev/null
bash "$peers" start "$work/peers" "$postfix_port" "$dovecot_pop3" 10026 "$dovecot_imap" >"$work/peers.log" 2>&1 ||
  { cat "$work/peers.log" >&2; exit 1; }

# The same mail to both: the last $marked with a subject the search looks for.
fill() { # host:port recipient
  smtp-source -s 10 -m $((messages - marked)) -l "$length" -S "routine report" -f sender@outside.test -t "$2" "$1"
  smtp-source -s 10 -m "$marked" -l "$length" -S "quarterly invoice" -f sender@outside.test -t "$2" "$1"
}
fill "127.0.0.1:$smtp_port" u1@bench.test
fill "127.0.0.1:$postfix_port" u1@peer.test
for _ in $(seq 1200); do
  [[ $(find "$work/peers/vmail/inbox/new" "$work/peers/vmail/inbox/cur" -type f | wc -l) -ge $messages ]] && break
  sleep 0.1
done

measure() { # port user
  python3 - "$1" "$2" "$messages" "$marked" <<'PY'
import imaplib, sys, time
port, user, expected, marked = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
best = {}
def timed(name, f):
    t = time.perf_counter()
    out = f()
    best[name] = min(best.get(name, 1e9), time.perf_counter() - t)
    return out
for _ in range(3):
    M = imaplib.IMAP4("127.0.0.1", port)
    timed("login", lambda: M.login(user, "secret1"))
    typ, data = timed("select", lambda: M.select("INBOX"))
    assert int(data[0]) == expected, data
    typ, data = timed("fetch headers", lambda: M.fetch("1:*", "(BODY.PEEK[HEADER])"))
    assert len([d for d in data if isinstance(d, tuple)]) == expected, len(data)
    typ, data = timed("fetch 2000 bodies", lambda: M.fetch("1:2000", "(BODY.PEEK[])"))
    bodies = [d for d in data if isinstance(d, tuple)]
    assert len(bodies) == 2000 and all(len(b[1]) > 10000 for b in bodies), len(bodies)
    typ, data = timed("search subject", lambda: M.search(None, "SUBJECT", "quarterly"))
    assert len(data[0].split()) == marked, data
    caps = M.capability()[1][0].decode().upper().split()
    if "SORT" in caps:
        typ, data = timed("sort date", lambda: M.sort("(DATE)", "UTF-8", "ALL"))
        assert len(data[0].split()) == expected, len(data[0].split())
    if "THREAD=REFERENCES" in caps:
        typ, data = timed("thread references", lambda: M.thread("REFERENCES", "UTF-8", "ALL"))
        assert data[0].startswith(b"("), data[0][:80]
    M.logout()
print(" ".join(f"{k}={v:.3f}" for k, v in best.items()))
PY
}

idle_memory() { # port user
  python3 - "$1" "$2" <<'PY' &
import imaplib, socket, sys, time
port, user = int(sys.argv[1]), sys.argv[2]
class From(imaplib.IMAP4):
    """Connects from a given loopback address: Dovecot allows ten sessions per user
    and address (mail_max_userip_connections), so the 200 come from 20 addresses."""
    def __init__(self, source):
        self.source = source
        super().__init__("127.0.0.1", port)
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), source_address=(self.source, 0))
sessions = []
for i in range(200):
    M = From(f"127.0.0.{2 + i // 10}")
    M.login(user, "secret1")
    M.select("INBOX")
    sessions.append(M)
print("ready", flush=True)
time.sleep(6)
PY
  idler=$!
}

# Anonymous resident memory: what the processes hold themselves, leaving out the pages
# of files they map (Mailroom's readers map the database, Dovecot its indexes), which
# are the kernel's page cache.
rss_kib() { # pids...
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '/RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0))); done
  echo "$total"
}

echo "messages: $messages of $length bytes; times are the best of three, in seconds"
echo "mailroom: $(measure "$imap_port" u1@bench.test) (anonymous memory afterwards: $(( $(rss_kib "$daemon") / 1024 )) MiB)"
echo "dovecot:  $(measure "$dovecot_imap" u1)"

# Dovecot with the same argon2id hash as Mailroom's (libsodium reads the parameters
# from the hash): the passwd-file is read again when it changes, looked at no more
# than once a second.
hash=$(sqlite3 "file:$work/data/mailroom.db?mode=ro" "SELECT password_hash FROM mailboxes LIMIT 1")
users=$work/peers/dovecot/users
cp "$users" "$users.plain"
sed -i "s|{PLAIN}secret1|{ARGON2ID}$hash|" "$users"
touch -d '+2 seconds' "$users"
sleep 2
python3 - "$imap_port" "$dovecot_imap" <<'PY'
import imaplib, statistics, sys, time
def logins(port, user, n=30):
    took = []
    for _ in range(n):
        M = imaplib.IMAP4("127.0.0.1", port)
        t = time.perf_counter()
        M.login(user, "secret1")
        took.append(time.perf_counter() - t)
        M.logout()
    return statistics.median(took)
mailroom, dovecot = logins(int(sys.argv[1]), "u1@bench.test"), logins(int(sys.argv[2]), "u1")
print(f"login, both checking the same argon2id hash (median of 30): mailroom={mailroom:.4f} dovecot={dovecot:.4f}")
PY
cp "$users.plain" "$users"
touch -d '+4 seconds' "$users"

# A fresh mailroomd on the same data, so that the memory the steps above freed (and
# the allocator kept) does not hide what the sessions take; four logins at once first
# give its password-check threads their working memory.
kill "$daemon"; wait "$daemon" 2>/dev/null || true
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" 2>>"$work/mailroomd.log" &
daemon=$!
for _ in $(seq 100); do python3 -c "import imaplib; imaplib.IMAP4('127.0.0.1', $imap_port)" 2>/dev/null && break; sleep 0.1; done
python3 - "$imap_port" <<'PY'
import imaplib, sys, threading
def login():
    M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); M.login("u1@bench.test", "secret1"); M.logout()
threads = [threading.Thread(target=login) for _ in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
before=$(rss_kib "$daemon")
idle_memory "$imap_port" u1@bench.test
sleep 4
after=$(rss_kib "$daemon")
wait "$idler"
echo "mailroom: 200 idle sessions add $(( (after - before) / 200 )) KiB each"
dovecot_pids() { pgrep -x imap || true; }
before=$(rss_kib $(dovecot_pids))
idle_memory "$dovecot_imap" u1
sleep 4
after=$(rss_kib $(dovecot_pids))
wait "$idler"
echo "dovecot:  200 idle sessions add $(( (after - before) / 200 )) KiB each (one imap process per session)"
