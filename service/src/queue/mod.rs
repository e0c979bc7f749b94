//! Outbound delivery: the queue, next hops, retries and non-delivery reports.
//!
//! One task — the queue actor, [`run`] — owns the schedule. Each turn it writes the
//! NDRs that are due, fails what has waited longer than the expiry, claims the
//! recipients that are due (state `in_flight`, persisted), groups them by destination
//! and hands each group to that destination's workers. Then it sleeps until the next
//! recipient is due, or until it is woken (new mail, retry now, a worker finishing).
//!
//! Workers ([`Dispatcher`]) hold an SMTP connection to one destination and reuse it
//! for the next job, up to the per-destination limit; all workers together stay under
//! the global limit. Each attempt's outcome is recorded per recipient. A stop lets a
//! delivery in progress finish within the drain timeout; what is cut short stays
//! `in_flight` and is put back in the queue at the next start, so an acknowledged
//! message is delivered at least once — never lost.

pub mod client;
pub mod delivery;
pub mod ndr;
pub mod route;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use mailroom_shared::address::{EmailAddress, LiteralAddress};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, mpsc};

use self::client::{Connection, RcptResult};
use self::delivery::DeliveryError;
use self::route::Destination;
use crate::context::ServiceContext;
use crate::store::{Attempt, DueMessage, NewMessage, Outbound, OutboundRecipient, now_secs};

/// How long a worker keeps an idle connection open for the next message.
const IDLE_CONNECTION: Duration = Duration::from_secs(5);
/// How often expiry and purging run; also the longest sleep between turns.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// The first pause after the store failed, doubling while it keeps failing…
const STORE_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// …up to this.
const STORE_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// One message for one destination.
struct Job {
    message: Arc<DueMessage>,
    content: Arc<Vec<u8>>,
    /// Recipient row ids and addresses for this destination.
    recipients: Vec<(i64, String, u32)>,
}

/// Jobs waiting for one destination, shared by its workers.
struct Lane {
    tx: mpsc::UnboundedSender<Job>,
    counts: Arc<LaneCounts>,
}

/// What the workers of one destination share.
#[derive(Default)]
struct LaneCounts {
    /// The jobs, taken by whichever worker is free.
    rx: Mutex<Option<mpsc::UnboundedReceiver<Job>>>,
    /// Jobs sent and not yet taken.
    pending: AtomicUsize,
    /// Workers running.
    workers: AtomicUsize,
    /// Workers free to take a job (waiting for one, or just started). A worker busy
    /// with a slow delivery is not free: new jobs get a new worker, within the limit,
    /// rather than waiting behind it.
    idle: AtomicUsize,
}

/// What workers need to reach next hops, made once per run.
struct Network {
    /// For MX and host lookups; `None` when it could not be set up.
    resolver: Option<TokioResolver>,
    /// TLS for STARTTLS.
    tls: crate::tls::Outbound,
}

/// Hands jobs to per-destination workers within the concurrency limits.
struct Dispatcher {
    ctx: ServiceContext,
    net: Arc<Network>,
    lanes: HashMap<Destination, Lane>,
    /// One permit per worker, overall.
    slots: Arc<Semaphore>,
}

impl Dispatcher {
    fn submit(&mut self, dest: Destination, job: Job) {
        let lane = self.lanes.entry(dest).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let counts = LaneCounts { rx: Mutex::new(Some(rx)), ..LaneCounts::default() };
            Lane { tx, counts: Arc::new(counts) }
        });
        lane.counts.pending.fetch_add(1, Ordering::SeqCst);
        if lane.tx.send(job).is_err() {
            lane.counts.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Starts workers where jobs wait and no worker is free, while the limits allow.
    fn staff(&mut self) {
        let per_dest = self.ctx.config.delivery.max_per_destination as usize;
        for (dest, lane) in &self.lanes {
            let c = &lane.counts;
            while c.pending.load(Ordering::SeqCst) > c.idle.load(Ordering::SeqCst)
                && c.workers.load(Ordering::SeqCst) < per_dest
            {
                let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() else { return };
                c.workers.fetch_add(1, Ordering::SeqCst);
                c.idle.fetch_add(1, Ordering::SeqCst);
                self.ctx.tasks.spawn(worker(
                    dest.clone(),
                    Arc::clone(c),
                    self.ctx.clone(),
                    Arc::clone(&self.net),
                    permit,
                ));
            }
        }
        self.lanes
            .retain(|_, l| l.counts.pending.load(Ordering::SeqCst) > 0 || l.counts.workers.load(Ordering::SeqCst) > 0);
    }
}

