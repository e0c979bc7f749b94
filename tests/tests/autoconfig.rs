//! Mail programs that set themselves up, against the real `mailroomd` over HTTPS:
//! Thunderbird's autoconfig, Microsoft's Autodiscover (v1 POX and the v2 JSON
//! endpoint) and Apple's profile, fetched with curl (HTTP/1.1 and HTTP/2) and read
//! with Python's XML and property-list parsers. They describe the listeners the run
//! really has, implicit TLS first, never port 25; they answer every address of a
//! domain kept here alike; bad requests get HTTP's errors.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::process::Command;

use mailroom_tests::{Daemon, python, require};

/// A fetch's status code, HTTP version and body.
struct Fetched {
    code: u16,
    version: String,
    body: String,
    /// The response's header lines, lower-cased.
    headers: String,
}

/// Fetches `path` from the HTTPS listener at `addr` with curl; `extra` are curl's own
/// arguments (`--http2`, `-d`, `-u`…).
fn fetch(addr: std::net::SocketAddr, path: &str, extra: &[&str]) -> Fetched {
    let dir = tempfile::tempdir().expect("tempdir");
    let headers = dir.path().join("headers");
    let out = Command::new("curl")
        .args(["-sS", "-k", "--max-time", "20", "-D"])
        .arg(&headers)
        .args(["-w", "\n%{http_code} %{http_version}"])
        .args(extra)
        .arg(format!("https://{addr}{path}"))
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {path}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, tail) = text.rsplit_once('\n').expect("curl's -w line");
    let (code, version) = tail.split_once(' ').expect("code and version");
    Fetched {
        code: code.parse().expect("status code"),
        version: version.to_owned(),
        body: body.to_owned(),
        // Lower-cased: HTTP/2 sends them so.
        headers: std::fs::read_to_string(headers).unwrap_or_default().to_ascii_lowercase(),
    }
}

/// Ann's service for corp.test with IMAP (plain and TLS), POP3, submission on 465
/// and 587, and HTTPS.
async fn service() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "host-name", "mail.corp.test"]);
    for (setting, addr) in [
        ("imaps-listen", "127.0.0.1:0"),
        ("pop3s-listen", "127.0.0.1:0"),
        ("submissions-listen", "127.0.0.1:0"),
        ("submission-listen", "127.0.0.1:0"),
        ("https-listen", "127.0.0.1:0"),
    ] {
        d.ctl_ok(&["set", setting, addr]);
    }
    d.ctl_ok(&["restart"]);
    d
}

/// The address a listener of `protocol` (as status names it) is bound to.
async fn bound(d: &Daemon, protocol: &str) -> std::net::SocketAddr {
    let status = d.status().await;
    let l = status.listeners.iter().find(|l| l.protocol == protocol);
    l.unwrap_or_else(|| panic!("no {protocol} listener in {:?}", status.listeners)).address.parse().expect("address")
}

