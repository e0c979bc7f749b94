//! The SMTP session verb by verb, in memory: a session on one end of a duplex pipe, a
//! client on the other, and a real store behind it. The end-to-end suite covers the
//! same protocol with real clients over real sockets.

use super::session::Session;
use crate::context::ServiceContext;
use crate::testing::{Client, context, mailbox, peer, slot};

/// A session for `ctx` on a fresh pipe; the client's end, greeted.
async fn connect(ctx: &ServiceContext) -> Client {
    let (mut client, server) = Client::pair();
    let (limits, slot) = slot();
    let local = "127.0.0.1:25".parse().expect("address");
    let conn = crate::line::LineConn::new(server, ctx.shutdown.clone());
    tokio::spawn(Session::new(conn, peer(), local, ctx.clone(), limits, slot).run());
    let greeting = client.reply().await;
    assert!(greeting.starts_with("220 localhost ESMTP Mailroom"), "{greeting}");
    client
}

#[tokio::test]
async fn the_command_sequence_is_enforced() {
    let (_dir, ctx) = context(|_| {}).await;
    mailbox(&ctx, "ann@corp.test", "pw").await;
    let mut c = connect(&ctx).await;
    c.expect("MAIL FROM:<a@outside.test>", "503 5.5.1 Send HELO or EHLO first").await;
    c.expect("DATA", "503 5.5.1").await;
    c.expect("HELO client.test", "250").await;
    c.expect("RCPT TO:<ann@corp.test>", "503 5.5.1 Need MAIL command first").await;
    c.expect("MAIL FROM:<a@outside.test>", "250 2.1.0").await;
    c.expect("MAIL FROM:<a@outside.test>", "503 5.5.1 Nested MAIL command").await;
    c.expect("DATA", "554 5.5.1 No valid recipients").await;
    c.expect("RSET", "250").await;
    c.expect("RCPT TO:<ann@corp.test>", "503 5.5.1").await;
    c.expect("QUIT", "221 2.0.0").await;
    assert_eq!(c.line().await, "", "closed after QUIT");
}

#[tokio::test]
async fn ehlo_lists_the_extensions() {
    let (_dir, ctx) = context(|_| {}).await;
    let mut c = connect(&ctx).await;
    let ehlo = c.expect("EHLO client.test", "250-localhost").await;
    for ext in ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN", "SIZE 26214400", "AUTH PLAIN LOGIN"] {
        assert!(ehlo.lines().any(|l| l[4..] == *ext), "{ext} missing from {ehlo}");
    }
    assert!(!ehlo.contains("STARTTLS"), "no certificate, no STARTTLS: {ehlo}");
    c.expect("STARTTLS", "454 4.7.0 TLS not available").await;
}

#[tokio::test]
async fn the_small_verbs() {
    let (_dir, ctx) = context(|_| {}).await;
    let mut c = connect(&ctx).await;
    c.expect("NOOP", "250").await;
    c.expect("VRFY ann", "252 2.5.0").await;
    c.expect("EXPN staff", "502 5.5.1").await;
    c.expect("HELP", "214 2.0.0").await;
    c.expect("BDAT 10 LAST", "502 5.5.1 BDAT not implemented").await;
    c.expect("FROB", "500 5.5.2").await;
    c.expect(&format!("NOOP {}", "x".repeat(600)), "500 5.5.2 Line too long").await;
    c.expect("EHLO a\0b", "501 5.5.2").await;
}

