//! DNS for tests: dnsmasq on loopback answering for the test domains, and an address
//! off loopback.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::require;

/// A non-loopback IPv4 address of this machine, for what clients off loopback get.
/// When the machine has none, one from TEST-NET-2 is added to `lo` (needs root).
///
/// # Panics
/// When there is none and none can be added.
pub fn non_loopback_ip() -> std::net::Ipv4Addr {
    require("ip", "iproute2");
    let out = Command::new("ip").args(["-4", "-o", "addr", "show", "scope", "global"]).output().expect("ip addr");
    let found = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next().and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()));
    if let Some(ip) = found {
        return ip;
    }
    let ip = std::net::Ipv4Addr::new(198, 51, 100, 25);
    let out = Command::new("ip").args(["addr", "add", &format!("{ip}/32"), "dev", "lo"]).output().expect("ip addr add");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || err.contains("exists"), "no non-loopback address, and none can be added: {err}");
    ip
}

/// A dnsmasq on loopback answering for the test domains (its arguments: records), killed
/// on drop.
#[derive(Debug)]
pub struct Dns {
    child: Child,
    /// Its UDP and TCP port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dns {
    /// Starts dnsmasq with `args` (`--txt-record=…`, `--mx-host=…`…).
    ///
    /// # Panics
    /// When dnsmasq is not installed, or does not come up.
    #[track_caller]
    pub fn start(args: &[&str]) -> Dns {
        require("dnsmasq", "dnsmasq-base");
        // The port is one the system just gave out for UDP; its TCP twin may be taken
        // by another test's listener, and dnsmasq (which binds both) then exits. Try
        // another port when it does.
        for _ in 0..5 {
            let port =
                std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a UDP port").port();
            let child = Command::new("dnsmasq")
                .args(["--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file="])
                .args(["--listen-address=127.0.0.1", "--bind-interfaces", &format!("--port={port}")])
                .args(args)
                .stderr(Stdio::null())
                .spawn()
                .expect("dnsmasq");
            let mut dns = Dns { child, port };
            // Ready when it accepts on its TCP port and still runs. A fixed wait was too
            // short on a loaded machine: the first lookups of a test then timed out, and
            // SPF said "try again later".
            let until = Instant::now() + Duration::from_secs(10);
            loop {
                if !matches!(dns.child.try_wait(), Ok(None)) {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(20));
                    if matches!(dns.child.try_wait(), Ok(None)) {
                        return dns;
                    }
                    break;
                }
                assert!(Instant::now() < until, "dnsmasq did not answer on port {port} within 10 s");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("dnsmasq exited at start five times (its ports taken?), with {args:?}");
    }

    /// A server publishing `records` (the `records` array of `mailroomctl dns-records
    /// --json`), with an address for each MX host.
    ///
    /// # Panics
    /// As [`Dns::start`], and on a record it cannot publish.
    #[track_caller]
    pub fn publishing(records: &serde_json::Value) -> Dns {
        let mut args = vec!["--local=/test/".to_owned()];
        for r in records.as_array().expect("an array of records") {
            let field = |f: &str| r[f].as_str().unwrap_or_else(|| panic!("a record without {f}: {r}"));
            let (name, value) = (field("name"), field("value"));
            let word = |i: usize| value.split(' ').nth(i).unwrap_or_else(|| panic!("a short {name} record: {value}"));
            match field("kind") {
                "TXT" => args.push(Dns::txt(name, value)),
                "MX" => {
                    let host = word(1);
                    args.push(format!("--mx-host={name},{host},10"));
                    args.push(format!("--host-record={host},127.0.0.1"));
                }
                "SRV" => {
                    args.push(format!("--srv-host={name},{},{},{},{}", word(3), word(2), word(0), word(1)));
                }
                "CNAME" => {
                    // dnsmasq answers a CNAME only for a target it knows.
                    args.push(format!("--host-record={value},127.0.0.1"));
                    args.push(format!("--cname={name},{value}"));
                }
                other => panic!("a {other} record cannot be published here: {r}"),
            }
        }
        args.dedup();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Dns::start(&args)
    }

    /// Its address, as `mailroomctl set dns-server` takes it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `--txt-record` argument for `name` with `value`, split into strings of at most
    /// 255 bytes as DNS requires (a 2048-bit DKIM key is longer). On dnsmasq's command
    /// line, commas separate the strings and quotes would be kept: `value` must not
    /// contain a comma.
    pub fn txt(name: &str, value: &str) -> String {
        assert!(!value.contains(','), "a TXT value for dnsmasq's command line cannot hold a comma: {value}");
        let parts: Vec<String> =
            value.as_bytes().chunks(255).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        format!("--txt-record={name},{}", parts.join(","))
    }
}
