//! The POP3 session state by state, in memory: a session on one end of a duplex pipe,
//! a client on the other, a real store behind it. The end-to-end suite covers the same
//! protocol with real clients over real sockets.

use super::session::Session;
use crate::context::ServiceContext;
use crate::store::NewMessage;
use crate::testing::{Client, context, mailbox, peer, slot};

/// A session for `ctx` on a fresh pipe; the client's end, greeted.
async fn connect(ctx: &ServiceContext) -> Client {
    let (mut client, server) = Client::pair();
    let (limits, slot) = slot();
    let conn = crate::line::LineConn::new(server, ctx.shutdown.clone());
    tokio::spawn(Session::new(conn, peer(), ctx.clone(), limits, slot).run());
    assert!(client.line().await.starts_with("+OK"));
    client
}

/// Delivers `bodies` to `mailbox`, each as one message.
async fn deliver(ctx: &ServiceContext, mailbox: i64, bodies: &[&str]) {
    for (i, body) in bodies.iter().enumerate() {
        let message = NewMessage {
            queue_id: format!("Q{i}"),
            content: body.as_bytes().to_vec(),
            mailboxes: vec![mailbox],
            local_prefix: b"Return-Path: <a@outside.test>\r\n".to_vec(),
            ..NewMessage::default()
        };
        ctx.store.accept(message).await.expect("deliver");
    }
}

#[tokio::test]
async fn authorization_then_transaction() {
    let (_dir, ctx) = context(|_| {}).await;
    mailbox(&ctx, "ann@corp.test", "ann-pw").await;
    let mut c = connect(&ctx).await;
    assert!(c.pop("STAT").await.starts_with("-ERR"), "not before login");
    assert!(c.pop("PASS ann-pw").await.starts_with("-ERR"), "USER first");
    assert!(c.pop("CAPA").await.starts_with("+OK"));
    let caps = c.multiline().await;
    for cap in ["USER", "UIDL", "TOP", "PIPELINING", "SASL PLAIN"] {
        assert!(caps.iter().any(|l| l == cap), "{cap} missing from {caps:?}");
    }
    assert!(c.pop("USER ann@corp.test").await.starts_with("+OK"));
    assert!(c.pop("PASS wrong").await.starts_with("-ERR [AUTH]"));
    assert!(c.pop("USER ann@corp.test").await.starts_with("+OK"));
    assert_eq!(c.pop("PASS ann-pw").await.split_whitespace().next(), Some("+OK"));
    assert_eq!(c.pop("STAT").await, "+OK 0 0");
    assert!(c.pop("USER ann@corp.test").await.starts_with("-ERR"), "not after login");
}

#[tokio::test]
async fn retrieval_numbering_deletion_and_update() {
    let (_dir, ctx) = context(|_| {}).await;
    let ann = mailbox(&ctx, "ann@corp.test", "ann-pw").await;
    let bodies = ["Subject: one\r\n\r\n.dot line\r\n", "Subject: two\r\n\r\nl1\r\nl2\r\nl3\r\n"];
    deliver(&ctx, ann, &bodies).await;
    let mut c = connect(&ctx).await;
    c.pop("USER ann@corp.test").await;
    assert!(c.pop("PASS ann-pw").await.starts_with("+OK"));
    let prefix = "Return-Path: <a@outside.test>\r\n".len();
    let sizes = [prefix + bodies[0].len(), prefix + bodies[1].len()];
    assert_eq!(c.pop("STAT").await, format!("+OK 2 {}", sizes[0] + sizes[1]));
    assert!(c.pop("LIST").await.starts_with("+OK"));
    assert_eq!(c.multiline().await, [format!("1 {}", sizes[0]), format!("2 {}", sizes[1])]);
    assert!(c.pop("UIDL").await.starts_with("+OK"));
    assert_eq!(c.multiline().await, [format!("1 {ann}.1"), format!("2 {ann}.2")]);
    assert!(c.pop("RETR 1").await.starts_with("+OK"));
    let one = c.multiline().await;
    assert_eq!(one.last().map(String::as_str), Some("..dot line"), "dot-stuffed on the wire");
    assert!(c.pop("TOP 2 1").await.starts_with("+OK"));
    assert_eq!(c.multiline().await.last().map(String::as_str), Some("l1"));
    assert!(c.pop("DELE 1").await.starts_with("+OK"));
    assert!(c.pop("RETR 1").await.starts_with("-ERR"), "marked for deletion");
    assert!(c.pop("RETR 3").await.starts_with("-ERR"), "no such message");
    assert!(c.pop("RSET").await.starts_with("+OK 2 messages"));
    assert!(c.pop("DELE 2").await.starts_with("+OK"));
    assert!(c.pop("QUIT").await.starts_with("+OK"));
    let left = ctx.store.pop3_messages(ann).await.expect("list");
    assert_eq!(left.iter().map(|m| m.uid).collect::<Vec<_>>(), [1], "only the message marked at QUIT went");
}

#[tokio::test]
async fn a_dropped_connection_deletes_nothing() {
    let (_dir, ctx) = context(|_| {}).await;
    let ann = mailbox(&ctx, "ann@corp.test", "ann-pw").await;
    deliver(&ctx, ann, &["Subject: keep\r\n\r\nx\r\n"]).await;
    let mut c = connect(&ctx).await;
    c.pop("USER ann@corp.test").await;
    c.pop("PASS ann-pw").await;
    assert!(c.pop("DELE 1").await.starts_with("+OK"));
    drop(c);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(ctx.store.pop3_messages(ann).await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_mailbox_has_one_session_at_a_time() {
    let (_dir, ctx) = context(|_| {}).await;
    mailbox(&ctx, "ann@corp.test", "ann-pw").await;
    let mut first = connect(&ctx).await;
    first.pop("USER ann@corp.test").await;
    assert!(first.pop("PASS ann-pw").await.starts_with("+OK"));
    let mut second = connect(&ctx).await;
    second.pop("USER ann@corp.test").await;
    assert!(second.pop("PASS ann-pw").await.starts_with("-ERR [IN-USE]"));
    first.pop("QUIT").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    second.pop("USER ann@corp.test").await;
    assert!(second.pop("PASS ann-pw").await.starts_with("+OK"));
}

/// Regression: POP3 never ended a session for errors (1,000 unknown commands got 1,000
/// `-ERR`), where SMTP and IMAP close after 20.
#[tokio::test]
async fn twenty_errors_close_the_session() {
    let (_dir, ctx) = context(|_| {}).await;
    let mut c = connect(&ctx).await;
    for _ in 0..19 {
        assert!(c.pop("FROB").await.starts_with("-ERR"));
    }
    assert!(c.pop("FROB").await.starts_with("-ERR Unknown command"));
    assert!(c.line().await.starts_with("-ERR Too many errors"));
    assert_eq!(c.line().await, "", "closed");
}