/// Runs the queue until the service drains.
pub async fn run(ctx: ServiceContext) {
    let resolver = match crate::dns::resolver(&ctx.config.connections) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(error = %e, "no DNS resolver; MX deliveries will be deferred");
            None
        }
    };
    let mut dispatcher = Dispatcher {
        ctx: ctx.clone(),
        net: Arc::new(Network { resolver, tls: crate::tls::Outbound::new() }),
        lanes: HashMap::new(),
        slots: Arc::new(Semaphore::new(ctx.config.delivery.max_concurrent as usize)),
    };
    let delivers = ctx.config.connections.transfer_mode.delivers_outbound();
    // Expiry and purging scan the queue: every few seconds is often enough.
    let mut last_sweep: Option<std::time::Instant> = None;
    // The pause after a turn the store failed; it grows while the store keeps failing
    // (a full disk), so that the actor waits instead of spinning.
    let mut backoff = STORE_BACKOFF_MIN;
    loop {
        let mut trouble = Trouble::default();
        let sweep = last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY);
        if sweep {
            last_sweep = Some(std::time::Instant::now());
            // Expiry before NDRs, so that what it fails gets its NDR in this same turn.
            let expire = i64::try_from(ctx.config.delivery.expire_after.as_secs()).unwrap_or(i64::MAX);
            trouble.check(ctx.store.queue_expire(expire).await, "cannot expire old messages");
            trouble.check(ctx.store.queue_purge_finished().await, "cannot purge finished messages");
        }
        write_ndrs(&ctx, &mut trouble).await;
        if delivers && !trouble.0 {
            let room = dispatcher.slots.available_permits().max(1) * 32;
            if let Some(due) = trouble.check(ctx.store.queue_claim_due(room).await, "cannot claim due recipients") {
                let claimed = !due.is_empty();
                let ids = due.iter().map(|m| m.id).collect();
                let mut contents = trouble
                    .check(ctx.store.queue_contents(ids).await, "cannot read queued messages")
                    .unwrap_or_default();
                for message in due {
                    let content = contents.remove(&message.id);
                    dispatch(&ctx, &mut dispatcher, message, content).await;
                }
                dispatcher.staff();
                if claimed {
                    // More may be due than one claim took.
                    continue_soon(&ctx);
                }
            }
        }
        let sleep = if trouble.0 {
            let pause = backoff;
            backoff = (backoff * 2).min(STORE_BACKOFF_MAX);
            pause
        } else {
            backoff = STORE_BACKOFF_MIN;
            match ctx.store.queue_next_due().await {
                Ok(Some(at)) => Duration::from_secs(u64::try_from(at - now_secs()).unwrap_or(0)).min(SWEEP_EVERY),
                _ => SWEEP_EVERY,
            }
        };
        let wake = async {
            if trouble.0 {
                // Wake-ups do not cut a pause short: the store needs the time.
                std::future::pending::<()>().await;
            }
            ctx.queue.notified().await;
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake => {}
            () = ctx.shutdown.draining() => break,
        }
        dispatcher.staff();
    }
    tracing::debug!("queue stopped");
}

/// Whether a turn of the actor met a store failure. Each failure is logged, but
/// repeats of the same one only once a minute, with their count.
#[derive(Default)]
struct Trouble(bool);

impl Trouble {
    /// The value, or `None` after logging the failure.
    fn check<T>(&mut self, result: crate::store::StoreResult<T>, what: &'static str) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0 = true;
                crate::logging::repeated(
                    what,
                    |n| tracing::error!(error = %e, repeats = n, "{what}; trying again later"),
                );
                None
            }
        }
    }
}

/// Makes the next turn start at once, without waiting for a wake-up.
fn continue_soon(ctx: &ServiceContext) {
    ctx.queue.notify_one();
}

