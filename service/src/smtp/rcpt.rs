//! RCPT TO (RFC 5321 §4.1.1.3): each recipient routed by `shared`'s routing decision.
//!
//! Relay decisions are made on the final domain only. Addresses that carry routing
//! of their own (a source route, `%`, `!`, a quoted `@`, a second `@`) are refused
//! with `550 5.7.1` from a client that may not relay, unless they name a local mailbox
//! exactly: Mailroom never interprets them, and refusing them outright leaves no
//! doubt about which domain a decision was made on.

use mailroom_shared::address::{Domain, EmailAddress, LiteralAddress};
use mailroom_shared::routing::{self, ClientContext, Decision, NoRoute};

use super::command::RoutingSyntax;
use super::reply::{self, Reply};
use super::session::{Phase, Recipient, Session, Target};
use crate::store::recipients::{List, Named};
use crate::store::{TrackEvent, TrackingRecord};

impl<S: crate::tls::Transport> Session<S> {
    /// Adds a recipient to the transaction, or says why not.
    pub(super) async fn rcpt(
        &mut self,
        to: String,
        notify: Option<String>,
        orcpt: Option<String>,
        routing: Option<RoutingSyntax>,
    ) -> Reply {
        let count = match &self.phase {
            Phase::Connected => return reply::bad_sequence("Send HELO or EHLO first"),
            Phase::Ready => return reply::bad_sequence("Need MAIL command first"),
            Phase::Mail(tx) => tx.commands,
        };
        if count >= self.ctx.config.connections.max_recipients as usize {
            return Reply::new(452, "4.5.3", "Too many recipients");
        }
        let (address, target) = match self.route(&to, routing).await {
            Ok(r) => r,
            Err(reply) => {
                let reason = reply.lines.join(" ");
                tracing::info!(peer = %self.peer, rcpt = %to, code = reply.code, %reason, "recipient refused");
                if reply.code >= 500 {
                    self.ctx.metrics.refused(reply.status.unwrap_or_default());
                }
                if self.ctx.config.diagnostics.message_tracking && reply.code >= 500 {
                    let sender = match &self.phase {
                        Phase::Mail(tx) => tx.from.clone(),
                        _ => String::new(),
                    };
                    self.track_refusal(&sender, &to, format!("{} {}", reply.code, reason));
                }
                return reply;
            }
        };
        if let Err(reply) = self.defend(&address, &target).await {
            let reason = reply.lines.join(" ");
            tracing::info!(target: "mailroom_service::filtering", peer = %self.peer, rcpt = %to, code = reply.code, %reason, "recipient refused");
            let sender = match &self.phase {
                Phase::Mail(tx) => tx.from.clone(),
                _ => String::new(),
            };
            crate::filtering::track_refusal(
                &self.ctx,
                Some(sender),
                Some(to.clone()),
                format!("{} {} {reason}", reply.code, reply.status.unwrap_or_default()),
            );
            return reply;
        }
        tracing::debug!(peer = %self.peer, rcpt = %to, routed = %address, ?target, "recipient accepted");
        if let Phase::Mail(tx) = &mut self.phase {
            tx.commands += 1;
            match target {
                Target::List(members) => {
                    // Each member once, however many lists (or RCPTs) name it; a DSN
                    // names the list as the original recipient.
                    let orcpt = orcpt.or_else(|| Some(format!("rfc822;{address}")));
                    for (member, target) in members {
                        let dup = tx.rcpts.iter().any(|r| match (&r.target, &target) {
                            (Target::Mailbox(a), Target::Mailbox(b)) => a == b,
                            _ => r.address.eq_ignore_ascii_case(&member) && r.target == target,
                        });
                        if !dup {
                            tx.rcpts.push(Recipient {
                                address: member,
                                notify: notify.clone(),
                                orcpt: orcpt.clone(),
                                target,
                            });
                        }
                    }
                }
                target => tx.rcpts.push(Recipient { address, notify, orcpt, target }),
            }
        }
        Reply::new(250, "2.1.5", "Recipient OK")
    }

