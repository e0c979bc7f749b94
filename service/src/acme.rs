//! Certificates from an ACME CA (RFC 8555: Let's Encrypt's protocol), obtained and
//! renewed by the service itself, through `instant-acme`.
//!
//! - **Where things are kept**: `tls/acme/` in the data directory (private to the
//!   service): the account (`account.json`, its key and the CA's URL), the certificate
//!   chain and its key (`cert.pem`, `key.pem`, written to temporary files, synced, then
//!   renamed, so a crash leaves the old pair or the new one).
//! - **When**: at start the stored certificate is presented if it names what the
//!   Security page asks for and is not expired; otherwise the run starts with the
//!   self-signed one and this task obtains one at once. It is renewed
//!   [`RENEW_BEFORE_DAYS`] days before it expires, or when the administrator asks
//!   (`mailroomctl certificate renew`, *Renew Now*). A failed attempt is retried after
//!   a pause that doubles from five minutes to six hours, well inside Let's Encrypt's
//!   limits on failed validations.
//! - **How the CA checks us**: `tls-alpn-01` (RFC 8737: a TLS listener answering
//!   `acme-tls/1` with a certificate carrying the key authorization's digest) or
//!   `http-01` (a web server answering `/.well-known/acme-challenge/TOKEN`), on the
//!   address of the Security page (ports 443 and 80 by default), only while an order is
//!   in progress.
//! - **No restart**: the new certificate replaces the run's [`Certificates`]; new
//!   connections get it, open ones keep theirs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy,
};
use mailroom_shared::config::{Acme, AcmeChallenge};
use mailroom_shared::ipc::{AcmeState, AcmeStatus};
use tokio::sync::{Notify, oneshot};

use crate::shutdown::Shutdown;
use crate::tls::Certificates;

/// A certificate is renewed this many days before it expires.
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// The first pause after a failed attempt; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(5 * 60);
/// The longest pause between failed attempts.
const MAX_RETRY: Duration = Duration::from_secs(6 * 3600);
/// How long one attempt may take, from the account to the certificate.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(180);
/// The ALPN protocol of `tls-alpn-01`.
const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Why no certificate was obtained, in the CA's, the network's or the machine's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcmeError {
    /// A step with the CA failed (the network, or the CA said no).
    #[error("{what} failed: {detail}")]
    Ca {
        /// The step.
        what: String,
        /// Why, with its causes.
        detail: String,
    },
    /// The CA refused to authorise a name.
    #[error("the CA says the authorization for {name} is {status}")]
    Authorization {
        /// The name.
        name: String,
        /// The authorization's status.
        status: String,
    },
    /// The CA does not offer the challenge the Security page chose.
    #[error("the CA offers no {kind} challenge for {name}; choose the other challenge")]
    NoChallenge {
        /// The challenge.
        kind: String,
        /// The name.
        name: String,
    },
    /// The order did not become ready: the CA's reasons.
    #[error("{0}")]
    Invalid(String),
    /// The ACME client could not be set up.
    #[error("cannot set up the ACME client: {0}")]
    Client(String),
    /// The stored account was refused.
    #[error("cannot use the stored ACME account with {url}: {detail}")]
    StoredAccount {
        /// The CA's directory.
        url: String,
        /// Why.
        detail: String,
    },
    /// No account could be opened.
    #[error("cannot open an account with {url}: {detail}")]
    NewAccount {
        /// The CA's directory.
        url: String,
        /// Why.
        detail: String,
    },
    /// The challenge's listener could not be opened.
    #[error(
        "cannot listen on {addr} for the CA's check: {detail} (binding a port below 1024 needs root or CAP_NET_BIND_SERVICE)"
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        detail: String,
    },
    /// The tls-alpn-01 certificate could not be made.
    #[error("cannot make the tls-alpn-01 certificate for {name}: {detail}")]
    AlpnCertificate {
        /// The name.
        name: String,
        /// Why.
        detail: String,
    },
    /// Keeping the account, the key or the certificate here failed.
    #[error("{0}")]
    Local(String),
    /// The attempt took too long.
    #[error("no certificate within {0} seconds")]
    TimedOut(u64),
    /// The service stopped first.
    #[error("the service stopped before the certificate was obtained")]
    Stopped,
    /// Renewal was asked of a service that does not run.
    #[error("the Internet Mail Service is not running")]
    NotRunning,
    /// Renewal was asked, but the Security page does not use ACME.
    #[error("the Security page does not ask for a certificate from an ACME CA")]
    NotConfigured,
}

