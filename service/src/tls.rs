//! TLS for the listeners (rustls with the ring provider).
//!
//! The certificate comes from the PEM files named on the Security page, or, when none
//! are named, from a self-signed certificate for the host name generated at first
//! start and kept in the data directory (`tls/`, private to the service).
//!
//! [`Stream`] is a connection that starts in plain text and can be upgraded in place
//! (STARTTLS, STLS), so that one session type serves both.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mailroom_shared::config::Config;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// Builds the acceptor for a run.
///
/// # Errors
/// When named PEM files cannot be read or do not hold a certificate and key, or a
/// self-signed certificate cannot be made or stored; in the problem's own words.
pub fn acceptor(data_dir: &Path, config: &Config) -> Result<TlsAcceptor, String> {
    let (certs, key) = match &config.security.tls_files {
        Some((cert, key)) => (read_certs(cert)?, read_key(key)?),
        None => self_signed(data_dir, config.general.host_name.as_str())?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the TLS certificate and key do not match or are unusable: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read the TLS certificate {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the TLS certificate {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("cannot read the TLS key {}: {e}", path.display()))
}

/// The self-signed certificate for `host` in `data_dir/tls`, made on first use.
fn self_signed(data_dir: &Path, host: &str) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let dir = data_dir.join("tls");
    let cert_path = dir.join(format!("{host}.crt.pem"));
    let key_path = dir.join(format!("{host}.key.pem"));
    if !cert_path.exists() || !key_path.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        let made = rcgen::generate_simple_self_signed(vec![host.to_owned()])
            .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
        let write = |path: &Path, text: String| -> Result<(), String> {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            io::Write::write_all(&mut f, text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            f.sync_all().map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        write(&key_path, made.signing_key.serialize_pem())?;
        write(&cert_path, made.cert.pem())?;
        tracing::info!(host, path = %cert_path.display(), "generated a self-signed TLS certificate");
    }
    Ok((read_certs(&cert_path)?, read_key(&key_path)?))
}

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

    /// Runs the TLS handshake on a plain connection, in place.
    ///
    /// # Errors
    /// When the handshake fails (the connection is then unusable).
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        let Stream::Plain(tcp) = std::mem::replace(self, Stream::Closed) else {
            return Err(io::Error::other("the connection is not plain text"));
        };
        *self = Stream::Tls(Box::new(acceptor.accept(tcp).await?));
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
    /// Upgrades to TLS.
    fn start_tls(&mut self, acceptor: &TlsAcceptor) -> impl std::future::Future<Output = io::Result<()>> + Send;
}

impl Transport for Stream {
    fn is_tls(&self) -> bool {
        Stream::is_tls(self)
    }
    async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        Stream::start_tls(self, acceptor).await
    }
}
