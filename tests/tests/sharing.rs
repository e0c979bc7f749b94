//! Sharing mail end to end, with the real `mailroomd` and `mailroomctl` and real IMAP
//! clients: a shared mailbox (info@) its members reach under "Other Users" with their
//! own read state and the rights their role gives, access taken away at once (an open
//! session's next command, an IDLE), a person sharing their own folder from their
//! mail program (SETACL), mbsync syncing a shared folder; and Send As and Send On
//! Behalf Of on submission.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use mailroom_tests::{Daemon, python, require};

/// bob and carol, and info@ shared with them: bob a Reviewer, carol an Editor.
async fn office() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("bob@corp.test", "bob-pw");
    d.add_mailbox("carol@corp.test", "carol-pw");
    let out = d.ctl_ok(&["mailbox", "share", "info@corp.test", "--name", "Info"]);
    assert!(out.contains("info@corp.test"), "{out}");
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "bob@corp.test", "reviewer"]);
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "carol@corp.test", "editor"]);
    d
}

/// Python helpers: `login(user)` gives an imaplib session; `raw(user)` a raw socket
/// session with `cmd(tag, line)` and `line()`; `send(subject)` mails info@ over SMTP.
const HELPERS: &str = r#"
import imaplib, smtplib, socket, sys, time
host, imap, smtp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def login(user):
    M = imaplib.IMAP4(host, imap)
    M.login(user + "@corp.test", user + "-pw")
    return M
def raw(user):
    s = socket.create_connection((host, imap))
    s.settimeout(10)
    f = s.makefile("rb")
    f.readline()
    def cmd(tag, line):
        s.sendall(tag + b" " + line + b"\r\n")
        out = []
        while True:
            l = f.readline()
            out.append(l)
            if l.startswith(tag + b" ") or not l:
                return out
    cmd(b"l", b"LOGIN " + user.encode() + b"@corp.test " + user.encode() + b"-pw")
    return s, f, cmd
def send(subject, to="info@corp.test"):
    with smtplib.SMTP(host, smtp) as c:
        c.sendmail("far@outside.test", [to], f"Subject: {subject}\r\n\r\nbody of {subject}\r\n")
INFO = '"Other Users/info/INBOX"'
"#;

async fn run(d: &Daemon, body: &str) -> String {
    let (imap, smtp) = (d.imap_addr().await, d.smtp_addr().await);
    let script = format!("{HELPERS}\n{body}\nprint('ok')\n");
    let (ok, out, err) = python(&script, &[&imap.ip().to_string(), &imap.port().to_string(), &smtp.port().to_string()]);
    assert!(ok && out.contains("ok"), "{out}{err}");
    out
}

/// Mail to info@ wakes an IDLE of each member; bob sees `Other Users/info/INBOX` in
/// NAMESPACE and LIST, reads with his own `\Seen` (carol's stays unread), and as a
/// Reviewer cannot delete or expunge (`NO [NOPERM]`); nobody logs in as info@.
#[tokio::test(flavor = "multi_thread")]
async fn members_of_a_shared_mailbox_read_it_with_their_own_seen_and_their_roles_rights() {
    let d = office().await;
    run(
        &d,
        r#"
# Nobody logs in as the shared mailbox.
try:
    imaplib.IMAP4(host, imap).login("info@corp.test", "")
    raise SystemExit("logged in as info@")
except imaplib.IMAP4.error:
    pass

# Each member IDLEs on info@'s INBOX; one message over SMTP wakes both.
idlers = []
for user in ["bob", "carol"]:
    s, f, cmd = raw(user)
    assert cmd(b"s", b"SELECT " + INFO.encode())[-1].startswith(b"s OK"), user
    s.sendall(b"i IDLE\r\n")
    assert f.readline().startswith(b"+")
    idlers.append((s, f))
send("first")
for s, f in idlers:
    line = f.readline()
    assert line == b"* 1 EXISTS\r\n", line
    s.sendall(b"DONE\r\n")

bob = login("bob")
typ, ns = bob.namespace()
assert b'(("Other Users/" "/"))' in ns[0], ns
typ, listed = bob.list()
names = b"".join(listed)
assert b'"Other Users/info/INBOX"' in names and b'"Other Users/info/Sent"' in names, listed
assert b"\\Noselect" in [l for l in listed if l.endswith(b'"Other Users"')][0], listed
typ, rights = bob.myrights(INFO)
assert rights[0].endswith(b" lrs"), rights

# bob reads: his \Seen, not carol's.
typ, data = bob.select(INFO)
assert data == [b"1"], data
bob.fetch("1", "(BODY[])")
typ, flags = bob.fetch("1", "(FLAGS)")
assert b"\\Seen" in flags[0], flags
carol = login("carol")
carol.select(INFO, readonly=True)
typ, flags = carol.fetch("1", "(FLAGS)")
assert b"\\Seen" not in flags[0], flags
typ, status = carol.status(INFO, "(UNSEEN MESSAGES)")
assert b"UNSEEN 1" in status[0], status
typ, status = bob.status(INFO, "(UNSEEN)")
assert b"UNSEEN 0" in status[0], status

# A Reviewer neither deletes nor expunges.
typ, data = bob.store("1", "+FLAGS", "(\\Deleted)")
assert typ == "NO" and b"NOPERM" in data[0], (typ, data)
typ, data = bob.expunge()
assert typ == "NO" and b"NOPERM" in data[0], (typ, data)
# An editor does.
carol.select(INFO)
carol.store("1", "+FLAGS", "(\\Deleted)")
typ, gone = carol.expunge()
assert gone == [b"1"], gone
"#,
    )
    .await;
}

