//! POP3 end to end: the real `mailroomd` against Python's poplib, curl's pop3:// and raw
//! bytes on a real socket.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Smtp, python, require};

async fn service() -> (Daemon, SocketAddr) {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let pop3 = d.status().await.pop3_addr.expect("POP3 bound").parse().expect("address");
    (d, pop3)
}

/// Delivers `n` messages to ann@corp.test over SMTP; message i has subject "msg i" and
/// a body line starting with a dot (so RETR must dot-stuff it).
async fn deliver(d: &Daemon, n: usize) {
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    for i in 1..=n {
        s.expect("MAIL FROM:<x@outside.test>", "250");
        s.expect("RCPT TO:<ann@corp.test>", "250");
        s.expect("DATA", "354");
        s.send(format!("Subject: msg {i}\r\n\r\n..dot line {i}\r\nend\r\n.\r\n").as_bytes());
        let r = s.reply();
        assert!(r.starts_with("250"), "{r}");
    }
    s.expect("QUIT", "221");
}

/// A raw POP3 connection.
struct Pop3 {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Pop3 {
    fn connect(addr: SocketAddr) -> Pop3 {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut p = Pop3 { r: BufReader::new(s.try_clone().expect("clone")), w: s };
        assert!(p.line().starts_with("+OK"));
        p
    }
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("read");
        l.trim_end_matches(['\r', '\n']).to_owned()
    }
    fn cmd(&mut self, c: &str) -> String {
        self.w.write_all(format!("{c}\r\n").as_bytes()).expect("write");
        self.line()
    }
    fn expect(&mut self, c: &str, want: &str) -> String {
        let r = self.cmd(c);
        assert!(r.starts_with(want), "{c:?} → {r:?}, expected {want:?}");
        r
    }
    fn multiline(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line();
            if l == "." {
                return lines;
            }
            lines.push(l);
        }
    }
    fn login(addr: SocketAddr) -> Pop3 {
        let mut p = Pop3::connect(addr);
        p.expect("USER ann@corp.test", "+OK");
        p.expect("PASS ann-pw", "+OK");
        p
    }
}

