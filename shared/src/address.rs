//! Validated names: domains, host names, e-mail addresses, IP networks and next hops.
//!
//! Each type can only be built by parsing, so holding one is proof that it is valid.
//! Domains are kept in lower case: DNS names compare case-insensitively (RFC 4343), and
//! normalising once here means every comparison elsewhere is a plain string comparison.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a name failed to parse. The field it came from is added by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, NameError> {
    Err(NameError(msg.into()))
}

/// A DNS domain name of one or more labels (RFC 1035 §2.3.1, relaxed by RFC 1123 to
/// allow a leading digit), stored in lower case without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

impl Domain {
    /// Parses a domain name. A single trailing dot (the DNS root) is accepted and dropped.
    ///
    /// # Errors
    /// Says which rule the name breaks: empty, too long, an empty label, a label over
    /// 63 octets, a character other than letters, digits and hyphens, or a hyphen at
    /// the start or end of a label.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let s = s.strip_suffix('.').unwrap_or(s);
        if s.is_empty() {
            return err("is empty");
        }
        if s.len() > 253 {
            return err(format!("is {} characters long; at most 253 are allowed", s.len()));
        }
        for label in s.split('.') {
            if label.is_empty() {
                return err("has an empty label (two dots in a row, or a leading dot)");
            }
            if label.len() > 63 {
                return err(format!("has a label of {} characters; at most 63 are allowed", label.len()));
            }
            if let Some(c) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
                return err(format!("contains {}; only letters, digits, hyphens and dots are allowed", character(c)));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return err(format!("has the label '{label}', which starts or ends with a hyphen"));
            }
        }
        // RFC 3696 §2: a top-level domain is never all digits, so such a name is an IP
        // address (or a typing mistake), which cannot receive mail as a domain.
        if s.rsplit('.').next().is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit())) {
            return err(if s.parse::<IpAddr>().is_ok() {
                "is an IP address, not a domain".to_owned()
            } else {
                format!(
                    "ends in '{}', digits only; the last part of a domain has a letter",
                    s.rsplit('.').next().unwrap_or(s)
                )
            });
        }
        Ok(Domain(s.to_ascii_lowercase()))
    }

    /// The name, in lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Number of labels (`sales.corp.com` has 3).
    pub fn label_count(&self) -> usize {
        self.0.split('.').count()
    }

    /// True when `self` is `parent` or lies under it, comparing whole labels:
    /// `sales.corp.com` is within `corp.com`; `acorp.com` is not.
    pub fn is_within(&self, parent: &Domain) -> bool {
        self.0 == parent.0
            || (self.0.len() > parent.0.len()
                && self.0.ends_with(parent.0.as_str())
                && self.0.as_bytes()[self.0.len() - parent.0.len() - 1] == b'.')
    }

    /// Replaces the `suffix` this domain lies within by `replacement`, keeping the labels
    /// in front of it: `sales.test.com` with `test.com` → `example.com` gives
    /// `sales.example.com`. Returns `None` when the result would not be a valid domain
    /// (too long) or `self` is not within `suffix`.
    pub fn replace_suffix(&self, suffix: &Domain, replacement: &Domain) -> Option<Domain> {
        if !self.is_within(suffix) {
            return None;
        }
        let prefix = &self.0[..self.0.len() - suffix.0.len()];
        Domain::parse(&format!("{prefix}{}", replacement.0)).ok()
    }
}

impl TryFrom<String> for Domain {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        Domain::parse(&s)
    }
}
impl From<Domain> for String {
    fn from(d: Domain) -> String {
        d.0
    }
}
impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl FromStr for Domain {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Domain::parse(s)
    }
}

/// An e-mail address `local@domain` as used in an SMTP envelope (RFC 5321 §4.1.2).
///
/// The local part keeps its case as given (it is only compared case-insensitively
/// against local mailboxes); the domain is lower case. Quoted local parts and address
/// literals are not accepted: Mailroom's mailboxes never need them, and refusing them
/// keeps relay decisions about the final domain unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress {
    local: String,
    domain: Domain,
}

