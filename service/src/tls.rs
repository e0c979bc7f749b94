//! TLS for the listeners and for outbound delivery (rustls with the ring provider).
//!
//! **Server side.** The certificate comes from the PEM files named on the Security
//! page, from an ACME CA ([`crate::acme`]), or, when neither, from a self-signed
//! certificate for the host name generated at first start and kept in the data
//! directory (`tls/`, private to the service). The listeners ask [`Certificates`] for
//! it at each handshake, so a renewed certificate is presented to new connections
//! without a restart. [`Stream`] is a connection that starts in plain text and can be upgraded
//! in place (STARTTLS, STLS), so that one session type serves both; the implicit-TLS
//! listeners (submissions, pop3s) hand sessions a stream that is TLS from the start.
//!
//! **Client side** ([`Outbound`]). Delivery to MX hosts uses STARTTLS whenever it is
//! offered, without checking the certificate: MX host names are not authenticated
//! (RFC 7435, opportunistic security), and a refused certificate would only push the
//! mail back to plain text. A smart host marked "requires TLS" must offer STARTTLS and
//! present a certificate valid for its name under the system's trust store.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mailroom_shared::config::Config;
use mailroom_shared::ipc::CertificateInfo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Why TLS could not be set up, in the administrator's words: which file, and what is
/// wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file cannot be read.
    #[error("cannot read the TLS certificate {}: {source}", path.display())]
    ReadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// It is not PEM.
    #[error("the TLS certificate {} is not valid PEM: {source}", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// It holds no certificate.
    #[error("{} holds no certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file cannot be read.
    #[error("cannot read the TLS key {}: {source}", path.display())]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate cannot be parsed.
    #[error("the TLS certificate {} cannot be parsed: {reason}", path.display())]
    Unparsable {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        reason: String,
    },
    /// Certificate and key do not belong together (or the key's kind is not usable).
    #[error("the TLS certificate and key do not match or are unusable: {0}")]
    Mismatch(rustls::Error),
    /// rustls refused the setup.
    #[error("TLS setup failed: {0}")]
    Setup(rustls::Error),
    /// A self-signed certificate could not be made.
    #[error("cannot make a self-signed certificate: {0}")]
    SelfSigned(rcgen::Error),
    /// One could not be stored.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
}

/// How long a client gets to complete a TLS handshake (real clients need
/// milliseconds; this bounds how long a silent one holds a connection slot).
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The server side of TLS for one run: the acceptor and what it presents.
#[derive(Clone)]
pub struct ServerTls {
    /// Accepts handshakes.
    pub acceptor: TlsAcceptor,
    /// Accepts HTTPS handshakes: the same certificate, offering HTTP/2 and HTTP/1.1
    /// by ALPN (RFC 7301).
    pub https: TlsAcceptor,
    /// The certificate presented, replaceable while the run goes on.
    pub certs: Arc<Certificates>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("fingerprint", &self.certs.info().sha256_fingerprint).finish_non_exhaustive()
    }
}

/// The certificate a run presents, and its description; swapped in place when the ACME
/// client renews it (connections already open keep the one they began with).
pub struct Certificates {
    current: std::sync::RwLock<(Arc<rustls::sign::CertifiedKey>, Arc<CertificateInfo>)>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates").field("fingerprint", &self.info().sha256_fingerprint).finish()
    }
}

impl Certificates {
    fn new(key: Arc<rustls::sign::CertifiedKey>, info: CertificateInfo) -> Certificates {
        Certificates { current: std::sync::RwLock::new((key, Arc::new(info))) }
    }

    /// The certificate presented now, described.
    pub fn info(&self) -> Arc<CertificateInfo> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()).1)
    }

    /// Presents the certificate in `cert_path` with the key in `key_path` from now on.
    ///
    /// # Errors
    /// When the files cannot be read or do not match; the certificate in use stays.
    pub fn replace(&self, cert_path: &Path, key_path: &Path) -> Result<Arc<CertificateInfo>, TlsError> {
        let (key, info) = load(cert_path, key_path, false)?;
        let info = Arc::new(info);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = (key, Arc::clone(&info));
        Ok(info)
    }
}

