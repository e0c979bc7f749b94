//! QUOTA (RFC 9208): a mailbox's storage limit as IMAP clients show it. Each mailbox is
//! one quota root, named `""`, over all its folders; its STORAGE limit is the one that
//! refuses mail (*Prohibit send and receive at*, the mailbox's own or the
//! organisation's, in KiB), its usage the mailbox's size. Limits are the
//! administrator's to set, so SETQUOTA is refused.

use imap_next::imap_types::core::{AString, Tag, Vec1};
use imap_next::imap_types::extensions::quota::{QuotaGet, Resource};
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, Data};

use super::session::{Flow, Session};

/// The one quota root's name.
const ROOT: &str = "";

impl<S: crate::tls::Transport> Session<S> {
    /// The mailbox's STORAGE quota (usage and limit, KiB), when it has a limit.
    async fn storage(&mut self, tag: &Tag<'static>) -> Result<Option<QuotaGet<'static>>, Flow> {
        let Some(user) = self.user() else { return Err(Flow::Continue) };
        let options = match self.ctx.store.mailbox_options(user.mailbox).await {
            Ok(o) => o,
            Err(e) => return Err(self.store_failed(tag.clone(), &e)),
        };
        let limit = crate::quota::effective(self.ctx.config.general.mailbox_limits, &options.limits).2;
        Ok(limit.map(|limit| QuotaGet {
            resource: Resource::Storage,
            usage: options.bytes.div_ceil(1024),
            limit: limit / 1024,
        }))
    }

    /// GETQUOTAROOT: the folder's root, and its quota.
    pub(super) async fn get_quota_root(&mut self, tag: Tag<'static>, mailbox: Mailbox<'static>) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        if self.folder(&tag, &user, &mailbox).await.is_none() {
            return Flow::Continue;
        }
        let storage = match self.storage(&tag).await {
            Ok(s) => s,
            Err(flow) => return flow,
        };
        let roots: Vec<AString<'static>> = storage.iter().filter_map(|_| AString::try_from(ROOT).ok()).collect();
        self.data(Data::QuotaRoot { mailbox, roots });
        if let (Some(storage), Ok(root)) = (storage, AString::try_from(ROOT)) {
            self.data(Data::Quota { root, quotas: Vec1::from(storage) });
        }
        self.ok(tag, None, "GETQUOTAROOT completed");
        Flow::Continue
    }

    /// GETQUOTA: the one root's quota.
    pub(super) async fn get_quota(&mut self, tag: Tag<'static>, root: AString<'static>) -> Flow {
        let storage = match self.storage(&tag).await {
            Ok(s) => s,
            Err(flow) => return flow,
        };
        match storage {
            Some(storage) if root.as_ref() == ROOT.as_bytes() => {
                self.data(Data::Quota { root, quotas: Vec1::from(storage) });
                self.ok(tag, None, "GETQUOTA completed");
            }
            _ => self.no(tag, Some(Code::Other(super::code("NONEXISTENT"))), "No such quota root"),
        }
        Flow::Continue
    }

    /// SETQUOTA: refused; the administrator sets storage limits.
    pub(super) fn set_quota(&mut self, tag: Tag<'static>) -> Flow {
        let why = "Storage limits are set by the administrator (mailbox properties, Limits)";
        self.no(tag, Some(Code::Other(super::code("NOPERM"))), why);
        Flow::Continue
    }
}
