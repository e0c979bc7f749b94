//! One POP3 session per mailbox (RFC 1939 §8: the server must keep a maildrop from
//! being changed by two sessions at once). The set of held mailboxes belongs to the
//! process, not to a run: during a restart the old run's sessions drain while the new
//! run's begin, and they must still exclude each other.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Mailboxes with a session in TRANSACTION.
#[derive(Debug, Default)]
pub struct MailboxLocks {
    held: Mutex<HashSet<i64>>,
}

/// A mailbox held in TRANSACTION; released when dropped.
#[derive(Debug)]
pub struct MailboxLock {
    locks: Arc<MailboxLocks>,
    mailbox: i64,
}

impl Drop for MailboxLock {
    fn drop(&mut self) {
        self.locks.held.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.mailbox);
    }
}

impl MailboxLocks {
    /// Takes the mailbox for one session, or `None` when another session has it.
    pub fn lock(self: &Arc<Self>, mailbox: i64) -> Option<MailboxLock> {
        let fresh = self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(mailbox);
        fresh.then(|| MailboxLock { locks: Arc::clone(self), mailbox })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_session_per_mailbox() {
        let s = Arc::new(MailboxLocks::default());
        let first = s.lock(7).expect("free");
        assert!(s.lock(7).is_none());
        assert!(s.lock(8).is_some());
        drop(first);
        assert!(s.lock(7).is_some());
    }
}