impl rustls::server::ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()).0))
    }
}

/// Builds the server side of TLS for a run: the files named on the Security page, else
/// `acme`'s (the certificate the ACME client keeps, when it is usable), else the
/// self-signed one.
///
/// # Errors
/// When named PEM files cannot be read or do not hold a certificate and key, or a
/// self-signed certificate cannot be made or stored; in the problem's own words.
pub fn server(data_dir: &Path, config: &Config, acme: Option<(PathBuf, PathBuf)>) -> Result<ServerTls, TlsError> {
    let (cert_path, key_path, self_signed) = match (&config.security.tls_files, acme) {
        (Some((cert, key)), _) => (cert.clone(), key.clone(), false),
        (None, Some((cert, key))) => (cert, key, false),
        (None, None) => {
            let (cert, key) = self_signed_files(data_dir, config.general.host_name.as_str())?;
            (cert, key, true)
        }
    };
    let (key, info) = load(&cert_path, &key_path, self_signed)?;
    let certs = Arc::new(Certificates::new(key, info));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&certs) as Arc<dyn rustls::server::ResolvesServerCert>);
    let mut https = server.clone();
    https.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(ServerTls { acceptor: TlsAcceptor::from(Arc::new(server)), https: TlsAcceptor::from(Arc::new(https)), certs })
}

/// Reads a certificate chain and its key, checks that they belong together, and
/// describes the certificate.
///
/// # Errors
/// In the administrator's words: which file, and what is wrong with it.
pub fn load(
    cert_path: &Path,
    key_path: &Path,
    self_signed: bool,
) -> Result<(Arc<rustls::sign::CertifiedKey>, CertificateInfo), TlsError> {
    let certs = read_certs(cert_path)?;
    let key = read_key(key_path)?;
    let info = describe(&certs[0], cert_path, self_signed)?;
    let provider = rustls::crypto::ring::default_provider();
    let key = rustls::sign::CertifiedKey::from_der(certs, key, &provider).map_err(TlsError::Mismatch)?;
    Ok((Arc::new(key), info))
}

/// The certificates of a PEM file, in order (the first is the server's own).
///
/// # Errors
/// When the file cannot be read, is not PEM, or holds no certificate.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|source| TlsError::ReadCertificate { path: path.to_owned(), source })?
        .collect::<Result<_, _>>()
        .map_err(|source| TlsError::NotPem { path: path.to_owned(), source })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|source| TlsError::ReadKey { path: path.to_owned(), source })
}

/// The certificate in the administrator's terms: names, validity, fingerprint.
///
/// # Errors
/// When the certificate cannot be parsed.
pub fn describe(cert: &CertificateDer<'_>, path: &Path, self_signed: bool) -> Result<CertificateInfo, TlsError> {
    use x509_parser::extensions::GeneralName;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| TlsError::Unparsable { path: path.to_owned(), reason: e.to_string() })?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push((*d).to_owned()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => names.push(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).unwrap_or_default()).to_string()),
                    16 => {
                        names.push(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap_or_default()).to_string())
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Ok(CertificateInfo {
        self_signed,
        path: path.display().to_string(),
        subject: parsed.subject().to_string(),
        issuer: parsed.issuer().to_string(),
        names,
        not_before: parsed.validity().not_before.timestamp(),
        not_after: parsed.validity().not_after.timestamp(),
        sha256_fingerprint: fingerprint(cert.as_ref()),
    })
}

/// SHA-256 of `der` as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// How long a self-signed certificate is made for.
const SELF_SIGNED_DAYS: i64 = 2 * 365;
/// A self-signed certificate this close to expiry is made anew at start.
const RENEW_BEFORE_DAYS: i64 = 30;

