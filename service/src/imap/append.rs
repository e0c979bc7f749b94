//! APPEND in all its forms: one message, several at once (MULTIAPPEND, RFC 3502: all
//! stored or none), and a message put together from pieces sent and pieces already
//! stored (CATENATE, RFC 4469), those named by IMAP URLs (RFC 5092) into the user's
//! own folders.

use std::num::NonZeroU32;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_next::imap_types::command::CommandBody;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};
use imap_next::imap_types::flag::Flag;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, CodeOther};

use super::extended::{AppendMessage, Piece};
use super::names;
use super::session::{Flow, Session, nz};
use crate::store::Appended;
use mailroom_shared::rights::Rights;

/// Where an IMAP URL into the user's own folders points (RFC 5092's path, as
/// CATENATE uses it: `/mailbox[;UIDVALIDITY=v]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Url {
    pub mailbox: String,
    pub uidvalidity: Option<u32>,
    pub uid: u32,
    /// A FETCH section (`HEADER`, `1.MIME`, …).
    pub section: Option<String>,
    /// Offset and length.
    pub partial: Option<(u32, Option<u32>)>,
}

/// `%XX` escapes decoded.
fn percent_decoded(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads an IMAP URL to a message (or part) of this user: a relative one
/// (`/INBOX/;UID=1`), or an absolute one (`imap://user@host/INBOX/;UID=1`), whose
/// server is taken to be this one. `None` when it is not such a URL (URLAUTH, a
/// search, no UID).
pub(super) fn parse_url(url: &str) -> Option<Url> {
    let path = match url.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("imap://") => &url[7 + url[7..].find('/')?..],
        _ => url,
    };
    let path = path.strip_prefix('/')?;
    let lower = path.to_ascii_lowercase();
    let at = lower.find("/;uid=")?;
    let (mailbox, uidvalidity) = match lower[..at].find(";uidvalidity=") {
        Some(v) => (&path[..v], Some(path[v + 13..at].parse().ok()?)),
        None => (&path[..at], None),
    };
    let mut rest = path[at + 6..].split("/;");
    let uid: u32 = rest.next()?.parse().ok().filter(|u| *u > 0)?;
    let mut url = Url { mailbox: percent_decoded(mailbox)?, uidvalidity, uid, section: None, partial: None };
    for part in rest {
        let (key, value) = part.split_once('=')?;
        match key.to_ascii_lowercase().as_str() {
            "section" if url.section.is_none() && url.partial.is_none() => url.section = Some(percent_decoded(value)?),
            "partial" if url.partial.is_none() => {
                url.partial = Some(match value.split_once('.') {
                    Some((o, l)) => (o.parse().ok()?, Some(l.parse().ok()?)),
                    None => (value.parse().ok()?, None),
                });
            }
            _ => return None,
        }
    }
    Some(url)
}

/// A URL's section as imap-types reads a FETCH's (`BODY[section]`), or `Err` when it
/// is not one.
fn fetch_section(section: &str) -> Result<Option<imap_next::imap_types::fetch::Section<'static>>, ()> {
    let command = format!("x FETCH 1 BODY.PEEK[{section}]\r\n");
    match CommandCodec::default().decode(command.as_bytes()) {
        Ok((&[], command)) => match command.body {
            CommandBody::Fetch {
                macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(items),
                ..
            } => match items.into_iter().next() {
                Some(MessageDataItemName::BodyExt { section, partial: None, .. }) => {
                    use imap_next::imap_types::IntoStatic;
                    Ok(section.map(IntoStatic::into_static))
                }
                _ => Err(()),
            },
            _ => Err(()),
        },
        _ => Err(()),
    }
}

impl<S: crate::tls::Transport> Session<S> {
    /// APPEND of one message, as imap-codec parsed it.
    pub(super) async fn append(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) -> Flow {
        let content = match message {
            LiteralOrLiteral8::Literal(l) => l.into_inner().into_owned(),
            LiteralOrLiteral8::Literal8(l) => l.data.into_owned(),
        };
        let message =
            AppendMessage { flags, received: date.map(|d| d.as_ref().timestamp()), parts: vec![Piece::Text(content)] };
        self.append_messages(tag, mailbox, vec![message]).await
    }