impl From<crate::files::FileError> for AcmeError {
    fn from(e: crate::files::FileError) -> AcmeError {
        AcmeError::Local(e.to_string())
    }
}

/// The ACME client's state shared by the process: what the runs' tasks report, and the
/// administrator's requests to renew now.
#[derive(Default)]
pub struct AcmeControl {
    status: Mutex<Option<AcmeStatus>>,
    renew: Notify,
    waiting: Mutex<Vec<oneshot::Sender<Result<(), AcmeError>>>>,
}

impl std::fmt::Debug for AcmeControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeControl").finish_non_exhaustive()
    }
}

impl AcmeControl {
    /// Where the client stands; `None` when no run uses ACME.
    pub fn status(&self) -> Option<AcmeStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forgets the status (a run without ACME).
    pub fn clear(&self) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn update(&self, change: impl FnOnce(&mut AcmeStatus)) {
        if let Some(s) = self.status.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            change(s);
        }
    }

    /// Asks the running task to obtain a new certificate now; the receiver gets the
    /// attempt's outcome.
    pub fn renew_now(&self) -> oneshot::Receiver<Result<(), AcmeError>> {
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
        self.renew.notify_one();
        rx
    }

    fn answer(&self, outcome: &Result<(), AcmeError>) {
        for waiter in self.waiting.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = waiter.send(outcome.clone());
        }
    }
}

/// The stored certificate and key, when they name every name `acme` asks for (and
/// were issued by its CA's account) and have not expired.
pub fn stored(data_dir: &Path, acme: &Acme) -> Option<(PathBuf, PathBuf)> {
    let dir = data_dir.join("tls").join("acme");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let certs = crate::tls::read_certs(&cert).ok()?;
    let info = crate::tls::describe(&certs[0], &cert, false).ok()?;
    let covers = acme.names.iter().all(|n| info.names.iter().any(|have| have.eq_ignore_ascii_case(n.as_str())));
    let same_ca = read_account(&dir).is_some_and(|(url, _)| url == acme.directory_url);
    (covers && same_ca && info.not_after > crate::store::now_secs() && key.exists()).then_some((cert, key))
}

/// When a certificate valid until `not_after` is due for renewal.
pub fn renewal_due(not_after: i64) -> i64 {
    not_after - RENEW_BEFORE_DAYS * 86_400
}

/// Keeps the run's certificate from the CA: obtains one if the run started without,
/// renews it when due or asked, until the run stops.
pub async fn run(
    acme: Acme,
    data_dir: PathBuf,
    certs: Arc<Certificates>,
    control: Arc<AcmeControl>,
    shutdown: Shutdown,
) {
    let dir = data_dir.join("tls").join("acme");
    let names: Vec<String> = acme.names.iter().map(ToString::to_string).collect();
    let have = stored(&data_dir, &acme).map(|_| certs.info().not_after);
    *control.status.lock().unwrap_or_else(|p| p.into_inner()) = Some(AcmeStatus {
        directory_url: acme.directory_url.clone(),
        names: names.clone(),
        state: if have.is_some() { AcmeState::Valid } else { AcmeState::Obtaining },
        last_error: None,
        last_attempt: None,
        next_attempt: Some(have.map_or_else(crate::store::now_secs, renewal_due)),
    });
    let mut retry = FIRST_RETRY;
    let mut due = have.map_or_else(crate::store::now_secs, renewal_due);
    loop {
        let wait = Duration::from_secs(u64::try_from(due - crate::store::now_secs()).unwrap_or(0));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = control.renew.notified() => {}
            () = shutdown.draining() => break,
        }
        control.update(|s| {
            s.state = AcmeState::Obtaining;
            s.last_attempt = Some(crate::store::now_secs());
        });
        tracing::info!(names = ?names, ca = %acme.directory_url, "asking the ACME CA for a certificate");
        let attempt = tokio::select! {
            r = tokio::time::timeout(ATTEMPT_TIMEOUT, obtain(&acme, &dir)) => {
                r.unwrap_or(Err(AcmeError::TimedOut(ATTEMPT_TIMEOUT.as_secs())))
            }
            () = shutdown.draining() => break,
        };
        let outcome =
            attempt.and_then(|(cert, key)| certs.replace(&cert, &key).map_err(|e| AcmeError::Local(e.to_string())));
        match &outcome {
            Ok(info) => {
                tracing::info!(names = ?info.names, not_after = info.not_after, fingerprint = %info.sha256_fingerprint, "certificate from the ACME CA in use");
                retry = FIRST_RETRY;
                due = renewal_due(info.not_after);
                control.update(|s| {
                    s.state = AcmeState::Valid;
                    s.last_error = None;
                    s.next_attempt = Some(due);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_secs = retry.as_secs(), "could not obtain a certificate from the ACME CA");
                due = crate::store::now_secs() + i64::try_from(retry.as_secs()).unwrap_or(i64::MAX);
                retry = (retry * 2).min(MAX_RETRY);
                control.update(|s| {
                    s.state = AcmeState::Failed;
                    s.last_error = Some(e.to_string());
                    s.next_attempt = Some(due);
                });
            }
        }
        control.answer(&outcome.map(|_| ()));
    }
    control.answer(&Err(AcmeError::Stopped));
}