const POPLIB_SESSION: &str = r#"
import poplib, sys, json
p = poplib.POP3(sys.argv[1], int(sys.argv[2]), timeout=20)
p.user("ann@corp.test"); p.pass_("ann-pw")
count, octets = p.stat()
listing = [l.decode() for l in p.list()[1]]
uidls = [l.decode() for l in p.uidl()[1]]
retrieved = [b"\r\n".join(p.retr(i)[1]).decode() + "\r\n" for i in range(1, count + 1)]
top = [l.decode() for l in p.top(1, 0)[1]]
p.quit()
print(json.dumps({"count": count, "octets": octets, "list": listing, "uidl": uidls, "retr": retrieved, "top": top}))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn poplib_retrieves_byte_for_byte() {
    let (d, pop3) = service().await;
    deliver(&d, 3).await;
    let (ok, out, err) = python(POPLIB_SESSION, &[&pop3.ip().to_string(), &pop3.port().to_string()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let stored: Vec<Vec<u8>> = d.all_messages();
    assert_eq!(v["count"], 3);
    let total: usize = stored.iter().map(Vec::len).sum();
    assert_eq!(v["octets"].as_u64(), Some(total as u64), "STAT octets equal what RETR sends");
    for (i, content) in stored.iter().enumerate() {
        assert_eq!(v["list"][i].as_str(), Some(format!("{} {}", i + 1, content.len()).as_str()));
        let retrieved = v["retr"][i].as_str().expect("retr");
        assert_eq!(retrieved.as_bytes(), content.as_slice(), "RETR {} is byte-for-byte what was stored", i + 1);
        assert!(retrieved.starts_with("Return-Path: <x@outside.test>\r\nReceived: from c.test"), "{retrieved}");
        assert!(retrieved.ends_with(&format!("\r\n\r\n.dot line {}\r\nend\r\n", i + 1)), "unstuffed: {retrieved:?}");
    }
    let top = v["top"].as_array().expect("top");
    assert_eq!(top.last().and_then(|l| l.as_str()), Some(""), "TOP 1 0 ends with the blank line");
    assert!(top.iter().any(|l| l == "Subject: msg 1"));
    assert_eq!(v["uidl"].as_array().map(Vec::len), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_lists_retrieves_and_deletes() {
    require("curl", "curl");
    let (d, pop3) = service().await;
    deliver(&d, 2).await;
    let curl = |path: &str, extra: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "-u", "ann@corp.test:ann-pw"])
            .args(extra)
            .arg(format!("pop3://{pop3}/{path}"))
            .output()
            .expect("curl");
        assert!(out.status.success(), "curl {path} {extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = curl("", &[]);
    assert_eq!(list.lines().count(), 2, "{list}");
    let uidl = curl("", &["-X", "UIDL"]);
    assert!(uidl.contains("1 ") && uidl.contains("2 "), "{uidl}");
    let msg = curl("2", &[]);
    assert!(msg.contains("Subject: msg 2") && msg.contains(".dot line 2"), "{msg}");
    let top = curl("", &["-X", "TOP 1 0"]);
    assert!(top.contains("Subject: msg 1") && !top.contains("dot line"), "{top}");
    // -I: DELE has a one-line answer, so curl must not wait for a listing.
    curl("", &["-X", "DELE 1", "-I"]);
    let list = curl("", &[]);
    assert_eq!(list.lines().count(), 1, "DELE then QUIT (curl quits) deleted one: {list}");
    assert_eq!(d.count("SELECT COUNT(*) FROM tracking WHERE event = 'pop3_deleted'"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc1939_commands_and_errors() {
    let (d, pop3) = service().await;
    deliver(&d, 2).await;
    let mut p = Pop3::connect(pop3);
    p.expect("STAT", "-ERR");
    p.expect("PASS ann-pw", "-ERR");
    p.expect("FROB", "-ERR");
    p.expect(&format!("NOOP {}", "x".repeat(300)), "-ERR Line too long");
    p.expect("USER ann@corp.test", "+OK");
    p.expect("PASS wrong", "-ERR [AUTH]");
    p.expect("USER nobody@corp.test", "+OK");
    p.expect("PASS wrong", "-ERR [AUTH]");
    p.expect("USER ann@corp.test", "+OK");
    p.expect("PASS ann-pw", "+OK");
    p.expect("USER ann@corp.test", "-ERR");
    let stat = p.expect("STAT", "+OK 2 ");
    p.expect("LIST 3", "-ERR");
    p.expect("LIST 0", "-ERR");
    p.expect("RETR x", "-ERR");
    p.expect("DELE 1", "+OK");
    p.expect("DELE 1", "-ERR");
    p.expect("RETR 1", "-ERR");
    p.expect("TOP 1 0", "-ERR");
    p.expect("LIST 1", "-ERR");
    p.expect("UIDL 1", "-ERR");
    assert_eq!(p.cmd("STAT").split(' ').nth(1), Some("1"), "deleted messages leave STAT");
    p.expect("LIST", "+OK");
    assert_eq!(p.multiline(), ["2 ".to_owned() + &p_size(&d, 2)]);
    p.expect("RSET", "+OK");
    assert_eq!(p.cmd("STAT"), stat, "RSET brings it back");
    p.expect("NOOP", "+OK");
    p.expect("CAPA", "+OK");
    let caps = p.multiline();
    for c in ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER", "IMPLEMENTATION Mailroom"] {
        assert!(caps.iter().any(|l| l == c), "{c} missing from {caps:?}");
    }
    p.expect("QUIT", "+OK");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 2, "nothing was deleted");
}

fn p_size(d: &Daemon, uid: i64) -> String {
    d.db()
        .query_row("SELECT size FROM messages WHERE uid = ?1", [uid], |r| r.get::<_, i64>(0))
        .expect("size")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plain_initial_continuation_and_cancel() {
    let (_d, pop3) = service().await;
    let mut p = Pop3::connect(pop3);
    p.expect("AUTH", "+OK");
    assert_eq!(p.multiline(), ["PLAIN"]);
    p.expect("AUTH CRAM-MD5", "-ERR");
    assert_eq!(p.cmd("AUTH PLAIN"), "+ ");
    p.expect("*", "-ERR");
    assert_eq!(p.cmd("AUTH PLAIN"), "+ ");
    p.expect("AGFubkBjb3JwLnRlc3QAYW5uLXB3", "+OK"); // \0ann@corp.test\0ann-pw
    p.expect("QUIT", "+OK");
    let mut p = Pop3::connect(pop3);
    p.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "+OK");
    let mut q = Pop3::connect(pop3);
    q.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAeA==", "-ERR [AUTH]");
}

#[tokio::test(flavor = "multi_thread")]
async fn in_use_and_new_mail_during_a_session() {
    let (d, pop3) = service().await;
    deliver(&d, 1).await;
    let mut first = Pop3::login(pop3);
    let mut second = Pop3::connect(pop3);
    second.expect("USER ann@corp.test", "+OK");
    second.expect("PASS ann-pw", "-ERR [IN-USE]");
    deliver(&d, 1).await;
    assert!(first.cmd("STAT").starts_with("+OK 1 "), "new mail is not in this session's numbering");
    first.expect("QUIT", "+OK");
    std::thread::sleep(Duration::from_millis(100));
    let mut third = Pop3::login(pop3);
    assert!(third.cmd("STAT").starts_with("+OK 2 "), "it is in the next session");
}

#[tokio::test(flavor = "multi_thread")]
async fn dele_without_quit_keeps_the_message_and_uidls_are_stable() {
    let (d, pop3) = service().await;
    deliver(&d, 3).await;
    let uidls = |addr| {
        let mut p = Pop3::login(addr);
        p.expect("UIDL", "+OK");
        let u = p.multiline();
        p.expect("QUIT", "+OK");
        u
    };
    let before = uidls(pop3);
    assert_eq!(before.len(), 3);
    for l in &before {
        let uid = l.split(' ').nth(1).expect("uid");
        assert!((1..=70).contains(&uid.len()) && uid.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{uid}");
    }
    {
        let mut p = Pop3::login(pop3);
        p.expect("DELE 1", "+OK");
        p.expect("DELE 2", "+OK");
        // The connection drops without QUIT.
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(uidls(pop3), before, "a disconnect without QUIT deletes nothing");
    d.ctl_ok(&["restart"]);
    let pop3: SocketAddr = d.status().await.pop3_addr.expect("bound").parse().expect("addr");
    assert_eq!(uidls(pop3), before, "UIDLs survive a restart");
    {
        let mut p = Pop3::login(pop3);
        p.expect("DELE 2", "+OK");
        p.expect("QUIT", "+OK");
    }
    deliver(&d, 1).await;
    let after = uidls(pop3);
    assert_eq!(after.len(), 3);
    assert_eq!(after[0], before[0]);
    assert_eq!(after[1].split(' ').nth(1), before[2].split(' ').nth(1), "numbers shift, UIDs do not");
    assert!(!before.iter().any(|b| b.split(' ').nth(1) == after[2].split(' ').nth(1)), "a UID is never reused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_lets_sessions_finish_and_a_stop_closes_them_without_deleting() {
    let (d, pop3) = service().await;
    d.edit_config(|c| c["general"]["drain_timeout_secs"] = 2.into());
    d.ctl_ok(&["restart"]);
    deliver(&d, 2).await;

    // A restart: the session carries on under the old run, holding its mailbox…
    let mut p = Pop3::login(pop3);
    p.expect("DELE 1", "+OK");
    d.ctl_ok(&["restart"]);
    p.expect("STAT", "+OK 1 ");
    let mut q = Pop3::connect(pop3);
    q.expect("USER ann@corp.test", "+OK");
    q.expect("PASS ann-pw", "-ERR [IN-USE]");
    // …until the drain timeout ends it, deleting nothing.
    let t = Instant::now();
    let bye = p.line();
    assert!(bye.starts_with("-ERR [SYS/TEMP]"), "{bye}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 2);

    // A stop: idle sessions leave at once, deleting nothing.
    let mut p = Pop3::login(pop3);
    p.expect("DELE 1", "+OK");
    d.ctl_ok(&["stop"]);
    let bye = p.line();
    assert!(bye.starts_with("-ERR [SYS/TEMP]"), "{bye}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_slow_down() {
    let (_d, pop3) = service().await;
    let mut p = Pop3::connect(pop3);
    let mut elapsed = Vec::new();
    for _ in 0..3 {
        p.expect("USER ann@corp.test", "+OK");
        let t = Instant::now();
        p.expect("PASS guess", "-ERR [AUTH]");
        elapsed.push(t.elapsed());
    }
    assert!(elapsed[1] >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed[2] >= Duration::from_millis(1900), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clear_text_login_can_be_refused() {
    let (d, _) = service().await;
    d.edit_config(|c| c["pop3"]["plain_text_login"] = "never".into());
    d.ctl_ok(&["restart"]);
    let pop3: SocketAddr = d.status().await.pop3_addr.expect("bound").parse().expect("addr");
    let mut p = Pop3::connect(pop3);
    p.expect("CAPA", "+OK");
    let caps = p.multiline();
    assert!(!caps.iter().any(|c| c == "USER" || c.starts_with("SASL")), "{caps:?}");
    p.expect("USER ann@corp.test", "-ERR [AUTH]");
    p.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "-ERR [AUTH]");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_of_ten_thousand_messages() {
    let (d, pop3) = service().await;
    deliver(&d, 1).await;
    {
        // Fill the mailbox directly: 10,000 deliveries over SMTP would only slow the
        // suite down without testing anything more.
        let mut db = rusqlite::Connection::open(d.data_dir.join("mailroom.db")).expect("open");
        db.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
        // Immediate: the write lock is taken at once (waiting for the service's writer if
        // need be); a read that later upgrades fails at once when the service wrote meanwhile.
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("tx");
        // Copies of the first message: 10,000 rows sharing its content, as a message
        // sent to many would be stored.
        let (mailbox, folder, size, prefix, content): (i64, i64, i64, Vec<u8>, i64) = tx
            .query_row("SELECT mailbox_id, folder_id, size, prefix, content_id FROM messages", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .expect("row");
        for uid in 2..=10_000i64 {
            tx.execute(
                "INSERT INTO messages (mailbox_id, folder_id, uid, size, received_at, prefix, content_id)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                rusqlite::params![mailbox, folder, uid, size, prefix, content],
            )
            .expect("insert");
        }
        tx.execute("UPDATE folders SET uidnext = 10001 WHERE id = ?1", [folder]).expect("update");
        tx.commit().expect("commit");
    }
    let t = Instant::now();
    let (ok, out, err) = python(
        "import poplib,sys\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\np.user('ann@corp.test');p.pass_('ann-pw')\n\
         print(len(p.list()[1]), len(p.uidl()[1]), p.stat()[0]); p.retr(10000); p.quit()",
        &[&pop3.ip().to_string(), &pop3.port().to_string()],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "10000 10000 10000");
    eprintln!("login, LIST, UIDL, STAT and RETR 10000 of a 10,000-message mailbox: {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelined_commands_are_answered_in_order() {
    let (d, pop3) = service().await;
    deliver(&d, 2).await;
    let mut p = Pop3::connect(pop3);
    p.w.write_all(b"USER ann@corp.test\r\nPASS ann-pw\r\nSTAT\r\nLIST\r\nDELE 1\r\nUIDL 1\r\nRETR 2\r\nQUIT\r\n")
        .expect("write");
    assert!(p.line().starts_with("+OK")); // USER
    assert!(p.line().starts_with("+OK Logged in, 2 messages")); // PASS
    assert!(p.line().starts_with("+OK 2 ")); // STAT
    assert!(p.line().starts_with("+OK")); // LIST
    assert_eq!(p.multiline().len(), 2);
    assert_eq!(p.line(), "+OK Message 1 deleted");
    assert!(p.line().starts_with("-ERR Message 1 is deleted")); // UIDL 1
    assert!(p.line().starts_with("+OK")); // RETR 2
    assert!(p.multiline().iter().any(|l| l == "Subject: msg 2"));
    assert!(p.line().contains("1 messages deleted")); // QUIT
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 1);
}