impl EmailAddress {
    /// Parses `local@domain`.
    ///
    /// # Errors
    /// When there is not exactly one `@`, the local part is empty, longer than 64 octets
    /// or has characters outside RFC 5321's dot-string, or the domain is invalid.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let s = s.trim();
        let Some((local, domain)) = s.rsplit_once('@') else {
            return err("has no '@'");
        };
        local_part(local)?;
        let domain = Domain::parse(domain).map_err(|e| NameError(format!("has a domain that {e}")))?;
        Ok(EmailAddress { local: local.to_owned(), domain })
    }

    /// Builds an address from an already valid local part and a domain.
    ///
    /// # Errors
    /// When `local` is not a valid local part.
    pub fn new(local: &str, domain: &Domain) -> Result<Self, NameError> {
        EmailAddress::parse(&format!("{local}@{domain}"))
    }

    /// The part before the `@`, as given.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The domain, lower case.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The address in the canonical form used as a mailbox key: local part and domain
    /// in lower case.
    pub fn canonical(&self) -> String {
        format!("{}@{}", self.local.to_ascii_lowercase(), self.domain)
    }

    /// The same local part at another domain.
    pub fn with_domain(&self, domain: Domain) -> EmailAddress {
        EmailAddress { local: self.local.clone(), domain }
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        EmailAddress::parse(&s)
    }
}
impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> String {
        a.to_string()
    }
}
impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}
impl FromStr for EmailAddress {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        EmailAddress::parse(s)
    }
}

/// Checks a local part: RFC 5321's dot-string, at most 64 octets.
fn local_part(local: &str) -> Result<(), NameError> {
    if local.is_empty() {
        return err("has nothing before the '@'");
    }
    if local.len() > 64 {
        return err(format!("has a local part of {} characters; at most 64 are allowed", local.len()));
    }
    if local.contains('@') {
        return err("has more than one '@'");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return err("has a misplaced dot in the part before the '@'");
    }
    const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    if let Some(c) = local.chars().find(|c| !(c.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(*c))) {
        return err(format!("contains '{c}' before the '@'"));
    }
    Ok(())
}

/// An envelope address at an address literal instead of a domain: `user@[192.0.2.1]`
/// or `user@[IPv6:2001:db8::1]` (RFC 5321 §4.1.3). Valid in MAIL and RCPT, where a
/// host without a name in DNS is reached by its address; never a mailbox's own
/// address (those are [`EmailAddress`]es, at domains). RFC 5321's general literal
/// (`[tag:content]`) names no standardised tag, so it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LiteralAddress {
    local: String,
    ip: IpAddr,
}

impl LiteralAddress {
    /// Parses `local@[ip]`.
    ///
    /// # Errors
    /// When the part after the last `@` is not in brackets, is not an IPv4 address or
    /// `IPv6:` and an IPv6 address, or the local part is invalid.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let Some((local, literal)) = s.trim().rsplit_once('@') else {
            return err("has no '@'");
        };
        let Some(inner) = literal.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            return err("has no address literal in brackets after the '@'");
        };
        let ip = match inner.get(..5) {
            Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
                inner[5..].parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| ())
            }
            _ => inner.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| ()),
        };
        let Ok(ip) = ip else {
            return err(format!("has '[{inner}]', which is neither an IPv4 address nor 'IPv6:' and an IPv6 address"));
        };
        local_part(local)?;
        Ok(LiteralAddress { local: local.to_owned(), ip })
    }

    /// The part before the `@`, as given.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The address in the brackets.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl fmt::Display for LiteralAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{}@[{ip}]", self.local),
            IpAddr::V6(ip) => write!(f, "{}@[IPv6:{ip}]", self.local),
        }
    }
}

/// An IP network written as an address and a mask, the way the Routing Restrictions
/// dialog lists them: `192.168.1.0/255.255.255.0`, `10.0.0.0/8`, or a bare address
/// (a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDR`, `ADDR/PREFIX` or `ADDR/MASK` (IPv4 dotted masks must be contiguous).
    ///
    /// # Errors
    /// When the address or mask is malformed, the prefix is too long for the address
    /// family, or the address has bits set outside the mask (`10.0.0.1/8` is almost
    /// always a typing mistake for `10.0.0.0/8` or `10.0.0.1`).
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let s = s.trim();
        let (addr_s, mask_s) = match s.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (s, None),
        };
        let Ok(addr) = addr_s.parse::<IpAddr>() else {
            return err(format!("'{addr_s}' is not an IP address"));
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match mask_s {
            None => max,
            Some(m) => {
                if let Ok(p) = m.parse::<u8>() {
                    if p > max {
                        return err(format!("prefix /{p} is longer than {max} bits"));
                    }
                    p
                } else if let (Ok(mask), true) = (m.parse::<Ipv4Addr>(), addr.is_ipv4()) {
                    let bits = u32::from(mask);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return err(format!("mask {m} is not contiguous"));
                    }
                    bits.leading_ones() as u8
                } else {
                    return err(format!("'{m}' is not a mask (use a prefix length or a dotted mask)"));
                }
            }
        };
        let net = IpNet { addr, prefix };
        if net.network() != addr {
            return err(format!(
                "address {addr} has bits set outside the mask; did you mean {}/{prefix}?",
                net.network()
            ));
        }
        Ok(net)
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        }
    }

    /// True when `ip` is inside this network. An IPv4-mapped IPv6 client address
    /// (`::ffff:10.0.0.1`) is compared as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                IpNet { addr: ip, prefix: self.prefix }.network() == self.addr
            }
            _ => false,
        }
    }

    /// True for `0.0.0.0/0` or `::/0`: every address.
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }
}