/// One order, from the account to the stored certificate: the paths of the new chain
/// and key.
async fn obtain(acme: &Acme, dir: &Path) -> Result<(PathBuf, PathBuf), AcmeError> {
    crate::files::create_private_dir(dir, 0o700)?;
    let account = account(acme, dir).await?;
    let identifiers: Vec<Identifier> = acme.names.iter().map(|n| Identifier::Dns(n.to_string())).collect();
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await.map_err(|e| ca_error("the new order", &e))?;
    let responder = Responder::start(acme.challenge, acme.challenge_listen).await?;
    let kind = match acme.challenge {
        AcmeChallenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
        AcmeChallenge::Http01 => ChallengeType::Http01,
    };
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(|e| ca_error("an authorization", &e))?;
        match authz.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                let (name, status) = (authz.identifier().to_string(), format!("{other:?}"));
                return Err(AcmeError::Authorization { name, status });
            }
        }
        let name = authz.identifier().to_string();
        let mut challenge = authz
            .challenge(kind.clone())
            .ok_or_else(|| AcmeError::NoChallenge { kind: format!("{kind:?}"), name: name.clone() })?;
        let key_authorization = challenge.key_authorization();
        responder.answer(&name, &challenge.token, key_authorization.as_str(), key_authorization.digest().as_ref())?;
        challenge.set_ready().await.map_err(|e| ca_error(&format!("the challenge for {name}"), &e))?;
    }
    let status = order.poll_ready(&RetryPolicy::default()).await.map_err(|e| ca_error("the order", &e))?;
    if status != OrderStatus::Ready {
        return Err(AcmeError::Invalid(why_invalid(&mut order, status, acme).await));
    }
    drop(responder);
    let key_pem = order.finalize().await.map_err(|e| ca_error("finalizing the order", &e))?;
    let chain_pem = order
        .poll_certificate(&RetryPolicy::default())
        .await
        .map_err(|e| ca_error("downloading the certificate", &e))?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    // The key first: a crash between the two renames leaves a pair that does not
    // match, which is not used, and a new certificate is obtained at the next start.
    crate::files::write_private(&key, key_pem.as_bytes())?;
    crate::files::write_private(&cert, chain_pem.as_bytes())?;
    Ok((cert, key))
}

/// The CA's reason an order became invalid: the failed challenge's error.
async fn why_invalid(order: &mut instant_acme::Order, status: OrderStatus, acme: &Acme) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(authz)) = authorizations.next().await {
        for challenge in &authz.challenges {
            if let Some(problem) = &challenge.error {
                let detail = problem.detail.clone().unwrap_or_else(|| format!("{problem:?}"));
                reasons.push(format!("{}: {detail}", authz.identifier()));
            }
        }
    }
    let port = acme.challenge_listen.port();
    if reasons.is_empty() {
        format!("the order is {status:?}; check that the names point at this server and port {port} is reachable")
    } else {
        format!("the CA could not check {} (it must reach this server on port {port})", reasons.join("; "))
    }
}