/// Taking bob's rights away ends his access at once: his open session's next command
/// is refused, and carol's IDLE ends with a BYE the moment hers go.
#[tokio::test(flavor = "multi_thread")]
async fn access_taken_away_ends_open_sessions_at_their_next_command_and_in_idle() {
    let d = office().await;
    let (imap, smtp) = (d.imap_addr().await, d.smtp_addr().await);
    let script = format!(
        "{HELPERS}\n{}",
        r#"
send("before")
s, f, cmd = raw("bob")
assert cmd(b"s", b"SELECT " + INFO.encode())[-1].startswith(b"s OK")
cs, cf, ccmd = raw("carol")
assert ccmd(b"s", b"SELECT " + INFO.encode())[-1].startswith(b"s OK")
cs.sendall(b"i IDLE\r\n")
assert cf.readline().startswith(b"+")
print("ready", flush=True)
sys.stdin.readline()
out = cmd(b"f", b"FETCH 1 (FLAGS)")
assert out[-1].startswith(b"f NO [NOPERM]"), out
assert not any(l.startswith(b"* 1 FETCH") for l in out), out
out = cmd(b"l", b'LIST "" "*"')
assert not any(b"Other Users" in l for l in out), out
print("bob-done", flush=True)
sys.stdin.readline()
line = cf.readline()
assert line.startswith(b"* BYE"), line
print("ok")
"#
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script, &imap.ip().to_string(), &imap.port().to_string(), &smtp.port().to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::{BufRead, Write};
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "bob@corp.test", "none"]);
    writeln!(stdin).expect("go on");
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("bob-done"));
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "carol@corp.test", "none"]);
    writeln!(stdin).expect("go on");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success() && rest.iter().any(|l| l == "ok"), "{rest:?}{}", String::from_utf8_lossy(&out.stderr));
    let listed = d.ctl_ok(&["mailbox", "permissions", "info@corp.test"]);
    assert!(listed.contains("Nobody has been given rights"), "{listed}");
}

