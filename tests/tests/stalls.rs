//! Next hops that hang: every wait of the SMTP client ends within its timeout (RFC
//! 5321 §4.5.3.2, set short here on the Delivery page), the delivery is deferred with
//! a reason a person can read, and the queue goes on.
//!
//! Regression: a next hop that accepted the connection and never greeted, or went
//! silent after the final `.`, kept the delivery in flight forever (a smart host doing
//! so stopped all outbound mail).

use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Sink, Smtp, Stall};

/// A service relaying everything to `sink`, with every outbound timeout at 2 s.
async fn relaying_to(sink: &Sink) -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", sink.addr.port())]);
    d.edit_config(|c| {
        for t in [
            "greeting_timeout_secs",
            "mail_timeout_secs",
            "rcpt_timeout_secs",
            "data_timeout_secs",
            "data_block_timeout_secs",
            "final_dot_timeout_secs",
        ] {
            c["delivery"][t] = 2.into();
        }
    });
    d.ctl_ok(&["restart"]);
    d
}

/// Ann relays a message of about `size` bytes to far@outside.test.
async fn relay(d: &Daemon, size: usize) {
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO client.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<far@outside.test>", "250");
    s.expect("DATA", "354");
    let mut body = b"Subject: to a next hop that hangs\r\n\r\n".to_vec();
    while body.len() < size {
        body.extend_from_slice(b"0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
    }
    body.extend_from_slice(b".\r\n");
    s.send(&body);
    let r = s.reply();
    assert!(r.starts_with("250"), "{r}");
}

/// Waits for the recipient to be deferred; its attempts and last error.
async fn deferred(d: &Daemon) -> (i64, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row =
            d.db().query_row("SELECT attempts, last_error FROM queue_recipients WHERE state = 'deferred'", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            });
        if let Ok(row) = row {
            return row;
        }
        let states = d.ctl_ok(&["queue", "list"]);
        assert!(Instant::now() < deadline, "no deferral within 20 s; the queue:\n{states}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_stall_is_deferred_with(stage: Stall, size: usize, reason: &str) {
    let sink = Sink::stalling(stage).await;
    let d = relaying_to(&sink).await;
    let t = Instant::now();
    relay(&d, size).await;
    let (attempts, error) = deferred(&d).await;
    assert!(sink.stalled.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the sink hung at {stage:?}");
    assert_eq!(attempts, 1, "one attempt recorded");
    assert!(error.contains(reason), "{error:?} should say {reason:?}");
    assert!(t.elapsed() < Duration::from_secs(15), "deferred after {:?}", t.elapsed());
    // The person reading the queue sees the same reason.
    let shown = d.ctl_ok(&["queue", "list"]);
    assert!(shown.contains(reason), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_greeting_is_deferred_within_the_greeting_timeout() {
    a_stall_is_deferred_with(Stall::Greeting, 100, "no greeting from [127.0.0.1] within 2 seconds").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_reply_to_mail_from_is_deferred() {
    a_stall_is_deferred_with(Stall::Mail, 100, "no reply to MAIL FROM from [127.0.0.1] within 2 seconds").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_reply_to_rcpt_to_is_deferred() {
    a_stall_is_deferred_with(Stall::Rcpt, 100, "no reply to RCPT TO from [127.0.0.1] within 2 seconds").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_reply_to_data_is_deferred() {
    a_stall_is_deferred_with(Stall::Data, 100, "no reply to DATA from [127.0.0.1] within 2 seconds").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_next_hop_that_stops_reading_the_message_is_deferred() {
    // Larger than what the socket buffers hold, so that writing blocks.
    a_stall_is_deferred_with(
        Stall::DataBlock,
        8 * 1024 * 1024,
        "stopped reading the message: no progress within 2 seconds",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_reply_after_the_final_dot_is_deferred() {
    a_stall_is_deferred_with(
        Stall::Dot,
        100,
        "no reply after the end of the message from [127.0.0.1] within 2 seconds",
    )
    .await;
}

/// A stalled smart host costs one attempt, not the queue: the next message still goes
/// once the host answers again (here: another smart host).
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_next_hop_does_not_stop_the_queue() {
    let stalled = Sink::stalling(Stall::Greeting).await;
    let d = relaying_to(&stalled).await;
    relay(&d, 100).await;
    deferred(&d).await;
    let good = Sink::start("127.0.0.1:0", 0).await;
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", good.addr.port())]);
    d.ctl_ok(&["restart"]);
    d.ctl_ok(&["queue", "retry"]);
    relay(&d, 100).await;
    let got = good.wait_for(2, 20).await;
    assert_eq!(got.len(), 2, "the deferred message and the new one");
}

/// Regression: a connection dropped after the message was reported as "Unparseable SMTP
/// reply"; now the deferral says what happened.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_dropped_after_the_message_is_reported_as_such() {
    a_stall_is_deferred_with(
        Stall::CloseAfterDot,
        100,
        "[127.0.0.1] closed the connection instead of sending its reply after the end of the message",
    )
    .await;
}
