//! Moving mail into and out of a mailbox from a client of the control socket
//! (`mailroomctl mailbox import|export`, the Administrator's *Import…*): Maildir and mbox
//! files are read and written here, on the client's machine, and messages cross the
//! socket in pieces ([`TRANSFER_CHUNK`]).
//!
//! - **Reading** uses mail-parser's Maildir (with Maildir++ subfolders) and mbox
//!   readers (mboxrd: `>From ` lines are unquoted). Line ends become CRLF, as RFC 5322
//!   and every other path into the store have them, and mbox's separating blank line
//!   is dropped.
//! - **Keys** make an import repeatable: a message is known by its folder and
//!   `Message-ID:`, or by its folder and SHA-256 when it has none; the service refuses
//!   a key a mailbox has imported before, and the client asks first, so that a second
//!   run sends nothing it sent already.
//! - **Writing** an mbox quotes `From ` lines (mboxrd) and writes LF line ends, as mail
//!   programs expect; a Maildir gets one file per message (through `tmp/`), its flags
//!   in the name, its folders as Maildir++ `.Name` directories.

use std::collections::HashSet;
use std::io::{self, BufRead, Write as _};
use std::path::{Path, PathBuf};

use mailroom_shared::ipc::{ExportEntry, IpcError, TRANSFER_CHUNK};

use crate::{Client, ClientError};

/// One message read from a source, ready to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMessage {
    /// What identifies it at its source (see the module's doc).
    pub key: String,
    /// Its folder (`INBOX`, `Sent`, `Lists/rust`).
    pub folder: String,
    /// IMAP system flags.
    pub flags: Vec<String>,
    /// When it arrived, Unix seconds, when the source says.
    pub received_at: Option<i64>,
    /// The message, CRLF line ends.
    pub content: Vec<u8>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Messages stored.
    pub stored: u64,
    /// Messages the mailbox had imported before (a run again).
    pub skipped: u64,
}

/// Why an import or export stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    File {
        /// Which.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The service refused or could not be reached.
    #[error(transparent)]
    Service(#[from] ClientError),
    /// Something else, in words.
    #[error("{0}")]
    Other(String),
}

fn file_error(path: &Path) -> impl FnOnce(io::Error) -> TransferError + '_ {
    move |source| TransferError::File { path: path.display().to_string(), source }
}

/// Line ends made CRLF: a bare LF gets its CR, a CRLF stays as it is.
pub fn to_crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 40);
    let mut prev = 0u8;
    for &b in text {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Line ends made LF.
pub fn to_lf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\r' && text.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// The key of a message in `folder` (see the module's doc).
pub fn key_of(folder: &str, content: &[u8]) -> String {
    let message_id = mail_parser::MessageParser::new()
        .parse_headers(content)
        .and_then(|m| m.message_id().map(str::to_owned))
        .filter(|id| !id.trim().is_empty());
    match message_id {
        Some(id) => format!("{folder}\u{0}message-id:{}", id.trim()),
        None => {
            let digest = ring::digest::digest(&ring::digest::SHA256, content);
            let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            format!("{folder}\u{0}sha256:{hex}")
        }
    }
}

/// The messages of a Maildir and its Maildir++ subfolders (`.Sent`, `.Lists.rust`).
///
/// # Errors
/// When the directory is not a Maildir or a file cannot be read.
pub fn read_maildir(dir: &Path) -> Result<Vec<SourceMessage>, TransferError> {
    use mail_parser::mailbox::maildir::{Flag, FolderIterator};
    if !dir.exists() {
        return Err(TransferError::Other(format!("{}: there is no such folder", dir.display())));
    }
    if !dir.join("cur").is_dir() || !dir.join("new").is_dir() {
        return Err(TransferError::Other(format!("{} is not a Maildir (no cur/ and new/)", dir.display())));
    }
    let mut out = Vec::new();
    for folder in FolderIterator::new(dir, Some(".")).map_err(file_error(dir))? {
        let folder = folder.map_err(file_error(dir))?;
        let name = folder.name().map_or_else(|| "INBOX".to_owned(), |n| n.replace('.', "/"));
        for message in folder {
            let message = message.map_err(file_error(dir))?;
            let flags = message
                .flags()
                .iter()
                .filter_map(|f| match f {
                    Flag::Seen => Some("\\Seen"),
                    Flag::Replied => Some("\\Answered"),
                    Flag::Flagged => Some("\\Flagged"),
                    Flag::Draft => Some("\\Draft"),
                    Flag::Trashed => Some("\\Deleted"),
                    Flag::Passed => None,
                })
                .map(str::to_owned)
                .collect();
            let received_at = i64::try_from(message.internal_date()).ok().filter(|t| *t > 0);
            let content = to_crlf(message.contents());
            out.push(SourceMessage { key: key_of(&name, &content), folder: name.clone(), flags, received_at, content });
        }
    }
    Ok(out)
}

