//! Recipients besides mailboxes, as in Exchange: distribution lists (nested, restricted
//! to members, loops refused) and custom recipients, whose forwarded copies leave with
//! an SRS envelope sender that passes SPF for our domain (checked by pyspf against
//! dnsmasq), and whose bounces come back to the original sender.

use mailroom_tests::{Daemon, Dns, Sink, Smtp};

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
    assert!(said.contains("makes a loop: sales@corp.test → all@corp.test → sales@corp.test"), "{said}");
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
    ])
    .expect("dnsmasq");
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
        .expect("python3 with pyspf (Debian's python3-spf)");
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
