//! Message filtering: the defences a server on port 25 needs, each a checkbox on the
//! *Message Filtering* page.
//!
//! - **At connect** (the SMTP listener, not submissions): the early-talker test (the
//!   banner waits; a client that talks first is refused, as Postfix's postscreen
//!   does), the DNS lists ([`dnslists`]: looked up while the banner waits, enforced at
//!   `MAIL FROM` so that a client that authenticates is never refused by them), and
//!   the client's reverse DNS (iprev, for the `Authentication-Results:` header and the
//!   content filter's score).
//! - **At `RCPT TO`**: greylisting (RFC 6647) of unknown (client network, sender,
//!   recipient) triplets, and for our own users the sending limits ([`limits`]).
//! - **At the end of the data**: the content filter ([`rspamd`]), whose verdict
//!   [`content`] turns into an answer — refused, deferred, delivered with `X-Spam-*`
//!   headers, tagged, or held in the quarantine.
//!
//! None of it applies to an authenticated client, to a network allowed to relay, or
//! to this machine talking to itself ([`stranger`]). What each defence did is counted
//! per day ([`count`]) for Service Status, and every refusal is in message tracking.

pub mod content;
pub mod dnslists;
pub mod limits;
pub mod rspamd;

use std::net::IpAddr;

use mail_auth::IprevOutput;

use crate::context::ServiceContext;
use crate::store::{ClientTest, FilterEvent, TrackEvent, TrackingRecord};

/// True when a client is a stranger, whom the defences apply to: it has not
/// authenticated, is not in a network allowed to relay, and is not this machine
/// (`peer` equal to the address it reached, `local`).
pub fn stranger(authenticated: bool, relay_allowed: bool, peer: IpAddr, local: IpAddr) -> bool {
    !authenticated && !relay_allowed && peer != local
}

/// The client network greylisting keys on: the /24 of an IPv4 address, the /64 of an
/// IPv6 one (a sender's retries often come from a neighbouring address of its pool).
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Today's date, UTC, as the daily counts are kept (`2026-11-27`).
pub fn today() -> String {
    day_of(crate::store::now_secs())
}

/// The UTC date of Unix time `secs`.
pub fn day_of(secs: i64) -> String {
    let (y, m, d) = mailroom_shared::time::utc_date(secs);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Records a refusal in message tracking (when it is on), without holding up the
/// caller.
pub fn track_refusal(ctx: &ServiceContext, sender: Option<String>, recipient: Option<String>, detail: String) {
    // The detail begins with the reply: "554 5.7.1 …".
    ctx.metrics.refused(detail.split_whitespace().nth(1).unwrap_or_default());
    if !ctx.config.diagnostics.message_tracking {
        return;
    }
    let record = TrackingRecord { sender, recipient, detail: Some(detail), ..TrackingRecord::now(TrackEvent::Refused) };
    let store = ctx.store.clone();
    ctx.tasks.spawn(async move {
        if let Err(e) = store.track(vec![record]).await {
            tracing::warn!(error = %e, "cannot record a refusal in message tracking");
        }
    });
}

/// What is found out about a stranger while it is greeted: its DNS lists' verdict and
/// its reverse DNS, each looked up in the background from the moment it connects and
/// awaited only where it is needed.
#[derive(Debug, Default)]
pub struct Screening {
    listing: Option<Lookup<dnslists::Listing>>,
    iprev: Option<Lookup<Option<IprevOutput>>>,
}

/// A lookup under way, or its result.
#[derive(Debug)]
enum Lookup<T> {
    Pending(tokio::task::JoinHandle<T>),
    Done(T),
}

impl<T: Send + 'static> Lookup<T> {
    async fn get(&mut self, failed: impl FnOnce() -> T) -> &T {
        if let Lookup::Pending(task) = self {
            let value = task.await.unwrap_or_else(|_| failed());
            *self = Lookup::Done(value);
        }
        match self {
            Lookup::Done(v) => v,
            Lookup::Pending(_) => unreachable!("just resolved"),
        }
    }
}

