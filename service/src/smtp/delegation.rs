//! Sending as someone else, as Exchange allowed it: a person with **Send As** on a
//! mailbox sends with `From:` that mailbox; with **Send On Behalf Of**, with `From:`
//! the mailbox and `Sender:` themselves (added when the message has none). Checked on
//! submission, for the envelope sender at MAIL and for the header at DATA; anything
//! else is refused with `553 5.7.1` naming the right that is missing.
//!
//! The decision ([`judge`]) is a pure function over what the store says (which mailbox
//! an address is, the person's rights on it), tested apart from any session; the
//! session's methods below ask the store.

use mailroom_shared::rights::Rights;

use super::reply::Reply;

/// What an address in `From:` (or MAIL FROM) is to the person sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// One of their own addresses.
    Own,
    /// A local mailbox, and their rights on it.
    Mailbox(Rights),
    /// No local mailbox's address.
    Stranger,
}

/// How a message from `From:` the author may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// As it is: the person's own, or Send As.
    Send,
    /// On behalf of the mailbox: `Sender:` (the person's address) is added when it is
    /// missing.
    OnBehalf,
}

/// Whether the person (whose own addresses are `own`) may send a message whose
/// `From:` is `author` of `standing`, with `sender` as its `Sender:` if it has one.
///
/// # Errors
/// The `553 5.7.1` refusal, naming what is missing.
pub(super) fn judge(author: &str, standing: Standing, sender: Option<&str>, own: &[String]) -> Result<Verdict, Reply> {
    let refuse = |text: String| Err(Reply::new(553, "5.7.1", text));
    match standing {
        Standing::Own => Ok(Verdict::Send),
        Standing::Mailbox(r) if r.has(Rights::SEND_AS) => Ok(Verdict::Send),
        Standing::Mailbox(r) if r.has(Rights::SEND_ON_BEHALF) => match sender {
            None => Ok(Verdict::OnBehalf),
            Some(s) if own.iter().any(|o| o.eq_ignore_ascii_case(s)) => Ok(Verdict::OnBehalf),
            Some(s) => refuse(format!(
                "Sender: <{s}> is not your address; on behalf of <{author}> the Sender: must be you (or left out)"
            )),
        },
        Standing::Mailbox(_) => refuse(format!(
            "You do not have Send As or Send On Behalf Of permission on <{author}>; ask its owner or the administrator"
        )),
        Standing::Stranger => refuse(format!("From: <{author}> is not one of your addresses")),
    }
}

/// The message with `Sender: <who>` put before its first field.
pub(super) fn with_sender(body: Vec<u8>, who: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + who.len() + 12);
    out.extend_from_slice(format!("Sender: <{who}>\r\n").as_bytes());
    out.extend_from_slice(&body);
    out
}

/// The addresses of a message's `From:` and its `Sender:`, in lower case.
pub(super) fn authors(body: &[u8]) -> (Vec<String>, Option<String>) {
    let Some(parsed) = mail_parser::MessageParser::new().parse_headers(crate::message::headers(body)) else {
        return (Vec::new(), None);
    };
    let list = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address()).map(str::to_ascii_lowercase).collect()).unwrap_or_default()
    };
    (list(parsed.from()), list(parsed.sender()).into_iter().next())
}

impl<S: crate::tls::Transport> super::session::Session<S> {
    /// What `address` is to the person logged in as `mailbox` (own addresses `own`).
    async fn standing(&self, mailbox: i64, own: &[String], address: &str) -> crate::store::StoreResult<Standing> {
        if own.iter().any(|o| o == address) {
            return Ok(Standing::Own);
        }
        match self.ctx.store.mailbox_of(address).await? {
            None => Ok(Standing::Stranger),
            Some(id) if id == mailbox => Ok(Standing::Own),
            Some(id) => Ok(Standing::Mailbox(self.ctx.store.rights(mailbox, id, None).await?)),
        }
    }