/// bob shares his own folder with carol from his mail program (SETACL): she sees it
/// under Other Users, and GETACL, LISTRIGHTS and DELETEACL behave; LIST RETURN
/// (MYRIGHTS) gives each folder's rights.
#[tokio::test(flavor = "multi_thread")]
async fn a_person_shares_their_own_folder_with_setacl() {
    let d = office().await;
    run(
        &d,
        r#"
bob = login("bob")
bob.create("Projects")
bob.append("Projects", None, None, b"Subject: plan\r\n\r\nthe plan\r\n")
carol = login("carol")
typ, listed = carol.list('""', '"Other Users/bob/*"')
assert listed == [None], listed
typ, data = bob.setacl("Projects", "carol@corp.test", "lr")
assert typ == "OK", data
typ, acl = bob.getacl("Projects")
assert b'"carol@corp.test" lr' in acl[0] and b'"bob@corp.test" lrswipkxtea' in acl[0], acl
imaplib.Commands["LISTRIGHTS"] = ("AUTH", "SELECTED")
typ, data = bob._simple_command("LISTRIGHTS", "Projects", "carol@corp.test")
lr = bob.untagged_responses.pop("LISTRIGHTS", [])
assert typ == "OK" and lr == [b'"Projects" "carol@corp.test" "" l r s w i p k x t e a'], lr
typ, listed = carol.list('""', '"Other Users/bob/*"')
assert listed == [b'(\\HasNoChildren) "/" "Other Users/bob/Projects"'], listed
typ, data = carol.select('"Other Users/bob/Projects"', readonly=True)
assert data == [b"1"], data
typ, body = carol.fetch("1", "(BODY.PEEK[TEXT])")
assert b"the plan" in body[0][1], body
# carol may not administer, nor add.
typ, data = carol.getacl('"Other Users/bob/Projects"')
assert typ == "NO" and b"NOPERM" in data[0], data
typ, data = carol.append('"Other Users/bob/Projects"', None, None, b"Subject: x\r\n\r\nx\r\n")
assert typ == "NO" and b"NOPERM" in data[0], data
# LIST RETURN (MYRIGHTS) (RFC 8440).
typ, data = carol._simple_command("LIST", '""', '"Other Users/bob/*"', "RETURN", "(MYRIGHTS)")
assert typ == "OK", data
rights = carol.untagged_responses.pop("MYRIGHTS", [])
carol.untagged_responses.pop("LIST", None)
assert rights == [b'"Other Users/bob/Projects" lr'], rights
# Making a folder under it takes the create right, and the new one has its rights.
typ, data = carol.create('"Other Users/bob/Projects/Notes"')
assert typ == "NO" and b"NOPERM" in data[0], data
bob.setacl("Projects", "carol@corp.test", "lrk")
typ, data = carol.create('"Other Users/bob/Projects/Notes"')
assert typ == "OK", data
typ, listed = carol.list('""', '"Other Users/bob/Projects/*"')
assert listed == [b'(\\HasNoChildren) "/" "Other Users/bob/Projects/Notes"'], listed
typ, listed = bob.list('""', '"Projects/*"')
assert listed[0].endswith(b' Projects/Notes'), listed
bob.deleteacl("Projects", "carol@corp.test")
# carol had it open: her next command closes it; then it is not there for her.
typ, data = carol.status('"Other Users/bob/Projects"', "(MESSAGES)")
assert typ == "NO" and b"NOPERM" in data[0] and b"no longer" in data[0], data
typ, data = carol.status('"Other Users/bob/Projects"', "(MESSAGES)")
assert typ == "NO" and b"NONEXISTENT" in data[0], data
typ, data = bob.setacl("Projects", "nobody@corp.test", "lr")
assert typ == "NO", data
"#,
    )
    .await;
}

/// mbsync, a real sync client, copies info@'s INBOX through bob's login.
#[tokio::test(flavor = "multi_thread")]
async fn mbsync_syncs_a_shared_folder() {
    require("mbsync", "isync");
    let d = office().await;
    run(&d, r#"send("for mbsync")"#).await;
    let imap = d.imap_addr().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("mail");
    // The near side's Maildir, made as a person would before a first sync.
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(local.join("info").join(sub)).expect("mail dir");
    }
    let config = format!(
        "IMAPAccount office\nHost {}\nPort {}\nUser bob@corp.test\nPass bob-pw\nSSLType None\nAuthMechs LOGIN\n\n\
         IMAPStore remote\nAccount office\n\n\
         MaildirStore local\nPath {}/\nInbox {}/inbox\nSubFolders Verbatim\n\n\
         Channel shared\nFar \":remote:Other Users/info/INBOX\"\nNear :local:info\nSync Pull\nSyncState *\n",
        imap.ip(),
        imap.port(),
        local.display(),
        local.display()
    );
    let rc = dir.path().join("mbsyncrc");
    std::fs::write(&rc, config).expect("config");
    let out = std::process::Command::new("mbsync")
        .args(["-c", rc.to_str().expect("utf-8"), "shared"])
        .output()
        .expect("mbsync");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let new = local.join("info").join("new");
    let cur = local.join("info").join("cur");
    let files: Vec<_> =
        [new, cur].iter().filter_map(|p| std::fs::read_dir(p).ok()).flatten().filter_map(Result::ok).collect();
    assert_eq!(files.len(), 1, "one message synced");
    let text = std::fs::read_to_string(files[0].path()).expect("message");
    assert!(text.contains("body of for mbsync"), "{text}");
}