/// The messages of an mbox file (mboxrd), into INBOX.
///
/// # Errors
/// When the file cannot be read.
pub fn read_mbox(path: &Path) -> Result<Vec<SourceMessage>, TransferError> {
    let file = std::fs::File::open(path).map_err(file_error(path))?;
    let mut out = Vec::new();
    for message in mail_parser::mailbox::mbox::MessageIterator::new(io::BufReader::new(file)) {
        let message = message.map_err(file_error(path))?;
        let mut text = message.contents();
        // The blank line that separates it from the next message is mbox's, not its.
        if text.ends_with(b"\n\n") {
            text = &text[..text.len() - 1];
        } else if text.ends_with(b"\r\n\r\n") {
            text = &text[..text.len() - 2];
        }
        let content = to_crlf(text);
        let received_at = i64::try_from(message.internal_date()).ok().filter(|t| *t > 0);
        out.push(SourceMessage {
            key: key_of("INBOX", &content),
            folder: "INBOX".into(),
            flags: Vec::new(),
            received_at,
            content,
        });
    }
    Ok(out)
}

/// Which of `keys` the mailbox `address` has imported already.
///
/// # Errors
/// The service's refusal.
pub async fn known_keys(client: &Client, address: &str, keys: &[String]) -> Result<HashSet<String>, ClientError> {
    let mut known = HashSet::new();
    for batch in keys.chunks(1000) {
        known.extend(client.import_check(address, batch.to_vec()).await?);
    }
    Ok(known)
}

/// Sends one message, in pieces; true when the mailbox stored it (false: it had it).
///
/// # Errors
/// The service's refusal (a mailbox that does not exist, a message too large).
pub async fn send_message(client: &Client, address: &str, m: &SourceMessage) -> Result<bool, ClientError> {
    let mut offset = 0usize;
    loop {
        let end = (offset + TRANSFER_CHUNK).min(m.content.len());
        match client.import_piece(address, m, offset..end).await? {
            crate::Imported { complete: true, stored } => return Ok(stored),
            crate::Imported { complete: false, .. } if end < m.content.len() => offset = end,
            crate::Imported { complete: false, .. } => {
                return Err(ClientError::Protocol("the service wants more of a message that has ended".into()));
            }
        }
    }
}

/// Imports `messages` into `address`, skipping those it has imported before; `progress`
/// hears after each message (done, total).
///
/// # Errors
/// The first refusal; what was stored before it stays stored.
pub async fn import(
    client: &Client,
    address: &str,
    messages: &[SourceMessage],
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportSummary, TransferError> {
    let keys: Vec<String> = messages.iter().map(|m| m.key.clone()).collect();
    let known = known_keys(client, address, &keys).await?;
    let total = messages.len() as u64;
    let mut summary = ImportSummary::default();
    for (i, m) in messages.iter().enumerate() {
        if known.contains(&m.key) || !send_message(client, address, m).await? {
            summary.skipped += 1;
        } else {
            summary.stored += 1;
        }
        progress(i as u64 + 1, total);
    }
    Ok(summary)
}

/// Where an export goes.
#[derive(Debug, Clone)]
pub enum ExportTarget {
    /// A new mbox file.
    Mbox(PathBuf),
    /// A Maildir (new, or empty).
    Maildir(PathBuf),
}

/// Every message of the mailbox `address`: listed page by page.
///
/// # Errors
/// The service's refusal.
pub async fn list_messages(client: &Client, address: &str) -> Result<Vec<ExportEntry>, ClientError> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let messages = client.export_list(address, after, 1000).await?;
        let Some(last) = messages.last() else { break };
        after = last.id;
        all.extend(messages);
    }
    Ok(all)
}

/// One message's text, read in pieces.
///
/// # Errors
/// The service's refusal (the message was deleted meanwhile).
pub async fn read_message(client: &Client, address: &str, id: i64) -> Result<Vec<u8>, ClientError> {
    let mut text = Vec::new();
    loop {
        let piece = client.export_read(address, id, text.len() as u64).await?;
        if piece.data.is_empty() && (text.len() as u64) < piece.total {
            return Err(ClientError::Protocol("the message ended early".into()));
        }
        text.extend_from_slice(&piece.data);
        if text.len() as u64 >= piece.total {
            return Ok(text);
        }
    }
}