impl Screening {
    /// Starts the lookups the Message Filtering page asks for on a stranger at `ip`.
    pub fn start(ctx: &ServiceContext, ip: IpAddr) -> Screening {
        let cfg = &ctx.config.filtering;
        let listing = match (&ctx.dns_lists.resolver, cfg.dns_lists_enabled && !cfg.dns_lists.is_empty()) {
            (Some(resolver), true) => {
                let (resolver, lists) = (resolver.clone(), cfg.dns_lists.clone());
                Some(Lookup::Pending(tokio::spawn(async move { dnslists::look_up(&resolver, &lists, ip).await })))
            }
            _ => None,
        };
        let iprev = cfg.reverse_dns.then(|| {
            let mailauth = std::sync::Arc::clone(&ctx.mailauth);
            Lookup::Pending(tokio::spawn(async move { mailauth.iprev(ip).await }))
        });
        Screening { listing, iprev }
    }

    /// What the DNS lists say (clear when they are not asked).
    pub async fn listing(&mut self) -> dnslists::Listing {
        match &mut self.listing {
            Some(l) => l.get(|| dnslists::Listing::Clear).await.clone(),
            None => dnslists::Listing::Clear,
        }
    }

    /// The client's reverse DNS verdict, when it is looked up.
    pub async fn iprev(&mut self) -> Option<&IprevOutput> {
        match &mut self.iprev {
            Some(l) => l.get(|| None).await.as_ref(),
            None => None,
        }
    }
}

/// The early-talker test (Postfix postscreen's pregreet): the banner waits the Message
/// Filtering page's delay, and a client that sends anything first is refused with
/// `554 5.5.1` — a real mail server waits for the greeting (RFC 5321 §3.1); spam
/// software often does not. A client that passed is remembered and greeted at once.
/// True when the session may go on.
pub(crate) async fn greet<S: crate::tls::Transport>(
    ctx: &ServiceContext,
    conn: &mut crate::line::LineConn<S>,
    peer: std::net::SocketAddr,
) -> bool {
    use crate::line::{Ended, Stop, Wait};
    let cfg = &ctx.config.filtering;
    if cfg.greet_delay.is_zero() {
        return true;
    }
    let client = peer.ip().to_string();
    match ctx.store.client_passed(ClientTest::Greet, client.clone(), crate::store::now_secs()).await {
        Ok(true) => return true,
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(target: "mailroom_service::filtering", error = %e, "cannot read the early-talker passes")
        }
    }
    // A restart drops a client not yet greeted (it will call again); a stop too.
    let wait = Wait::until(std::time::Instant::now() + cfg.greet_delay, Stop::Draining);
    match conn.fill(&wait).await {
        Err(Ended::TimedOut) => {
            let until = crate::store::now_secs() + i64::try_from(cfg.greylist_pass.as_secs()).unwrap_or(i64::MAX);
            if let Err(e) = ctx.store.client_pass(ClientTest::Greet, client, until).await {
                tracing::warn!(target: "mailroom_service::filtering", error = %e, "cannot remember an early-talker pass");
            }
            true
        }
        Err(Ended::Closed | Ended::Stopping | Ended::Evicted) => false,
        Ok(()) => {
            tracing::info!(target: "mailroom_service::filtering", %peer, "client refused: it talked before the greeting");
            let line = format!(
                "554 5.5.1 {} Protocol error: you talked before the greeting; wait for it (RFC 5321 section 3.1)\r\n",
                ctx.config.general.host_name
            );
            conn.queue(line.as_bytes());
            conn.close().await;
            count(ctx, FilterEvent::EarlyTalker);
            track_refusal(ctx, None, None, format!("554 5.5.1 client {} talked before the greeting", peer.ip()));
            false
        }
    }
}

/// Counts one `event` for today, without holding up the caller (a lost count loses
/// no mail).
pub fn count(ctx: &ServiceContext, event: FilterEvent) {
    let store = ctx.store.clone();
    ctx.tasks.spawn(async move {
        if let Err(e) = store.count_filter_event(event, today()).await {
            tracing::debug!(target: "mailroom_service::filtering", error = %e, "cannot count a filtering event");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_group_neighbours() {
        assert_eq!(network_of("192.0.2.77".parse().expect("ip")), "192.0.2.0/24");
        assert_eq!(network_of("2001:db8:1:2:3:4:5:6".parse().expect("ip")), "2001:db8:1:2::/64");
        assert_eq!(day_of(0), "1970-01-01");
    }
}