#[tokio::test(flavor = "multi_thread")]
async fn thunderbird_autoconfig_lists_the_open_listeners_tls_first_and_never_port_25() {
    require("curl", "curl");
    let d = service().await;
    let https = bound(&d, "HTTPS").await;
    let (imaps, imap) = (bound(&d, "IMAP4 over TLS (imaps)").await, d.imap_addr().await);
    let (pop3s, pop3) = (bound(&d, "POP3 over TLS (pop3s)").await, d.pop3_addr().await);
    let (smtps, submission) = (bound(&d, "SMTP over TLS (submissions)").await, bound(&d, "SMTP submission").await);

    for path in [
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann%40corp.test",
        "/mail/config-v1.1.xml?emailaddress=ann@corp.test",
    ] {
        let got = fetch(https, path, &[]);
        assert_eq!(got.code, 200, "{path}: {}", got.body);
        assert!(got.headers.contains("content-type: text/xml"), "{}", got.headers);
        // Read as Thunderbird does: the servers in order, with their socket types.
        let (ok, out, err) = python(
            "import sys, xml.etree.ElementTree as E\n\
             p = E.fromstring(sys.argv[1]).find('emailProvider')\n\
             print(p.get('id'), [d.text for d in p.findall('domain')])\n\
             for s in p.findall('incomingServer') + p.findall('outgoingServer'):\n\
             \x20   print(s.get('type'), s.findtext('hostname'), s.findtext('port'), s.findtext('socketType'), s.findtext('username'), s.findtext('authentication'))",
            &[&got.body],
        );
        assert!(ok, "{err}");
        let expected = format!(
            "corp.test ['corp.test']\n\
             imap mail.corp.test {} SSL %EMAILADDRESS% password-cleartext\n\
             imap mail.corp.test {} STARTTLS %EMAILADDRESS% password-cleartext\n\
             pop3 mail.corp.test {} SSL %EMAILADDRESS% password-cleartext\n\
             pop3 mail.corp.test {} STARTTLS %EMAILADDRESS% password-cleartext\n\
             smtp mail.corp.test {} SSL %EMAILADDRESS% password-cleartext\n\
             smtp mail.corp.test {} STARTTLS %EMAILADDRESS% password-cleartext\n",
            imaps.port(),
            imap.port(),
            pop3s.port(),
            pop3.port(),
            smtps.port(),
            submission.port(),
        );
        assert_eq!(out, expected);
        assert!(
            !got.body.contains(&format!("<port>{}</port>", d.smtp_addr().await.port())),
            "port 25's listener is not offered"
        );
    }

    // The same answer for an address that has no mailbox: nothing tells who exists.
    let ann = fetch(https, "/mail/config-v1.1.xml?emailaddress=ann@corp.test", &[]);
    let nobody = fetch(https, "/mail/config-v1.1.xml?emailaddress=nobody@corp.test", &[]);
    assert_eq!(ann.body, nobody.body);
    // Over HTTP/2 as well (ALPN).
    let h2 = fetch(https, "/mail/config-v1.1.xml?emailaddress=ann@corp.test", &["--http2"]);
    assert_eq!((h2.code, h2.version.as_str()), (200, "2"), "{}", h2.body);
    assert_eq!(h2.body, ann.body);

    // Bad requests: a domain not kept here, not an address, another method, nowhere.
    assert_eq!(fetch(https, "/mail/config-v1.1.xml?emailaddress=x@elsewhere.test", &[]).code, 404);
    assert_eq!(fetch(https, "/mail/config-v1.1.xml?emailaddress=not-an-address", &[]).code, 400);
    let post = fetch(https, "/mail/config-v1.1.xml", &["-d", "x"]);
    assert_eq!(post.code, 405);
    assert!(post.headers.contains("allow: get"), "{}", post.headers);
    assert_eq!(fetch(https, "/nothing", &[]).code, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn outlook_autodiscover_answers_v1_and_points_v2_at_it() {
    require("curl", "curl");
    let d = service().await;
    let https = bound(&d, "HTTPS").await;
    let imaps = bound(&d, "IMAP4 over TLS (imaps)").await;
    let submission = bound(&d, "SMTP submission").await;
    let request = |address: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
             <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
             <Request><EMailAddress>{address}</EMailAddress>\
             <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\
             </Request></Autodiscover>"
        )
    };
    let post = |path: &str, body: &str| fetch(https, path, &["-H", "Content-Type: text/xml", "--data-binary", body]);

    let got = post("/Autodiscover/Autodiscover.xml", &request("ann@corp.test"));
    assert_eq!(got.code, 200, "{}", got.body);
    let (ok, out, err) = python(
        "import sys, xml.etree.ElementTree as E\n\
         ns = {'r': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}\n\
         root = E.fromstring(sys.argv[1])\n\
         assert root.tag == '{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}Autodiscover', root.tag\n\
         a = root.find('r:Response/r:Account', ns)\n\
         print(a.findtext('r:AccountType', namespaces=ns), a.findtext('r:Action', namespaces=ns))\n\
         for p in a.findall('r:Protocol', ns):\n\
         \x20   f = lambda k: p.findtext('r:' + k, namespaces=ns)\n\
         \x20   print(f('Type'), f('Server'), f('Port'), f('LoginName'), f('SSL'), f('Encryption'))",
        &[&got.body],
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "email settings");
    assert_eq!(lines[1], format!("IMAP mail.corp.test {} ann@corp.test on SSL", imaps.port()));
    assert!(
        lines.contains(&format!("SMTP mail.corp.test {} ann@corp.test on TLS", submission.port()).as_str()),
        "{out}"
    );

    // An address without a mailbox gets the same settings, with its own login.
    let other = post("/autodiscover/autodiscover.xml", &request("nobody@corp.test"));
    assert_eq!(other.body.replace("nobody@", "ann@"), got.body);
    // Not a request, or another domain: Exchange's error 600; another schema: 601.
    for body in ["<<<", &request("ann@elsewhere.test")] {
        let bad = post("/autodiscover/autodiscover.xml", body);
        assert!(bad.code == 200 && bad.body.contains("<ErrorCode>600</ErrorCode>"), "{}", bad.body);
    }
    let mobile = request("ann@corp.test").replace("outlook/responseschema/2006a", "mobilesync/responseschema/2006");
    assert!(post("/autodiscover/autodiscover.xml", &mobile).body.contains("<ErrorCode>601</ErrorCode>"));
    // Too big a body, and the wrong method.
    let huge = "x".repeat(100_000);
    assert_eq!(post("/autodiscover/autodiscover.xml", &huge).code, 413);
    assert_eq!(fetch(https, "/autodiscover/autodiscover.xml", &[]).code, 405);

    // v2: where v1 is, for the address in the path or as Email=.
    for path in [
        "/autodiscover/autodiscover.json/v1.0/ann@corp.test?Protocol=AutodiscoverV1",
        "/autodiscover/autodiscover.json?Email=ann%40corp.test&Protocol=autodiscoverv1",
    ] {
        let v2 = fetch(https, path, &[]);
        assert_eq!(v2.code, 200, "{path}: {}", v2.body);
        let json: serde_json::Value = serde_json::from_str(&v2.body).expect("JSON");
        assert_eq!(json["Protocol"], "AutodiscoverV1");
        assert_eq!(json["Url"], format!("https://mail.corp.test:{}/autodiscover/autodiscover.xml", https.port()));
    }
    let eas = fetch(https, "/autodiscover/autodiscover.json/v1.0/ann@corp.test?Protocol=ActiveSync", &[]);
    assert_eq!(eas.code, 400);
    assert!(eas.body.contains("InvalidProtocol"), "{}", eas.body);
    assert_eq!(
        fetch(https, "/autodiscover/autodiscover.json/v1.0/ann@elsewhere.test?Protocol=AutodiscoverV1", &[]).code,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apple_profile_is_given_after_a_login_and_refused_alike_without_one() {
    require("curl", "curl");
    let d = service().await;
    let https = bound(&d, "HTTPS").await;
    let imaps = bound(&d, "IMAP4 over TLS (imaps)").await;
    let smtps = bound(&d, "SMTP over TLS (submissions)").await;

    let anonymous = fetch(https, "/mobileconfig", &[]);
    assert_eq!(anonymous.code, 401);
    assert!(anonymous.headers.contains("www-authenticate: basic realm=\"mailroom\""), "{}", anonymous.headers);
    let wrong = fetch(https, "/mobileconfig", &["-u", "ann@corp.test:wrong"]);
    let unknown = fetch(https, "/mobileconfig", &["-u", "nobody@corp.test:wrong"]);
    assert_eq!((wrong.code, unknown.code), (401, 401));
    assert_eq!(wrong.body, unknown.body, "a wrong password and an unknown account are refused alike");

    let got = fetch(https, "/mobileconfig", &["-u", "ann@corp.test:ann-pw"]);
    assert_eq!(got.code, 200, "{}", got.body);
    assert!(got.headers.contains("application/x-apple-aspen-config"), "{}", got.headers);
    let (ok, out, err) = python(
        "import sys, plistlib\n\
         p = plistlib.loads(sys.argv[1].encode())\n\
         assert p['PayloadType'] == 'Configuration' and p['PayloadVersion'] == 1, p\n\
         m = p['PayloadContent'][0]\n\
         print(m['PayloadType'], m['EmailAccountType'], m['EmailAddress'])\n\
         print(m['IncomingMailServerHostName'], m['IncomingMailServerPortNumber'], m['IncomingMailServerUseSSL'], m['IncomingMailServerUsername'])\n\
         print(m['OutgoingMailServerHostName'], m['OutgoingMailServerPortNumber'], m['OutgoingMailServerUseSSL'], m['OutgoingMailServerUsername'])\n\
         print('IncomingPassword' in m, p['PayloadUUID'] != m['PayloadUUID'])",
        &[&got.body],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!(
            "com.apple.mail.managed EmailTypeIMAP ann@corp.test\n\
             mail.corp.test {} True ann@corp.test\n\
             mail.corp.test {} True ann@corp.test\n\
             False True\n",
            imaps.port(),
            smtps.port()
        ),
        "no password is put in the profile"
    );
    // The same profile again (installing it again replaces the first).
    assert_eq!(fetch(https, "/mobileconfig", &["-u", "ann@corp.test:ann-pw"]).body, got.body);

    // Logins here go through the throttle mail logins do: ten wrong guesses at once
    // (for ten accounts) lock the address out, and then even the right password is
    // turned away, with a time to come back.
    let script = r#"
import base64, ssl, sys, threading, urllib.error, urllib.request
url = sys.argv[1]; codes = []
ctx = ssl._create_unverified_context()
def guess(i):
    auth = base64.b64encode(f"user{i}@corp.test:guess".encode()).decode()
    req = urllib.request.Request(url, headers={"Authorization": "Basic " + auth})
    try:
        urllib.request.urlopen(req, context=ctx, timeout=60)
        codes.append(200)
    except urllib.error.HTTPError as e:
        codes.append(e.code)
threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
[t.start() for t in threads]; [t.join() for t in threads]
print(sorted(codes))
"#;
    let (ok, out, err) = python(script, &[&format!("https://{https}/mobileconfig")]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), format!("[{}]", ["401"; 10].join(", ")), "{out}");
    let locked = fetch(https, "/mobileconfig", &["-u", "ann@corp.test:ann-pw"]);
    assert_eq!(locked.code, 429, "{}", locked.body);
    assert!(locked.headers.contains("retry-after:"), "{}", locked.headers);
    assert!(d.ctl_ok(&["lockouts"]).contains("127.0.0.1"), "the lock-out is the service's, listed with the others");
}