fn ca_error(what: &str, e: &instant_acme::Error) -> AcmeError {
    AcmeError::Ca { what: what.to_owned(), detail: chain(e) }
}

/// An error with its causes, `outer: inner: innermost`, so that "client error
/// (Connect)" says what the connection met.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !text.contains(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        source = cause.source();
    }
    text
}

/// The account for `acme`'s CA: the stored one, or a new one (stored).
async fn account(acme: &Acme, dir: &Path) -> Result<Account, AcmeError> {
    let builder = || Account::builder().map_err(|e| AcmeError::Client(e.to_string()));
    if let Some((url, credentials)) = read_account(dir)
        && url == acme.directory_url
    {
        return builder()?
            .from_credentials(credentials)
            .await
            .map_err(|e| AcmeError::StoredAccount { url: url.clone(), detail: chain(&e) });
    }
    let contact = acme.email.as_ref().map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let new = NewAccount { contact: &contacts, terms_of_service_agreed: true, only_return_existing: false };
    let (account, credentials) = builder()?
        .create(&new, acme.directory_url.clone(), None)
        .await
        .map_err(|e| AcmeError::NewAccount { url: acme.directory_url.clone(), detail: chain(&e) })?;
    let stored = serde_json::json!({ "directory_url": acme.directory_url, "credentials": credentials });
    crate::files::write_private(&dir.join("account.json"), stored.to_string().as_bytes())?;
    tracing::info!(ca = %acme.directory_url, account = account.id(), "opened an ACME account");
    Ok(account)
}

fn read_account(dir: &Path) -> Option<(String, AccountCredentials)> {
    let text = std::fs::read_to_string(dir.join("account.json")).ok()?;
    let mut value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = value.get("directory_url")?.as_str()?.to_owned();
    let credentials = serde_json::from_value(value.get_mut("credentials")?.take()).ok()?;
    Some((url, credentials))
}

// ---------------------------------------------------------------------------------------
// Challenge responder

/// Answers the CA's checks while an order is in progress; stops when dropped.
struct Responder {
    answers: Arc<Mutex<Answers>>,
    task: tokio::task::JoinHandle<()>,
    challenge: AcmeChallenge,
}

#[derive(Default)]
struct Answers {
    /// http-01: token → key authorization.
    http: HashMap<String, String>,
    /// tls-alpn-01: name → the challenge certificate.
    tls: HashMap<String, Arc<rustls::sign::CertifiedKey>>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Responder {
    async fn start(challenge: AcmeChallenge, listen: SocketAddr) -> Result<Responder, AcmeError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| AcmeError::Listen { addr: listen, detail: e.to_string() })?;
        let answers = Arc::new(Mutex::new(Answers::default()));
        let task = match challenge {
            AcmeChallenge::Http01 => tokio::spawn(serve_http(listener, Arc::clone(&answers))),
            AcmeChallenge::TlsAlpn01 => tokio::spawn(serve_tls_alpn(listener, Arc::clone(&answers))?),
        };
        Ok(Responder { answers, task, challenge })
    }

    fn answer(&self, name: &str, token: &str, key_authorization: &str, digest: &[u8]) -> Result<(), AcmeError> {
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        match self.challenge {
            AcmeChallenge::Http01 => {
                answers.http.insert(token.to_owned(), key_authorization.to_owned());
            }
            AcmeChallenge::TlsAlpn01 => {
                answers.tls.insert(name.to_ascii_lowercase(), alpn_certificate(name, digest)?);
            }
        }
        Ok(())
    }
}

/// The self-signed certificate of `tls-alpn-01` (RFC 8737 §3): the name, and the
/// key authorization's SHA-256 in the critical `acmeIdentifier` extension.
fn alpn_certificate(name: &str, digest: &[u8]) -> Result<Arc<rustls::sign::CertifiedKey>, AcmeError> {
    let failed = |e: rcgen::Error| AcmeError::AlpnCertificate { name: name.to_owned(), detail: e.to_string() };
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(failed)?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    let provider = rustls::crypto::ring::default_provider();
    let der = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    // Not `from_der`: its check that key and certificate match parses the certificate
    // with webpki, which refuses the critical acmeIdentifier extension.
    let key = provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| AcmeError::AlpnCertificate { name: name.to_owned(), detail: e.to_string() })?;
    Ok(Arc::new(rustls::sign::CertifiedKey::new(vec![cert.der().clone()], key)))
}

