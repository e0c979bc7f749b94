#!/usr/bin/env bash
# CalDAV, side by side on one machine: Mailroom and Radicale (Debian's `radicale`),
# both over TLS with the same certificate, each given a calendar of 10,000 events (one
# in ten a weekly series of ten, with an exception): Mailroom by PUT, on one keep-alive
# connection (the time is printed); Radicale by writing the files into its collection's
# folder, as its storage keeps them (its PUTs slow down as the calendar grows: 3,300
# took seven minutes here). Then, best of five, on one keep-alive connection each:
#   - a calendar-query for one month (time range, calendar-data),
#   - a sync-collection after one event has changed.
#
#   apt-get install radicale; tests/bench/dav-vs-radicale.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
events=${EVENTS:-10000}
work=$(mktemp -d)
mailroom_port=12443 radicale_port=12232

cleanup() {
  [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null || true
  [[ -n ${radicale:-} ]] && kill "$radicale" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v radicale >/dev/null || { echo "needs Radicale: apt-get install radicale" >&2; exit 1; }
cargo build -q --release -p mailroom-service -p mailroom-client
bin=${BIN:-$root/target/release}
ctl() { "$bin/mailroomctl" --socket "$work/admin.sock" "$@"; }
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" --no-start 2>"$work/mailroomd.log" &
daemon=$!
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl set smtp-listen 127.0.0.1:0 >/dev/null
ctl set pop3-listen 127.0.0.1:0 >/dev/null
ctl set imap-listen 127.0.0.1:0 >/dev/null
ctl set https-listen "127.0.0.1:$mailroom_port" >/dev/null
echo secret1 | ctl mailbox add ann@bench.test --password-stdin >/dev/null
ctl start >/dev/null

# Radicale on the same certificate, with a plain-text password file (so that its
# logins cost it less than Mailroom's argon2id; Mailroom checks a connection's
# password once).
cert=$(ls "$work"/data/tls/*.crt.pem) key=$(ls "$work"/data/tls/*.key.pem)
mkdir -p "$work/radicale"
echo "ann:secret1" >"$work/radicale/users"
cat >"$work/radicale/config" <<EOF
[server]
hosts = 127.0.0.1:$radicale_port
ssl = True
certificate = $cert
key = $key
[auth]
type = htpasswd
htpasswd_filename = $work/radicale/users
htpasswd_encryption = plain
[storage]
filesystem_folder = $work/radicale/collections
[rights]
type = owner_only
[logging]
level = warning
EOF
radicale --config "$work/radicale/config" 2>"$work/radicale.log" &
radicale=$!
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $radicale_port))" 2>/dev/null && break; sleep 0.1; done

python3 - "$mailroom_port" "$radicale_port" "$events" "$work/radicale/collections" <<'PY'
import base64, http.client, ssl, sys, time
mailroom, radicale, events = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl._create_unverified_context()

class Dav:
    def __init__(self, port, user, calendar):
        self.c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=600)
        self.auth = "Basic " + base64.b64encode(f"{user}:secret1".encode()).decode()
        self.calendar = calendar
    def ask(self, method, path, body=b"", **headers):
        headers = {"Authorization": self.auth, **headers}
        self.c.request(method, path, body=body, headers=headers)
        r = self.c.getresponse()
        data = r.read()
        if r.status >= 400:
            raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
        return r.status, data

def event(i, summary="Meeting"):
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    year = 2026 + (i // 336) % 2
    start = f"{year}{month:02}{day:02}T{9 + i % 8:02}0000Z"
    end = f"{year}{month:02}{day:02}T{10 + i % 8:02}0000Z"
    extra = ""
    if i % 10 == 0:
        extra = f"RRULE:FREQ=WEEKLY;COUNT=10\r\n"
    body = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev{i}\r\n"
            f"DTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n{extra}SUMMARY:{summary} {i}\r\nEND:VEVENT\r\n")
    if i % 10 == 0:
        body += (f"BEGIN:VEVENT\r\nUID:ev{i}\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:{start}\r\n"
                 f"DTSTART:{start[:9]}150000Z\r\nDTEND:{start[:9]}160000Z\r\nSUMMARY:Moved {i}\r\nEND:VEVENT\r\n")
    return (body + "END:VCALENDAR\r\n").encode()

QUERY = b"""<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
<d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR">
<c:comp-filter name="VEVENT"><c:time-range start="20260301T000000Z" end="20260401T000000Z"/></c:comp-filter>
</c:comp-filter></c:filter></c:calendar-query>"""

def sync(token):
    return (f"""<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token>
<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>""").encode()

def token_of(body):
    text = body.decode()
    return text.split("<d:sync-token>")[1].split("</d:sync-token>")[0] if "<d:sync-token>" in text else \
        text.split("sync-token>")[1].split("</")[0]

results = {}
for name, dav in [("mailroom", Dav(mailroom, "ann@bench.test", "/dav/calendars/ann@bench.test/calendar/")),
                  ("radicale", Dav(radicale, "ann", "/ann/calendar/"))]:
    t = time.perf_counter()
    if name == "radicale":
        dav.ask("MKCALENDAR", dav.calendar)
        folder = f"{sys.argv[4]}/collection-root/ann/calendar"
        for i in range(events):
            with open(f"{folder}/ev{i}.ics", "wb") as f:
                f.write(event(i))
        how = "written as files"
    else:
        for i in range(events):
            dav.ask("PUT", f"{dav.calendar}ev{i}.ics", event(i), **{"Content-Type": "text/calendar"})
        how = "PUT"
    put = time.perf_counter() - t
    best = {}
    def timed(what, f):
        t = time.perf_counter(); out = f(); best[what] = min(best.get(what, 1e9), time.perf_counter() - t); return out
    for round in range(5):
        status, body = timed("month query", lambda: dav.ask("REPORT", dav.calendar, QUERY, Depth="1", **{"Content-Type": "application/xml"}))
        found = body.count(b"<d:response>") + body.count(b"<response>") + body.count(b"<D:response>")
        _, first = dav.ask("REPORT", dav.calendar, sync(""), **{"Content-Type": "application/xml"})
        token = token_of(first)
        dav.ask("PUT", f"{dav.calendar}ev{round + 1}.ics", event(round + 1, summary=f"Changed{round}"), **{"Content-Type": "text/calendar"})
        _, changed = timed("sync after one change", lambda: dav.ask("REPORT", dav.calendar, sync(token), **{"Content-Type": "application/xml"}))
    results[name] = best
    print(f"{name}: {events} events {how} in {put:.1f} s; month query {best['month query']*1000:.1f} ms ({found} events); "
          f"sync after one change {best['sync after one change']*1000:.1f} ms")
m, r = results["mailroom"], results["radicale"]
print(f"ratios (Radicale's time / Mailroom's): month query {r['month query']/m['month query']:.1f}x, "
      f"sync after one change {r['sync after one change']/m['sync after one change']:.1f}x")
PY
