#!/usr/bin/env bash
# Screenshots for the README: the real Mailroom Administrator under Xvfb against a
# real mailroomd with a sample configuration. Writes docs/main-window.png,
# docs/routing-tab.png, docs/security-tab.png, docs/message-filtering.png,
# docs/quarantine.png, docs/monitor.png, docs/connect.png, docs/recipients.png and
# docs/failed-restart.png.
# Needs: xvfb imagemagick xdotool dnsmasq (Debian packages).
#
#   tests/gui/screenshots.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dns_port=12055
cargo build -q --release -p mailroom-service -p mailroom-client -p mailroom-admin
bin=$root/target/release
ctl() { "$bin/mailroomctl" --socket "$work/admin.sock" "$@" >/dev/null; }
"$bin/mailroomd" --data-dir "$work/data" --socket "$work/admin.sock" 2>/dev/null &
for _ in $(seq 100); do ctl status && break; sleep 0.1; done
echo pw | ctl mailbox add ann@corp.test --name "Ann Example" --alias sales@corp.test --password-stdin
echo pw | ctl mailbox add bob@corp.test --name "Bob Builder" --password-stdin
ctl routing reroute on
ctl routing add corp.test --inbound
ctl set host-name mail.corp.test
# The three kinds of recipient: a custom recipient, a list of everyone, a forward.
echo pw | ctl mailbox add carol@corp.test --name "Carol Clerk" --password-stdin
ctl contact add partner@corp.test pat@partner.example --name "Pat Partner"
ctl list add team@corp.test --name "Everyone"
ctl list members team@corp.test --add ann@corp.test --add bob@corp.test --add carol@corp.test --add partner@corp.test
ctl mailbox forward carol@corp.test carol@home.example --keep
# Three messages held in the quarantine: a DNS server that publishes DMARC p=quarantine
# for quar.test, whose mail comes from an address its SPF does not allow.
dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --pid-file= \
  --listen-address=127.0.0.1 --bind-interfaces --port=$dns_port --local=/test/ \
  '--txt-record=quar.test,v=spf1 -all' '--txt-record=_dmarc.quar.test,v=DMARC1; p=quarantine' 2>/dev/null &
ctl set dns-server "127.0.0.1:$dns_port"
ctl restart
smtp=$("$bin/mailroomctl" --socket "$work/admin.sock" status | awk '/^smtp:/ { print $2 }')
python3 - "$smtp" <<'PY'
import smtplib, sys
host, port = sys.argv[1].rsplit(":", 1)
for sender, subject in [("payroll@quar.test", "Your invoice #4471 is overdue"),
                        ("ceo@quar.test", "Urgent wire transfer today"),
                        ("news@quar.test", "Quarterly newsletter")]:
    s = smtplib.SMTP(host, int(port), source_address=("127.0.0.2", 0))
    s.sendmail(sender, ["ann@corp.test"], f"From: {sender}\r\nTo: ann@corp.test\r\nSubject: {subject}\r\n\r\nPlease see the attached.\r\n")
    s.quit()
PY
# Traffic for the Monitor's charts.
python3 - "$smtp" <<'PY'
import smtplib, sys
host, port = sys.argv[1].rsplit(":", 1)
s = smtplib.SMTP(host, int(port))
for i in range(120):
    s.sendmail("partner@outside.test", ["ann@corp.test" if i % 3 else "bob@corp.test"], f"Subject: report {i}\r\n\r\nFigures.\r\n")
s.quit()
PY
# A port another program holds, for the failed restart at the end.
taken_port=12077
python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 12077)); s.listen(); time.sleep(600)' &
# A saved change waiting for a restart, so the banner shows.
ctl routing add old-corp.test --reroute-to corp.test

cat >"$work/shoot.sh" <<SHOOT
set -e
"$bin/mailroom-admin" --socket "$work/admin.sock" &
win=\$(xdotool search --sync --name "Mailroom Administrator" | head -1)
# No window manager runs: give the window the keyboard ourselves.
xdotool windowfocus --sync "\$win"
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
xdotool mousemove 646 67 click 1     # tab: Message Filtering
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/message-filtering.png"
xdotool mousemove 860 33 click 1     # close the window
sleep 1
xdotool mousemove 110 338 click 1    # tree: Server, Quarantine
sleep 1
xdotool mousemove 770 194 click 1    # the second message (under the banner)
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/quarantine.png"
xdotool mousemove 110 384 click 1    # tree: Server, Monitor
sleep 3
import -window root -crop 1100x700+0+0 "$root/docs/monitor.png"
xdotool mousemove 20 12 click 1      # menu: File
sleep 1
xdotool mousemove 70 112 click 1     # File: Connect to Server…
sleep 1
xdotool mousemove 327 299 click 1    # Another computer, over SSH
sleep 0.5
xdotool mousemove 605 322 click 1    # Computer (user@host)
xdotool type "admin@mail.corp.test"
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/connect.png"
xdotool key Escape
sleep 1
xdotool mousemove 95 269 click 1     # tree: Recipients
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/recipients.png"
# A restart that cannot listen: the SMTP port is taken by another program.
"$bin/mailroomctl" --socket "$work/admin.sock" set smtp-listen 127.0.0.1:$taken_port >/dev/null
xdotool key ctrl+r
sleep 3
xdotool mousemove 160 154 click 1    # tree: Internet Mail Service
sleep 1
import -window root -crop 1100x700+0+0 "$root/docs/failed-restart.png"
SHOOT
xvfb-run -a -s "-screen 0 1280x800x24" bash "$work/shoot.sh"
echo "wrote docs/main-window.png, routing-tab.png, security-tab.png, message-filtering.png, quarantine.png, monitor.png, connect.png, recipients.png and failed-restart.png"