    /// Whether the person logged in as `mailbox` may use `address` (canonical) as an
    /// envelope sender: a mailbox they have Send As or Send On Behalf Of on.
    pub(super) async fn may_send_for(&self, mailbox: i64, address: &str) -> bool {
        matches!(
            self.standing(mailbox, &[], address).await,
            Ok(Standing::Mailbox(r)) if r.any(Rights::SEND_AS.with(Rights::SEND_ON_BEHALF))
        )
    }

    /// The `From:` of an authenticated person's message, checked: the message (with
    /// `Sender:` added when sent on behalf of a mailbox and it had none) and the
    /// mailbox it is sent for when it is not the person's own (its address), or the
    /// refusal.
    pub(super) async fn check_authors(&self, body: Vec<u8>) -> Result<(Vec<u8>, Option<String>), Reply> {
        let Some(auth) = &self.auth else { return Ok((body, None)) };
        let (authors, sender) = authors(&body);
        let mut on_behalf = false;
        let mut sent_for = None;
        for author in &authors {
            let standing = match self.standing(auth.mailbox, &auth.addresses, author).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read sending rights");
                    return Err(Reply::new(451, "4.3.0", "Local error in processing; try again later"));
                }
            };
            match judge(author, standing, sender.as_deref(), &auth.addresses)? {
                Verdict::Send => {}
                Verdict::OnBehalf => on_behalf = true,
            }
            if standing != Standing::Own {
                sent_for.get_or_insert_with(|| author.clone());
            }
        }
        let body = match (on_behalf, &sender, auth.addresses.first()) {
            (true, None, Some(me)) => with_sender(body, me),
            _ => body,
        };
        Ok((body, sent_for))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Vec<String> {
        vec!["bob@corp.test".to_owned()]
    }

    fn wire(r: &Reply) -> String {
        let mut out = Vec::new();
        r.write_to(&mut out);
        String::from_utf8(out).expect("text")
    }

    #[test]
    fn ones_own_address_and_send_as_go_as_they_are() {
        assert_eq!(judge("bob@corp.test", Standing::Own, None, &own()), Ok(Verdict::Send));
        assert_eq!(judge("info@corp.test", Standing::Mailbox(Rights::SEND_AS), None, &own()), Ok(Verdict::Send));
    }

    #[test]
    fn on_behalf_needs_oneself_as_sender() {
        let r = Standing::Mailbox(Rights::SEND_ON_BEHALF);
        assert_eq!(judge("info@corp.test", r, None, &own()), Ok(Verdict::OnBehalf));
        assert_eq!(judge("info@corp.test", r, Some("BOB@corp.test"), &own()), Ok(Verdict::OnBehalf));
        let refused = judge("info@corp.test", r, Some("carol@corp.test"), &own()).expect_err("not bob");
        assert!(wire(&refused).starts_with("553 5.7.1 Sender: <carol@corp.test>"), "{refused:?}");
    }

    #[test]
    fn without_either_right_the_refusal_names_them() {
        let refused = judge("info@corp.test", Standing::Mailbox(Rights::READ), None, &own()).expect_err("no right");
        let text = wire(&refused);
        assert!(text.starts_with("553 5.7.1 ") && text.contains("Send As or Send On Behalf Of"), "{text}");
        let stranger = judge("x@outside.test", Standing::Stranger, None, &own()).expect_err("not ours");
        assert!(wire(&stranger).contains("not one of your addresses"), "{stranger:?}");
    }

    #[test]
    fn authors_and_sender_are_read_from_the_header() {
        let body = b"From: Info <INFO@corp.test>\r\nSender: bob@corp.test\r\nSubject: x\r\n\r\nFrom: nobody@x\r\n";
        assert_eq!(authors(body), (vec!["info@corp.test".to_owned()], Some("bob@corp.test".to_owned())));
        assert_eq!(authors(b"Subject: none\r\n\r\n"), (Vec::new(), None));
        let added = with_sender(b"From: a@b\r\n\r\nx".to_vec(), "bob@corp.test");
        assert!(added.starts_with(b"Sender: <bob@corp.test>\r\nFrom: a@b\r\n"));
    }
}