/// Splits a claimed message into jobs per destination. Without its content (it could
/// not be read) the recipients go back to the queue.
async fn dispatch(
    ctx: &ServiceContext,
    dispatcher: &mut Dispatcher,
    message: DueMessage,
    content: Option<Arc<Vec<u8>>>,
) {
    let Some(content) = content else {
        tracing::error!(queue_id = %message.queue_id, "cannot read a queued message; returned to the queue");
        let back = message.recipients.iter().map(|r| (r.id, r.address.clone(), Attempt::Returned)).collect();
        record(ctx, back).await;
        return;
    };
    let mut groups: HashMap<Destination, Vec<(i64, String, u32)>> = HashMap::new();
    let mut unroutable = Vec::new();
    for r in &message.recipients {
        let dest = match (EmailAddress::parse(&r.address), LiteralAddress::parse(&r.address)) {
            (Ok(a), _) => Ok(route::destination(&ctx.config.connections, a.domain())),
            (Err(_), Ok(literal)) => Ok(route::literal_destination(&ctx.config.connections, literal.ip())),
            (Err(e), Err(_)) => Err(e),
        };
        match dest {
            Ok(dest) => groups.entry(dest).or_default().push((r.id, r.address.clone(), r.attempts)),
            Err(e) => unroutable.push((
                r.id,
                r.address.clone(),
                Attempt::Failed { error: format!("bad address: {e}"), status: "5.1.3".into(), remote: None },
            )),
        }
    }
    if !unroutable.is_empty() {
        record(ctx, unroutable).await;
    }
    let message = Arc::new(message);
    for (dest, recipients) in groups {
        dispatcher.submit(dest, Job { message: Arc::clone(&message), content: Arc::clone(&content), recipients });
    }
}

/// The retry time after `attempts` attempts, from the Delivery page's schedule.
fn retry_at(ctx: &ServiceContext, attempts: u32) -> i64 {
    now_secs() + i64::try_from(retry_wait(&ctx.config.delivery.retry_intervals, attempts).as_secs()).unwrap_or(i64::MAX)
}

/// The wait after `attempts` attempts (1 after the first): the schedule's entries in
/// turn, then its last one again and again.
fn retry_wait(schedule: &[Duration], attempts: u32) -> Duration {
    let i = (attempts as usize).saturating_sub(1).min(schedule.len().saturating_sub(1));
    schedule.get(i).copied().unwrap_or(Duration::from_secs(900))
}

/// Delivers jobs for one destination, reusing one connection, until none are left
/// for a while or the service drains.
async fn worker(
    dest: Destination,
    lane: Arc<LaneCounts>,
    ctx: ServiceContext,
    net: Arc<Network>,
    _slot: OwnedSemaphorePermit,
) {
    let mut conn: Option<Connection> = None;
    loop {
        // Counted idle (by `staff` when it started us, then below after each job).
        let job = {
            let mut rx = lane.rx.lock().await;
            tokio::select! {
                job = async { rx.as_mut()?.recv().await } => job,
                () = tokio::time::sleep(IDLE_CONNECTION) => None,
                () = ctx.shutdown.draining() => None,
            }
        };
        lane.idle.fetch_sub(1, Ordering::SeqCst);
        let Some(job) = job else { break };
        lane.pending.fetch_sub(1, Ordering::SeqCst);
        let outcomes = tokio::select! {
            o = attempt(&ctx, &dest, &net, &mut conn, &job) => o,
            () = ctx.shutdown.aborted() => {
                conn = None;
                job.recipients.iter().map(|(id, a, _)| (*id, a.clone(), Attempt::Returned)).collect()
            }
        };
        for (_, address, outcome) in &outcomes {
            tracing::info!(target: "mailroom_service::queue", queue_id = %job.message.queue_id, rcpt = %address, ?outcome, "delivery attempt");
        }
        let failed = outcomes.iter().any(|(_, _, o)| matches!(o, Attempt::Failed { .. }));
        record(&ctx, outcomes).await;
        if failed {
            // An NDR is due: the actor writes it on its next turn.
            ctx.queue.notify_one();
        }
        let _ = ctx.events.send(mailroom_shared::ipc::Event::QueueChanged);
        lane.idle.fetch_add(1, Ordering::SeqCst);
    }
    if let Some(c) = conn {
        c.quit().await;
    }
    lane.workers.fetch_sub(1, Ordering::SeqCst);
    ctx.queue.notify_one();
}

/// Counts recorded outcomes for the Monitor.
fn count_outcomes(ctx: &ServiceContext, outcomes: &[(i64, String, Attempt)]) {
    for (_, _, attempt) in outcomes {
        let what = match attempt {
            Attempt::Delivered { .. } => crate::metrics::Counter::Relayed,
            Attempt::Deferred { .. } => crate::metrics::Counter::Deferred,
            Attempt::Failed { .. } => crate::metrics::Counter::Bounced,
            // Given back to the queue untried (a stop): nothing happened to it.
            Attempt::Returned => continue,
        };
        ctx.metrics.count(what, 1);
    }
}