impl TryFrom<String> for IpNet {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        IpNet::parse(&s)
    }
}
impl From<IpNet> for String {
    fn from(n: IpNet) -> String {
        n.to_string()
    }
}
impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max { write!(f, "{}", self.addr) } else { write!(f, "{}/{}", self.addr, self.prefix) }
    }
}

/// A character as a sentence names it: "a space", or the character in quotes.
fn character(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c => format!("'{c}'"),
    }
}

/// Where to send mail next: `host`, `host:port`, `[ip]` or `[ip]:port`.
///
/// A host name is looked up in DNS (A/AAAA, not MX: a smart host is a host); an
/// address literal in brackets skips DNS entirely. The port defaults to 25.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NextHop {
    /// A host name to resolve.
    Host {
        /// The host.
        name: Domain,
        /// TCP port.
        port: u16,
    },
    /// An address literal, used as is.
    Addr(SocketAddr),
}

impl NextHop {
    /// The SMTP port used when none is given.
    pub const DEFAULT_PORT: u16 = 25;

    /// Parses a next hop.
    ///
    /// # Errors
    /// When the host is not a valid name, the literal is not an IP address, or the port
    /// is not a number from 1 to 65535.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let s = s.trim();
        let parse_port = |p: &str| match p.parse::<u16>() {
            Ok(0) | Err(_) => err(format!("'{p}' is not a port from 1 to 65535")),
            Ok(p) => Ok(p),
        };
        if let Some(rest) = s.strip_prefix('[') {
            let Some((lit, after)) = rest.split_once(']') else {
                return err("has '[' without a closing ']'");
            };
            let Ok(ip) = lit.parse::<IpAddr>() else {
                return err(format!("'[{lit}]' is not an IP address literal"));
            };
            let port = match after {
                "" => Self::DEFAULT_PORT,
                p => match p.strip_prefix(':') {
                    Some(p) => parse_port(p)?,
                    None => return err(format!("unexpected '{after}' after ']'")),
                },
            };
            return Ok(NextHop::Addr(SocketAddr::new(ip, port)));
        }
        // An IP address typed without brackets can only mean that address (an address
        // is never looked up): taken as if bracketed. A bare IPv6 address has no port.
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(NextHop::Addr(SocketAddr::new(ip, Self::DEFAULT_PORT)));
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, parse_port(p)?),
            None => (s, Self::DEFAULT_PORT),
        };
        if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
            return Ok(NextHop::Addr(SocketAddr::new(IpAddr::V4(ip), port)));
        }
        let name = Domain::parse(host).map_err(|e| NameError(format!("host name {e}")))?;
        Ok(NextHop::Host { name, port })
    }
}