    /// The Message Filtering page's defences at `RCPT TO`, for a recipient that routing
    /// accepted: our own users' sending limits on outside recipients, and greylisting
    /// of strangers (RFC 6647) — a client on a DNS allowlist skips it, and a failing
    /// store lets the recipient through rather than holding mail up.
    async fn defend(&mut self, address: &str, target: &Target) -> Result<(), Reply> {
        let Phase::Mail(tx) = &self.phase else { return Ok(()) };
        let from = tx.from.to_ascii_lowercase();
        let pending = tx.rcpts.iter().filter(|r| r.target == Target::Relay).count() as u64;
        if let (Some(auth), Target::Relay) = (&self.auth, target) {
            crate::filtering::limits::check(&self.ctx, &auth.login, pending).await?;
        }
        let cfg = &self.ctx.config.filtering;
        if !cfg.greylisting || !self.stranger() || matches!(target, Target::Fail(_)) {
            return Ok(());
        }
        if matches!(self.screening.listing().await, crate::filtering::dnslists::Listing::Allowed { .. }) {
            return Ok(());
        }
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let times = crate::store::GreylistTimes {
            delay: secs(cfg.greylist_delay),
            window: secs(cfg.greylist_retry_window),
            pass: secs(cfg.greylist_pass),
        };
        let network = crate::filtering::network_of(self.peer.ip());
        let answer =
            self.ctx.store.greylist(network, from, address.to_ascii_lowercase(), crate::store::now_secs(), times).await;
        let wait = match answer {
            Ok(crate::store::Greylist::Pass) => return Ok(()),
            Ok(crate::store::Greylist::Wait { seconds }) => seconds,
            Ok(crate::store::Greylist::New) => cfg.greylist_delay.as_secs(),
            Err(e) => {
                tracing::error!(target: "mailroom_service::filtering", error = %e, "cannot greylist; the recipient is accepted");
                return Ok(());
            }
        };
        crate::filtering::count(&self.ctx, crate::store::FilterEvent::Greylisted);
        Err(Reply::new(451, "4.7.1", format!("Greylisted; please try again in {wait} seconds")))
    }

    /// Records a refusal in the message-tracking log: of a recipient, or of a message
    /// (to its recipients). Not awaited: the reply does not wait for it, and losing it
    /// in a crash loses no mail.
    pub(super) fn track_refusal(&self, sender: &str, rcpt: &str, detail: String) {
        let sender = sender.to_owned();
        let record = TrackingRecord {
            sender: Some(sender),
            recipient: Some(rcpt.to_owned()),
            detail: Some(detail),
            ..TrackingRecord::now(TrackEvent::Refused)
        };
        let store = self.ctx.store.clone();
        self.ctx.tasks.spawn(async move {
            if let Err(e) = store.track(vec![record]).await {
                tracing::warn!(error = %e, "cannot record a refused recipient in message tracking");
            }
        });
    }

    /// The client, as the routing decision sees it.
    fn client(&self) -> ClientContext {
        ClientContext {
            authenticated_as: self.auth.as_ref().map(|a| a.login.clone()),
            client_ip: self.peer.ip(),
            local_ip: self.local.ip(),
        }
    }

