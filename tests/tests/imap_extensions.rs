//! IMAP4rev2's and its extensions' commands that imap-codec does not parse or
//! imap-types does not answer, end to end in raw bytes on a real socket: ESEARCH,
//! ESORT, PARTIAL, SEARCHRES and searches kept up to date (CONTEXT=SEARCH),
//! LIST-EXTENDED and LIST-STATUS with subscriptions that outlive their folder,
//! MULTIAPPEND and CATENATE (all or nothing), QRESYNC's one-round-trip
//! resynchronisation, and NOTIFY's unsolicited STATUS and LIST.

use mailroom_tests::{Daemon, python};

/// The start of a Python script that talks IMAP in raw bytes to `argv[1]:argv[2]`:
/// `cmd(tag, line)` sends one command and returns every line up to its completion;
/// `append(tag, box, texts)` appends messages with non-synchronising literals.
const RAW_SESSION: &str = r#"
import socket, sys
sessions = []
def session():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    f = s.makefile("rb")
    f.readline()
    sessions.append((s, f))
    def cmd(tag, line):
        s.sendall(tag + b" " + line + b"\r\n")
        out = []
        while True:
            l = f.readline()
            out.append(l)
            if l.startswith(tag + b" ") or not l:
                return out
    cmd(b"l", b"LOGIN ann@corp.test ann-pw")
    return cmd
def unsolicited(n, seconds=5):
    """What the n-th session is told without asking: lines until it is silent."""
    import select
    s, f = sessions[n]
    out = []
    wait = seconds
    while True:
        s.setblocking(False)
        try:
            buffered = f.peek(1)
        except (BlockingIOError, OSError):
            buffered = b""
        s.setblocking(True)
        if not buffered and not select.select([s], [], [], wait)[0]:
            return out
        out.append(f.readline())
        wait = 0.5
def literal(text):
    text = text.replace(b"\n", b"\r\n")
    return b"{%d+}\r\n" % len(text) + text
def last(out):
    return out[-1].decode()
"#;

/// Ann's service.
async fn service() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d
}

async fn run(d: &Daemon, body: &str) {
    let imap = d.imap_addr().await;
    let script = format!("{RAW_SESSION}\n{body}\nprint('ok')\n");
    let (ok, out, err) = python(&script, &[&imap.ip().to_string(), &imap.port().to_string()]);
    assert!(ok && out.contains("ok"), "{out}{err}");
}