    /// APPEND of one message or several, each from its pieces: all stored, or none.
    pub(super) async fn append_messages(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
        messages: Vec<AppendMessage>,
    ) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let wanted = names::folder_name(&mailbox);
        let folder = match self.reachable(&user, super::acl::is_shared_name(&wanted)).await {
            Ok(f) => f.into_iter().find(|(f, _)| f.name == wanted),
            Err(e) => return self.store_failed(tag, &e),
        };
        let Some((folder, rights)) = folder else {
            self.no(tag, Some(Code::TryCreate), &format!("There is no folder named {wanted}"));
            return Flow::Continue;
        };
        if self.lacks(&tag, rights, Rights::INSERT, &folder.name) {
            return Flow::Continue;
        }
        let limit = self.ctx.config.general.max_message_size;
        let mut appended = Vec::with_capacity(messages.len());
        for m in messages {
            let mut content = Vec::new();
            for piece in m.parts {
                match piece {
                    Piece::Text(text) => content.extend_from_slice(&text),
                    Piece::Url(url) => match self.url_content(user.mailbox, &url).await {
                        Ok(Some(bytes)) => content.extend_from_slice(&bytes),
                        Ok(None) => {
                            // RFC 4469 §6: BADURL names the URL that could not be used.
                            let shown: String = url.chars().filter(|c| !c.is_control() && *c != ']').collect();
                            let code = Code::Other(CodeOther::unvalidated(format!("BADURL {shown}").into_bytes()));
                            self.no(tag, Some(code), "The URL names no message or part here");
                            return Flow::Continue;
                        }
                        Err(e) => return self.store_failed(tag, &e),
                    },
                }
            }
            if limit.is_some_and(|max| content.len() as u64 > max) {
                self.no(tag, Some(Code::TooBig), "The message is larger than this server accepts");
                return Flow::Continue;
            }
            let (mut flags, mut keywords) = super::folders::flags_of(&m.flags);
            // Only the flags the user may set there (RFC 4314 §4).
            flags &= super::selected::permitted_flags(rights);
            if !rights.has(Rights::WRITE) {
                keywords.clear();
            }
            appended.push(Appended {
                content,
                flags,
                keywords: crate::store::imap::keyword_text(keywords.iter().map(String::as_str)),
                received_at: m.received.unwrap_or_else(crate::store::now_secs),
            });
        }
        if self.ctx.disk.low() {
            self.no(tag, Some(Code::OverQuota), "The server's disk is nearly full; try again later");
            return Flow::Continue;
        }
        let at = crate::store::Access::new(folder.mailbox, user.mailbox);
        match self.ctx.store.imap_append(at, folder.id, appended).await {
            Ok((validity, uids)) => {
                self.dirty = true;
                let code = match uids.as_slice() {
                    [uid] => Code::AppendUid { uid_validity: nz(validity), uid: nz(*uid) },
                    _ => {
                        // imap-types holds one UID here; MULTIAPPEND gives a set.
                        let set = super::esearch::sequence_set(&uids);
                        Code::Other(CodeOther::unvalidated(format!("APPENDUID {validity} {set}").into_bytes()))
                    }
                };
                self.ok(tag, Some(code), "APPEND completed");
            }
            Err(e) => return self.store_failed(tag, &e),
        }
        Flow::Continue
    }

    /// The bytes an IMAP URL names in this user's folders; `None` when it names
    /// nothing (no such folder, UIDVALIDITY, message or part).
    async fn url_content(&self, mailbox: i64, url: &str) -> crate::store::StoreResult<Option<Vec<u8>>> {
        let Some(url) = parse_url(url) else { return Ok(None) };
        let Ok(section) = fetch_section(url.section.as_deref().unwrap_or("")) else { return Ok(None) };
        let Ok(name) = Mailbox::try_from(url.mailbox.clone()) else { return Ok(None) };
        let wanted = names::folder_name(&name);
        let Some(folder) = self.ctx.store.imap_folders(mailbox).await?.into_iter().find(|f| f.name == wanted) else {
            return Ok(None);
        };
        if url.uidvalidity.is_some_and(|v| i64::from(v) != folder.id) {
            return Ok(None);
        }
        let state = self.ctx.store.imap_folder_state(mailbox, folder.id).await?;
        let Some(message) = state.messages.iter().find(|m| m.uid == url.uid) else { return Ok(None) };
        let Some((_, raw)) = self.ctx.store.messages_content(vec![message.id]).await?.into_iter().next() else {
            return Ok(None);
        };
        let structure = super::mime::parse(&raw);
        let Some(bytes) = super::fetch::section(&raw, &structure, section.as_ref()) else { return Ok(None) };
        Ok(Some(match url.partial {
            None => bytes,
            Some((offset, length)) => {
                let range = length.and_then(NonZeroU32::new).map(|l| (offset, l));
                match range {
                    Some(r) => super::fetch::partial(bytes, Some(r)),
                    None => bytes.get(offset as usize..).map(<[u8]>::to_vec).unwrap_or_default(),
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_urls_name_a_folder_a_message_and_a_part() {
        let url = parse_url("/Sent%20Items;UIDVALIDITY=7/;UID=20/;SECTION=1.MIME/;PARTIAL=10.5").expect("url");
        assert_eq!(
            url,
            Url {
                mailbox: "Sent Items".into(),
                uidvalidity: Some(7),
                uid: 20,
                section: Some("1.MIME".into()),
                partial: Some((10, Some(5)))
            }
        );
        let absolute = parse_url("imap://ann@mail.example/INBOX/;uid=3").expect("url");
        assert_eq!((absolute.mailbox.as_str(), absolute.uid, absolute.section), ("INBOX", 3, None));
        for bad in
            ["INBOX/;UID=1", "/INBOX", "/INBOX/;UID=0", "/INBOX/;UID=1/;URLAUTH=x", "/INBOX;UIDVALIDITY=x/;UID=1"]
        {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_urls_section_is_read_as_a_fetch_section() {
        assert!(matches!(fetch_section(""), Ok(None)));
        assert!(matches!(fetch_section("HEADER"), Ok(Some(_))));
        assert!(matches!(fetch_section("1.2.TEXT"), Ok(Some(_))));
        assert!(fetch_section("NOPE").is_err());
    }
}