/// Writes every message of `address` to `target`; `progress` hears (done, total).
/// Returns how many were written.
///
/// # Errors
/// An existing target, a file that cannot be written, the service's refusal.
pub async fn export(
    client: &Client,
    address: &str,
    target: &ExportTarget,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, TransferError> {
    let messages = list_messages(client, address).await?;
    let total = messages.len() as u64;
    let mut writer = Writer::open(target)?;
    for (i, m) in messages.iter().enumerate() {
        let text = match read_message(client, address, m.id).await {
            Ok(t) => t,
            // Deleted since it was listed: nothing to export.
            Err(ClientError::Remote(IpcError::NotFound { .. })) => continue,
            Err(e) => return Err(e.into()),
        };
        writer.write(m, &text)?;
        progress(i as u64 + 1, total);
    }
    writer.finish()?;
    Ok(total)
}

/// Writes messages to an mbox file or a Maildir.
enum Writer {
    Mbox(io::BufWriter<std::fs::File>, PathBuf),
    Maildir(PathBuf, u64),
}

impl Writer {
    fn open(target: &ExportTarget) -> Result<Writer, TransferError> {
        match target {
            ExportTarget::Mbox(path) => {
                let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        TransferError::Other(format!("{} exists; name a new file", path.display()))
                    } else {
                        TransferError::File { path: path.display().to_string(), source: e }
                    }
                })?;
                Ok(Writer::Mbox(io::BufWriter::new(file), path.clone()))
            }
            ExportTarget::Maildir(dir) => {
                if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
                    return Err(TransferError::Other(format!("{} is not empty; name a new directory", dir.display())));
                }
                Ok(Writer::Maildir(dir.clone(), 0))
            }
        }
    }

    fn write(&mut self, m: &ExportEntry, text: &[u8]) -> Result<(), TransferError> {
        let lf = to_lf(text);
        match self {
            Writer::Mbox(out, path) => {
                let sender = return_path(&lf).unwrap_or_else(|| "MAILER-DAEMON".into());
                let date = jiff::Timestamp::from_second(m.received_at)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                    .strftime("%a %b %e %H:%M:%S %Y");
                let mut body = Vec::with_capacity(lf.len() + 64);
                body.extend_from_slice(format!("From {sender} {date}\n").as_bytes());
                for line in lf.split_inclusive(|b| *b == b'\n') {
                    let quoted = line.iter().position(|b| *b != b'>').is_some_and(|i| line[i..].starts_with(b"From "));
                    if quoted {
                        body.push(b'>');
                    }
                    body.extend_from_slice(line);
                }
                if !body.ends_with(b"\n") {
                    body.push(b'\n');
                }
                body.push(b'\n');
                out.write_all(&body).map_err(file_error(path))
            }
            Writer::Maildir(root, n) => {
                *n += 1;
                let dir = if m.folder == "INBOX" {
                    root.clone()
                } else {
                    root.join(format!(".{}", m.folder.replace('/', ".")))
                };
                for sub in ["cur", "new", "tmp"] {
                    std::fs::create_dir_all(dir.join(sub)).map_err(file_error(&dir))?;
                }
                let mut letters: Vec<char> = m
                    .flags
                    .iter()
                    .filter_map(|f| match f.as_str() {
                        "\\Draft" => Some('D'),
                        "\\Flagged" => Some('F'),
                        "\\Answered" => Some('R'),
                        "\\Seen" => Some('S'),
                        "\\Deleted" => Some('T'),
                        _ => None,
                    })
                    .collect();
                letters.sort_unstable();
                let name = format!("{}.M{}P{}.mailroom", m.received_at, m.id, std::process::id());
                let tmp = dir.join("tmp").join(&name);
                let cur = dir.join("cur").join(format!("{name}:2,{}", letters.into_iter().collect::<String>()));
                let mut f = std::fs::File::create(&tmp).map_err(file_error(&tmp))?;
                f.write_all(&lf).map_err(file_error(&tmp))?;
                f.sync_all().map_err(file_error(&tmp))?;
                std::fs::rename(&tmp, &cur).map_err(file_error(&cur))?;
                let mtime =
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(m.received_at).unwrap_or(0));
                let _ = std::fs::File::options().write(true).open(&cur).and_then(|f| f.set_modified(mtime));
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), TransferError> {
        match self {
            Writer::Mbox(mut out, path) => {
                out.flush().map_err(file_error(&path))?;
                out.get_ref().sync_all().map_err(file_error(&path))
            }
            Writer::Maildir(root, 0) => {
                for sub in ["cur", "new", "tmp"] {
                    std::fs::create_dir_all(root.join(sub)).map_err(file_error(&root))?;
                }
                Ok(())
            }
            Writer::Maildir(..) => Ok(()),
        }
    }
}