    /// Decides where `to` goes. `to` is empty for `<Postmaster>`; `routing` is the
    /// routing syntax it was written with, if any.
    async fn route(&self, to: &str, routing: Option<RoutingSyntax>) -> Result<(String, Target), Reply> {
        let store = &self.ctx.store;
        let internal = |e| {
            tracing::error!(error = %e, "mailbox lookup failed");
            Reply::new(451, "4.3.0", "Temporary lookup failure, try again later")
        };
        if to.is_empty() {
            return match self.postmaster(None).await.map_err(internal)? {
                Some(id) => Ok(("postmaster".into(), Target::Mailbox(id))),
                None => Err(Reply::new(550, "5.1.1", "No postmaster mailbox is configured here")),
            };
        }
        if crate::srs::is_srs(to) {
            return self.srs_bounce(to).await;
        }
        let parsed = EmailAddress::parse(to);
        if parsed.is_err()
            && routing.is_none()
            && let Ok(literal) = LiteralAddress::parse(to)
        {
            return self.route_literal(literal).await;
        }
        let named = match &parsed {
            Ok(addr) => store.named(&addr.canonical()).await.map_err(internal)?,
            Err(_) => None,
        };
        let exists = match &named {
            Some(Named::Mailbox(id)) => Some(*id),
            _ => None,
        };
        if let Some(syntax) = routing
            && exists.is_none()
            && let Err(refusal) = routing::relay_permission(&self.client(), &self.ctx.config.routing_restrictions)
        {
            tracing::info!(target: "mailroom_service::routing", rcpt = %to, syntax = syntax.describe(), reason = %refusal, "relay attempt refused");
            return Err(Reply::new(
                550,
                "5.7.1",
                format!("Unable to relay for <{to}>: {} is not accepted here", syntax.describe()),
            ));
        }
        let Ok(addr) = parsed else {
            return Err(Reply::new(501, "5.1.3", format!("Bad recipient address syntax <{to}>")));
        };
        let canonical = addr.canonical();
        if exists.is_none()
            && addr.local().eq_ignore_ascii_case("postmaster")
            && let Some(id) = self.postmaster(Some(addr.domain())).await.map_err(internal)?
        {
            return Ok((canonical, Target::Mailbox(id)));
        }
        let cfg = &self.ctx.config;
        let client = self.client();
        let directory = |a: &EmailAddress| named.is_some() && a.canonical() == canonical;
        let decision = routing::decide(&addr, &client, &cfg.routing, &cfg.routing_restrictions, &directory);
        tracing::debug!(target: "mailroom_service::routing", rcpt = %addr, decision = %decision.explain());
        match decision.outcome() {
            Decision::Local { address } => {
                let key = address.canonical();
                let found = if key == canonical { named } else { store.named(&key).await.map_err(internal)? };
                match found {
                    Some(Named::Mailbox(id)) => self.mailbox_target(address, id).await,
                    Some(Named::List(list)) => self.expand_list(address, list).await,
                    Some(Named::Contact(c)) => Ok((c.target, Target::Forward { domain: address.domain().to_string() })),
                    Some(Named::Folder { full: true, name, .. }) => Err(Reply::new(
                        552,
                        "5.2.2",
                        format!("<{address}>: the public folder {name} is full; try again after it is cleaned up"),
                    )),
                    Some(Named::Folder { mailbox, folder, .. }) => {
                        Ok((address.canonical(), Target::Folder { mailbox, folder }))
                    }
                    None => match store.catch_all(&address.domain().to_string()).await.map_err(internal)? {
                        // The domain's catch-all takes what names nobody.
                        Some(id) => self.mailbox_target(address, id).await,
                        None => Err(Reply::new(
                            550,
                            "5.1.1",
                            format!("<{address}>: Recipient address rejected: User unknown"),
                        )),
                    },
                }
            }
            Decision::Relay { address } => Ok((address.to_string(), Target::Relay)),
            Decision::Refused(why) => {
                tracing::info!(target: "mailroom_service::routing", rcpt = %addr, reason = %why, "relay refused");
                Err(Reply::new(550, "5.7.1", format!("Unable to relay for <{addr}>")))
            }
            Decision::NoRoute(NoRoute::ReroutingOff) => {
                if self.auth.is_some() {
                    // The founding scenario: accept, and return an NDR to the sender.
                    Ok((addr.to_string(), Target::Fail("No route: rerouting of incoming SMTP mail is off".into())))
                } else {
                    Err(Reply::new(
                        550,
                        "5.7.1",
                        format!("Unable to relay for <{addr}>: rerouting of incoming SMTP mail is off"),
                    ))
                }
            }
            Decision::NoRoute(e @ NoRoute::RewriteLoop { .. }) => {
                Err(Reply::new(554, "5.4.6", format!("Routing loop for <{addr}>: {e}")))
            }
            Decision::NoRoute(e @ NoRoute::InvalidRewrite { .. }) => {
                Err(Reply::new(553, "5.1.3", format!("Cannot route <{addr}>: {e}")))
            }
            Decision::Rewritten { .. } => unreachable!("outcome() follows rewrites"),
        }
    }

