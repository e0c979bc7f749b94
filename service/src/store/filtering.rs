//! What the inbound defences keep: greylisting's triplets, the clients that passed a
//! test, the sending limits' counts and holds, the quarantine, and the day's counts
//! for Service Status.

use super::{Backend, NewMessage, Store, StoreResult, TrackingRecord, dispatch};

/// Greylisting's answer for a triplet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Greylist {
    /// Let it through: its client network passed before, or this is the retry.
    Pass,
    /// Seen before, too soon: try again after `seconds`.
    Wait {
        /// Seconds until a retry passes.
        seconds: u64,
    },
    /// First seen now (or again, its window having closed): try again after the delay.
    New,
}

/// Greylisting's timings, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreylistTimes {
    /// How long a new triplet waits.
    pub delay: i64,
    /// How long after its first try a retry may come.
    pub window: i64,
    /// How long a client network that passed skips greylisting.
    pub pass: i64,
}

/// What greylisting changes for a triplet, besides its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum GreylistChange {
    /// Nothing: the retry came too soon.
    Nothing,
    /// The retry passed: forget the triplet, and let its client network skip
    /// greylisting until the given time.
    PassUntil(i64),
    /// Record the triplet as first seen now (new, or its window closed).
    Record,
}

/// Greylisting's rule for a triplet first seen at `first_seen` (if ever) and tried
/// again at `now` (its network not passed): its answer, and what to change. Every
/// backend applies this, in the same transaction as the lookup.
pub(in crate::store) fn greylist_step(
    first_seen: Option<i64>,
    now: i64,
    times: GreylistTimes,
) -> (Greylist, GreylistChange) {
    match first_seen {
        Some(first) if now - first < times.delay => (
            Greylist::Wait { seconds: u64::try_from(times.delay - (now - first)).unwrap_or(0) },
            GreylistChange::Nothing,
        ),
        Some(first) if now - first <= times.window => (Greylist::Pass, GreylistChange::PassUntil(now + times.pass)),
        _ => (Greylist::New, GreylistChange::Record),
    }
}

/// The sending limits count recipients over the last hour and the last day.
const HOUR: i64 = 3600;
/// See [`HOUR`].
const DAY: i64 = 86_400;

/// A test a client passes once and then skips for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTest {
    /// Greylisting, by client network.
    Greylist,
    /// The early-talker test, by client address.
    Greet,
}

impl ClientTest {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientTest::Greylist => "greylist",
            ClientTest::Greet => "greet",
        }
    }
}

/// What a defence did, counted per day for Service Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterEvent {
    /// A client refused because a DNS blocklist lists it.
    DnsList,
    /// A recipient greylisted.
    Greylisted,
    /// A client refused for talking before the banner.
    EarlyTalker,
    /// A message refused by the content filter.
    FilterRejected,
    /// A message held in the quarantine.
    Quarantined,
    /// A recipient refused by a sending limit.
    SendingLimit,
}

impl FilterEvent {
    /// Every event, in the order Service Status lists them.
    pub const ALL: [FilterEvent; 6] = [
        FilterEvent::DnsList,
        FilterEvent::EarlyTalker,
        FilterEvent::Greylisted,
        FilterEvent::FilterRejected,
        FilterEvent::Quarantined,
        FilterEvent::SendingLimit,
    ];

    /// The name stored and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterEvent::DnsList => "dns_list",
            FilterEvent::Greylisted => "greylisted",
            FilterEvent::EarlyTalker => "early_talker",
            FilterEvent::FilterRejected => "filter_rejected",
            FilterEvent::Quarantined => "quarantined",
            FilterEvent::SendingLimit => "sending_limit",
        }
    }
}

/// What an account has sent, for the sending limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SentCounts {
    /// Outside recipients in the last hour.
    pub hour: u64,
    /// Outside recipients in the last day.
    pub day: u64,
    /// The account is held.
    pub held: bool,
}

