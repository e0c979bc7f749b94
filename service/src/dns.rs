//! The DNS resolver the service uses, for MX lookups and for mail authentication: the
//! Connections page's DNS server when one is set (tests point it at a server on
//! loopback), else the system's.

use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use mailroom_shared::config::Connections;

/// How long one query waits for an answer; with a retry, a dead server costs an SMTP
/// session about six seconds, not ten.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Why no resolver could be set up.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// No server is set and the system's configuration cannot be read.
    #[error("cannot read the system DNS configuration: {0}")]
    SystemConfig(String),
    /// The resolver could not start.
    #[error("cannot start the DNS resolver: {0}")]
    Start(String),
}

/// The resolver's configuration and options under `cfg`.
///
/// # Errors
/// When no server is set and the system configuration cannot be read.
pub fn config(cfg: &Connections) -> Result<(ResolverConfig, ResolverOpts), DnsError> {
    let (config, mut options) = match cfg.dns_server {
        Some(server) => {
            let mut ns = NameServerConfig::udp_and_tcp(server.ip());
            for c in &mut ns.connections {
                c.port = server.port();
            }
            (ResolverConfig::from_name_servers(vec![ns]), ResolverOpts::default())
        }
        None => hickory_resolver::system_conf::read_system_conf().map_err(|e| DnsError::SystemConfig(e.to_string()))?,
    };
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 2;
    Ok((config, options))
}

/// A resolver under `cfg`.
///
/// # Errors
/// As [`config`], or when the resolver cannot start.
pub fn resolver(cfg: &Connections) -> Result<TokioResolver, DnsError> {
    let (config, options) = config(cfg)?;
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
        .map_err(|e| DnsError::Start(e.to_string()))
}
