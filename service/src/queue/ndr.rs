//! Non-delivery reports: RFC 3464 `multipart/report; report-type=delivery-status`,
//! built with mail-builder.
//!
//! The first part is what people read, in the wording Exchange users recognise; the
//! second is for programs (`message/delivery-status`); the third is the original
//! headers (`text/rfc822-headers`), or the whole message (`message/rfc822`) when the
//! sender asked for it with `RET=FULL`.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mailroom_shared::address::Domain;

use crate::message::{self, date as rfc5322_date};
use crate::store::{FailedRecipient, NdrDue};

/// True when the recipient's DSN NOTIFY asks for (or defaults to) failure reports.
pub fn wants_failure_report(notify: Option<&str>) -> bool {
    notify.is_none_or(|n| n.split(',').any(|v| v.eq_ignore_ascii_case("FAILURE")))
}

/// A reason in the words of Exchange NDRs, from the enhanced status and diagnostic.
fn reason_in_words(r: &FailedRecipient) -> String {
    let words = match r.status.as_str() {
        "5.1.1" => "Unknown recipient",
        "5.1.2" | "5.4.4" => "Host unknown",
        "5.3.4" | "5.2.3" => "Message exceeds size limit",
        "5.2.2" => "Mailbox full",
        "4.4.7" | "5.4.7" => "Delivery time expired",
        "5.4.6" => "Routing loop detected",
        _ => "",
    };
    match (words, r.error.is_empty()) {
        ("", _) => r.error.clone(),
        (w, true) => w.to_owned(),
        (w, false) => format!("{w}: {}", r.error),
    }
}

/// Builds the NDR for `recipients` (failed recipients of `due` that want one).
///
/// # Errors
/// Only if the MIME writer fails (it writes to memory).
pub fn build(host: &Domain, due: &NdrDue, recipients: &[&FailedRecipient], now: i64) -> std::io::Result<Vec<u8>> {
    let subject = message::subject(&due.content).unwrap_or_default();
    let sent = rfc5322_date(due.received_at);
    let mut text = String::from("Your message did not reach some or all of the intended recipients.\r\n\r\n");
    text.push_str(&format!("      Subject:  {subject}\r\n      Sent:     {sent}\r\n\r\n"));
    text.push_str("The following recipient(s) could not be reached:\r\n\r\n");
    for r in recipients {
        text.push_str(&format!(
            "      {} on {}\r\n            {}\r\n            <{host} #{}>\r\n\r\n",
            r.address,
            rfc5322_date(now),
            reason_in_words(r),
            r.status
        ));
    }
    let mut dsn = format!("Reporting-MTA: dns; {host}\r\n");
    if let Some(envid) = &due.envid {
        dsn.push_str(&format!("Original-Envelope-Id: {envid}\r\n"));
    }
    dsn.push_str(&format!("Arrival-Date: {sent}\r\n"));
    for r in recipients {
        dsn.push_str(&format!("\r\nFinal-Recipient: rfc822; {}\r\n", r.address));
        if let Some(orcpt) = &r.orcpt {
            dsn.push_str(&format!("Original-Recipient: {}\r\n", orcpt.replacen(';', "; ", 1)));
        }
        dsn.push_str(&format!("Action: failed\r\nStatus: {}\r\n", r.status));
        if let Some(remote) = &r.remote {
            dsn.push_str(&format!("Remote-MTA: dns; {remote}\r\n"));
        }
        dsn.push_str(&format!("Diagnostic-Code: smtp; {}\r\n", r.error.replace(['\r', '\n'], " ")));
        dsn.push_str(&format!("Last-Attempt-Date: {}\r\n", rfc5322_date(now)));
    }
    let original = if due.ret.as_deref() == Some("FULL") {
        MimePart::new("message/rfc822", due.content.as_slice()).transfer_encoding("8bit")
    } else {
        MimePart::new("text/rfc822-headers", message::headers(&due.content)).transfer_encoding("8bit")
    };
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", text),
            MimePart::new("message/delivery-status", dsn.into_bytes()).transfer_encoding("7bit"),
            original,
        ],
    );
    let subject = if subject.is_empty() { "Undeliverable".to_owned() } else { format!("Undeliverable: {subject}") };
    let postmaster = format!("postmaster@{host}");
    let mut builder = MessageBuilder::new()
        .from(("Mail Delivery System", postmaster.as_str()))
        .subject(subject)
        .date(now)
        .message_id(format!("ndr.{}.{now}@{host}", due.queue_id))
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report);
    if !due.sender.is_empty() {
        builder = builder.to(due.sender.as_str());
    }
    builder.write_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify() {
        assert!(wants_failure_report(None));
        assert!(wants_failure_report(Some("SUCCESS,FAILURE")));
        assert!(!wants_failure_report(Some("NEVER")));
        assert!(!wants_failure_report(Some("DELAY")));
    }

    #[test]
    fn report_parts() {
        let due = NdrDue {
            message_id: 1,
            queue_id: "Q1".into(),
            sender: "ann@corp.test".into(),
            received_at: 0,
            ret: None,
            envid: Some("E1".into()),
            content: std::sync::Arc::new(b"Subject: lunch\r\nFrom: ann@corp.test\r\n\r\nsecret body\r\n".to_vec()),
            recipients: vec![],
        };
        let r = FailedRecipient {
            id: 1,
            address: "friend@outside.test".into(),
            orcpt: Some("rfc822;friend@outside.test".into()),
            notify: None,
            status: "5.1.1".into(),
            error: "550 5.1.1 no such user".into(),
            remote: Some("mx.outside.test".into()),
        };
        let host = Domain::parse("mail.corp.test").expect("valid");
        let ndr = String::from_utf8(build(&host, &due, &[&r], 60).expect("build")).expect("utf-8");
        for want in [
            "Subject: Undeliverable: lunch",
            "multipart/report",
            "report-type=\"delivery-status\"",
            "Your message did not reach some or all of the intended recipients.",
            "Unknown recipient: 550 5.1.1 no such user",
            "Reporting-MTA: dns; mail.corp.test",
            "Original-Envelope-Id: E1",
            "Final-Recipient: rfc822; friend@outside.test",
            "Original-Recipient: rfc822; friend@outside.test",
            "Status: 5.1.1",
            "Remote-MTA: dns; mx.outside.test",
            "Diagnostic-Code: smtp; 550 5.1.1 no such user",
            "text/rfc822-headers",
            "Auto-Submitted: auto-replied",
        ] {
            assert!(ndr.contains(want), "{want:?} missing from:\n{ndr}");
        }
        assert!(!ndr.contains("secret body"), "only headers without RET=FULL");
    }
}