/// The self-signed certificate and key files for `host` in `data_dir/tls`: made on
/// first use, and made again when they are about to expire.
fn self_signed_files(data_dir: &Path, host: &str) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join(format!("{host}.crt.pem"));
    let key_path = dir.join(format!("{host}.key.pem"));
    let now = crate::store::now_secs();
    let usable = key_path.exists()
        && read_certs(&cert_path)
            .ok()
            .and_then(|c| {
                x509_parser::parse_x509_certificate(c[0].as_ref()).ok().map(|(_, x)| x.validity().not_after.timestamp())
            })
            .is_some_and(|not_after| not_after > now + RENEW_BEFORE_DAYS * 86_400);
    if usable {
        return Ok((cert_path, key_path));
    }
    crate::files::create_private_dir(&dir, 0o700)?;
    let made = make_self_signed(host, now).map_err(TlsError::SelfSigned)?;
    crate::files::write_private(&key_path, made.1.serialize_pem().as_bytes())?;
    crate::files::write_private(&cert_path, made.0.pem().as_bytes())?;
    tracing::info!(host, path = %cert_path.display(), days = SELF_SIGNED_DAYS, "generated a self-signed TLS certificate");
    Ok((cert_path, key_path))
}

/// A certificate for `host`, signed by its own key, valid from yesterday (clocks
/// differ) for [`SELF_SIGNED_DAYS`].
fn make_self_signed(host: &str, now: i64) -> Result<(rcgen::Certificate, rcgen::KeyPair), rcgen::Error> {
    let date = |t: i64| {
        let (year, month, day) = mailroom_shared::time::utc_date(t);
        rcgen::date_time_ymd(i32::from(year), u8::try_from(month).unwrap_or(1), u8::try_from(day).unwrap_or(1))
    };
    let mut params = rcgen::CertificateParams::new(vec![host.to_owned()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, host);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Mailroom");
    params.not_before = date(now - 86_400);
    params.not_after = date(now + SELF_SIGNED_DAYS * 86_400);
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert, key))
}

/// TLS handshakes of the listeners since the process started: completed, failed (or
/// timed out), for the metrics endpoint.
pub static HANDSHAKES: [std::sync::atomic::AtomicU64; 2] =
    [std::sync::atomic::AtomicU64::new(0), std::sync::atomic::AtomicU64::new(0)];

/// A connection: plain, or upgraded to TLS.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// Between the two, or after a failed handshake.
    Closed,
}

impl Stream {
    /// True once upgraded.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Runs the TLS handshake on a plain connection, in place, within
    /// [`HANDSHAKE_TIMEOUT`].
    ///
    /// # Errors
    /// When the handshake fails or times out (the connection is then unusable).
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        let Stream::Plain(tcp) = std::mem::replace(self, Stream::Closed) else {
            return Err(io::Error::other("the connection is not plain text"));
        };
        let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))
            .and_then(|r| r);
        let slot = usize::from(tls.is_err());
        HANDSHAKES[slot].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self = Stream::Tls(Box::new(tls?));
        Ok(())
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection closed")
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Closed => Poll::Ready(Err(closed())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Closed => Poll::Ready(Err(closed())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Closed => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Closed => Poll::Ready(Ok(())),
        }
    }
}

/// A session's connection: readable, writable, and upgradable to TLS in place.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send {
    /// True once encrypted.
    fn is_tls(&self) -> bool;
    /// The TLS version in use (`TLSv1.3`), once encrypted.
    fn tls_version(&self) -> Option<&'static str>;
    /// Upgrades to TLS.
    fn start_tls(&mut self, acceptor: &TlsAcceptor) -> impl std::future::Future<Output = io::Result<()>> + Send;
}

impl Transport for Stream {
    fn is_tls(&self) -> bool {
        Stream::is_tls(self)
    }
    fn tls_version(&self) -> Option<&'static str> {
        match self {
            Stream::Tls(s) => s.get_ref().1.protocol_version().map(version_name),
            _ => None,
        }
    }
    async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        Stream::start_tls(self, acceptor).await
    }
}

/// A TLS version as people write it.
pub fn version_name(v: rustls::ProtocolVersion) -> &'static str {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLS",
    }
}

