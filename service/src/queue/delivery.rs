//! What the route, the client and the queue actor say to each other about one
//! delivery: how it may use TLS, and how it can fail.

/// A delivery failure, typed by whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Try again later.
    #[error("{0}")]
    Temporary(String),
    /// Give up: an NDR is due.
    #[error("{message}")]
    Permanent {
        /// The enhanced status code (RFC 3463), `5.1.2`.
        status: String,
        /// What happened, as the NDR says it.
        message: String,
    },
}

/// How a connection uses STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPolicy {
    /// When offered, without checking the certificate; plain text otherwise.
    Opportunistic,
    /// Always, with a certificate valid for the host's name.
    Required,
    /// Never: the fallback after a failed opportunistic handshake.
    Off,
}
