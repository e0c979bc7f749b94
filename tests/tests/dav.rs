//! Calendars and contacts over CalDAV and CardDAV, against the real `mailroomd` over
//! HTTPS, with real clients: Python's `caldav` library (Debian's, under the system
//! Python) finds the calendars from the bare host name, makes one, stores a weekly
//! event with an exception and asks for time ranges; vdirsyncer syncs a calendar and
//! an address book both ways, twice, the second time moving nothing; curl sends what
//! must be refused.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::process::Command;

use mailroom_tests::{Daemon, TestCa, require, require_python};

/// Ann's service with HTTPS on; its address.
async fn service() -> (Daemon, std::net::SocketAddr) {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.add_mailbox("bob@corp.test", "bob-pw");
    d.ctl_ok(&["set", "https-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let status = d.status().await;
    let https = status.listeners.iter().find(|l| l.protocol == "HTTPS").expect("HTTPS listens");
    let addr = https.address.parse().expect("address");
    (d, addr)
}

/// Runs `script` under the system Python with `args`; its standard output.
fn system_python(script: &str, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/python3").arg("-c").arg(script).args(args).output().expect("python3");
    assert!(
        out.status.success(),
        "the script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CALDAV_CLIENT: &str = r#"
import caldav, datetime, sys, warnings
warnings.simplefilter("ignore")
url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password, ssl_verify_cert=False)
principal = client.principal()
print("calendars", sorted(c.name for c in principal.calendars()))
work = principal.make_calendar(name="Work", cal_id="work")
print("made", work.name, sorted(c.name for c in principal.calendars()))

# Weekly on Mondays at 9, six times from 5 January 2026; the 12th is cancelled and
# the 19th moved to 14:00.
weekly = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//mailroom tests//EN
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20260101T000000Z
DTSTART:20260105T090000Z
DTEND:20260105T100000Z
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE:20260112T090000Z
SUMMARY:Team meeting
END:VEVENT
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20260101T000000Z
RECURRENCE-ID:20260119T090000Z
DTSTART:20260119T140000Z
DTEND:20260119T150000Z
SUMMARY:Team meeting (moved)
END:VEVENT
END:VCALENDAR
"""
once = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//mailroom tests//EN
BEGIN:VEVENT
UID:once-1
DTSTAMP:20260101T000000Z
DTSTART:20260301T120000Z
DTEND:20260301T130000Z
SUMMARY:Lunch
END:VEVENT
END:VCALENDAR
"""
work.save_event(weekly)
work.save_event(once)
d = lambda *a: datetime.datetime(*a, tzinfo=datetime.timezone.utc)
def found(start, end):
    return sorted(str(e.icalendar_instance.walk("VEVENT")[0]["UID"]) for e in work.date_search(start=start, end=end, expand=False))
print("january", found(d(2026, 1, 1), d(2026, 2, 1)))
print("cancelled week", found(d(2026, 1, 12), d(2026, 1, 13)))
print("moved morning", found(d(2026, 1, 19, 8), d(2026, 1, 19, 12)))
print("moved afternoon", found(d(2026, 1, 19, 13), d(2026, 1, 19, 16)))
print("february", found(d(2026, 2, 1), d(2026, 3, 1)))
print("march", found(d(2026, 3, 1), d(2026, 4, 1)))
print("december", found(d(2026, 12, 1), d(2027, 1, 1)))
print("all", sorted(str(e.icalendar_instance.walk("VEVENT")[0]["UID"]) for e in work.events()))

# Sync: everything, then only what changed.
objects = work.objects_by_sync_token(load_objects=True)
print("synced", len(list(objects)))
lunch = work.event_by_uid("once-1")
lunch.icalendar_instance.walk("VEVENT")[0]["SUMMARY"] = "Long lunch"
lunch.save()
updated, deleted = objects.sync()
print("changed", [str(o.icalendar_instance.walk("VEVENT")[0]["SUMMARY"]) for o in updated], list(deleted))
work.event_by_uid("weekly-1").delete()
updated, deleted = objects.sync()
print("removed", len(updated), len(deleted))
print("after", sorted(str(e.icalendar_instance.walk("VEVENT")[0]["UID"]) for e in work.events()))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn python_caldav_finds_the_calendars_from_the_host_and_queries_a_recurring_event() {
    require_python(&["caldav", "icalendar"], "python3-caldav python3-icalendar");
    let (_d, https) = service().await;
    let out = system_python(CALDAV_CLIENT, &[&format!("https://{https}/"), "ann@corp.test", "ann-pw"]);
    let expected = "calendars ['Calendar']\n\
        made Work ['Calendar', 'Work']\n\
        january ['weekly-1']\n\
        cancelled week []\n\
        moved morning []\n\
        moved afternoon ['weekly-1']\n\
        february ['weekly-1']\n\
        march ['once-1']\n\
        december []\n\
        all ['once-1', 'weekly-1']\n\
        synced 2\n\
        changed ['Long lunch'] []\n\
        removed 0 1\n\
        after ['once-1']\n";
    assert_eq!(out, expected);
}

/// What curl says: status code and body.
fn curl(https: std::net::SocketAddr, args: &[&str], path: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-k", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .arg(format!("https://{https}{path}"))
        .output()
        .expect("curl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("code");
    (code.parse().expect("code"), body.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_objects_are_refused_with_their_precondition_and_others_calendars_are_not_reached() {
    require("curl", "curl");
    let (d, https) = service().await;
    let ann = ["-u", "ann@corp.test:ann-pw"];
    let put = |path: &str, body: &str, extra: &[&str]| {
        let mut args: Vec<&str> = ann.to_vec();
        args.extend(["-X", "PUT", "-H", "Content-Type: text/calendar", "--data-binary", body]);
        args.extend(extra);
        curl(https, &args, path)
    };
    let event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n\
                 DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = "/dav/calendars/ann@corp.test/calendar/";
    // A hundred malformed bodies: each refused with CalDAV's precondition, nothing kept.
    let mut bad: Vec<String> = (1..event.len() - 2).step_by(event.len() / 60).map(|n| event[..n].to_owned()).collect();
    bad.push(event.replace("END:VEVENT\r\nEND:VCALENDAR", "END:VCALENDAR\r\nEND:VEVENT"));
    bad.push(event.replace("UID:e1\r\n", ""));
    bad.push(format!("{event}{event}"));
    bad.push(event.replace("VEVENT", "VFREEBUSY"));
    bad.push("BEGIN:VCARD\r\nUID:x\r\nEND:VCARD\r\n".into());
    while bad.len() < 99 {
        bad.push(format!("garbage {}", bad.len()));
    }
    let mut refused = 0;
    for (i, body) in bad.iter().enumerate() {
        let (code, text) = put(&format!("{cal}bad{i}.ics"), body, &[]);
        assert_eq!(code, 403, "#{i} {body:?}: {text}");
        assert!(text.contains("urn:ietf:params:xml:ns:caldav"), "{text}");
        refused += 1;
    }
    // And ten megabytes, refused by its size.
    let huge = event.replace("SUMMARY:x", &format!("SUMMARY:{}", "x".repeat(10 << 20)));
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &huge).expect("write");
    let at = format!("@{}", file.path().display());
    let (code, text) = put(&format!("{cal}huge.ics"), &at, &["--http1.1"]);
    assert_eq!(code, 413, "{text}");
    assert_eq!(refused + 1, 100);
    let (code, listing) = curl(https, &[ann[0], ann[1], "-X", "PROPFIND", "-H", "Depth: 1"], cal);
    assert_eq!(code, 207);
    assert_eq!(listing.matches("<d:response>").count(), 1, "only the calendar itself: {listing}");

    // The service goes on serving: a good object is stored, conditions hold.
    assert_eq!(put(&format!("{cal}e1.ics"), event, &["-H", "If-None-Match: *"]).0, 201);
    assert_eq!(put(&format!("{cal}e1.ics"), event, &["-H", "If-None-Match: *"]).0, 412);
    assert_eq!(put(&format!("{cal}e1.ics"), event, &["-H", "If-Match: \"stale\""]).0, 412);
    let (code, text) = put(&format!("{cal}twin.ics"), event, &[]);
    assert!(code == 403 && text.contains("no-uid-conflict") && text.contains("e1.ics"), "{code} {text}");

    // Bob cannot reach Ann's calendars, and nobody gets in without a password.
    let (code, _) = curl(https, &["-u", "bob@corp.test:bob-pw", "-X", "PROPFIND"], cal);
    assert_eq!(code, 403);
    assert_eq!(curl(https, &["-X", "PROPFIND"], cal).0, 401);
    assert_eq!(curl(https, &["-u", "ann@corp.test:wrong", "-X", "PROPFIND"], cal).0, 401);
    // Discovery from the well-known names.
    let (code, _) = curl(https, &[], "/.well-known/caldav");
    assert_eq!(code, 301);

    // The Global Address List: everyone, read-only, beside Ann's own contacts.
    d.ctl_ok(&["list", "add", "all@corp.test", "--name", "Everyone"]);
    let books = "/dav/addressbooks/ann@corp.test/";
    let (code, listing) = curl(https, &[ann[0], ann[1], "-X", "PROPFIND", "-H", "Depth: 1"], books);
    assert!(code == 207 && listing.contains("Global Address List") && listing.contains("/gal/"), "{listing}");
    let (code, card) = curl(https, &ann, "/dav/addressbooks/ann@corp.test/gal/bob@corp.test.vcf");
    assert!(code == 200 && card.contains("EMAIL;TYPE=INTERNET:bob@corp.test"), "{code} {card}");
    let (code, list) = curl(https, &ann, "/dav/addressbooks/ann@corp.test/gal/all@corp.test.vcf");
    assert!(code == 200 && list.contains("FN:Everyone") && list.contains("KIND:group"), "{code} {list}");
    let mut put_card: Vec<&str> = ann.to_vec();
    put_card.extend([
        "-X",
        "PUT",
        "-H",
        "Content-Type: text/vcard",
        "--data-binary",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\n",
    ]);
    let (code, text) = curl(https, &put_card, "/dav/addressbooks/ann@corp.test/gal/x.vcf");
    assert!(code == 403 && text.contains("need-privileges"), "{code} {text}");
    let (code, _) =
        curl(https, &[ann[0], ann[1], "-X", "DELETE"], "/dav/addressbooks/ann@corp.test/gal/bob@corp.test.vcf");
    assert_eq!(code, 403, "nobody changes the address list from a client");

    // Hidden from the address book: gone from the list and from a search for people,
    // still reached by mail; shown again, back.
    d.ctl_ok(&["address-book", "hide", "bob@corp.test"]);
    d.ctl_ok(&["address-book", "hide", "all@corp.test"]);
    let (code, _) = curl(https, &ann, "/dav/addressbooks/ann@corp.test/gal/bob@corp.test.vcf");
    assert_eq!(code, 404);
    let (_, listing) =
        curl(https, &[ann[0], ann[1], "-X", "PROPFIND", "-H", "Depth: 1"], "/dav/addressbooks/ann@corp.test/gal/");
    assert!(!listing.contains("bob@corp.test") && !listing.contains("all@corp.test"), "{listing}");
    assert!(listing.contains("ann@corp.test.vcf"), "{listing}");
    let search = r#"<?xml version="1.0"?><d:principal-property-search xmlns:d="DAV:">
        <d:property-search><d:prop><d:displayname/></d:prop><d:match>bob</d:match></d:property-search>
        <d:prop><d:displayname/></d:prop></d:principal-property-search>"#;
    let (code, found) =
        curl(https, &[ann[0], ann[1], "-X", "REPORT", "-H", "Depth: 0", "--data-binary", search], "/dav/principals/");
    assert!(code == 207 && !found.contains("bob@corp.test"), "{code} {found}");
    let mut s = mailroom_tests::Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO outside.test", "250");
    s.expect("MAIL FROM:<someone@outside.test>", "250");
    s.expect("RCPT TO:<bob@corp.test>", "250");
    let refused = d.ctl(&["address-book", "hide", "nobody@corp.test"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("nobody@corp.test"));
    d.ctl_ok(&["address-book", "show", "bob@corp.test"]);
    let (code, _) = curl(https, &ann, "/dav/addressbooks/ann@corp.test/gal/bob@corp.test.vcf");
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn vdirsyncer_syncs_a_calendar_and_an_address_book_both_ways_twice() {
    require("vdirsyncer", "vdirsyncer");
    let (d, https) = service().await;
    // vdirsyncer pins the server's certificate by its SHA-256 fingerprint.
    let shown = d.ctl_ok(&["certificate"]);
    let fingerprint = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("SHA-256:"))
        .unwrap_or_else(|| panic!("no fingerprint in {shown}"))
        .trim()
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("local");
    let status = dir.path().join("status");
    for sub in ["cal/calendar", "card/contacts"] {
        std::fs::create_dir_all(local.join(sub)).expect("mkdir");
    }
    let config = format!(
        r#"[general]
status_path = "{status}"

[pair cal]
a = "cal_local"
b = "cal_remote"
collections = ["calendar"]

[storage cal_local]
type = "filesystem"
path = "{local}/cal"
fileext = ".ics"

[storage cal_remote]
type = "caldav"
url = "https://{https}/"
username = "ann@corp.test"
password = "ann-pw"
verify_fingerprint = "{fingerprint}"

[pair card]
a = "card_local"
b = "card_remote"
collections = ["contacts"]

[storage card_local]
type = "filesystem"
path = "{local}/card"
fileext = ".vcf"

[storage card_remote]
type = "carddav"
url = "https://{https}/"
username = "ann@corp.test"
password = "ann-pw"
verify_fingerprint = "{fingerprint}"
"#,
        status = status.display(),
        local = local.display(),
    );
    let config_file = dir.path().join("config");
    std::fs::write(&config_file, config).expect("config");
    let vdirsyncer = |args: &[&str]| {
        let out = Command::new("vdirsyncer")
            .arg("-c")
            .arg(&config_file)
            .args(args)
            .env("PYTHONWARNINGS", "ignore")
            .output()
            .expect("vdirsyncer");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "vdirsyncer {args:?}:\n{all}");
        all
    };
    // Local objects go up.
    std::fs::write(
        local.join("cal/calendar/ev1.ics"),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:ev1\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nSUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .expect("event");
    std::fs::write(
        local.join("card/contacts/c1.vcf"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Carol Example\r\nEMAIL:carol@outside.test\r\nEND:VCARD\r\n",
    )
    .expect("card");
    vdirsyncer(&["discover"]);
    let first = vdirsyncer(&["sync"]);
    assert!(first.contains("Copying (uploading) item ev1"), "{first}");
    assert!(first.contains("Copying (uploading) item c1"), "{first}");
    // The second run moves nothing.
    let second = vdirsyncer(&["sync"]);
    assert!(!second.contains("Copying") && !second.contains("Updating"), "{second}");

    // A change made on the server comes down: with curl, a new card.
    let (code, text) = curl(
        https,
        &[
            "-u",
            "ann@corp.test:ann-pw",
            "-X",
            "PUT",
            "-H",
            "Content-Type: text/vcard",
            "--data-binary",
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:d1\r\nFN:Dan Example\r\nEND:VCARD\r\n",
        ],
        "/dav/addressbooks/ann@corp.test/contacts/d1.vcf",
    );
    assert_eq!(code, 201, "{text}");
    let third = vdirsyncer(&["sync"]);
    assert!(third.contains("item d1 to card_local"), "{third}");
    let cards: Vec<String> = std::fs::read_dir(local.join("card/contacts"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cards.len(), 2, "{cards:?}");
    let fourth = vdirsyncer(&["sync"]);
    assert!(!fourth.contains("Copying") && !fourth.contains("Updating"), "{fourth}");
}

/// Where tests/setup puts caldav-server-tester (PyPI), in a virtual environment.
const SERVER_TESTER: &str = "/var/cache/mailroom-tests/caldav-server-tester/bin/caldav-server-tester";

/// What caldav-server-tester may find short, and why (everything else must be
/// "full"): `@` and `%40` in a path name the same thing here, where RFC 3986 makes
/// them two names, because clients (Python's caldav itself) write a path's `@` either
/// way.
const NOT_YET: [(&str, &str); 1] = [("url.encode-at.identity", "unsupported")];

#[tokio::test(flavor = "multi_thread")]
async fn caldav_server_tester_finds_every_feature_it_checks_fully_supported_scheduling_between_two_people_too() {
    assert!(std::path::Path::new(SERVER_TESTER).exists(), "caldav-server-tester is not installed: run tests/setup");
    // A certificate the tester trusts, for an address that is not "localhost" (for
    // which it skips the .well-known check).
    let ca = TestCa::new();
    let (cert, key) = ca.issue(&["127.0.0.2"]);
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    // The second person, for the scheduling checks (RFC 6638 is between people).
    d.add_mailbox("bob@corp.test", "bob-pw");
    d.edit_config(|c| {
        c["security"]["tls_certificate"] = cert.display().to_string().into();
        c["security"]["tls_key"] = key.display().to_string().into();
        c["connections"]["https_listen"] = "127.0.0.2:0".into();
    });
    d.ctl_ok(&["restart"]);
    let status = d.status().await;
    let https = &status.listeners.iter().find(|l| l.protocol == "HTTPS").expect("HTTPS listens").address;
    // The caldav library's configuration file (JSON is YAML), one section a person.
    let section = |login: &str, password: &str| {
        serde_json::json!({
            "caldav_url": format!("https://{https}/"),
            "caldav_username": login,
            "caldav_password": password,
            "caldav_ssl_verify_cert": ca.cert.display().to_string(),
        })
    };
    let config = d.dir.path().join("calendar.conf");
    let sections =
        serde_json::json!({"ann": section("ann@corp.test", "ann-pw"), "bob": section("bob@corp.test", "bob-pw")});
    std::fs::write(&config, sections.to_string()).expect("caldav configuration");
    let out = Command::new(SERVER_TESTER)
        .args(["--format", "json", "--config-section", "ann", "--config-section", "bob"])
        .env("CALDAV_CONFIG_FILE", &config)
        .env("REQUESTS_CA_BUNDLE", &ca.cert)
        .env("SSL_CERT_FILE", &ca.cert)
        .output()
        .expect("caldav-server-tester");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "caldav-server-tester failed:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&report).expect("its JSON report");
    let features = report["features"].as_object().expect("features");
    let mut short: Vec<(String, String)> = features
        .iter()
        .map(|(name, v)| (name.clone(), v["support"].as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .filter(|(_, support)| support != "full")
        .collect();
    short.sort();
    let expected: Vec<(String, String)> = NOT_YET.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(short, expected, "features not fully supported (of {}):\n{report:#}", features.len());
    assert!(features.len() >= 15, "it checked what it checks: {}", features.len());
}

/// A meeting in Python's caldav: `invite` (as its organiser, the first login) saves a
/// meeting with two attendees; `show WHO` prints WHO's answer and the event's status
/// as the logged-in person's calendar holds it, and how many messages their
/// scheduling inbox holds.
const MEETING_CLIENT: &str = r#"
import caldav, sys, warnings
warnings.simplefilter("ignore")
url, user, password, step = sys.argv[1:5]
client = caldav.DAVClient(url=url, username=user, password=password, ssl_verify_cert=False)
principal = client.principal()
if step == "invite":
    principal.calendars()[0].save_event("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//mailroom tests//EN
BEGIN:VEVENT
UID:budget-2027@corp.test
DTSTAMP:20261201T120000Z
DTSTART:20270112T140000Z
DTEND:20270112T150000Z
SUMMARY:Budget 2027
ORGANIZER;CN=Ann:mailto:ann@corp.test
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@corp.test
ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:bob@corp.test
ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:zoe@partner.example
END:VEVENT
END:VCALENDAR
""")
    print("saved")
else:
    who = sys.argv[5]
    for cal in principal.calendars():
        try:
            event = cal.event_by_uid("budget-2027@corp.test")
        except Exception:
            continue
        vevent = event.icalendar_component
        for a in vevent.get("attendee", []):
            if str(a).lower() == "mailto:" + who:
                print("partstat", a.params.get("PARTSTAT"))
        print("status", vevent.get("status", "none"))
    print("inbox", sum(1 for _ in principal.schedule_inbox().get_items()))
"#;

/// Reads the iMIP message in the file named by the first argument with Python's
/// `email` and `icalendar`: the part's method, the calendar's METHOD, the summary and
/// the attendees.
const IMIP_READER: &str = r#"
import email, icalendar, sys
message = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in message.walk():
    if part.get_content_type() == "text/calendar":
        cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
        event = cal.walk("VEVENT")[0]
        print("part", part.get_param("method"))
        print("method", cal["METHOD"])
        print("summary", event["SUMMARY"])
        print("attendees", " ".join(sorted(str(a).lower() for a in event["ATTENDEE"])))
print("from", message["From"])
print("subject", message["Subject"])
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_meeting_invites_a_colleague_in_their_calendar_and_an_outsider_by_mail_whose_reply_comes_back() {
    require_python(&["caldav", "icalendar"], "python3-caldav python3-icalendar");
    let sink = mailroom_tests::Sink::start("127.0.0.1:0", 0).await;
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.add_mailbox("bob@corp.test", "bob-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "smarthost", &format!("[{}]:{}", sink.addr.ip(), sink.addr.port())]);
    d.ctl_ok(&["set", "https-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let status = d.status().await;
    let https = &status.listeners.iter().find(|l| l.protocol == "HTTPS").expect("HTTPS listens").address;
    let url = format!("https://{https}/");

    assert_eq!(system_python(MEETING_CLIENT, &[&url, "ann@corp.test", "ann-pw", "invite"]).trim(), "saved");

    // The outsider's invitation leaves by mail, as iMIP that icalendar reads.
    let got = sink.wait_for(1, 20).await;
    assert_eq!(
        (got[0].from.as_str(), got[0].to.as_slice()),
        ("ann@corp.test", &["zoe@partner.example".to_owned()][..])
    );
    let file = d.dir.path().join("invitation.eml");
    std::fs::write(&file, &got[0].data).expect("write");
    let read = system_python(IMIP_READER, &[&file.display().to_string()]);
    for line in [
        "part REQUEST",
        "method REQUEST",
        "summary Budget 2027",
        "attendees mailto:ann@corp.test mailto:bob@corp.test mailto:zoe@partner.example",
        "subject Invitation: Budget 2027",
    ] {
        assert!(read.lines().any(|l| l == line), "{line:?} not in:\n{read}\n{}", String::from_utf8_lossy(&got[0].data));
    }

    // The colleague has it in their calendar, not yet answered, with the message in
    // their scheduling inbox, and the invitation in their mail inbox.
    let bob = system_python(MEETING_CLIENT, &[&url, "bob@corp.test", "bob-pw", "show", "bob@corp.test"]);
    assert_eq!(bob.lines().collect::<Vec<_>>(), ["partstat NEEDS-ACTION", "status none", "inbox 1"], "{bob}");
    let bobs_mail = "SELECT COUNT(*) FROM messages WHERE mailbox_id = \
        (SELECT mailbox_id FROM addresses WHERE address = 'bob@corp.test')";
    assert_eq!(d.count(bobs_mail), 1, "the invitation in bob's inbox");

    // Planning another meeting, ann asks for bob's free/busy: the unanswered request
    // shows as tentative, nothing of what it is.
    let freebusy = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n\
        UID:fb-1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20270112T000000Z\r\nDTEND:20270113T000000Z\r\n\
        ORGANIZER:mailto:ann@corp.test\r\nATTENDEE:mailto:bob@corp.test\r\nATTENDEE:mailto:nobody@corp.test\r\n\
        END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
    let https_addr: std::net::SocketAddr = https.parse().expect("address");
    let (code, answer) = curl(
        https_addr,
        &["-u", "ann@corp.test:ann-pw", "-X", "POST", "-H", "Content-Type: text/calendar", "--data-binary", freebusy],
        "/dav/calendars/ann@corp.test/outbox/",
    );
    assert!(
        code == 200 && answer.contains("FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270112T140000Z/20270112T150000Z"),
        "{answer}"
    );
    assert!(answer.contains("3.7;Invalid calendar user") && !answer.contains("Budget"), "{answer}");

    // The outsider accepts by mail (as their calendar program writes a REPLY); the
    // organiser's copy says so.
    let reply_from = |attendee: &str, partstat: &str| {
        format!(
            "From: Zoe <zoe@partner.example>\r\nTo: ann@corp.test\r\nSubject: Accepted: Budget 2027\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n\
             BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n\
             UID:budget-2027@corp.test\r\nDTSTAMP:20261202T080000Z\r\nDTSTART:20270112T140000Z\r\n\
             ORGANIZER:mailto:ann@corp.test\r\nATTENDEE;PARTSTAT={partstat}:mailto:{attendee}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let reply = reply_from("zoe@partner.example", "ACCEPTED");
    let mut s = mailroom_tests::Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO partner.example", "250");
    s.expect("MAIL FROM:<zoe@partner.example>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.send(reply.replace("\r\n.", "\r\n..").as_bytes());
    s.expect(".", "250");
    let mut ann = String::new();
    for _ in 0..50 {
        ann = system_python(MEETING_CLIENT, &[&url, "ann@corp.test", "ann-pw", "show", "zoe@partner.example"]);
        if ann.contains("partstat ACCEPTED") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(ann.contains("partstat ACCEPTED"), "{ann}");

    // A reply claiming to be the colleague's, from the outsider, changes nothing.
    let forged = reply_from("bob@corp.test", "DECLINED");
    let mut s = mailroom_tests::Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO partner.example", "250");
    s.expect("MAIL FROM:<zoe@partner.example>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.send(forged.replace("\r\n.", "\r\n..").as_bytes());
    s.expect(".", "250");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ann = system_python(MEETING_CLIENT, &[&url, "ann@corp.test", "ann-pw", "show", "bob@corp.test"]);
    assert!(ann.contains("partstat NEEDS-ACTION"), "{ann}");
}

/// Calendars shared with a person, through Python's caldav: `list` prints the
/// calendars the person finds (theirs and those shared with them), `add URL N`
/// saves event N in the calendar at URL (or says it was refused), `count URL` how
/// many events that calendar holds.
const SHARING_CLIENT: &str = r#"
import caldav, sys, warnings
warnings.simplefilter("ignore")
url, user, password, step = sys.argv[1:5]
client = caldav.DAVClient(url=url, username=user, password=password, ssl_verify_cert=False)
if step == "list":
    for cal in sorted(client.principal().calendars(), key=lambda c: c.get_display_name()):
        print(cal.get_display_name(), cal.url.path.replace("%40", "@"))
elif step == "add":
    cal = caldav.Calendar(client=client, url=sys.argv[5])
    try:
        n = sys.argv[6]
        cal.save_event(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailroom tests//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:shared-{n}\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20270301T09000{n}Z\r\n"
            f"SUMMARY:Event {n}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        print("saved")
    except Exception as e:
        print("refused", type(e).__name__)
elif step == "count":
    print(len(caldav.Calendar(client=client, url=sys.argv[5]).events()))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_rooms_calendar_is_its_members_and_a_calendar_shared_read_only_cannot_be_written() {
    require_python(&["caldav"], "python3-caldav");
    let (d, https) = service().await;
    d.add_mailbox("carol@corp.test", "carol-pw");
    d.ctl_ok(&["mailbox", "share", "room@corp.test", "--name", "Board Room"]);
    let url = format!("https://{https}/");
    let run = |who: &str, args: &[&str]| {
        let password = format!("{}-pw", who.split('@').next().unwrap_or_default());
        let mut all = vec![url.as_str(), who, password.as_str()];
        all.extend_from_slice(args);
        system_python(SHARING_CLIENT, &all)
    };
    let rooms = "/dav/calendars/room@corp.test/calendar/";
    let anns = "/dav/calendars/ann@corp.test/calendar/";

    // Nothing shared yet: each finds their own calendar only.
    assert_eq!(run("bob@corp.test", &["list"]).trim(), "Calendar /dav/calendars/bob@corp.test/calendar/");

    // Ann is an editor of the room: its calendar is beside hers, and she books it.
    let granted = d.ctl_ok(&["mailbox", "permissions", "room@corp.test", "ann@corp.test", "editor"]);
    assert!(granted.contains("ann@corp.test"), "{granted}");
    let listed = run("ann@corp.test", &["list"]);
    assert!(listed.lines().any(|l| l == format!("Calendar (room@corp.test) {rooms}")), "{listed}");
    assert_eq!(run("ann@corp.test", &["add", &format!("{url}{}", &rooms[1..]), "1"]).trim(), "saved");
    assert_eq!(run("ann@corp.test", &["count", &format!("{url}{}", &rooms[1..])]).trim(), "1");

    // Bob reads ann's calendar (and nothing else of hers), but cannot write to it.
    assert_eq!(run("ann@corp.test", &["add", &format!("{url}{}", &anns[1..]), "2"]).trim(), "saved");
    let shared =
        d.ctl_ok(&["mailbox", "permissions", "ann@corp.test", "bob@corp.test", "reviewer", "--calendar", "calendar"]);
    assert!(shared.contains("calendars/calendar") && shared.contains("Reviewer"), "{shared}");
    let listed = run("bob@corp.test", &["list"]);
    assert!(listed.lines().any(|l| l == format!("Calendar (ann@corp.test) {anns}")), "{listed}");
    assert_eq!(run("bob@corp.test", &["count", &format!("{url}{}", &anns[1..])]).trim(), "1");
    assert!(run("bob@corp.test", &["add", &format!("{url}{}", &anns[1..]), "3"]).starts_with("refused"));
    assert_eq!(run("ann@corp.test", &["count", &format!("{url}{}", &anns[1..])]).trim(), "1", "nothing written");
    let (status, _) = curl(
        https,
        &["-u", "bob@corp.test:bob-pw", "-X", "PROPFIND", "-H", "Depth: 1"],
        "/dav/addressbooks/ann@corp.test/contacts/",
    );
    assert_eq!(status, 403, "her address book is not shared");

    // Carol, given nothing, reaches nothing of ann's; a bad calendar name is refused.
    let (status, _) = curl(https, &["-u", "carol@corp.test:carol-pw", "-X", "PROPFIND", "-H", "Depth: 1"], anns);
    assert_eq!(status, 403);
    let refused =
        d.ctl(&["mailbox", "permissions", "ann@corp.test", "carol@corp.test", "reviewer", "--calendar", "nope"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("no calendar named nope"));

    // Taken away again: bob no longer finds it.
    d.ctl_ok(&["mailbox", "permissions", "ann@corp.test", "bob@corp.test", "none", "--calendar", "calendar"]);
    assert_eq!(run("bob@corp.test", &["list"]).trim(), "Calendar /dav/calendars/bob@corp.test/calendar/");

    // Ann shares her calendar herself, read-write, as Apple's Calendar asks
    // (CalendarServer sharing); bob writes to it; she stops sharing it.
    let share = |what: &str| {
        format!(
            r#"<?xml version="1.0"?><CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">{what}</CS:share>"#
        )
    };
    let ann = ["-u", "ann@corp.test:ann-pw", "-X", "POST", "-H", "Content-Type: application/xml", "--data-binary"];
    let set = share("<CS:set><D:href>mailto:bob@corp.test</D:href><CS:read-write/></CS:set>");
    let (code, _) = curl(https, &[&ann[..], &[set.as_str()]].concat(), anns);
    assert_eq!(code, 200);
    assert_eq!(run("bob@corp.test", &["add", &format!("{url}{}", &anns[1..]), "4"]).trim(), "saved");
    let (code, _) = curl(
        https,
        &[&ann[..], &[share("<CS:remove><D:href>mailto:bob@corp.test</D:href></CS:remove>").as_str()]].concat(),
        anns,
    );
    assert_eq!(code, 200);
    assert_eq!(run("bob@corp.test", &["list"]).trim(), "Calendar /dav/calendars/bob@corp.test/calendar/");
    // Nobody shares what is not theirs, nor with nobody.
    let bob = ["-u", "bob@corp.test:bob-pw", "-X", "POST", "-H", "Content-Type: application/xml", "--data-binary"];
    let (code, _) = curl(https, &[&bob[..], &[set.as_str()]].concat(), anns);
    assert_eq!(code, 403);
    let nobody = share("<CS:set><D:href>mailto:nobody@corp.test</D:href><CS:read/></CS:set>");
    let (code, said) = curl(https, &[&ann[..], &[nobody.as_str()]].concat(), anns);
    assert!(code == 403 && said.contains("valid-sharee"), "{code} {said}");
}

/// Two requests on one kept-alive HTTPS connection, the body of each sent a moment
/// after its headers (as a client's second TLS record may come): the first without a
/// login, the second with one. Prints each answer's status, or how the connection
/// failed.
const KEEP_ALIVE_CLIENT: &str = r#"
import base64, http.client, socket, ssl, sys, time
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, int(port))))
body = b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>'
for auth in [None, sys.argv[2]]:
    head = "PROPFIND /dav/ HTTP/1.1\r\nHost: x\r\nDepth: 0\r\nContent-Type: application/xml\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    if auth:
        head += "Authorization: Basic " + base64.b64encode(auth.encode()).decode() + "\r\n"
    try:
        s.sendall((head + "\r\n").encode())
        time.sleep(0.3)
        s.sendall(body)
        r = http.client.HTTPResponse(s)
        r.begin()
        r.read()
        print(r.status)
    except Exception as e:
        print(type(e).__name__)
        break
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_login_asked_for_before_the_body_came_leaves_the_connection_usable_for_the_next_request() {
    let (_d, https) = service().await;
    let said = system_python(KEEP_ALIVE_CLIENT, &[&https.to_string(), "ann@corp.test:ann-pw"]);
    assert_eq!(said.split_whitespace().collect::<Vec<_>>(), ["401", "207"], "{said}");
}

/// Counts what Python's icalendar reads in the file named by the first argument:
/// events, time zones, and the summaries.
const ICS_READER: &str = r#"
import icalendar, sys
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
print("events", len(cal.walk("VEVENT")))
print("zones", len(cal.walk("VTIMEZONE")))
print("summaries", "|".join(sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_calendar_and_an_address_book_go_in_from_files_and_out_again_the_same() {
    require_python(&["caldav", "icalendar"], "python3-caldav python3-icalendar");
    let (d, https) = service().await;
    let dir = d.dir.path();
    // An export as a calendar program writes one: a time zone, a weekly series with an
    // exception, and an event larger than a piece of the control protocol.
    let long = "x".repeat(70);
    let description: String = (0..9000).map(|i| format!("DESCRIPTION-LINE {i} {long}\\n")).collect();
    let folded: String = {
        let line = format!("DESCRIPTION:{description}");
        let mut out = String::new();
        for (i, chunk) in line.as_bytes().chunks(74).enumerate() {
            if i > 0 {
                out.push_str("\r\n ");
            }
            out.push_str(std::str::from_utf8(chunk).expect("ASCII"));
        }
        out
    };
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outlook//EN\r\nMETHOD:PUBLISH\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
         RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
         BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
         TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:standup\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270104T090000\r\n\
         DTEND;TZID=Europe/Paris:20270104T091500\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:standup\r\nDTSTAMP:20261201T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20270111T090000\r\n\
         DTSTART;TZID=Europe/Paris:20270111T100000\r\nDTEND;TZID=Europe/Paris:20270111T101500\r\n\
         SUMMARY:Stand-up (moved)\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:offsite\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20270120T080000Z\r\n\
         DTEND:20270120T170000Z\r\nSUMMARY:Offsite\r\n{folded}\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    assert!(ics.len() > 600 * 1024, "larger than one piece: {}", ics.len());
    let file = dir.join("outlook.ics");
    std::fs::write(&file, &ics).expect("write");
    let f = file.display().to_string();
    let imported = d.ctl_ok(&["calendar", "import", "ann@corp.test", &f]);
    assert!(imported.starts_with("imported 2 "), "{imported}");
    // Again: nothing new.
    let again = d.ctl_ok(&["--json", "calendar", "import", "ann@corp.test", &f]);
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!((again["imported"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)), "{again}");

    // A calendar program sees the series expanded, the exception in its place.
    let out = system_python(CALDAV_CLIENT, &[&format!("https://{https}/"), "ann@corp.test", "ann-pw"]);
    assert!(!out.is_empty());
    let (code, found) = curl(
        https,
        &[
            "-u",
            "ann@corp.test:ann-pw",
            "-X",
            "REPORT",
            "-H",
            "Depth: 1",
            "--data-binary",
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data><c:expand start="20270110T000000Z" end="20270113T000000Z"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20270110T000000Z" end="20270113T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#,
        ],
        "/dav/calendars/ann@corp.test/calendar/",
    );
    assert!(code == 207 && found.contains("Stand-up (moved)") && found.contains("20270111T090000Z"), "{found}");

    // Out again: one calendar, its zone once, every event, as icalendar reads it.
    let out = dir.join("export.ics");
    let exported = d.ctl_ok(&["calendar", "export", "ann@corp.test", &out.display().to_string()]);
    assert!(exported.starts_with("exported 2 "), "{exported}");
    let read = system_python(ICS_READER, &[&out.display().to_string()]);
    assert!(
        read.contains("events 3\nzones 1\n") && read.contains("summaries Offsite|Stand-up|Stand-up (moved)"),
        "{read}"
    );
    let refused = d.ctl(&["calendar", "export", "ann@corp.test", &out.display().to_string()]);
    assert!(!refused.status.success(), "an existing file is not overwritten");

    // Contacts, into a new address book; a broken file is refused with why, and
    // nothing of it is stored.
    let vcf = dir.join("people.vcf");
    std::fs::write(&vcf, "BEGIN:VCARD\nVERSION:3.0\nUID:p1\nFN:Pat\nEMAIL:pat@partner.example\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nUID:p2\nFN:Sam\nEND:VCARD\n").expect("write");
    let imported = d.ctl_ok(&["contacts", "import", "ann@corp.test", &vcf.display().to_string(), "--into", "partners"]);
    assert!(imported.starts_with("imported 2 card(s) into the address book partners"), "{imported}");
    let (code, card) = curl(https, &["-u", "ann@corp.test:ann-pw"], "/dav/addressbooks/ann@corp.test/partners/p1.vcf");
    assert!(code == 200 && card.contains("FN:Pat"), "{code} {card}");
    let back = dir.join("back.vcf");
    d.ctl_ok(&["contacts", "export", "ann@corp.test", &back.display().to_string(), "--from", "partners"]);
    let text = std::fs::read_to_string(&back).expect("read");
    assert_eq!(text.matches("BEGIN:VCARD").count(), 2, "{text}");
    let broken = dir.join("broken.ics");
    std::fs::write(
        &broken,
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:b\nDTSTART:20270101T000000Z\nEND:VTODO\nEND:VCALENDAR\n",
    )
    .expect("write");
    let refused = d.ctl(&["calendar", "import", "ann@corp.test", &broken.display().to_string()]);
    assert!(!refused.status.success(), "{}", String::from_utf8_lossy(&refused.stdout));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("valid-calendar") || said.contains("iCalendar"), "{said}");
    let (_, listing) = curl(
        https,
        &["-u", "ann@corp.test:ann-pw", "-X", "PROPFIND", "-H", "Depth: 1"],
        "/dav/calendars/ann@corp.test/calendar/",
    );
    assert_eq!(listing.matches(".ics</d:href>").count(), 2, "nothing of the broken file: {listing}");
}