/// Presents, to a client asking for `acme-tls/1`, the challenge certificate of the
/// name it asks for.
#[derive(Debug)]
struct AlpnResolver(Arc<Mutex<Answers>>);

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers").field("http", &self.http.len()).field("tls", &self.tls.len()).finish()
    }
}

impl rustls::server::ResolvesServerCert for AlpnResolver {
    fn resolve(&self, hello: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let asks_acme = hello.alpn().is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        let name = hello.server_name()?.to_ascii_lowercase();
        asks_acme.then(|| self.0.lock().unwrap_or_else(|p| p.into_inner()).tls.get(&name).cloned()).flatten()
    }
}

fn serve_tls_alpn(
    listener: tokio::net::TcpListener,
    answers: Arc<Mutex<Answers>>,
) -> Result<impl Future<Output = ()> + Send + 'static, AcmeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| AcmeError::Local(format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(AlpnResolver(answers)));
    config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    Ok(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else { continue };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(crate::tls::HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(mut tls)) => {
                        tracing::debug!(%peer, "answered a tls-alpn-01 check");
                        let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls-alpn-01 handshake failed"),
                    Err(_) => {}
                }
            });
        }
    })
}

async fn serve_http(listener: tokio::net::TcpListener, answers: Arc<Mutex<Answers>>) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let answers = Arc::clone(&answers);
        let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let token = req.uri().path().strip_prefix("/.well-known/acme-challenge/").map(str::to_owned);
            let answer = token.and_then(|t| answers.lock().unwrap_or_else(|p| p.into_inner()).http.get(&t).cloned());
            let response = match answer {
                Some(text) => hyper::Response::builder()
                    .header("content-type", "application/octet-stream")
                    .body(Full::new(Bytes::from(text))),
                None => hyper::Response::builder().status(404).body(Full::new(Bytes::from_static(b"not found\n"))),
            };
            async move { response }
        });
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(tcp);
            let _ = tokio::time::timeout(
                Duration::from_secs(30),
                hyper::server::conn::http1::Builder::new().serve_connection(io, service),
            )
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_renewed_thirty_days_before_it_expires() {
        let not_after = 1_800_000_000;
        assert_eq!(not_after - renewal_due(not_after), 30 * 86_400);
    }

    #[tokio::test]
    async fn the_http_responder_answers_its_tokens_only() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = probe.local_addr().expect("addr");
        drop(probe);
        let r = Responder::start(AcmeChallenge::Http01, addr).await.expect("start");
        r.answer("mail.corp.test", "tok", "tok.thumb", &[]).expect("answer");
        let get = move |path: &str| {
            let mut s = std::net::TcpStream::connect(addr).expect("connect");
            std::io::Write::write_all(
                &mut s,
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .expect("write");
            let mut out = String::new();
            std::io::Read::read_to_string(&mut s, &mut out).expect("read");
            out
        };
        let found = tokio::task::spawn_blocking(move || {
            (get("/.well-known/acme-challenge/tok"), get("/.well-known/acme-challenge/other"))
        })
        .await
        .expect("join");
        assert!(found.0.starts_with("HTTP/1.1 200") && found.0.ends_with("tok.thumb"), "{}", found.0);
        assert!(found.1.starts_with("HTTP/1.1 404"), "{}", found.1);
    }

    #[test]
    fn the_alpn_certificate_carries_the_critical_acme_identifier() {
        let key = alpn_certificate("mail.corp.test", &[7u8; 32]).expect("certificate");
        let (_, cert) = x509_parser::parse_x509_certificate(key.cert[0].as_ref()).expect("parse");
        let ext =
            cert.extensions().iter().find(|e| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31").expect("acmeIdentifier");
        assert!(ext.critical);
        assert!(ext.value.ends_with(&[7u8; 32]));
    }
}