impl TryFrom<String> for NextHop {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        NextHop::parse(&s)
    }
}
impl From<NextHop> for String {
    fn from(h: NextHop) -> String {
        h.to_string()
    }
}
impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::Host { name, port } if *port == Self::DEFAULT_PORT => write!(f, "{name}"),
            NextHop::Host { name, port } => write!(f, "{name}:{port}"),
            NextHop::Addr(a) => write!(f, "[{}]:{}", a.ip(), a.port()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_literals_parse_as_rfc_5321_writes_them() {
        let v4 = LiteralAddress::parse("user@[192.0.2.1]").unwrap();
        assert_eq!((v4.local(), v4.ip()), ("user", "192.0.2.1".parse().unwrap()));
        assert_eq!(v4.to_string(), "user@[192.0.2.1]");
        let v6 = LiteralAddress::parse("u.ser@[ipv6:2001:DB8::1]").unwrap();
        assert_eq!(v6.to_string(), "u.ser@[IPv6:2001:db8::1]");
        for bad in [
            "user@192.0.2.1",
            "user@[300.1.1.1]",
            "user@[2001:db8::1]",
            "user@[x-tag:abc]",
            "@[192.0.2.1]",
            "a..b@[192.0.2.1]",
        ] {
            assert!(LiteralAddress::parse(bad).is_err(), "{bad}");
        }
        assert!(EmailAddress::parse("user@[192.0.2.1]").is_err(), "a mailbox is never at a literal");
    }

    #[test]
    fn domains() {
        assert_eq!(Domain::parse("Corp.COM.").map(String::from), Ok("corp.com".into()));
        assert!(Domain::parse("localhost").is_ok());
        assert!(Domain::parse("3com.com").is_ok());
        for bad in
            ["", ".", "a..b", ".a", "-a.com", "a-.com", "a_b.com", "a b", &"x".repeat(64), "192.168.1.5", "corp.123"]
        {
            assert!(Domain::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            Domain::parse("192.168.1.5").map_err(|e| e.to_string()),
            Err("is an IP address, not a domain".into())
        );
        assert!(Domain::parse("a b").is_err_and(|e| e.to_string().contains("contains a space")));
        assert!(Domain::parse("123.example").is_ok() && Domain::parse("x.co2").is_ok());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(Domain::parse(&long).is_err());
    }

    #[test]
    fn whole_label_matching() {
        let d = |s| Domain::parse(s).expect("valid");
        assert!(d("corp.com").is_within(&d("corp.com")));
        assert!(d("sales.corp.com").is_within(&d("corp.com")));
        assert!(!d("acorp.com").is_within(&d("corp.com")));
        assert!(!d("corp.com").is_within(&d("sales.corp.com")));
        assert_eq!(d("sales.test.com").replace_suffix(&d("test.com"), &d("example.com")), Some(d("sales.example.com")));
    }

    #[test]
    fn addresses() {
        let a = EmailAddress::parse("John.Doe@Corp.Test").expect("valid");
        assert_eq!(a.local(), "John.Doe");
        assert_eq!(a.domain().as_str(), "corp.test");
        assert_eq!(a.canonical(), "john.doe@corp.test");
        for bad in
            ["", "a", "@b.com", "a@", "a@@b.com", "a@b@c.com", "a b@c.com", ".a@b.com", "a..b@c.com", "a@[1.2.3.4]"]
        {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ip_nets() {
        let n = IpNet::parse("192.168.1.0/255.255.255.0").expect("valid");
        assert_eq!(n.to_string(), "192.168.1.0/24");
        assert!(n.contains("192.168.1.77".parse().expect("ip")));
        assert!(!n.contains("192.168.2.1".parse().expect("ip")));
        assert!(n.contains("::ffff:192.168.1.5".parse().expect("ip")));
        assert!(IpNet::parse("10.0.0.0/8").is_ok());
        assert_eq!(IpNet::parse("127.0.0.1").map(|n| n.to_string()), Ok("127.0.0.1".into()));
        assert!(IpNet::parse("0.0.0.0/0").expect("valid").is_everything());
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/255.0.255.0", "300.1.1.1", "host", "10.0.0.0/x"] {
            assert!(IpNet::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(IpNet::parse("fd00::/8").expect("valid").contains("fd12::1".parse().expect("ip")));
    }

    #[test]
    fn next_hops() {
        assert_eq!(NextHop::parse("mx.example.com").map(|h| h.to_string()), Ok("mx.example.com".into()));
        assert_eq!(NextHop::parse("relay.isp.net:587").map(|h| h.to_string()), Ok("relay.isp.net:587".into()));
        assert_eq!(NextHop::parse("[127.0.0.1]:2525").map(|h| h.to_string()), Ok("[127.0.0.1]:2525".into()));
        assert_eq!(NextHop::parse("[::1]").map(|h| h.to_string()), Ok("[::1]:25".into()));
        for bad in [
            "",
            "host:0",
            "host:70000",
            "[1.2.3]",
            "[127.0.0.1",
            "[127.0.0.1]x",
            "127.0.0.1:0",
            "bad_host",
            "1.2.3.4.5",
        ] {
            assert!(NextHop::parse(bad).is_err(), "{bad:?} accepted");
        }
        // An IP address without brackets is that address: it is never looked up.
        assert_eq!(NextHop::parse("127.0.0.1:2600").map(|h| h.to_string()), Ok("[127.0.0.1]:2600".into()));
        assert_eq!(NextHop::parse("10.0.0.1").map(|h| h.to_string()), Ok("[10.0.0.1]:25".into()));
        assert_eq!(NextHop::parse("::1").map(|h| h.to_string()), Ok("[::1]:25".into()));
    }
}