    /// Where a recipient at an address literal goes (RFC 5321 §4.1.3). This server's
    /// own address (the one the client reached) stands for its host name, so
    /// `postmaster@[ip]` and the mailboxes at the host name are found; any other
    /// address is a remote host, reached directly by clients that may relay.
    async fn route_literal(&self, literal: LiteralAddress) -> Result<(String, Target), Reply> {
        let cfg = &self.ctx.config;
        let internal = |e| {
            tracing::error!(error = %e, "mailbox lookup failed");
            Reply::new(451, "4.3.0", "Temporary lookup failure, try again later")
        };
        if literal.ip() == self.local.ip() {
            let unknown = || Reply::new(550, "5.1.1", format!("<{literal}>: Recipient address rejected: User unknown"));
            let address = EmailAddress::new(literal.local(), &cfg.general.host_name).map_err(|_| unknown())?;
            if address.local().eq_ignore_ascii_case("postmaster")
                && let Some(id) = self.postmaster(None).await.map_err(internal)?
            {
                return Ok((address.canonical(), Target::Mailbox(id)));
            }
            return match self.ctx.store.named(&address.canonical()).await.map_err(internal)? {
                Some(Named::Mailbox(id)) => self.mailbox_target(&address, id).await,
                _ => Err(unknown()),
            };
        }
        // As for a domain: with rerouting off nothing leaves (an authenticated sender
        // is told in an NDR); with it on, the Routing Restrictions decide.
        if !cfg.routing.reroute {
            return match self.auth {
                Some(_) => {
                    Ok((literal.to_string(), Target::Fail("No route: rerouting of incoming SMTP mail is off".into())))
                }
                None => Err(Reply::new(
                    550,
                    "5.7.1",
                    format!("Unable to relay for <{literal}>: rerouting of incoming SMTP mail is off"),
                )),
            };
        }
        if let Err(refusal) = routing::relay_permission(&self.client(), &cfg.routing_restrictions) {
            tracing::info!(target: "mailroom_service::routing", rcpt = %literal, reason = %refusal, "relay refused");
            return Err(Reply::new(550, "5.7.1", format!("Unable to relay for <{literal}>")));
        }
        Ok((literal.to_string(), Target::Relay))
    }

    /// A distribution list at RCPT time: who may send to it, then its members, each a
    /// recipient of its own (local ones delivered, outside ones forwarded with SRS). A
    /// member local in name but unknown is left out (and logged).
    async fn expand_list(&self, address: &EmailAddress, list: List) -> Result<(String, Target), Reply> {
        let internal = |e| {
            tracing::error!(error = %e, "list expansion failed");
            Reply::new(451, "4.3.0", "Temporary lookup failure, try again later")
        };
        let expansion = self.ctx.store.expand(list.id).await.map_err(internal)?;
        let refused = || Reply::new(550, "5.7.1", format!("<{address}>: you may not send to this list"));
        match list.senders {
            mailroom_shared::ipc::ListSenders::Anyone => {}
            mailroom_shared::ipc::ListSenders::Authenticated if self.auth.is_some() => {}
            mailroom_shared::ipc::ListSenders::Authenticated => return Err(refused()),
            mailroom_shared::ipc::ListSenders::Members => {
                let from = match &self.phase {
                    Phase::Mail(tx) => tx.from.to_ascii_lowercase(),
                    _ => String::new(),
                };
                let mut senders = vec![from];
                if let Some(auth) = &self.auth {
                    senders.extend(auth.addresses.iter().cloned());
                }
                if !senders.iter().any(|s| !s.is_empty() && expansion.member_addresses.contains(s)) {
                    return Err(refused());
                }
            }
        }
        if !expansion.loops.is_empty() {
            tracing::warn!(list = %address, loops = ?expansion.loops, "a distribution list loop; each list expanded once");
        }
        let cfg = &self.ctx.config;
        let ours = |d: &str| {
            Domain::parse(d)
                .is_ok_and(|d| d == cfg.general.host_name || (cfg.routing.reroute && cfg.routing.table.is_inbound(&d)))
        };
        let mut members: Vec<(String, Target)> = Vec::new();
        for (id, a) in expansion.mailboxes {
            let parsed = EmailAddress::parse(&a).map_err(|_| internal(crate::store::StoreError::Corrupt(a.clone())))?;
            match self.mailbox_target(&parsed, id).await {
                Ok((_, Target::List(more))) => members.extend(more),
                Ok(member) => members.push(member),
                // A full member's copy fails; its sender's NDR names the member.
                Err(reply) => members.push((a, Target::Fail(reply.lines.join(" ")))),
            }
        }
        for outside in expansion.outside {
            match outside.rsplit_once('@') {
                Some((_, d)) if ours(d) => {
                    tracing::warn!(list = %address, member = %outside, "a list member names no recipient here; left out");
                }
                _ => members.push((outside, Target::Forward { domain: address.domain().to_string() })),
            }
        }
        Ok((address.to_string(), Target::List(members)))
    }