/// Records an attempt's outcomes. While the store cannot take them (a full disk), they
/// are kept here and offered again after a growing pause: a delivered recipient whose
/// outcome was lost would be delivered again after the next start. Only an abort (the
/// drain timeout of a stop) gives up, and says so; those recipients are then retried
/// after the next start.
async fn record(ctx: &ServiceContext, outcomes: Vec<(i64, String, Attempt)>) {
    let mut pause = STORE_BACKOFF_MIN;
    loop {
        let result = ctx.store.queue_record(outcomes.clone(), ctx.config.diagnostics.message_tracking).await;
        let e = match result {
            Ok(()) => {
                count_outcomes(ctx, &outcomes);
                return;
            }
            Err(e) => e,
        };
        if !e.is_temporary() {
            tracing::error!(error = %e, recipients = outcomes.len(), "cannot record delivery outcomes");
            return;
        }
        crate::logging::repeated("queue-record", |n| {
            tracing::error!(error = %e, repeats = n, "cannot record delivery outcomes yet; keeping them and trying again");
        });
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = ctx.shutdown.aborted() => {
                tracing::error!(
                    recipients = outcomes.len(),
                    "delivery outcomes could not be recorded before the stop; those recipients will be tried again \
                     after the next start (and may be delivered twice)"
                );
                return;
            }
        }
        pause = (pause * 2).min(STORE_BACKOFF_MAX);
    }
}

/// One delivery attempt of a job; an outcome per recipient.
async fn attempt(
    ctx: &ServiceContext,
    dest: &Destination,
    net: &Network,
    conn: &mut Option<Connection>,
    job: &Job,
) -> Vec<(i64, String, Attempt)> {
    let fail_all = |e: DeliveryError, remote: Option<String>| -> Vec<(i64, String, Attempt)> {
        job.recipients
            .iter()
            .map(|(id, address, attempts)| {
                let outcome = match &e {
                    DeliveryError::Temporary(why) => Attempt::Deferred {
                        error: why.clone(),
                        remote: remote.clone(),
                        retry_at: retry_at(ctx, attempts + 1),
                    },
                    DeliveryError::Permanent { status, message } => {
                        Attempt::Failed { error: message.clone(), status: status.clone(), remote: remote.clone() }
                    }
                };
                (*id, address.clone(), outcome)
            })
            .collect()
    };
    let helo = ctx.config.general.host_name.to_string();
    loop {
        let reused = conn.is_some();
        let c = match conn {
            Some(c) => c,
            None => {
                let Some(resolver) = &net.resolver else {
                    return fail_all(DeliveryError::Temporary("no DNS resolver available".into()), None);
                };
                let addrs = match route::resolve(resolver, dest).await {
                    Ok(a) => a,
                    Err(e) => return fail_all(e, None),
                };
                let policy = route::tls_policy(&ctx.config.connections, dest);
                match Connection::open(&addrs, &helo, &ctx.config.delivery.timeouts, &net.tls, policy).await {
                    Ok(c) => conn.insert(c),
                    Err(e) => return fail_all(e, None),
                }
            }
        };
        let rcpts: Vec<String> = job.recipients.iter().map(|(_, a, _)| a.clone()).collect();
        match c.send(&job.message.sender, &rcpts, &job.content, job.message.body_8bit).await {
            Ok(results) => {
                let remote = Some(c.remote.clone());
                return job
                    .recipients
                    .iter()
                    .zip(results)
                    .map(|((id, address, attempts), r)| {
                        let outcome = match r {
                            RcptResult::Accepted => Attempt::Delivered { remote: c.remote.clone(), tls: c.tls },
                            RcptResult::Temporary(error) => Attempt::Deferred {
                                error,
                                remote: remote.clone(),
                                retry_at: retry_at(ctx, attempts + 1),
                            },
                            RcptResult::Permanent { status, message } => {
                                Attempt::Failed { error: message, status, remote: remote.clone() }
                            }
                        };
                        (*id, address.clone(), outcome)
                    })
                    .collect();
            }
            Err(e) => {
                // A reused connection may have been closed by the other side while it
                // waited: try once on a fresh one. A fresh connection that fails is a
                // failed attempt — trying again at once could only send twice.
                *conn = None;
                if !reused {
                    return fail_all(e, None);
                }
            }
        }
    }
}

