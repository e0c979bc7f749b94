//! A mailbox's options beyond its addresses and password: forwarding (Exchange's
//! *Delivery Options*), its automatic reply, its storage limits; whom automatic
//! replies went to; and each domain's catch-all mailbox.

use mailroom_shared::ipc::{AutoReply, Forwarding, StorageLimits};

use super::{Backend, Store, StoreResult, dispatch};

/// What delivery to a mailbox needs to know of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxOptions {
    /// Forwarding, if on.
    pub forwarding: Option<Forwarding>,
    /// The automatic reply, if on.
    pub auto_reply: Option<AutoReply>,
    /// Its own limits.
    pub limits: StorageLimits,
    /// Bytes it holds.
    pub bytes: u64,
    /// Its primary address.
    pub address: String,
    /// When it was last warned of its size, Unix seconds.
    pub warned_at: Option<i64>,
    /// A shared mailbox (no password; reached through grants).
    pub shared: bool,
}

/// A count read from the store and kept in memory until a change forgets it. Each
/// change starts a new generation, and a count read during an older one is not kept:
/// a read that began before a change and ended after it would keep a stale count.
#[derive(Debug, Default)]
pub(super) struct Counted {
    /// The generation, and the count when it is known.
    state: std::sync::Mutex<(u64, Option<u64>)>,
}

impl Counted {
    /// The count, or the generation to read it in.
    fn known(&self) -> Result<u64, u64> {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.1.ok_or(s.0)
    }

    /// Keeps `n`, read in `generation`, unless a change came since.
    fn keep(&self, generation: u64, n: u64) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.0 == generation {
            s.1 = Some(n);
        }
    }

    /// Forgets the count after a change (it is read again when next asked).
    fn forget(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 += 1;
        s.1 = None;
    }
}

impl Store {
    /// True when some mailbox has an automatic reply on (read from the store the first
    /// time, kept up to date by [`Store::set_auto_reply`]): delivery asks no more when
    /// none has.
    ///
    /// Read, then kept in memory by this store and its clones until
    /// [`Store::set_auto_reply`] forgets it; a failure to read answers true.
    pub async fn any_auto_reply(&self) -> bool {
        let generation = match self.answering.known() {
            Ok(n) => return n > 0,
            Err(generation) => generation,
        };
        let n = dispatch!(self, b => b.mailboxes_answering().await).unwrap_or(1);
        self.answering.keep(generation, n);
        n > 0
    }

    /// True when some mailbox forwards or has limits of its own (counted the first
    /// time, again after each change): RCPT reads a mailbox's options only then, or
    /// when the organisation sets limits.
    ///
    /// Read, then kept in memory by this store and its clones until
    /// [`Store::set_forwarding`] or [`Store::set_limits`] forgets it; a failure to
    /// read answers true.
    pub async fn any_mailbox_options(&self) -> bool {
        let generation = match self.optioned.known() {
            Ok(n) => return n > 0,
            Err(generation) => generation,
        };
        let n = dispatch!(self, b => b.mailboxes_optioned().await).unwrap_or(1);
        self.optioned.keep(generation, n);
        n > 0
    }

    /// A mailbox's options and size.
    ///
    /// Read, not one snapshot: the options, then the size, primary address and last
    /// warning.
    ///
    /// # Errors
    /// `NotFound` for no such mailbox.
    pub async fn mailbox_options(&self, mailbox: i64) -> StoreResult<MailboxOptions> {
        dispatch!(self, b => b.mailbox_options(mailbox).await)
    }

    /// Sets forwarding (`None`: off).
    ///
    /// Write.
    ///
    /// # Errors
    /// `NotFound` for no such mailbox.
    pub async fn set_forwarding(&self, mailbox: i64, forwarding: Option<Forwarding>) -> StoreResult<()> {
        dispatch!(self, b => b.set_option(mailbox, "forwarding", forwarding.map(|f| serde_json::json!(f))).await)?;
        self.optioned.forget();
        Ok(())
    }