/// swaks through submission (STARTTLS, a login) as `user`, with `extra` arguments;
/// whether it was accepted, and what swaks said.
fn submit(addr: std::net::SocketAddr, user: &str, extra: &[&str]) -> (bool, String) {
    mailroom_tests::require_swaks_tls();
    let out = std::process::Command::new("swaks")
        .args(["--server", &addr.ip().to_string(), "--port", &addr.port().to_string(), "--tls"])
        .args([
            "--auth",
            "PLAIN",
            "--auth-user",
            &format!("{user}@corp.test"),
            "--auth-password",
            &format!("{user}-pw"),
        ])
        .args(["--to", "carol@corp.test", "--body", "sent for the office"])
        .args(extra)
        .output()
        .expect("swaks");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// On submission, bob with Send On Behalf Of on info@ sends `From: info@` and the
/// message arrives with `Sender: bob@` added; carol with Send As sends as info@ with no
/// Sender:; without either right — in the envelope or only in the header — `553
/// 5.7.1` naming them; message tracking names who really sent.
#[tokio::test(flavor = "multi_thread")]
async fn send_as_and_on_behalf_of_a_shared_mailbox_on_submission() {
    let d = office().await;
    d.ctl_ok(&["mailbox", "share", "sales@corp.test"]);
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "bob@corp.test", "reviewer", "--send-on-behalf"]);
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "carol@corp.test", "editor", "--send-as"]);
    let listed = d.ctl_ok(&["mailbox", "permissions", "info@corp.test"]);
    assert!(listed.contains("Send On Behalf Of") && listed.contains("Send As"), "{listed}");
    // The address tester explains a shared mailbox: who reads it, who sends for it.
    let explained = d.ctl_ok(&["test-address", "info@corp.test"]);
    assert!(
        explained.contains("shared mailbox info@corp.test")
            && explained.contains("bob@corp.test (Reviewer), carol@corp.test (Editor) read it under Other Users")
            && explained.contains("bob@corp.test, carol@corp.test may send for it"),
        "{explained}"
    );
    let explained = d.ctl_ok(&["test-address", "sales@corp.test"]);
    assert!(explained.contains("nobody has been given rights on it yet"), "{explained}");
    d.ctl_ok(&["set", "submission-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let addr: std::net::SocketAddr =
        d.status().await.submission_addr.expect("submission listens").parse().expect("address");

    let (ok, out) = submit(addr, "bob", &["--from", "info@corp.test", "--header", "Subject: on behalf"]);
    assert!(ok, "{out}");
    let (ok, out) = submit(addr, "carol", &["--from", "info@corp.test", "--header", "Subject: as info"]);
    assert!(ok, "{out}");
    let mail: Vec<String> =
        d.messages_of("carol@corp.test").iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
    let behalf = mail.iter().find(|m| m.contains("Subject: on behalf")).expect("on behalf delivered");
    assert!(behalf.contains("Sender: <bob@corp.test>\r\n") && behalf.contains("From: info@corp.test"), "{behalf}");
    let as_info = mail.iter().find(|m| m.contains("Subject: as info")).expect("send as delivered");
    assert!(!as_info.contains("Sender:") && as_info.contains("From: info@corp.test"), "{as_info}");

    // Without a right: refused at MAIL FROM, or at DATA when only the header says so.
    let (ok, out) = submit(addr, "bob", &["--from", "sales@corp.test"]);
    assert!(!ok && out.contains("553 5.7.1") && out.contains("Send As or Send On Behalf Of"), "{out}");
    let (ok, out) = submit(addr, "bob", &["--from", "bob@corp.test", "--header", "From: sales@corp.test"]);
    assert!(!ok && out.contains("553 5.7.1 You do not have Send As or Send On Behalf Of permission"), "{out}");
    // Nor as another person's Sender:.
    let (ok, out) = submit(addr, "bob", &["--from", "info@corp.test", "--header", "Sender: carol@corp.test"]);
    assert!(!ok && out.contains("553 5.7.1 Sender: <carol@corp.test>"), "{out}");
    assert_eq!(d.messages_of("carol@corp.test").len(), 2, "nothing refused arrived");

    let tracked = d.ctl_ok(&["track", "--sender", "info@corp.test"]);
    assert!(tracked.contains("sent for info@corp.test by bob@corp.test"), "{tracked}");
    assert!(tracked.contains("sent for info@corp.test by carol@corp.test"), "{tracked}");
}

/// A public folder with an address receives mail over SMTP and is read over IMAP under
/// "Shared Folders" by everyone (the default), each with their own read state; with the
/// right taken from anyone and given to carol, bob sees nothing of it; at its size limit
/// mail to it is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_public_folder_with_an_address_is_read_by_everyone_with_the_right_and_by_nobody_else() {
    let d = office().await;
    let out = d.ctl_ok(&["folder", "public", "add", "Archive/Sales", "--address", "sales-archive@corp.test"]);
    assert!(out.contains("Archive/Sales") && out.contains("sales-archive@corp.test"), "{out}");
    let explained = d.ctl_ok(&["test-address", "sales-archive@corp.test"]);
    assert!(explained.contains("public folder Archive/Sales") && explained.contains("by everyone"), "{explained}");
    // An address belongs to one recipient.
    let taken = d.ctl(&["folder", "public", "add", "Other", "--address", "bob@corp.test"]);
    assert!(!taken.status.success() && String::from_utf8_lossy(&taken.stderr).contains("already belongs to a mailbox"));
    run(
        &d,
        r#"
send("archived", to="sales-archive@corp.test")
bob = login("bob")
typ, ns = bob.namespace()
assert b'(("Shared Folders/" "/"))' in ns[0], ns
typ, listed = bob.list('""', '"Shared Folders/*"')
assert b'"Shared Folders/Archive/Sales"' in b"".join(listed), listed
typ, data = bob.select('"Shared Folders/Archive/Sales"')
assert data == [b"1"], data
typ, body = bob.fetch("1", "(BODY[TEXT])")
assert b"body of archived" in body[0][1], body
carol = login("carol")
typ, status = carol.status('"Shared Folders/Archive/Sales"', "(MESSAGES UNSEEN)")
assert b"MESSAGES 1 UNSEEN 1" in status[0], status
# Everyone reads; nobody deletes.
typ, data = bob.store("1", "+FLAGS", "(\\Deleted)")
assert typ == "NO" and b"NOPERM" in data[0], data
"#,
    )
    .await;
    d.ctl_ok(&["folder", "public", "permissions", "Archive/Sales", "anyone", "none"]);
    d.ctl_ok(&["folder", "public", "permissions", "Archive/Sales", "carol@corp.test", "reviewer"]);
    let rights = d.ctl_ok(&["folder", "public", "permissions", "Archive/Sales"]);
    assert!(rights.contains("carol@corp.test") && !rights.contains("anyone"), "{rights}");
    run(
        &d,
        r#"
bob = login("bob")
typ, listed = bob.list('""', '"Shared Folders/*"')
assert not any(l and b"Sales" in l for l in listed), listed
typ, data = bob.status('"Shared Folders/Archive/Sales"', "(MESSAGES)")
assert typ == "NO" and b"NONEXISTENT" in data[0], data
carol = login("carol")
typ, data = carol.select('"Shared Folders/Archive/Sales"', readonly=True)
assert data == [b"1"], data
"#,
    )
    .await;
    // At its limit, mail to it is refused.
    d.ctl_ok(&["folder", "public", "set", "Archive/Sales", "--limit", "1"]);
    run(
        &d,
        r#"
big = "x" * 2000
with smtplib.SMTP(host, smtp) as c:
    c.sendmail("far@outside.test", ["sales-archive@corp.test"], f"Subject: big\r\n\r\n{big}\r\n")
try:
    send("refused", to="sales-archive@corp.test")
    raise SystemExit("a full public folder took mail")
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients["sales-archive@corp.test"]
    assert code == 552 and b"5.2.2" in text and b"is full" in text, e
"#,
    )
    .await;
    let listed = d.ctl_ok(&["folder", "public", "list"]);
    assert!(listed.contains("Archive/Sales") && listed.contains("1 KB"), "{listed}");
    d.ctl_ok(&["folder", "public", "remove", "Archive"]);
    assert!(d.ctl_ok(&["folder", "public", "list"]).contains("There are no public folders"));
}