/// The stream for a newly accepted connection: plain, or, on an implicit-TLS listener
/// (`implicit`), after the handshake, which comes first. `None` when the handshake
/// failed (logged here), or the service began stopping meanwhile (nothing was said
/// yet, so the connection is just closed).
pub async fn accept(
    tcp: TcpStream,
    peer: std::net::SocketAddr,
    implicit: Option<&TlsAcceptor>,
    shutdown: &crate::shutdown::Shutdown,
) -> Option<Stream> {
    let mut stream = Stream::Plain(tcp);
    let Some(acceptor) = implicit else { return Some(stream) };
    tokio::select! {
        r = stream.start_tls(acceptor) => match r {
            Ok(()) => Some(stream),
            Err(e) => {
                tracing::info!(%peer, error = %e, "TLS handshake failed");
                None
            }
        },
        () = shutdown.stopping() => None,
    }
}

// ---------------------------------------------------------------------------------------
// Client side

/// The connectors for outbound delivery, made once per run.
#[derive(Clone)]
pub struct Outbound {
    /// Accepts any certificate: opportunistic encryption (RFC 7435).
    pub opportunistic: TlsConnector,
    /// Checks the certificate against the system's trust store and the host's name;
    /// `None` when the trust store could not be loaded (then TLS cannot be required).
    pub verified: Option<TlsConnector>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("verified", &self.verified.is_some()).finish_non_exhaustive()
    }
}

impl Outbound {
    /// Builds both connectors.
    pub fn new() -> Outbound {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let opportunistic = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map(|b| {
                b.dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyCertificate(Arc::clone(&provider))))
                    .with_no_client_auth()
            });
        let verified = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())
            .and_then(|b| b.with_platform_verifier().map_err(|e| e.to_string()))
            .map(|b| TlsConnector::from(Arc::new(b.with_no_client_auth())));
        let verified = match verified {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "cannot load the system's trust store; smart hosts that require TLS will be deferred");
                None
            }
        };
        #[expect(clippy::expect_used, reason = "ring supports both versions: this cannot fail")]
        let opportunistic =
            TlsConnector::from(Arc::new(opportunistic.expect("the ring provider supports TLS 1.2 and 1.3")));
        Outbound { opportunistic, verified }
    }
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound::new()
    }
}

/// A certificate verifier that accepts any certificate but still checks that the
/// handshake is signed by it: encryption against passive eavesdropping, without
/// authentication (what MX delivery can have, RFC 7435).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_separated_upper_hex() {
        let f = fingerprint(b"abc");
        assert_eq!(f.len(), 32 * 3 - 1);
        assert!(f.starts_with("BA:78:16:BF:8F:01:CF:EA"), "{f}");
    }

    #[test]
    fn the_self_signed_certificate_is_described_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config::default();
        let first = server(dir.path(), &config, None).expect("TLS");
        assert!(first.certs.info().self_signed);
        assert_eq!(first.certs.info().names, vec!["localhost".to_owned()]);
        assert!(first.certs.info().subject.contains("CN=localhost"), "{}", first.certs.info().subject);
        let days = (first.certs.info().not_after - first.certs.info().not_before) / 86_400;
        assert!((SELF_SIGNED_DAYS..=SELF_SIGNED_DAYS + 1).contains(&days), "{days} days");
        let again = server(dir.path(), &config, None).expect("TLS");
        assert_eq!(
            again.certs.info().sha256_fingerprint,
            first.certs.info().sha256_fingerprint,
            "made once, then reused"
        );
    }

    #[test]
    fn a_self_signed_certificate_near_expiry_is_made_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = dir.path().join("tls");
        std::fs::create_dir_all(&tls).expect("mkdir");
        // One that expires in ten days, as if made two years ago.
        let (cert, key) = make_self_signed("localhost", crate::store::now_secs() - (SELF_SIGNED_DAYS - 10) * 86_400)
            .expect("certificate");
        std::fs::write(tls.join("localhost.crt.pem"), cert.pem()).expect("write");
        std::fs::write(tls.join("localhost.key.pem"), key.serialize_pem()).expect("write");
        let old = fingerprint(cert.der());
        let renewed = server(dir.path(), &Config::default(), None).expect("TLS");
        assert_ne!(renewed.certs.info().sha256_fingerprint, old);
        assert!(renewed.certs.info().not_after > crate::store::now_secs() + 700 * 86_400);
    }
}