/// The address of the first `Return-Path:` line of a header, for mbox's `From ` line.
fn return_path(text: &[u8]) -> Option<String> {
    for line in text.split(|b| *b == b'\n') {
        if line.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(line);
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("return-path")
        {
            let addr = value.trim().trim_start_matches('<').trim_end_matches('>').trim();
            return (!addr.is_empty() && !addr.contains(char::is_whitespace)).then(|| addr.to_owned());
        }
    }
    None
}

/// Counts what [`BufRead`] lines start with `From ` in an mbox file, for a progress bar's
/// total before the messages are read.
///
/// # Errors
/// When the file cannot be read.
pub fn count_mbox(path: &Path) -> io::Result<u64> {
    let file = io::BufReader::new(std::fs::File::open(path)?);
    let mut n = 0;
    for line in file.split(b'\n') {
        if line?.starts_with(b"From ") {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walk defect 20: a path that does not exist was "not a Maildir".
    #[test]
    fn a_missing_maildir_is_said_to_be_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("Maildri");
        let said = read_maildir(&missing).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(said.ends_with("there is no such folder"), "{said}");
        let said = read_maildir(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(said.contains("is not a Maildir"), "{said}");
    }

    #[test]
    fn line_ends_go_both_ways() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert_eq!(to_lf(b"a\r\nb\r\nc\rd\n"), b"a\nb\nc\rd\n");
    }

    #[test]
    fn a_message_is_known_by_folder_and_message_id_or_digest() {
        let a = key_of("INBOX", b"Message-ID: <x@y>\r\nSubject: s\r\n\r\nbody\r\n");
        assert_eq!(a, "INBOX\u{0}message-id:x@y");
        assert_ne!(key_of("Sent", b"Message-ID: <x@y>\r\n\r\nb\r\n"), a);
        let d = key_of("INBOX", b"Subject: no id\r\n\r\nbody\r\n");
        assert!(d.starts_with("INBOX\u{0}sha256:") && d.len() == "INBOX\u{0}sha256:".len() + 64, "{d}");
    }

    #[test]
    fn an_mbox_written_reads_back_the_same() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.mbox");
        let text = b"Return-Path: <a@b.test>\r\nSubject: hi\r\n\r\nFrom here on\r\n>From quoted\r\nend\r\n".to_vec();
        let entry = ExportEntry { id: 1, folder: "INBOX".into(), flags: vec![], received_at: 1_700_000_000, size: 0 };
        let mut w = Writer::open(&ExportTarget::Mbox(path.clone())).expect("open");
        w.write(&entry, &text).expect("write");
        w.write(&ExportEntry { id: 2, ..entry.clone() }, b"Subject: two\r\n\r\nsecond\r\n").expect("write");
        w.finish().expect("finish");
        let written = std::fs::read_to_string(&path).expect("read");
        assert!(written.starts_with("From a@b.test Tue Nov 14 22:13:20 2023\n"), "{written}");
        assert!(written.contains("\n>From here on\n>>From quoted\n"), "{written}");
        let back = read_mbox(&path).expect("read back");
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].content, text);
        assert_eq!(back[0].received_at, Some(1_700_000_000));
        assert_eq!(back[1].content, b"Subject: two\r\n\r\nsecond\r\n");
        assert_eq!(count_mbox(&path).expect("count"), 2);
        assert!(Writer::open(&ExportTarget::Mbox(path)).is_err(), "an existing file is not overwritten");
    }

    #[test]
    fn a_maildir_written_reads_back_with_folders_and_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("Maildir");
        let mut w = Writer::open(&ExportTarget::Maildir(root.clone())).expect("open");
        let inbox = ExportEntry {
            id: 1,
            folder: "INBOX".into(),
            flags: vec!["\\Seen".into(), "\\Flagged".into()],
            received_at: 1_700_000_000,
            size: 0,
        };
        w.write(&inbox, b"Subject: one\r\n\r\n1\r\n").expect("write");
        let sent = ExportEntry { id: 2, folder: "Lists/rust".into(), flags: vec![], ..inbox.clone() };
        w.write(&sent, b"Subject: two\r\n\r\n2\r\n").expect("write");
        w.finish().expect("finish");
        let mut back = read_maildir(&root).expect("read back");
        back.sort_by(|a, b| a.folder.cmp(&b.folder));
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].folder.as_str(), back[0].content.as_slice()), ("INBOX", &b"Subject: one\r\n\r\n1\r\n"[..]));
        assert_eq!(back[0].flags, vec!["\\Flagged".to_owned(), "\\Seen".to_owned()]);
        assert_eq!(back[0].received_at, Some(1_700_000_000));
        assert_eq!(back[1].folder, "Lists/rust");
    }
}
