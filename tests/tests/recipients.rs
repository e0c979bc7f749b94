//! Recipients besides mailboxes, as in Exchange: distribution lists (nested, restricted
//! to members, loops refused) and custom recipients, whose forwarded copies leave with
//! an SRS envelope sender that passes SPF for our domain (checked by pyspf against
//! dnsmasq), and whose bounces come back to the original sender.

use mailroom_tests::{Daemon, Dns, Sink, Smtp, require_python};

/// A service for corp.test relaying through the sink, with Ann, Bob, Carol and Dave.
async fn office(sink: &Sink) -> Daemon {
    let d = Daemon::start().await;
    for who in ["ann", "bob", "carol", "dave"] {
        d.add_mailbox(&format!("{who}@corp.test"), "pw");
    }
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "smarthost", &format!("[{}]:{}", sink.addr.ip(), sink.addr.port())]);
    d.edit_config(|c| c["delivery"]["retry_intervals_secs"] = serde_json::json!([1]));
    d.ctl_ok(&["restart"]);
    d
}

/// Sends one message from outside; returns the final reply.
fn send(d_smtp: std::net::SocketAddr, from: &str, rcpts: &[&str], body: &str) -> String {
    let mut s = Smtp::connect(d_smtp);
    s.expect("EHLO outside.test", "250");
    s.expect(&format!("MAIL FROM:<{from}>"), "250");
    for r in rcpts {
        s.expect(&format!("RCPT TO:<{r}>"), "250");
    }
    s.expect("DATA", "354");
    s.send(body.as_bytes());
    s.send(b".\r\n");
    s.reply()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_reaches_each_member_once_through_nesting_and_a_custom_recipient_stored_once() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["contact", "add", "partner@corp.test", "pat@partner.example", "--name", "Pat Partner"]);
    d.ctl_ok(&["list", "add", "sales@corp.test", "--name", "Sales"]);
    d.ctl_ok(&["list", "add", "all@corp.test", "--name", "Everyone"]);
    d.ctl_ok(&["list", "members", "sales@corp.test", "--add", "dave@corp.test", "--add", "ann@corp.test"]);
    let listed = d.ctl_ok(&[
        "list",
        "members",
        "all@corp.test",
        "--add",
        "ann@corp.test",
        "--add",
        "bob@corp.test",
        "--add",
        "carol@corp.test",
        "--add",
        "partner@corp.test",
        "--add",
        "sales@corp.test",
    ]);
    assert!(listed.contains("member sales@corp.test") && listed.contains("member partner@corp.test"), "{listed}");

    let reply = send(
        d.smtp_addr().await,
        "boss@outside.test",
        &["all@corp.test"],
        "Subject: all hands\r\nMessage-ID: <hands@outside.test>\r\n\r\nMeeting at ten.\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
    for who in ["ann", "bob", "carol", "dave"] {
        let n = d.count(&format!(
            "SELECT COUNT(*) FROM messages m JOIN addresses a ON a.mailbox_id = m.mailbox_id WHERE a.address = '{who}@corp.test'"
        ));
        assert_eq!(n, 1, "{who} gets exactly one copy (ann is in both lists)");
    }
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["pat@partner.example".to_owned()], "the custom recipient's copy goes outside");
    assert!(
        got[0].from.starts_with("SRS0=") && got[0].from.ends_with("=outside.test=boss@corp.test"),
        "{}",
        got[0].from
    );
    assert_eq!(
        d.count("SELECT COUNT(*) FROM contents WHERE CAST(data AS TEXT) LIKE '%all hands%'"),
        1,
        "the message is stored once for five recipients"
    );

    // A loop between two lists is refused, naming it.
    let out = d.ctl(&["list", "members", "sales@corp.test", "--add", "all@corp.test"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("makes a loop: sales@corp.test -> all@corp.test -> sales@corp.test"), "{said}");
    // An address belongs to one recipient.
    let out = d.ctl(&["list", "add", "ann@corp.test"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already belongs to a mailbox"), "{out:?}");
    let out = d.ctl_with_input(&["mailbox", "add", "sales@corp.test", "--password-stdin"], "pw\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already belongs to a distribution list"), "{out:?}");
    let listed = d.ctl_ok(&["mailbox", "list"]);
    assert!(
        listed.contains("list: 5 member(s)") && listed.contains("custom recipient → pat@partner.example"),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_for_members_only_refuses_an_outsider() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["list", "add", "board@corp.test", "--senders", "members"]);
    d.ctl_ok(&["list", "members", "board@corp.test", "--add", "ann@corp.test", "--add", "bob@corp.test"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO outside.test", "250");
    s.expect("MAIL FROM:<mallory@outside.test>", "250");
    let refused = s.cmd("RCPT TO:<board@corp.test>");
    assert!(refused.starts_with("550 5.7.1"), "{refused}");
    s.expect("RSET", "250");
    s.expect("MAIL FROM:<bob@corp.test>", "250");
    s.expect("RCPT TO:<board@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: minutes\r\n\r\nattached\r\n.", "250");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 2, "ann and bob");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarded_copy_passes_spf_for_our_domain_and_its_bounce_reaches_the_sender() {
    // pyspf judges the forwarded copy, asking dnsmasq through dnspython.
    require_python(&["spf", "dns.resolver"], "python3-spf python3-dnspython");
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["contact", "add", "books@corp.test", "keeper@home.example"]);
    let reply =
        send(d.smtp_addr().await, "client@customer.example", &["books@corp.test"], "Subject: invoice\r\n\r\n42\r\n");
    assert!(reply.starts_with("250"), "{reply}");
    let got = sink.wait_for(1, 20).await;
    let srs = got[0].from.clone();
    assert_eq!(got[0].to, vec!["keeper@home.example".to_owned()]);

    // SPF at the destination: corp.test publishes "v=spf1 ip4:127.0.0.1 -all", the
    // forwarded copy comes from 127.0.0.1, so SRS makes it pass where the original
    // sender's domain (which publishes -all) fails.
    let dns = Dns::start(&[
        "--local=/example/",
        "--local=/test/",
        &Dns::txt("corp.test", "v=spf1 ip4:127.0.0.1 -all"),
        &Dns::txt("customer.example", "v=spf1 -all"),
    ]);
    let script = r#"
import sys, dns.resolver, spf
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]; r.port = int(sys.argv[1])
dns.resolver.default_resolver = r
print(spf.check2(i="127.0.0.1", s=sys.argv[2], h="mail.corp.test")[0])
print(spf.check2(i="127.0.0.1", s="client@customer.example", h="mail.corp.test")[0])
"#;
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, &dns.port.to_string(), &srs])
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(said.lines().collect::<Vec<_>>(), vec!["pass", "fail"], "SRS passes where the original fails");

    // The destination bounces it to the SRS address: the bounce goes on to the sender.
    let bounce = "Subject: Undelivered Mail\r\nAuto-Submitted: auto-replied\r\n\r\nno such user\r\n";
    let reply = send(d.smtp_addr().await, "", &[&srs], bounce);
    assert!(reply.starts_with("250"), "{reply}");
    let got = sink.wait_for(2, 20).await;
    assert_eq!(got[1].to, vec!["client@customer.example".to_owned()], "back to the original sender");
    assert_eq!(got[1].from, "", "a bounce stays a bounce");

    // A forged SRS address is refused.
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO outside.test", "250");
    s.expect("MAIL FROM:<>", "250");
    let forged = s.cmd("RCPT TO:<SRS0=deadbeef=123=victim.example=someone@corp.test>");
    assert!(forged.starts_with("550 5.7.1") && forged.contains("not a valid SRS address"), "{forged}");

    // A custom recipient pointing at one of our own addresses is refused: that is an alias.
    let out = d.ctl(&["contact", "add", "x@corp.test", "ann@corp.test"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("give the mailbox an alias instead"), "{out:?}");
}