    /// Where mail to the mailbox `id` (as `address`) goes: refused when it is full
    /// (`552 5.2.2`); else to it, and to where it forwards (keeping a copy or not).
    async fn mailbox_target(&self, address: &EmailAddress, id: i64) -> Result<(String, Target), Reply> {
        // Most servers forward nothing and limit nothing: then RCPT asks no more.
        let (w, s, r) = self.ctx.config.general.mailbox_limits;
        if w.is_none() && s.is_none() && r.is_none() && !self.ctx.store.any_mailbox_options().await {
            return Ok((address.to_string(), Target::Mailbox(id)));
        }
        let options = self.ctx.store.mailbox_options(id).await.map_err(|e| {
            tracing::error!(error = %e, "mailbox lookup failed");
            Reply::new(451, "4.3.0", "Temporary lookup failure, try again later")
        })?;
        self.mailbox_target_with(address, id, options)
    }

    /// [`Session::mailbox_target`] with the mailbox's options at hand.
    fn mailbox_target_with(
        &self,
        address: &EmailAddress,
        id: i64,
        options: crate::store::options::MailboxOptions,
    ) -> Result<(String, Target), Reply> {
        if crate::quota::full(&self.ctx, &options) {
            return Err(Reply::new(552, "5.2.2", format!("<{address}>: Mailbox full")));
        }
        match options.forwarding {
            None => Ok((address.to_string(), Target::Mailbox(id))),
            Some(f) => {
                let mut targets = Vec::new();
                if f.keep {
                    targets.push((address.to_string(), Target::Mailbox(id)));
                }
                targets.push((f.to, Target::Forward { domain: address.domain().to_string() }));
                Ok((address.to_string(), Target::List(targets)))
            }
        }
    }

    /// RCPT to an SRS address of ours: a bounce of mail we forwarded, which goes on to
    /// the original sender; a forged or stale one is refused.
    async fn srs_bounce(&self, to: &str) -> Result<(String, Target), Reply> {
        let secret = crate::srs::secret(&self.ctx).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read the SRS secret");
            Reply::new(451, "4.3.0", "Temporary lookup failure, try again later")
        })?;
        match crate::srs::reverse(to, &secret) {
            Some(original) => {
                tracing::info!(target: "mailroom_service::routing", rcpt = %to, to = %original, "a bounce to an SRS address goes back to its sender");
                Ok((original, Target::Relay))
            }
            None => Err(Reply::new(550, "5.7.1", format!("<{to}>: not a valid SRS address of this server"))),
        }
    }

    /// The mailbox that receives postmaster mail for `domain` (`None`: bare
    /// `<Postmaster>`), when `domain` is this server's: its host name or, while
    /// rerouting is on, an inbound domain. The administrator's mailbox from the General
    /// page.
    async fn postmaster(&self, domain: Option<&Domain>) -> Result<Option<i64>, crate::store::StoreError> {
        let cfg = &self.ctx.config;
        let ours = domain
            .is_none_or(|d| *d == cfg.general.host_name || (cfg.routing.reroute && cfg.routing.table.is_inbound(d)));
        match (&cfg.general.administrator_mailbox, ours) {
            (Some(admin), true) => self.ctx.store.mailbox_of(&admin.canonical()).await,
            _ => Ok(None),
        }
    }
}
