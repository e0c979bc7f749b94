//! Password checks on a few threads of their own.
//!
//! An argon2 check needs its memory cost in working memory (19 MiB with the defaults).
//! Run on tokio's blocking pool, each check could land on another thread, whose
//! allocator then kept those 19 MiB: a hundred logins left a hundred megabytes
//! resident. Here a fixed set of threads (one per core, at most four) does every
//! check, each reusing one buffer, so the memory checks take is bounded and held once;
//! and a flood of logins queues for those threads instead of taking every core.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// A check to run: the stored hash, the password given, and where the answer goes.
struct Job {
    hash: String,
    password: String,
    answer: oneshot::Sender<bool>,
}

/// Checks waiting at most, beyond which callers wait to queue.
const QUEUE: usize = 256;

fn pool() -> &'static SyncSender<Job> {
    static POOL: OnceLock<SyncSender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new().name(format!("passwords-{i}")).spawn(move || worker(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-check thread");
            }
        }
        tx
    })
}

fn worker(jobs: &Mutex<Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        let _ = job.answer.send(verify_with(&mut memory, &job.hash, &job.password));
    }
}

/// Checks `password` against the PHC string `hash`, using `memory` as argon2's working
/// memory (grown to what the hash's parameters need, then kept).
pub fn verify_with(memory: &mut Vec<Block>, hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let expected = expected.as_bytes();
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut memory[..blocks],
    );
    // Every byte compared, whatever the first difference.
    hashed.is_ok() && out.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Checks `password` against `hash` on the password threads.
pub async fn verify(hash: String, password: String) -> bool {
    let (answer, rx) = oneshot::channel();
    let job = Job { hash, password, answer };
    // A full queue waits on the blocking pool, not on an async thread.
    let queued = tokio::task::spawn_blocking(move || pool().send(job).is_ok()).await.unwrap_or(false);
    queued && rx.await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    use argon2::password_hash::rand_core::OsRng;

    use super::*;

    #[tokio::test]
    async fn the_right_password_passes_and_any_other_fails() {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default().hash_password(b"s3cret", &salt).expect("hash").to_string();
        assert!(verify(hash.clone(), "s3cret".into()).await);
        assert!(!verify(hash.clone(), "s3cret ".into()).await);
        assert!(!verify("not a hash".into(), "s3cret".into()).await);
        // A hash with other parameters is checked with them.
        let params = Params::new(8 * 1024, 1, 1, None).expect("params");
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password(b"pw", &salt).expect("hash");
        let mut memory = Vec::new();
        assert!(verify_with(&mut memory, &other.to_string(), "pw"));
        assert_eq!(memory.len(), 8 * 1024);
    }
}