/// Messages in a mailbox, by its address.
fn copies(d: &Daemon, address: &str) -> i64 {
    d.count(&format!(
        "SELECT COUNT(*) FROM messages m JOIN addresses a ON a.mailbox_id = m.mailbox_id WHERE a.address = '{address}'"
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_forwards_with_or_without_a_copy() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["mailbox", "forward", "ann@corp.test", "ann@home.example", "--keep"]);
    assert!(d.ctl_ok(&["mailbox", "list"]).contains("forwards to ann@home.example, keeping a copy"));
    assert!(
        send(d.smtp_addr().await, "x@outside.test", &["ann@corp.test"], "Subject: one\r\n\r\n1\r\n").starts_with("250")
    );
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].to, vec!["ann@home.example".to_owned()]);
    assert!(got[0].from.starts_with("SRS0="), "{}", got[0].from);
    assert_eq!(copies(&d, "ann@corp.test"), 1, "a copy kept");
    d.ctl_ok(&["mailbox", "forward", "bob@corp.test", "bob@home.example"]);
    assert!(
        send(d.smtp_addr().await, "x@outside.test", &["bob@corp.test"], "Subject: two\r\n\r\n2\r\n").starts_with("250")
    );
    let got = sink.wait_for(2, 20).await;
    assert_eq!(got[1].to, vec!["bob@home.example".to_owned()]);
    assert_eq!(copies(&d, "bob@corp.test"), 0, "no copy kept");
    d.ctl_ok(&["mailbox", "forward", "bob@corp.test", "off"]);
    assert!(
        send(d.smtp_addr().await, "x@outside.test", &["bob@corp.test"], "Subject: three\r\n\r\n3\r\n")
            .starts_with("250")
    );
    assert_eq!(copies(&d, "bob@corp.test"), 1, "forwarding off: delivered here");
    let out = d.ctl(&["mailbox", "forward", "ann@corp.test", "carol@corp.test"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("alias"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_automatic_reply_goes_once_per_sender_and_never_to_bulk_mail_or_bounces() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&[
        "mailbox",
        "autoreply",
        "ann@corp.test",
        "--subject",
        "Out of office: {subject}",
        "--text",
        "I am away until Monday.",
    ]);
    let smtp = d.smtp_addr().await;
    let hello = "Subject: quarterly figures\r\nMessage-ID: <q1@outside.test>\r\n\r\nsee attached\r\n";
    assert!(send(smtp, "bob@outside.test", &["ann@corp.test"], hello).starts_with("250"));
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].to, vec!["bob@outside.test".to_owned()]);
    assert_eq!(got[0].from, "", "sent from <>");
    let reply = String::from_utf8_lossy(&got[0].data).into_owned();
    assert!(reply.contains("Subject: Out of office: quarterly figures"), "{reply}");
    assert!(reply.contains("Auto-Submitted: auto-replied"), "{reply}");
    assert!(reply.contains("In-Reply-To: <q1@outside.test>"), "{reply}");
    assert!(reply.contains("I am away until Monday."), "{reply}");
    // None of these is answered: the same sender again, bulk mail, a list, a bounce.
    assert!(send(smtp, "bob@outside.test", &["ann@corp.test"], "Subject: again\r\n\r\nx\r\n").starts_with("250"));
    assert!(
        send(smtp, "news@outside.test", &["ann@corp.test"], "Precedence: bulk\r\nSubject: news\r\n\r\nx\r\n")
            .starts_with("250")
    );
    assert!(
        send(smtp, "list@outside.test", &["ann@corp.test"], "List-Id: <l.outside.test>\r\nSubject: l\r\n\r\nx\r\n")
            .starts_with("250")
    );
    assert!(send(smtp, "", &["ann@corp.test"], "Subject: Undelivered\r\n\r\nx\r\n").starts_with("250"));
    // Someone new is.
    assert!(send(smtp, "carol@outside.test", &["ann@corp.test"], "Subject: lunch\r\n\r\nx\r\n").starts_with("250"));
    let got = sink.wait_for(2, 20).await;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let got_now = sink.messages();
    assert_eq!(got_now.len(), 2, "only bob (once) and carol: {:?}", got_now.iter().map(|m| &m.to).collect::<Vec<_>>());
    assert_eq!(got[1].to, vec!["carol@outside.test".to_owned()]);
    assert_eq!(copies(&d, "ann@corp.test"), 6, "every message is delivered all the same");
    d.ctl_ok(&["mailbox", "autoreply", "ann@corp.test", "--off"]);
    let out = d.ctl(&["mailbox", "autoreply", "ann@corp.test", "--subject", "x", "--text", "y", "--days", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of range"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_mailbox_refuses_mail_its_owner_is_warned_once_a_day_and_may_not_send() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["mailbox", "limits", "ann@corp.test", "--receive", "2"]);
    let smtp = d.smtp_addr().await;
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(3000));
    assert!(send(smtp, "bob@outside.test", &["ann@corp.test"], &big).starts_with("250"), "room for one");
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO outside.test", "250");
    s.expect("MAIL FROM:<bob@outside.test>", "250");
    let full = s.cmd("RCPT TO:<ann@corp.test>");
    assert!(full.starts_with("552 5.2.2") && full.contains("Mailbox full"), "{full}");

    // The organisation's warning level applies to every mailbox without its own.
    d.edit_config(|c| c["general"]["mailbox_warn_kb"] = serde_json::json!(1));
    d.ctl_ok(&["restart"]);
    let warned = |d: &Daemon| {
        d.count(
            "SELECT COUNT(*) FROM messages m JOIN contents c ON c.id = m.content_id
             WHERE CAST(c.data AS TEXT) LIKE '%Subject: Your mailbox is almost full%'",
        )
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while warned(&d) < 1 {
        assert!(std::time::Instant::now() < deadline, "no warning:\n{}", d.all_logs());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    d.ctl_ok(&["restart"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(warned(&d), 1, "once a day, not at every restart");

    // Over "prohibit send", its owner may not send.
    d.ctl_ok(&["mailbox", "limits", "ann@corp.test", "--send", "1"]);
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO corp.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAcHc=", "235");
    let refused = s.cmd("MAIL FROM:<ann@corp.test>");
    assert!(refused.starts_with("552 5.2.2"), "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn catch_all_delivers_an_unknown_local_part_only_when_on() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    let smtp = d.smtp_addr().await;
    let try_unknown = || {
        let mut s = Smtp::connect(smtp);
        s.expect("EHLO outside.test", "250");
        s.expect("MAIL FROM:<x@outside.test>", "250");
        s.cmd("RCPT TO:<whoever@corp.test>")
    };
    assert!(try_unknown().starts_with("550 5.1.1"), "off by default");
    d.ctl_ok(&["routing", "catch-all", "corp.test", "carol@corp.test"]);
    assert!(send(smtp, "x@outside.test", &["whoever@corp.test"], "Subject: hi\r\n\r\nx\r\n").starts_with("250"));
    assert_eq!(copies(&d, "carol@corp.test"), 1);
    d.ctl_ok(&["routing", "catch-all", "corp.test", "off"]);
    assert!(try_unknown().starts_with("550 5.1.1"), "off again");
    let out = d.ctl(&["routing", "catch-all", "elsewhere.example", "carol@corp.test"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an inbound domain"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bounce_from_a_list_names_the_member_that_failed() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["list", "add", "team@corp.test"]);
    d.ctl_ok(&["list", "members", "team@corp.test", "--add", "ann@corp.test", "--add", "carol@corp.test"]);
    d.ctl_ok(&["mailbox", "limits", "carol@corp.test", "--receive", "1"]);
    let smtp = d.smtp_addr().await;
    let big = format!("Subject: fill\r\n\r\n{}\r\n", "x".repeat(2000));
    assert!(send(smtp, "x@outside.test", &["carol@corp.test"], &big).starts_with("250"));
    assert!(send(smtp, "dave@corp.test", &["team@corp.test"], "Subject: plan\r\n\r\nx\r\n").starts_with("250"));
    assert_eq!(copies(&d, "ann@corp.test"), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let ndr = loop {
        let texts = d.messages_of("dave@corp.test");
        if let Some(t) = texts.first() {
            break String::from_utf8_lossy(t).into_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no NDR:\n{}", d.all_logs());
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(ndr.contains("carol@corp.test") && ndr.contains("Mailbox full"), "{ndr}");
    assert!(
        ndr.contains("Final-Recipient: rfc822;carol@corp.test")
            || ndr.contains("Final-Recipient: rfc822; carol@corp.test"),
        "{ndr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_address_tester_explains_lists_forwarding_custom_recipients_and_catch_all() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["list", "add", "sales@corp.test", "--senders", "members"]);
    d.ctl_ok(&["contact", "add", "partner@corp.test", "pat@partner.example"]);
    d.ctl_ok(&["list", "members", "sales@corp.test", "--add", "ann@corp.test", "--add", "partner@corp.test"]);
    d.ctl_ok(&["mailbox", "forward", "bob@corp.test", "bob@home.example", "--keep"]);
    d.ctl_ok(&["routing", "catch-all", "corp.test", "carol@corp.test"]);
    let test = |rcpt: &str| d.ctl_ok(&["test-address", rcpt, "--client-ip", "192.0.2.1"]);
    let said = test("sales@corp.test");
    assert!(said.contains("distribution list (only its members may send to it)"), "{said}");
    assert!(!said.contains("local mailbox sales@corp.test"), "a list is not a mailbox: {said}");
    assert!(said.contains("ann@corp.test") && said.contains("pat@partner.example (forwarded)"), "{said}");
    assert!(test("partner@corp.test").contains("custom recipient: its mail is relayed to pat@partner.example"));
    assert!(test("bob@corp.test").contains("forwarded to bob@home.example, keeping a copy"));
    let said = test("nobody@corp.test");
    assert!(said.contains("corp.test's catch-all takes it") && said.contains("carol@corp.test"), "{said}");
    d.ctl_ok(&["list", "set", "sales@corp.test", "--hide-members", "on"]);
    let said = test("sales@corp.test");
    assert!(said.contains("2 member(s), hidden") && !said.contains("ann@corp.test"), "{said}");
}

/// Walk defect 20: a custom recipient could only be deleted and made again. Changed in
/// place, its mail goes to the new outside address at once, its new address here
/// receives, the old one no longer does, and a taken address is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_recipient_changed_in_place_relays_to_its_new_address_at_once() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = office(&sink).await;
    d.ctl_ok(&["contact", "add", "books@corp.test", "keeper@home.example", "--name", "Books"]);
    let out = d.ctl(&["contact", "set", "books@corp.test", "--address", "ann@corp.test"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("already belongs to a mailbox"),
        "{out:?}"
    );
    let said = d.ctl_ok(&[
        "contact",
        "set",
        "books@corp.test",
        "--address",
        "accounts@corp.test",
        "--target",
        "new-keeper@home.example",
    ]);
    assert!(said.contains("accounts@corp.test") && said.contains("new-keeper@home.example"), "{said}");
    let listed = d.ctl_ok(&["mailbox", "list"]);
    assert!(listed.contains("Books") && !listed.contains("books@corp.test"), "{listed}");

    let reply =
        send(d.smtp_addr().await, "client@customer.example", &["accounts@corp.test"], "Subject: q\r\n\r\n1\r\n");
    assert!(reply.starts_with("250"), "{reply}");
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].to, vec!["new-keeper@home.example".to_owned()]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO outside.test", "250");
    s.expect("MAIL FROM:<client@customer.example>", "250");
    s.expect("RCPT TO:<books@corp.test>", "550 5.1.1");
}
