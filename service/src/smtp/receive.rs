//! DATA (RFC 5321 §4.1.1.4): receive the message, then commit it before answering.

use std::time::{Duration, Instant};

use super::data::{DataReceiver, Finished, Progress};
use super::reply::{self, Reply};
use super::session::{Flow, Phase, Session};
use super::{accept, plan};
use crate::filtering::{content, rspamd};
use crate::mailauth::inbound;

/// The slowest a message may arrive, in bytes a second (Postfix's
/// `smtpd_min_data_rate`).
const MIN_DATA_RATE: f64 = 500.0;

impl<S: crate::tls::Transport> Session<S> {
    /// Receives a message and, if it is acceptable, commits it durably; the `250`
    /// goes out only after the commit.
    pub(super) async fn data(&mut self) -> Flow {
        let refusal = match &self.phase {
            Phase::Connected => Some(reply::bad_sequence("Send HELO or EHLO first")),
            Phase::Ready => Some(reply::bad_sequence("Need MAIL command first")),
            Phase::Mail(tx) if tx.rcpts.is_empty() => Some(Reply::new(554, "5.5.1", "No valid recipients")),
            Phase::Mail(_) => None,
        };
        if let Some(r) = refusal {
            return self.error(r);
        }
        self.reply(Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".into()]));
        let mut rx = DataReceiver::new(self.ctx.config.general.max_message_size);
        // The data timeout from the last progress, but the message must keep coming at
        // the minimum rate: each byte buys 1/MIN_DATA_RATE s, never more than the
        // timeout ahead. A client trickling a byte now and then runs out of time.
        let timeout = self.limits.timeout(self.ctx.config.connections.data_timeout);
        let mut until = Instant::now() + timeout;
        let finished = loop {
            let input = self.input_mut();
            let (used, progress) = rx.feed(input);
            input.drain(..used);
            match progress {
                Progress::More => {
                    let before = self.input_mut().len();
                    if !self.fill(until).await {
                        tracing::info!(peer = %self.peer, "message transfer interrupted; partial message discarded");
                        return Flow::Close;
                    }
                    let got = self.input_mut().len().saturating_sub(before) as f64;
                    until = (until + Duration::from_secs_f64(got / MIN_DATA_RATE)).min(Instant::now() + timeout);
                }
                Progress::Done(f) => break f,
                Progress::Abort(why) => {
                    tracing::warn!(peer = %self.peer, reason = %why, "message refused; closing (SMTP smuggling guard)");
                    self.reply(Reply::new(
                        554,
                        "5.6.0",
                        format!("Message refused: {why}; lines must end with CRLF (RFC 5321 section 2.3.8)"),
                    ));
                    return Flow::Close;
                }
            }
        };
        let Phase::Mail(tx) = std::mem::replace(&mut self.phase, Phase::Ready) else { unreachable!("checked above") };
        let reply = match finished {
            Finished::TooBig => Reply::new(552, "5.3.4", "Message size exceeds fixed maximum message size"),
            Finished::Nul => Reply::new(
                554,
                "5.6.0",
                "Message refused: it contains NUL characters, which mail text may not (RFC 5321 section 2.3.8)",
            ),
            Finished::Complete => self.accept(&tx, rx.into_body()).await,
        };
        self.error(reply)
    }

    /// A whole message in: checked when it comes from outside (and refused, tagged or
    /// marked as the verdict says), scanned by the content filter when it comes from a
    /// stranger, then committed durably — or held in the quarantine; the reply to send.
    async fn accept(&mut self, tx: &super::session::Transaction, mut body: Vec<u8>) -> Reply {
        let cfg = std::sync::Arc::clone(&self.ctx.config);
        // A person sends as themselves, or as a mailbox they have Send As or Send On
        // Behalf Of on (`Sender:` added for the latter).
        let mut sent_for = None;
        if self.mode == super::Mode::Submission || cfg.connections.sender_must_match_account {
            match self.check_authors(body).await {
                Ok((checked, mailbox)) => (body, sent_for) = (checked, mailbox),
                Err(reply) => return reply,
            }
        }
        let mut authentication = None;
        let mut hold = None;
        let refused = |session: &Self, code: u16, status: &str, text: &str, why: &str| {
            let rcpts = tx.rcpts.iter().map(|r| r.address.clone()).collect::<Vec<_>>().join(", ");
            crate::filtering::track_refusal(
                &session.ctx,
                Some(tx.from.clone()),
                Some(rcpts),
                format!("{code} {status} {text} ({why})"),
            );
        };
        if let Some(spf) = &tx.spf {
            let mailauth = std::sync::Arc::clone(&self.ctx.mailauth);
            if let std::borrow::Cow::Owned(stripped) = inbound::strip_our_results(&body, &mailauth.host) {
                body = stripped;
            }
            let iprev = self.screening.iprev().await.cloned();
            let verdict = mailauth.check(&body, spf, &cfg, iprev.as_ref()).await;
            tracing::info!(target: "mailroom_service::mailauth", peer = %self.peer, from = %tx.from, verdict = %verdict.summary, action = ?verdict.action, "message checked");
            match verdict.action {
                inbound::Action::Refuse(r) => {
                    if r.code >= 500 {
                        refused(self, r.code, r.status, &r.text, &verdict.summary);
                    }
                    return r.into();
                }
                inbound::Action::Tag => body = inbound::tag_subject(&body),
                inbound::Action::Quarantine => {
                    hold = Some(plan::Hold {
                        reason: format!("the sender's DMARC policy says quarantine ({})", verdict.summary),
                        score: None,
                    });
                }
                inbound::Action::Accept => {}
            }
            authentication = Some((verdict.header, verdict.summary));
        }
        let mut filter = None;
        if cfg.filtering.rspamd.is_some() && self.stranger() {
            if let std::borrow::Cow::Owned(stripped) =
                crate::message::strip_fields(&body, |name, _| content::is_spam_field(name))
            {
                body = stripped;
            }
            let env = rspamd::Envelope {
                ip: Some(self.peer.ip()),
                helo: self.helo.as_ref().map(|(h, _)| h.clone()).unwrap_or_default(),
                hostname: self
                    .screening
                    .iprev()
                    .await
                    .filter(|i| i.result == mail_auth::IprevResult::Pass)
                    .and_then(|i| i.ptr.as_ref()?.first().map(|p| p.trim_end_matches('.').to_owned())),
                from: tx.from.clone(),
                rcpts: tx.rcpts.iter().map(|r| r.address.clone()).collect(),
                queue_id: String::new(),
            };
            // The filter sees the message with our verdict on it.
            let results = authentication.as_ref().map_or("", |(h, _): &(String, String)| h.as_str());
            let mut scanned = Vec::with_capacity(results.len() + body.len());
            scanned.extend_from_slice(results.as_bytes());
            scanned.extend_from_slice(&body);
            let network = crate::filtering::network_of(self.peer.ip());
            if let Some(outcome) = content::scan(&self.ctx, env, network, scanned).await {
                tracing::info!(target: "mailroom_service::filtering", peer = %self.peer, from = %tx.from, verdict = %outcome.summary, "message scanned");
                match outcome.disposition {
                    content::Disposition::Refuse(r) => {
                        refused(self, r.code, r.status, &r.text, &outcome.summary);
                        return r.into();
                    }
                    content::Disposition::Tag => body = crate::message::tag_subject(&body, &cfg.filtering.spam_tag),
                    content::Disposition::Quarantine(reason) => {
                        hold = Some(plan::Hold { reason, score: outcome.score });
                    }
                    content::Disposition::Deliver => {}
                }
                filter = Some((outcome.headers, outcome.summary));
            }
        }
        let (helo, extended) = self.helo.clone().unwrap_or_default();
        let envelope = plan::Envelope {
            tx,
            client: self.peer,
            helo: &helo,
            extended,
            auth: self.auth.as_ref().map(|a| a.login.as_str()),
            sent_for: sent_for.as_deref(),
            trusted: self.auth.is_some() || self.relay_allowed(),
            tls: self.tls_version(),
            authentication,
            filter,
            hold,
        };
        match accept::commit(&self.ctx, &envelope, body).await {
            Ok(queue_id) => {
                if tx.rcpts.iter().any(|r| {
                    !matches!(r.target, super::session::Target::Mailbox(_) | super::session::Target::Folder { .. })
                }) {
                    self.ctx.queue.notify_one();
                }
                tracing::info!(peer = %self.peer, queue_id = %queue_id, from = %tx.from, rcpts = tx.rcpts.len(), "message accepted");
                Reply::new(250, "2.0.0", format!("OK: queued as {queue_id}"))
            }
            Err(crate::store::StoreError::Full(e)) => {
                crate::logging::repeated("smtp-commit-full", |n| {
                    tracing::error!(repeats = n, error = %e, "the disk is full; messages are refused with 452");
                });
                Reply::new(452, "4.3.1", "Insufficient system storage; message not accepted, try again later")
            }
            Err(e) => {
                crate::logging::repeated("smtp-commit", |n| {
                    tracing::error!(peer = %self.peer, repeats = n, error = %e, "cannot commit a message; refused with 451");
                });
                Reply::new(451, "4.3.0", "Local error in processing; message not accepted, try again later")
            }
        }
    }
}
