//! MAIL FROM (RFC 5321 §4.1.1.2, SIZE per RFC 1870, DSN per RFC 3461).

use mailroom_shared::address::{EmailAddress, LiteralAddress};
use mailroom_shared::config::AcceptFrom;

use super::command::{Body, Ret};
use super::reply::{self, Reply};
use super::session::{Phase, Session, Transaction};

impl<S: crate::tls::Transport> Session<S> {
    /// Starts a transaction. A stranger on a DNS blocklist is refused here (not at
    /// connect, so that a user who authenticates is never refused by a list); mail
    /// from outside gets its SPF verdict (RFC 7208 §2.4), which a DNS failure turns
    /// into a `451`.
    pub(super) async fn mail(
        &mut self,
        from: String,
        size: Option<u64>,
        body: Body,
        ret: Option<Ret>,
        envid: Option<String>,
    ) -> Reply {
        match self.phase {
            Phase::Connected => return reply::bad_sequence("Send HELO or EHLO first"),
            Phase::Mail(_) => return reply::bad_sequence("Nested MAIL command"),
            Phase::Ready => {}
        }
        let cfg = &self.ctx.config;
        let submission = self.mode == super::Mode::Submission;
        if submission && self.auth.is_none() {
            // RFC 6409 §4.3.
            return Reply::new(530, "5.7.0", "Authentication required");
        }
        match (cfg.connections.accept_from, &self.auth) {
            (AcceptFrom::Any, _) => {}
            (AcceptFrom::MustAuthenticate, Some(_)) => {}
            (AcceptFrom::MustAuthenticate, None) => return Reply::new(530, "5.7.0", "Authentication required"),
            (AcceptFrom::MustAuthenticateAndEncrypt, Some(_)) if self.encrypted() => {}
            (AcceptFrom::MustAuthenticateAndEncrypt, _) => {
                return Reply::new(530, "5.7.0", "Must authenticate over an encrypted connection");
            }
        }
        if !from.is_empty() {
            // A sender at an address literal (`user@[192.0.2.1]`, a host without a
            // name) is a sender like any other, though never an account's own address.
            let canonical = match (EmailAddress::parse(&from), LiteralAddress::parse(&from)) {
                (Ok(addr), _) => addr.canonical(),
                (Err(_), Ok(literal)) => literal.to_string().to_ascii_lowercase(),
                (Err(_), Err(_)) => {
                    return Reply::new(553, "5.1.7", format!("Sender address <{from}> is not acceptable"));
                }
            };
            // On a submission listener a user sends as their own addresses (RFC 6409
            // §6.1), whatever the Connections page says for port 25.
            // Or as a mailbox they may send as, or on behalf of.
            if (submission || cfg.connections.sender_must_match_account)
                && let Some(auth) = &self.auth
                && !auth.addresses.contains(&canonical)
                && !self.may_send_for(auth.mailbox, &canonical).await
            {
                return Reply::new(
                    553,
                    "5.7.1",
                    format!(
                        "Sender address <{from}> does not belong to the authenticated account {}, \
                         which has no Send As or Send On Behalf Of permission on it",
                        auth.login
                    ),
                );
            }
        }
        if let (Some(size), Some(max)) = (size, cfg.general.max_message_size)
            && size > max
        {
            return Reply::new(552, "5.3.4", format!("Message size exceeds fixed maximum message size ({max} bytes)"));
        }
        // Over its "prohibit send" limit, a mailbox's owner sends nothing until it is
        // cleaned up.
        if let Some(auth) = &self.auth
            && let Some(first) = auth.addresses.first()
            && let Ok(Some(id)) = self.ctx.store.mailbox_of(first).await
            && let Ok(options) = self.ctx.store.mailbox_options(id).await
            && crate::quota::may_not_send(&self.ctx, &options)
        {
            return Reply::new(
                552,
                "5.2.2",
                "Your mailbox is over its size limit; delete some mail (and empty the trash) to send again",
            );
        }
        if self.ctx.disk.low() {
            crate::logging::repeated("smtp-disk-low", |n| {
                tracing::warn!(repeats = n, "free disk space is below the reserve; new mail is refused with 452")
            });
            return Reply::new(452, "4.3.1", "Insufficient system storage, try again later");
        }
        if self.stranger()
            && let crate::filtering::dnslists::Listing::Blocked { zone, meaning } = self.screening.listing().await
        {
            let ip = self.peer.ip();
            tracing::info!(target: "mailroom_service::filtering", %ip, %zone, %meaning, "client refused: on a DNS blocklist");
            crate::filtering::count(&self.ctx, crate::store::FilterEvent::DnsList);
            let text = format!("Service unavailable; client [{ip}] blocked using {zone}: {meaning}");
            crate::filtering::track_refusal(&self.ctx, Some(from), None, format!("554 5.7.1 {text}"));
            return Reply::new(554, "5.7.1", text);
        }
        let spf = if self.checked() {
            let helo = self.helo.as_ref().map_or("", |(h, _)| h.as_str());
            match self.ctx.mailauth.spf(self.peer.ip(), helo, &from).await {
                Ok(spf) => Some(Box::new(spf)),
                Err(r) => return r.into(),
            }
        } else {
            None
        };
        self.phase = Phase::Mail(Transaction { from, body, ret, envid, rcpts: Vec::new(), commands: 0, spf });
        Reply::new(250, "2.1.0", "Sender OK")
    }
}
