//! A person sharing their own calendar or address book from their calendar program:
//! the CalendarServer sharing request Apple's Calendar and Contacts send (a `POST` of
//! `CS:share` to the collection, "caldav-sharing"), each sharee given read
//! (`CS:read`, Reviewer) or read-write (`CS:read-write`, Editor) — the same grants the
//! Administrator and `mailroomctl mailbox permissions --calendar` give, so the three
//! agree. A share takes effect at once (no invitation to accept): the sharee finds
//! the collection beside their own.

use super::*;
use mailroom_shared::rights::Role;

impl Dav<'_> {
    /// Answers a `CS:share` POSTed to collection `c`.
    pub(super) async fn share(&self, c: &Collection, request: &Element) -> crate::store::StoreResult<Answer> {
        if self.shared.is_some() || c.id < 0 || is_inbox(c) {
            return Ok(not_allowed());
        }
        let mut changes = Vec::new();
        for part in &request.children {
            let set = part.is(CS, "set");
            if !set && !part.is(CS, "remove") {
                continue;
            }
            let Some(href) = part.child(DAV, "href").map(|h| h.text.trim().to_owned()) else {
                return Ok(text(StatusCode::BAD_REQUEST, "Each sharee is named by a DAV:href."));
            };
            let Some(who) = sharee(&href) else {
                return Ok(text(StatusCode::BAD_REQUEST, "A sharee is a mailto: address or a principal's URL."));
            };
            let Some(grantee) = self.ctx.store.grantee_named(&who).await? else {
                return Ok(precondition(
                    StatusCode::FORBIDDEN,
                    CS,
                    "valid-sharee",
                    &element(DAV, "href", &escape(&href)),
                ));
            };
            let rights = match (set, part.child(CS, "read-write").is_some()) {
                (false, _) => Rights::NONE,
                (true, true) => Role::Editor.rights(),
                (true, false) => Role::Reviewer.rights(),
            };
            changes.push((grantee, rights));
        }
        if changes.is_empty() {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                "A CS:share names whom to share with (CS:set) or not (CS:remove).",
            ));
        }
        for (grantee, rights) in changes {
            match self.ctx.store.dav_set_grant(c.id, grantee, rights).await {
                Ok(()) => {}
                Err(crate::store::StoreError::Invalid { .. }) => {
                    return Ok(text(StatusCode::FORBIDDEN, "It is yours already: share it with someone else."));
                }
                Err(e) => return Err(e),
            }
        }
        tracing::info!(login = %self.viewer.login, collection = %c.name, "sharing changed by its owner");
        Ok(text(StatusCode::OK, "Shared."))
    }
}

/// The address a sharee's href names: `mailto:ADDRESS`, or a principal's URL.
fn sharee(href: &str) -> Option<String> {
    if let Some(address) = href.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")).map(|_| &href[7..]) {
        return Some(address.trim().to_ascii_lowercase()).filter(|a| a.contains('@'));
    }
    let path = href.split_once("://").map_or(href, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    match target(path)? {
        Target::Principal(who) => Some(who.to_ascii_lowercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sharee_is_an_address_or_a_principal() {
        assert_eq!(sharee("mailto:Bob@Corp.test").as_deref(), Some("bob@corp.test"));
        assert_eq!(sharee("/dav/principals/bob%40corp.test/").as_deref(), Some("bob@corp.test"));
        assert_eq!(sharee("https://mail.corp.test/dav/principals/bob@corp.test/").as_deref(), Some("bob@corp.test"));
        assert_eq!(sharee("/dav/calendars/bob@corp.test/"), None);
        assert_eq!(sharee("mailto:nobody"), None);
    }
}