/// An account held for going over a sending limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingHold {
    /// The login.
    pub account: String,
    /// Since when, Unix seconds.
    pub since: i64,
    /// Which limit, in words.
    pub reason: String,
}

/// A message to hold in the quarantine: what it would have been stored as, and what
/// the list shows of it.
#[derive(Debug, Clone)]
pub struct Held {
    /// The message as it would have been stored; released, it is stored so.
    pub message: NewMessage,
    /// Envelope sender.
    pub sender: String,
    /// The recipients, as routed.
    pub recipients: Vec<String>,
    /// Its `Subject:`.
    pub subject: String,
    /// The content filter's score, if it was scanned.
    pub score: Option<f64>,
    /// Why it is held, in words.
    pub reason: String,
    /// The client's address.
    pub client: Option<String>,
}

/// A message in the quarantine, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// Its quarantine id.
    pub id: i64,
    /// The queue id it was given at acceptance.
    pub queue_id: String,
    /// When it was held, Unix seconds.
    pub held_at: i64,
    /// Envelope sender.
    pub sender: String,
    /// The recipients.
    pub recipients: Vec<String>,
    /// Its `Subject:`.
    pub subject: String,
    /// The content filter's score.
    pub score: Option<f64>,
    /// Why it is held.
    pub reason: String,
    /// The client's address.
    pub client: Option<String>,
    /// Its size in bytes.
    pub size: u64,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilteringPurge {
    /// Quarantined messages past their keep.
    pub quarantined: usize,
    /// Greylisting triplets, passes and counts past their use.
    pub state: usize,
}

impl Store {
    /// Greylists a triplet at `now`: records it when new, and when its retry passes,
    /// lets its client network skip greylisting for `times.pass`.
    ///
    /// Write, atomic: the lookup and its change are one transaction, so of two tries of
    /// a new triplet at once only one is `New` (and sets when the other may pass).
    ///
    /// # Errors
    /// Store failures.
    pub async fn greylist(
        &self,
        network: String,
        sender: String,
        recipient: String,
        now: i64,
        times: GreylistTimes,
    ) -> StoreResult<Greylist> {
        dispatch!(self, b => b.greylist(network, sender, recipient, now, times).await)
    }

    /// True when `client` passed `test` and may skip it at `now`.
    ///
    /// Read.
    ///
    /// # Errors
    /// Store failures.
    pub async fn client_passed(&self, test: ClientTest, client: String, now: i64) -> StoreResult<bool> {
        dispatch!(self, b => b.client_passed(test, client, now).await)
    }

    /// Records that `client` passed `test`, to skip it until `until`.
    ///
    /// Write; a pass that lasts longer already is kept (the later `until` wins).
    ///
    /// # Errors
    /// Store failures.
    pub async fn client_pass(&self, test: ClientTest, client: String, until: i64) -> StoreResult<()> {
        dispatch!(self, b => b.client_pass(test, client, until).await)
    }

    /// Outside recipients `account` sent to in the hour and in the day before `now`,
    /// and whether it is held.
    ///
    /// Read, not one snapshot: the hold, then the counts.
    ///
    /// # Errors
    /// Store failures.
    pub async fn sent_counts(&self, account: String, now: i64) -> StoreResult<SentCounts> {
        dispatch!(self, b => b.sent_counts(account, now - HOUR, now - DAY).await)
    }

    /// Holds `account` for going over a sending limit; true when this starts a new
    /// episode (it was not held), so that the administrator is told once.
    ///
    /// Write, atomic insert-if-absent: of two holds at once at most one returns true;
    /// a hold already there keeps its date and reason.
    ///
    /// # Errors
    /// Store failures.
    pub async fn sending_hold(&self, account: String, reason: String, now: i64) -> StoreResult<bool> {
        dispatch!(self, b => b.sending_hold(account, reason, now).await)
    }

