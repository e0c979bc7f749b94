//! Mailboxes: a display name, one or more addresses, an argon2 password hash.
//!
//! Addresses are stored in canonical form (lower case), so lookups are
//! case-insensitive in the local part as RFC 5321 permits and users expect.
//! Password hashing is slow on purpose (argon2), so it runs on the blocking pool, never
//! on the writer thread where it would hold up every other commit.

use std::collections::HashSet;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use mailroom_shared::address::EmailAddress;
use mailroom_shared::ipc::MailboxInfo;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Store, StoreError, StoreResult, now_secs};

/// A mailbox as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub display_name: String,
    /// Canonical addresses, primary first.
    pub addresses: Vec<String>,
    /// Messages stored.
    pub message_count: u64,
    /// Their total size in bytes.
    pub total_bytes: u64,
}

impl From<Mailbox> for MailboxInfo {
    fn from(m: Mailbox) -> MailboxInfo {
        MailboxInfo {
            id: m.id,
            display_name: m.display_name,
            addresses: m.addresses,
            message_count: m.message_count,
            total_bytes: m.total_bytes,
        }
    }
}

/// A mailbox to create.
#[derive(Debug, Clone)]
pub struct NewMailbox {
    /// Display name; may be empty.
    pub display_name: String,
    /// Primary address first; at least one.
    pub addresses: Vec<EmailAddress>,
    /// Clear-text password; hashed before it reaches the database.
    pub password: String,
}

fn check_password(p: &str) -> StoreResult<()> {
    if p.is_empty() {
        return Err(StoreError::Invalid { field: "password".into(), message: "must not be empty".into() });
    }
    if p.len() > 1024 {
        return Err(StoreError::Invalid { field: "password".into(), message: "is longer than 1024 bytes".into() });
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt, on the blocking pool.
async fn hash_password(password: String) -> StoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("hashing task failed: {e}")))?
}