    /// Sets the automatic reply (`None`: off); whom earlier ones went to is forgotten,
    /// so that a new absence answers everyone once again.
    ///
    /// Write, atomic: the reply and the forgetting.
    ///
    /// # Errors
    /// `NotFound` for no such mailbox.
    pub async fn set_auto_reply(&self, mailbox: i64, reply: Option<AutoReply>) -> StoreResult<()> {
        dispatch!(self, b => b.set_auto_reply(mailbox, reply).await)?;
        // Counted again at the next delivery.
        self.answering.forget();
        Ok(())
    }

    /// Sets the mailbox's own storage limits.
    ///
    /// Write.
    ///
    /// # Errors
    /// `NotFound` for no such mailbox.
    pub async fn set_limits(&self, mailbox: i64, limits: StorageLimits) -> StoreResult<()> {
        let value = (limits != StorageLimits::default()).then(|| serde_json::json!(limits));
        dispatch!(self, b => b.set_option(mailbox, "limits", value).await)?;
        self.optioned.forget();
        Ok(())
    }

    /// Notes that an automatic reply to `sender` is due now, unless one went to it
    /// within `days` (RFC 3834 §2: once per sender in a period): true when the reply
    /// should be sent, and then it is recorded in the same transaction, so that two
    /// deliveries at once send one reply.
    ///
    /// Write, atomic: the check and the record, so of two calls at once for one
    /// mailbox and sender at most one is true (exactly one when a reply is due).
    ///
    /// # Errors
    /// Store failures.
    pub async fn auto_reply_due(&self, mailbox: i64, sender: String, days: u32, now: i64) -> StoreResult<bool> {
        let quiet_since = now - i64::from(days) * 86_400;
        dispatch!(self, b => b.auto_reply_due(mailbox, sender, quiet_since, now).await)
    }

    /// Notes that the mailbox was warned of its size at `at`.
    ///
    /// Write; a mailbox that is gone is left alone, without an error.
    ///
    /// # Errors
    /// Store failures.
    pub async fn set_warned(&self, mailbox: i64, at: i64) -> StoreResult<()> {
        dispatch!(self, b => b.set_warned(mailbox, at).await)
    }

    /// Every mailbox's id, for the daily size warnings, in increasing order.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn mailbox_ids(&self) -> StoreResult<Vec<i64>> {
        dispatch!(self, b => b.mailbox_ids().await)
    }

    /// The catch-all mailbox of `domain`, if it has one.
    ///
    /// Read.
    ///
    /// # Errors
    /// Store failures.
    pub async fn catch_all(&self, domain: &str) -> StoreResult<Option<i64>> {
        dispatch!(self, b => b.catch_all(domain.to_owned()).await)
    }

    /// Sets (or, with `None`, removes) the catch-all mailbox of `domain`.
    ///
    /// Write; it replaces the domain's catch-all, if any.
    ///
    /// # Errors
    /// `Conflict` when `mailbox` does not exist; store failures.
    pub async fn set_catch_all(&self, domain: String, mailbox: Option<i64>) -> StoreResult<()> {
        dispatch!(self, b => b.set_catch_all(domain, mailbox).await)
    }

    /// Every catch-all: (domain, primary address of its mailbox), by domain.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn catch_alls(&self) -> StoreResult<Vec<(String, String)>> {
        dispatch!(self, b => b.catch_alls().await)
    }
}

#[cfg(test)]
mod tests {
    use super::Counted;

    /// Regression (found writing down the promise): a count read before a change and
    /// kept after it stayed until the next change — "no mailbox answers" while one did.
    #[test]
    fn a_count_read_across_a_change_is_not_kept() {
        let c = Counted::default();
        let generation = c.known().expect_err("not known yet");
        c.forget();
        c.keep(generation, 0);
        assert!(c.known().is_err(), "read before the change: not kept");
        let generation = c.known().expect_err("still not known");
        c.keep(generation, 2);
        assert_eq!(c.known(), Ok(2));
    }
}