    /// The accounts held, oldest first.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn sending_holds(&self) -> StoreResult<Vec<SendingHold>> {
        dispatch!(self, b => b.sending_holds().await)
    }

    /// Lets a held account send again, its counts starting from zero.
    ///
    /// Write, atomic: the hold and the account's counts go together.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when it is not held; store failures.
    pub async fn sending_unlock(&self, account: String) -> StoreResult<()> {
        dispatch!(self, b => b.sending_unlock(account).await)
    }

    /// Holds a message in the quarantine; returns its quarantine id.
    ///
    /// Write, atomic: its content (shared with nothing until released), its quarantine
    /// row and the message's tracking records. Nothing is delivered or queued, and its
    /// `sent_by` is not counted.
    ///
    /// # Errors
    /// Any failure; then nothing of the message was kept.
    pub async fn quarantine_hold(&self, held: Held) -> StoreResult<i64> {
        dispatch!(self, b => b.quarantine_hold(held).await)
    }

    /// The quarantine, newest first.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn quarantine_list(&self) -> StoreResult<Vec<Quarantined>> {
        dispatch!(self, b => b.quarantine_list().await)
    }

    /// One quarantined message and its bytes.
    ///
    /// Read, not one snapshot: the listing, then the bytes (a held message never
    /// changes; one deleted in between is `NotFound`).
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such message.
    pub async fn quarantine_message(&self, id: i64) -> StoreResult<(Quarantined, Vec<u8>)> {
        dispatch!(self, b => b.quarantine_message(id).await)
    }

    /// Releases a quarantined message: it is stored as it would have been at
    /// acceptance (mailbox copies, queue entry), with `tracking`, and leaves the
    /// quarantine, in one transaction. Mailboxes deleted meanwhile get nothing. Returns
    /// the message as listed and whether it queued anything for delivery.
    ///
    /// Write, atomic; the watchers hear [`super::ANY_MAILBOX`] after the commit. The
    /// copies go to INBOX (a Junk filing is not kept), the sending limits do not count
    /// it, and "queued" means its `outbound` entry only: a forwarded copies' entry
    /// (`-F`) alone answers false.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such message.
    pub async fn quarantine_release(&self, id: i64, tracking: Vec<TrackingRecord>) -> StoreResult<(Quarantined, bool)> {
        let released = dispatch!(self, b => b.quarantine_release(id, tracking).await)?;
        self.changed(super::ANY_MAILBOX);
        Ok(released)
    }

    /// Deletes a quarantined message; returns it as listed.
    ///
    /// Write, atomic: its content goes with it. Writes no tracking record: the caller
    /// does, in a write of its own.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such message.
    pub async fn quarantine_delete(&self, id: i64) -> StoreResult<Quarantined> {
        dispatch!(self, b => b.quarantine_delete(id).await)
    }

    /// Counts one `event` for today. Not worth failing anything for: callers log.
    ///
    /// Write, atomic increment: counts made at once add up, none lost.
    ///
    /// # Errors
    /// Store failures.
    pub async fn count_filter_event(&self, event: FilterEvent, day: String) -> StoreResult<()> {
        dispatch!(self, b => b.count_filter_event(event, day).await)
    }

    /// The counts of `day` (`YYYY-MM-DD`, UTC), by event name, in no set order.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn filter_counts(&self, day: String) -> StoreResult<Vec<(String, u64)>> {
        dispatch!(self, b => b.filter_counts(day).await)
    }

    /// Removes quarantined messages held before `quarantine_before`, greylisting
    /// triplets first seen before `greylist_before`, expired passes, sending counts
    /// over a day old (the sending limits' longest window) and daily counts before
    /// `counts_before` (`YYYY-MM-DD`).
    ///
    /// Write, atomic: all of it in one transaction; quarantined contents go with them.
    ///
    /// # Errors
    /// Store failures.
    pub async fn filtering_purge(
        &self,
        now: i64,
        quarantine_before: i64,
        greylist_before: i64,
        counts_before: String,
    ) -> StoreResult<FilteringPurge> {
        let sent_before = now - DAY;
        dispatch!(self, b => b.filtering_purge(now, quarantine_before, greylist_before, sent_before, counts_before).await)
    }
}