/// A hash of no one's password, checked when a login is unknown so that it costs the
/// same time as a known one. Computed once, on first use (on the blocking pool).
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default().hash_password(b"no such account", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// Checks `password` against a stored hash. Slow by design: call it from the blocking
/// pool.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn canonical_unique(addresses: &[EmailAddress]) -> StoreResult<Vec<String>> {
    if addresses.is_empty() {
        return Err(StoreError::Invalid {
            field: "addresses".into(),
            message: "at least one address is needed".into(),
        });
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(addresses.len());
    for a in addresses {
        let c = a.canonical();
        if !seen.insert(c.clone()) {
            return Err(StoreError::Invalid { field: "addresses".into(), message: format!("{c} is listed twice") });
        }
        out.push(c);
    }
    Ok(out)
}

/// Fails when any of `addresses` belongs to a mailbox other than `except`.
fn check_free(tx: &Transaction<'_>, addresses: &[String], except: Option<i64>) -> StoreResult<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.id, m.display_name FROM addresses a JOIN mailboxes m ON m.id = a.mailbox_id WHERE a.address = ?1",
    )?;
    for a in addresses {
        let owner: Option<(i64, String)> = stmt.query_row([a], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((id, name)) = owner
            && Some(id) != except
        {
            let who = if name.is_empty() { format!("mailbox #{id}") } else { format!("mailbox '{name}'") };
            return Err(StoreError::Conflict(format!("the address {a} already belongs to {who}")));
        }
    }
    Ok(())
}

fn set_addresses(tx: &Transaction<'_>, mailbox: i64, addresses: &[String]) -> StoreResult<()> {
    tx.execute("DELETE FROM addresses WHERE mailbox_id = ?1", [mailbox])?;
    let mut stmt = tx.prepare_cached("INSERT INTO addresses (address, mailbox_id, position) VALUES (?1, ?2, ?3)")?;
    for (i, a) in addresses.iter().enumerate() {
        stmt.execute(params![a, mailbox, i64::try_from(i).unwrap_or(i64::MAX)])?;
    }
    Ok(())
}

fn mailbox_id_of(conn: &Connection, address: &str) -> StoreResult<i64> {
    conn.query_row("SELECT mailbox_id FROM addresses WHERE address = ?1", [address], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no mailbox has the address {address}")))
}

fn load_mailbox(conn: &Connection, id: i64) -> StoreResult<Mailbox> {
    let (display_name, count, bytes): (String, i64, i64) = conn.query_row(
        "SELECT display_name,
                (SELECT COUNT(*) FROM messages WHERE mailbox_id = m.id),
                (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = m.id)
         FROM mailboxes m WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut stmt = conn.prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1 ORDER BY position")?;
    let addresses = stmt.query_map([id], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(Mailbox {
        id,
        display_name,
        addresses,
        message_count: u64::try_from(count).unwrap_or(0),
        total_bytes: u64::try_from(bytes).unwrap_or(0),
    })
}

impl Store {
    /// Creates a mailbox.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for no address, a repeated address or an empty password;
    /// [`StoreError::Conflict`] when an address belongs to another mailbox.
    pub async fn add_mailbox(&self, new: NewMailbox) -> StoreResult<Mailbox> {
        let addresses = canonical_unique(&new.addresses)?;
        check_password(&new.password)?;
        let hash = hash_password(new.password).await?;
        let display_name = new.display_name.trim().to_owned();
        self.write(move |tx| {
            check_free(tx, &addresses, None)?;
            tx.execute(
                "INSERT INTO mailboxes (display_name, password_hash, created_at) VALUES (?1, ?2, ?3)",
                params![display_name, hash, now_secs()],
            )?;
            let id = tx.last_insert_rowid();
            set_addresses(tx, id, &addresses)?;
            load_mailbox(tx, id)
        })
        .await
    }

    /// Changes a mailbox found by any of its addresses.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no mailbox has `address`; as [`Store::add_mailbox`]
    /// for the new values.
    pub async fn update_mailbox(
        &self,
        address: &EmailAddress,
        display_name: Option<String>,
        addresses: Option<Vec<EmailAddress>>,
        password: Option<String>,
    ) -> StoreResult<Mailbox> {
        let addresses = addresses.as_deref().map(canonical_unique).transpose()?;
        let hash = match password {
            Some(p) => {
                check_password(&p)?;
                Some(hash_password(p).await?)
            }
            None => None,
        };
        let key = address.canonical();
        self.write(move |tx| {
            let id = mailbox_id_of(tx, &key)?;
            if let Some(name) = display_name {
                tx.execute("UPDATE mailboxes SET display_name = ?1 WHERE id = ?2", params![name.trim(), id])?;
            }
            if let Some(hash) = hash {
                tx.execute("UPDATE mailboxes SET password_hash = ?1 WHERE id = ?2", params![hash, id])?;
            }
            if let Some(addresses) = addresses {
                check_free(tx, &addresses, Some(id))?;
                set_addresses(tx, id, &addresses)?;
            }
            load_mailbox(tx, id)
        })
        .await
    }

    /// Deletes a mailbox, its addresses and its messages.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no mailbox has `address`.
    pub async fn remove_mailbox(&self, address: &EmailAddress) -> StoreResult<()> {
        let key = address.canonical();
        self.write(move |tx| {
            let id = mailbox_id_of(tx, &key)?;
            tx.execute("DELETE FROM mailboxes WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    /// Every mailbox, ordered by primary address.
    ///
    /// # Errors
    /// Database errors.
    pub async fn list_mailboxes(&self) -> StoreResult<Vec<Mailbox>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT m.id, m.display_name, a.address,
                        (SELECT COUNT(*) FROM messages WHERE mailbox_id = m.id),
                        (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = m.id)
                 FROM mailboxes m JOIN addresses a ON a.mailbox_id = m.id
                 ORDER BY m.id, a.position",
            )?;
            let mut out: Vec<Mailbox> = Vec::new();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let address: String = r.get(2)?;
                match out.last_mut() {
                    Some(m) if m.id == id => m.addresses.push(address),
                    _ => out.push(Mailbox {
                        id,
                        display_name: r.get(1)?,
                        addresses: vec![address],
                        message_count: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                        total_bytes: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                    }),
                }
            }
            out.sort_by(|a, b| a.addresses.first().cmp(&b.addresses.first()));
            Ok(out)
        })
        .await
    }

    /// The mailbox that has `canonical` (a lower-case address) as an address.
    ///
    /// # Errors
    /// Database errors.
    pub async fn mailbox_of(&self, canonical: &str) -> StoreResult<Option<i64>> {
        let key = canonical.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT mailbox_id FROM addresses WHERE address = ?1")?;
            Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
        })
        .await
    }

    /// A mailbox's canonical addresses, primary first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn mailbox_addresses(&self, id: i64) -> StoreResult<Vec<String>> {
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1 ORDER BY position")?;
            Ok(stmt.query_map([id], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }

    /// Every address that has a mailbox, canonical.
    ///
    /// # Errors
    /// Database errors.
    pub async fn all_addresses(&self) -> StoreResult<HashSet<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT address FROM addresses")?;
            let set = stmt.query_map([], |r| r.get(0))?.collect::<Result<HashSet<String>, _>>()?;
            Ok(set)
        })
        .await
    }

    /// Checks a login (any address of a mailbox) and password; the mailbox id when they
    /// match. An unknown login is checked against a dummy hash, so that it costs the
    /// same time as a known one and gives the same answer: no account enumeration.
    /// The hashing runs on the blocking pool.
    ///
    /// # Errors
    /// Database errors (then the caller should answer "try again later", not "wrong").
    pub async fn check_login(&self, login: &str, password: String) -> StoreResult<Option<i64>> {
        let found = self.credentials(login).await?;
        let hash = found.as_ref().map(|(_, h)| h.clone());
        let matches = tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_password(&h, &password),
            None => {
                let _ = verify_password(dummy_hash(), &password);
                false
            }
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("password check failed: {e}")))?;
        Ok(found.filter(|_| matches).map(|(id, _)| id))
    }

    /// The mailbox id and password hash for a login name (any of its addresses).
    ///
    /// # Errors
    /// Database errors.
    pub async fn credentials(&self, login: &str) -> StoreResult<Option<(i64, String)>> {
        let key = login.trim().to_ascii_lowercase();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT m.id, m.password_hash FROM addresses a JOIN mailboxes m ON m.id = a.mailbox_id
                     WHERE a.address = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })
        .await
    }
}