/// ESEARCH's MIN, MAX, COUNT, ALL and PARTIAL, ESORT, and a search kept up to date:
/// ADDTO and REMOVEFROM before the tagged completion, for this session's changes and
/// another's, REMOVEFROM before the EXPUNGE it comes with, none after CANCELUPDATE.
#[tokio::test(flavor = "multi_thread")]
async fn extended_searches_return_what_is_asked_and_stay_up_to_date() {
    let d = service().await;
    run(
        &d,
        r#"
cmd = session()
caps = b"".join(cmd(b"c", b"CAPABILITY"))
for cap in [b"ESEARCH", b"ESORT", b"CONTEXT=SEARCH"]:
    assert cap in caps, caps
for i in range(5):
    assert "OK" in last(cmd(b"a%d" % i, b"APPEND INBOX " + literal(b"Subject: m%d\n\nbody %d\n" % (i, i))))
cmd(b"s", b"SELECT INBOX")
out = cmd(b"e1", b"SEARCH RETURN (MIN MAX COUNT ALL) ALL")
assert out[0] == b'* ESEARCH (TAG "e1") MIN 1 MAX 5 COUNT 5 ALL 1:5\r\n', out
out = cmd(b"e2", b"UID SEARCH RETURN (PARTIAL -1:-2) ALL")
assert out[0] == b'* ESEARCH (TAG "e2") UID PARTIAL (-1:-2 4:5)\r\n', out
out = cmd(b"e3", b"SEARCH RETURN () 9:10")
assert out[0] == b'* ESEARCH (TAG "e3")\r\n', out
out = cmd(b"e4", b"SORT RETURN (MIN ALL) (REVERSE SUBJECT) UTF-8 ALL")
assert out[0] == b'* ESEARCH (TAG "e4") MIN 5 ALL 5,4,3,2,1\r\n', out
assert last(cmd(b"e5", b"SEARCH RETURN (BOGUS) ALL")).startswith("e5 BAD"), "unknown option"
assert last(cmd(b"e6", b"SEARCH RETURN (PARTIAL 1:*) ALL")).startswith("e6 BAD"), "bad range"

out = cmd(b"u", b"SEARCH RETURN (UPDATE) SEEN")
assert out == [b'* ESEARCH (TAG "u")\r\n', out[-1]] and b"u OK" in out[-1], out
out = cmd(b"st", b"STORE 2,4 +FLAGS.SILENT (\\Seen)")
assert out == [b'* ESEARCH (TAG "u") ADDTO (0 2,4)\r\n', out[-1]], out
other = session()
other(b"os", b"SELECT INBOX")
other(b"ost", b"STORE 3 +FLAGS.SILENT (\\Seen)")
out = cmd(b"n", b"NOOP")
assert b'* ESEARCH (TAG "u") ADDTO (0 3)\r\n' in out, out
cmd(b"d", b"STORE 2 +FLAGS.SILENT (\\Deleted)")
out = cmd(b"x", b"EXPUNGE")
assert out[:2] == [b'* ESEARCH (TAG "u") REMOVEFROM (0 2)\r\n', b"* 2 EXPUNGE\r\n"], out
assert "OK" in last(cmd(b"cu", b'CANCELUPDATE "u"'))
out = cmd(b"st2", b"STORE 1 +FLAGS.SILENT (\\Seen)")
assert len(out) == 1, out
assert last(cmd(b"cu2", b'CANCELUPDATE "u"')).startswith("cu2 NO")

# CONTEXT=SORT: a kept sort tells where each message comes and goes, by position.
assert b"CONTEXT=SORT" in caps, caps
out = cmd(b"ks", b"SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 SEEN")
assert out[0] == b'* ESEARCH (TAG "ks") ALL 3,2,1\r\n', out
out = cmd(b"ks1", b"STORE 4 +FLAGS.SILENT (\\Seen)")
assert out[0] == b'* ESEARCH (TAG "ks") ADDTO (1 4)\r\n', "m4 sorts first: %r" % out
out = cmd(b"ks2", b"STORE 2 -FLAGS.SILENT (\\Seen)")
assert out[0] == b'* ESEARCH (TAG "ks") REMOVEFROM (3 2)\r\n', out
cmd(b"ks3", b'CANCELUPDATE "ks"')

# SEARCHRES: the saved result stands for $, as numbers or UIDs, and follows expunges.
assert b"SEARCHRES" in caps, caps
out = cmd(b"sv", b"SEARCH RETURN (SAVE) SEEN")
assert len(out) == 1 and b"sv OK" in out[0], "SAVE alone answers nothing: %r" % out
out = cmd(b"fd", b"FETCH $ (UID)")
assert [l.split(b" ")[1] for l in out[:-1]] == [b"1", b"3", b"4"], out
out = cmd(b"ud", b"UID SEARCH UID $ NOT 1")
assert out[0] == b"* SEARCH 4 5\r\n", "UIDs 1, 4 and 5 saved, less message 1: %r" % out
cmd(b"ns", b"SEARCH RETURN (SAVE) SUBJECT nothing-has-this")
out = cmd(b"fe", b"FETCH $ (UID)")
assert len(out) == 1 and b"fe OK" in out[0], "an empty saved result names nothing: %r" % out
"#,
    )
    .await;
}