#[tokio::test]
async fn a_pipelined_transaction_is_answered_in_order_and_stored() {
    let (_dir, ctx) = context(|_| {}).await;
    let ann = mailbox(&ctx, "ann@corp.test", "pw").await;
    let mut c = connect(&ctx).await;
    c.expect("EHLO client.test", "250").await;
    c.send(b"MAIL FROM:<a@outside.test>\r\nRCPT TO:<ann@corp.test>\r\nRCPT TO:<nobody@corp.test>\r\nDATA\r\n").await;
    assert!(c.reply().await.starts_with("250 2.1.0"));
    assert!(c.reply().await.starts_with("250 2.1.5"));
    let unknown = c.reply().await;
    assert!(unknown.starts_with("550 5.7.1") || unknown.starts_with("550 5.1.1"), "{unknown}");
    assert!(c.reply().await.starts_with("354"));
    c.send(b"Subject: piped\r\n\r\n..dot\r\n.\r\n").await;
    let queued = c.reply().await;
    assert!(queued.starts_with("250 2.0.0 OK: queued as "), "{queued}");

    let stored = ctx.store.pop3_messages(ann).await.expect("list");
    assert_eq!(stored.len(), 1);
    let content = ctx.store.messages_content(vec![stored[0].id]).await.expect("content").remove(0).1;
    let text = String::from_utf8(content).expect("utf-8");
    assert!(text.starts_with("Return-Path: <a@outside.test>\r\nReceived: from client.test ([127.0.0.1])"), "{text}");
    assert!(text.ends_with("Subject: piped\r\n\r\n.dot\r\n"), "unstuffed: {text}");
}

#[tokio::test]
async fn a_bare_lf_in_data_closes_the_session_and_keeps_nothing() {
    let (_dir, ctx) = context(|_| {}).await;
    let ann = mailbox(&ctx, "ann@corp.test", "pw").await;
    let mut c = connect(&ctx).await;
    c.expect("EHLO client.test", "250").await;
    c.expect("MAIL FROM:<a@outside.test>", "250").await;
    c.expect("RCPT TO:<ann@corp.test>", "250").await;
    c.expect("DATA", "354").await;
    c.send(b"Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@x.test>\r\n").await;
    assert!(c.reply().await.starts_with("554 5.6.0"));
    assert_eq!(c.line().await, "", "closed");
    assert!(ctx.store.pop3_messages(ann).await.expect("list").is_empty());
}

#[tokio::test]
async fn twenty_errors_close_the_session() {
    let (_dir, ctx) = context(|_| {}).await;
    let mut c = connect(&ctx).await;
    for _ in 0..19 {
        c.expect("FROB", "500").await;
    }
    c.send(b"FROB\r\n").await;
    assert!(c.reply().await.starts_with("500"));
    assert!(c.reply().await.starts_with("421 4.7.0 Too many errors"));
}

#[tokio::test]
async fn auth_plain_logs_in_and_a_wrong_password_is_refused() {
    let (_dir, ctx) = context(|_| {}).await;
    mailbox(&ctx, "ann@corp.test", "ann-pw").await;
    let mut c = connect(&ctx).await;
    c.expect("EHLO client.test", "250").await;
    c.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAd3Jvbmc=", "535 5.7.8").await;
    c.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235 2.7.0").await;
    c.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "503 5.5.1").await;
}

#[tokio::test]
async fn a_stop_says_goodbye_to_an_idle_session() {
    let (_dir, ctx) = context(|_| {}).await;
    let mut c = connect(&ctx).await;
    c.expect("EHLO client.test", "250").await;
    ctx.shutdown.stop();
    assert!(c.reply().await.starts_with("421 4.3.2"));
}

/// A session that logged in is never closed to make room for a stranger; one that has
/// not is, when every place is taken.
#[tokio::test]
async fn only_a_session_that_has_not_logged_in_makes_room_for_a_newcomer() {
    let (_dir, ctx) = context(|_| {}).await;
    mailbox(&ctx, "ann@corp.test", "ann-pw").await;
    let local = "127.0.0.1:25".parse().expect("address");
    for logged_in in [true, false] {
        let limits = crate::limits::Limits::new(1, 1, std::sync::Arc::default());
        let slot = limits.admit(peer().ip()).expect("the one place");
        let (mut client, server) = crate::testing::Client::pair();
        let conn = crate::line::LineConn::new(server, ctx.shutdown.clone());
        tokio::spawn(Session::new(conn, peer(), local, ctx.clone(), limits.clone(), slot).run());
        assert!(client.reply().await.starts_with("220"));
        client.expect("EHLO client.test", "250").await;
        if logged_in {
            client.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235").await;
        }
        let stranger: std::net::IpAddr = "192.0.2.99".parse().expect("ip");
        let newcomer = limits.admit(stranger);
        assert_eq!(newcomer.is_some(), !logged_in, "logged in: {logged_in}");
        if !logged_in {
            assert!(client.reply().await.starts_with("421 4.7.0 Too many connections"));
        }
    }
}