/// Writes the NDRs that are due: to the sender's mailbox when the sender is local,
/// else queued to the sender from `<>`; a copy to the administrator's mailbox. Never
/// for a message from `<>`, nor for recipients whose NOTIFY excludes FAILURE.
async fn write_ndrs(ctx: &ServiceContext, trouble: &mut Trouble) {
    let Some(due) = trouble.check(ctx.store.queue_ndr_due(100).await, "cannot read failed recipients") else {
        return;
    };
    for message in due {
        let ids: Vec<i64> = message.recipients.iter().map(|r| r.id).collect();
        let wanted: Vec<_> =
            message.recipients.iter().filter(|r| ndr::wants_failure_report(r.notify.as_deref())).collect();
        let delivery = if message.sender.is_empty() || wanted.is_empty() {
            None
        } else {
            match ndr_delivery(ctx, &message, &wanted).await {
                Ok(d) => Some(d),
                Err(e) => {
                    trouble.0 = true;
                    crate::logging::repeated("cannot build an NDR", |n| {
                        tracing::error!(queue_id = %message.queue_id, error = %e, repeats = n, "cannot build an NDR; will retry");
                    });
                    continue;
                }
            }
        };
        let sent = delivery.is_some();
        let Some(()) = trouble.check(ctx.store.queue_write_ndr(ids, delivery).await, "cannot write an NDR") else {
            // The store is failing: the rest waits for the next turn too.
            return;
        };
        if sent {
            tracing::info!(queue_id = %message.queue_id, to = %message.sender, recipients = wanted.len(), "NDR sent");
        }
    }
}

/// Why an NDR could not be written (it is tried again later).
#[derive(Debug, thiserror::Error)]
enum NdrError {
    /// The report could not be composed.
    #[error("cannot compose the report: {0}")]
    Compose(std::io::Error),
    /// The original sender's address cannot be used.
    #[error("the sender {sender} cannot get a report: {reason}")]
    Sender {
        /// The address.
        sender: String,
        /// Why.
        reason: String,
    },
    /// Looking up a mailbox failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The NDR for `wanted`, addressed as a new message: into the sender's mailbox when the
/// sender is local, else queued to the sender from `<>`; a copy to the administrator.
async fn ndr_delivery(
    ctx: &ServiceContext,
    message: &crate::store::NdrDue,
    wanted: &[&crate::store::FailedRecipient],
) -> Result<NewMessage, NdrError> {
    let now = now_secs();
    let content = ndr::build(&ctx.config.general.host_name, message, wanted, now).map_err(NdrError::Compose)?;
    let sender = EmailAddress::parse(&message.sender)
        .map_err(|e| NdrError::Sender { sender: message.sender.clone(), reason: e.to_string() })?;
    let own = ctx.store.mailbox_of(&sender.canonical()).await?;
    let mut mailboxes: Vec<i64> = own.into_iter().collect();
    if let Some(admin) = &ctx.config.general.administrator_mailbox
        && let Some(id) = ctx.store.mailbox_of(&admin.canonical()).await?
        && !mailboxes.contains(&id)
    {
        mailboxes.push(id);
    }
    let outbound = own.is_none().then(|| Outbound {
        recipients: vec![OutboundRecipient { address: message.sender.clone(), ..Default::default() }],
        ..Default::default()
    });
    // An NDR to the outside is signed like our users' mail, for the inbound domain our
    // host name falls under (its From: is postmaster@ the host name).
    let host = &ctx.config.general.host_name;
    let signing_domain = ctx.config.routing.table.inbound_domain_of(host);
    let content = match signing_domain {
        Some(d) if outbound.is_some() && ctx.config.security.message_authentication.sign_outbound => {
            let mut signed = ctx.mailauth.keys.sign(&d.to_string(), &content);
            signed.extend_from_slice(&content);
            signed
        }
        _ => content,
    };
    Ok(NewMessage {
        queue_id: format!("{}.NDR", message.queue_id),
        received_at: now,
        content,
        local_prefix: if mailboxes.is_empty() { Vec::new() } else { b"Return-Path: <>\r\n".to_vec() },
        mailboxes,
        outbound,
        forwarded: None,
        tracking: Vec::new(),
        sent_by: None,
        folders: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the first retry waited the schedule's second interval.
    #[test]
    fn retries_follow_the_schedule_from_its_first_interval() {
        let m = |n: u64| Duration::from_secs(n * 60);
        let schedule = [m(15), m(30), m(60), m(240)];
        let waits: Vec<Duration> = (1..=6).map(|a| retry_wait(&schedule, a)).collect();
        assert_eq!(waits, [m(15), m(30), m(60), m(240), m(240), m(240)]);
    }
}