/// LIST-EXTENDED: several patterns, SUBSCRIBED with a deleted folder's subscription
/// shown `\NonExistent` (and in LSUB) until removed, RECURSIVEMATCH's CHILDINFO, and
/// STATUS returned with each folder (LIST-STATUS).
#[tokio::test(flavor = "multi_thread")]
async fn list_extended_shows_subscriptions_children_and_status() {
    let d = service().await;
    run(
        &d,
        r#"
cmd = session()
caps = b"".join(cmd(b"c", b"CAPABILITY"))
assert b"LIST-EXTENDED" in caps and b"LIST-STATUS" in caps, caps
for name in [b"Work", b"Work/2026", b"Old"]:
    assert "OK" in last(cmd(b"cr", b"CREATE " + name))
cmd(b"s1", b"SUBSCRIBE Work/2026")
cmd(b"s2", b"SUBSCRIBE Old")
cmd(b"del", b"DELETE Old")
out = cmd(b"l1", b'LIST (SUBSCRIBED) "" "*"')
assert b'* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" "Old"\r\n' in out, out
assert b'* LIST (\\HasNoChildren \\Subscribed) "/" "Work/2026"\r\n' in out, out
assert not any(b'"Work"\r\n' in l for l in out), out
out = cmd(b"ls", b'LSUB "" "Old"')
assert any(l.startswith(b"* LSUB") and b"Old" in l for l in out), out
out = cmd(b"l2", b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
assert b'* LIST (\\HasChildren) "/" "Work" ("CHILDINFO" ("SUBSCRIBED"))\r\n' in out, out
out = cmd(b"l3", b'LIST "" ("Work" "INBOX") RETURN (SUBSCRIBED STATUS (MESSAGES UIDNEXT))')
lists = [l for l in out if l.startswith(b"* LIST")]
statuses = [l for l in out if l.startswith(b"* STATUS")]
assert len(lists) == 2 and len(statuses) == 2, out
assert out.index(statuses[0]) == out.index(lists[0]) + 1, "each STATUS follows its LIST"
assert b"\\Subscribed" in lists[0] and b"INBOX" in lists[0], out
assert b"MESSAGES 0 UIDNEXT 1" in statuses[1], out
assert last(cmd(b"l4", b'LIST (RECURSIVEMATCH) "" "*"')).startswith("l4 BAD")
assert last(cmd(b"l5", b'LIST "" "*" RETURN (BOGUS)')).startswith("l5 BAD")
assert "OK" in last(cmd(b"un", b"UNSUBSCRIBE Old"))
out = cmd(b"l6", b'LIST (SUBSCRIBED) "" "*"')
assert not any(b"Old" in l for l in out), out
"#,
    )
    .await;
}

/// MULTIAPPEND stores every message or none; CATENATE joins sent text and parts of
/// stored messages named by IMAP URLs; a bad URL is named in BADURL and stores
/// nothing; a missing folder gets TRYCREATE.
#[tokio::test(flavor = "multi_thread")]
async fn multiappend_and_catenate_store_all_or_nothing() {
    let d = service().await;
    run(
        &d,
        r#"
cmd = session()
caps = b"".join(cmd(b"c", b"CAPABILITY"))
assert b"MULTIAPPEND" in caps and b"CATENATE" in caps, caps
out = cmd(b"m", b"APPEND INBOX (\\Seen) " + literal(b"Subject: one\n\nfirst\n") + b" " + literal(b"Subject: two\n\nsecond\n"))
assert "[APPENDUID " in last(out) and " 1:2]" in last(out), out
out = cmd(b"cat", b'APPEND INBOX CATENATE (URL "/INBOX/;UID=1/;SECTION=HEADER" TEXT ' + literal(b"joined\n") + b")")
assert " 3]" in last(out), out
cmd(b"s", b"SELECT INBOX")
out = cmd(b"f", b"FETCH 3 BODY.PEEK[]")
assert b"{24}\r\nSubject: one\r\n\r\njoined\r\n)" in b"".join(out), out
out = cmd(b"f2", b"FETCH 1:2 FLAGS")
assert b"\\Seen" in out[0] and b"\\Seen" not in out[1], "each message has its own flags: %r" % out
out = cmd(b"bad", b'APPEND INBOX ' + literal(b"Subject: three\n\nx\n") + b' CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=99")')
assert "NO [BADURL /INBOX;UIDVALIDITY=1/;UID=99]" in last(out), out
out = cmd(b"gone", b"APPEND Nowhere " + literal(b"Subject: a\n\nx\n") + b" " + literal(b"Subject: b\n\nx\n"))
assert "NO [TRYCREATE]" in last(out), out
out = cmd(b"st", b"STATUS INBOX (MESSAGES)")
assert b"MESSAGES 3" in out[0], out
"#,
    )
    .await;
}

/// QRESYNC (RFC 7162): VANISHED in place of EXPUNGE once enabled, and a SELECT or UID
/// FETCH that gives the client what changed since its mod-sequence, and which UIDs it
/// knows are gone, in one round trip; refused before ENABLE QRESYNC.
#[tokio::test(flavor = "multi_thread")]
async fn qresync_resynchronises_in_one_round_trip() {
    let d = service().await;
    run(
        &d,
        r#"
import re
cmd = session()
assert b"QRESYNC" in b"".join(cmd(b"c", b"CAPABILITY"))
for i in range(3):
    cmd(b"a%d" % i, b"APPEND INBOX " + literal(b"Subject: m%d\n\nbody\n" % i))
assert last(cmd(b"early", b"SELECT INBOX (QRESYNC (1 1))")).startswith("early BAD"), "needs ENABLE"
cmd(b"u", b"UNSELECT")
out = cmd(b"e", b"ENABLE QRESYNC")
assert out[0] == b"* ENABLED QRESYNC\r\n", out
out = b"".join(cmd(b"s", b"SELECT INBOX"))
validity = int(re.search(rb"UIDVALIDITY (\d+)", out).group(1))
modseq = int(re.search(rb"HIGHESTMODSEQ (\d+)", out).group(1))
cmd(b"st", b"STORE 2 +FLAGS.SILENT (\\Seen)")
cmd(b"del", b"STORE 3 +FLAGS.SILENT (\\Deleted)")
out = cmd(b"x", b"EXPUNGE")
assert out[0] == b"* VANISHED 3\r\n", out
out = cmd(b"f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
assert out[0] == b"* VANISHED (EARLIER) 3\r\n", out
assert len(out) == 3 and out[1].startswith(b"* 2 FETCH (") and b"\\Seen" in out[1] and b"UID 2" in out[1], out

other = session()
other(b"e", b"ENABLE QRESYNC")
out = other(b"s", b"SELECT INBOX (QRESYNC (%d %d 1:3))" % (validity, modseq))
assert b"* VANISHED (EARLIER) 3\r\n" in out, out
fetches = [l for l in out if b" FETCH " in l]
assert len(fetches) == 1 and fetches[0].startswith(b"* 2 FETCH") and b"MODSEQ" in fetches[0], out
out = other(b"s2", b"SELECT INBOX (QRESYNC (%d %d 1:3))" % (validity + 1, modseq))
assert not any(b"VANISHED" in l or b" FETCH " in l for l in out), "another UIDVALIDITY: nothing to resync %r" % out
plain = session()
plain(b"s", b"SELECT INBOX")
assert last(plain(b"f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")).startswith("f BAD")
"#,
    )
    .await;
}

/// NOTIFY (RFC 5465): STATUS of the watched folders at once, and between commands,
/// without IDLE, when another session adds mail; LIST when a folder is made or a
/// subscription changes; BADEVENT for an event not offered; nothing after NOTIFY NONE.
#[tokio::test(flavor = "multi_thread")]
async fn notify_tells_of_other_folders_without_being_asked() {
    let d = service().await;
    run(
        &d,
        r#"
cmd = session()
assert b"NOTIFY" in b"".join(cmd(b"c", b"CAPABILITY"))
cmd(b"cr", b"CREATE Work")
cmd(b"s", b"SELECT INBOX")
out = cmd(b"n", b"NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge)) (PERSONAL (MessageNew MessageExpunge MailboxName SubscriptionChange))")
assert "OK" in last(out), out
import re
work = [l for l in out if re.match(rb'\* STATUS "?Work"? \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+\)\r\n', l)]
assert len(work) == 1, out
assert not any(l.startswith(b"* STATUS INBOX") for l in out), "the selected folder has its own reports: %r" % out
other = session()
other(b"a", b"APPEND Work " + literal(b"Subject: hi\n\nthere\n"))
told = unsolicited(0)
assert any(re.match(rb'\* STATUS "?Work"? \(MESSAGES 1 UIDNEXT 2 ', l) for l in told), told
other(b"c", b"CREATE Projects")
other(b"sb", b"SUBSCRIBE Projects")
told = unsolicited(0)
assert b'* LIST () "/" "Projects"\r\n' in told and b'* LIST (\\Subscribed) "/" "Projects"\r\n' in told, told
out = cmd(b"bad", b"NOTIFY SET (INBOXES (AnnotationChange))")
assert last(out).startswith("bad NO [BADEVENT"), out
assert "OK" in last(cmd(b"none", b"NOTIFY NONE"))
other(b"a2", b"APPEND Work " + literal(b"Subject: again\n\nthere\n"))
assert unsolicited(0, 1) == [], "nothing after NOTIFY NONE"
"#,
    )
    .await;
}

/// IMAP4rev2 (RFC 9051) once enabled: SEARCH answered by ESEARCH, no `\Recent` and
/// no RECENT, folder names in UTF-8 (the same folder a rev1 client names in modified
/// UTF-7); UTF8=ACCEPT (RFC 6855) gives UTF-8 names alone and takes APPEND's UTF8
/// form. A rev1 session beside it keeps modified UTF-7 and `\Recent`.
#[tokio::test(flavor = "multi_thread")]
async fn imap4rev2_once_enabled_answers_in_its_own_forms() {
    let d = service().await;
    run(
        &d,
        r#"
cmd = session()
caps = b"".join(cmd(b"c", b"CAPABILITY"))
assert b" IMAP4rev1 " in caps and b" IMAP4rev2 " in caps and b"UTF8=ACCEPT" in caps, caps
cmd(b"cr", b"CREATE Entw&APw-rfe")
cmd(b"a", b"APPEND INBOX " + literal(b"Subject: hi\n\nthere\n"))
out = cmd(b"e", b"ENABLE IMAP4rev2")
assert out[0] == b"* ENABLED IMAP4rev2\r\n", out
out = cmd(b"s", b"SELECT INBOX")
assert not any(b"RECENT" in l for l in out), out
out = cmd(b"f", b"FETCH 1 FLAGS")
assert b"\\Recent" not in out[0], out
out = cmd(b"se", b"SEARCH ALL")
assert out[0] == b'* ESEARCH (TAG "se") ALL 1\r\n', out
out = cmd(b"l", b'LIST "" "Entw*"')
assert out[0] == '* LIST (\\HasNoChildren) "/" "Entwürfe"\r\n'.encode(), out
out = cmd(b"st", 'STATUS "Entwürfe" (MESSAGES)'.encode())
assert "OK" in last(out) and "Entwürfe".encode() in out[0], out

old = session()
out = old(b"s", b"SELECT INBOX")
assert b"* 1 RECENT\r\n" in out, "the rev1 session gets the \\Recent the rev2 one left: %r" % out
out = old(b"l", b'LIST "" "Entw*"')
assert b'"Entw&APw-rfe"' in out[0] or b" Entw&APw-rfe\r\n" in out[0], out

utf8 = session()
assert utf8(b"e", b"ENABLE UTF8=ACCEPT")[0] == b"* ENABLED UTF8=ACCEPT\r\n"
out = utf8(b"a", 'APPEND "Entwürfe" UTF8 ('.encode() + b"~" + literal("Subject: Grüße\n\nx\n".encode()) + b")")
assert "OK" in last(out), out
out = utf8(b"st", 'STATUS "Entwürfe" (MESSAGES)'.encode())
assert b"MESSAGES 1" in out[0], out
"#,
    )
    .await;
}

/// COMPRESS=DEFLATE (RFC 4978): after the go-ahead, both ways in raw DEFLATE, each
/// response whole at the client (sync-flushed); a message of text crosses in a
/// fraction of its size; a second COMPRESS is refused.
#[tokio::test(flavor = "multi_thread")]
async fn compress_deflate_shrinks_the_session_both_ways() {
    let d = service().await;
    run(
        &d,
        r#"
import zlib
cmd = session()
assert b"COMPRESS=DEFLATE" in b"".join(cmd(b"c", b"CAPABILITY"))
body = b"".join(b"Line %d of the quarterly figures, all of them in order.\n" % i for i in range(2000))
cmd(b"a", b"APPEND INBOX " + literal(b"Subject: big\n\n" + body))
assert "OK" in last(cmd(b"z", b"COMPRESS DEFLATE"))
s, f = sessions[0]
out_stream = zlib.compressobj(wbits=-15)
in_stream = zlib.decompressobj(wbits=-15)
received = 0
def zcmd(tag, line):
    global received
    s.sendall(out_stream.compress(tag + b" " + line + b"\r\n") + out_stream.flush(zlib.Z_SYNC_FLUSH))
    plain = b""
    while not any(l.startswith(tag + b" ") for l in plain.split(b"\r\n")):
        chunk = s.recv(65536)
        assert chunk, "closed"
        received += len(chunk)
        plain += in_stream.decompress(chunk)
    return plain
out = zcmd(b"s", b"SELECT INBOX")
assert b"s OK" in out, out
received = 0
out = zcmd(b"f", b"FETCH 1 BODY.PEEK[TEXT]")
assert body.replace(b"\n", b"\r\n") in out and b"f OK" in out, out[-200:]
assert received * 5 < len(body), "compressed %d of %d bytes" % (received, len(body))
out = zcmd(b"z2", b"COMPRESS DEFLATE")
assert b"z2 NO [COMPRESSIONACTIVE]" in out, out
"#,
    )
    .await;
}

/// OBJECTID (RFC 8474) and SAVEDATE (RFC 8514): a folder's MAILBOXID from CREATE,
/// SELECT and STATUS, kept across RENAME; a message's EMAILID shared by its copies,
/// THREADID NIL, SAVEDATE when it was saved; the search keys find by them.
#[tokio::test(flavor = "multi_thread")]
async fn object_ids_and_save_dates_name_folders_and_messages_for_good() {
    let d = service().await;
    run(
        &d,
        r#"
import re, time
cmd = session()
caps = b"".join(cmd(b"c", b"CAPABILITY"))
assert b"OBJECTID" in caps and b"SAVEDATE" in caps, caps
out = cmd(b"cr", b"CREATE Work")
mailboxid = re.search(rb"\[MAILBOXID \((F[\w-]+)\)\]", out[-1]).group(1)
out = cmd(b"st", b"STATUS Work (MAILBOXID MESSAGES)")
assert out[0] == b"* STATUS Work (MESSAGES 0 MAILBOXID (" + mailboxid + b"))\r\n", out
cmd(b"a", b"APPEND INBOX " + literal(b"Subject: kept\n\nx\n"))
cmd(b"s", b"SELECT INBOX")
cmd(b"cp", b"COPY 1 Work")
out = cmd(b"f", b"FETCH 1 (EMAILID THREADID SAVEDATE)")
m = re.match(rb'\* 1 FETCH \(EMAILID \((M[\w-]+)\) THREADID NIL SAVEDATE "(\d+-\w+-\d+) [\d:]+ \+0000"\)\r\n', out[0])
assert m, out
emailid, saved = m.group(1), m.group(2)
assert saved == time.strftime("%d-%b-%Y", time.gmtime()).encode(), saved
out = cmd(b"se", b"SEARCH EMAILID " + emailid)
assert out[0] == b"* SEARCH 1\r\n", out
assert cmd(b"se2", b"SEARCH SAVEDBEFORE 1-Jan-2000")[0] == b"* SEARCH\r\n"
assert cmd(b"se3", b"UID SEARCH SAVEDSINCE \"" + saved + b"\" SAVEDATESUPPORTED")[0] == b"* SEARCH 1\r\n"
assert cmd(b"se4", b"SEARCH OR THREADID T1 EMAILID M0")[0] == b"* SEARCH\r\n"
out = cmd(b"sw", b"SELECT Work")
assert any(b"[MAILBOXID (" + mailboxid + b")]" in l for l in out), out
out = cmd(b"fw", b"UID FETCH 1 EMAILID")
assert out[0] == b"* 1 FETCH (UID 1 EMAILID (" + emailid + b"))\r\n", "the copy is the same message: %r" % out
cmd(b"u", b"UNSELECT")
cmd(b"rn", b"RENAME Work Job")
out = cmd(b"st2", b"STATUS Job (MAILBOXID)")
assert out[0] == b"* STATUS Job (MAILBOXID (" + mailboxid + b"))\r\n", out
"#,
    )
    .await;
}
