//! Where a request comes from, as the per-address limits see it: a *network*.
//!
//! An IPv4 address is one network. An IPv6 host is handed a whole /64 by its provider and
//! can pick any address in it, so an IPv6 network is its /64: one phone cannot multiply its
//! join or sign-in allowance by changing addresses.
//!
//! Behind a reverse proxy the client's address comes from `X-Forwarded-For`, which anyone
//! can write. It is read only when the connection comes from a trusted proxy, right to left,
//! skipping the trusted proxies' own entries: the first address no trusted proxy added
//! is the client's.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// The key a per-address limit counts under: `203.0.113.7` or `2001:db8:1:2::/64`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Network(String);

impl Network {
    pub fn of(ip: IpAddr) -> Self {
        match canonical(ip) {
            IpAddr::V4(v4) => Network(v4.to_string()),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                Network(format!("{prefix}/64"))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:198.51.100.4`, what a dual-stack socket
/// reports) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// An address range such as `10.0.0.0/8` or `fd00::/8`; a bare address is its own range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The loopback ranges: a proxy on the same machine.
    pub fn loopback() -> Vec<Cidr> {
        vec![
            Cidr {
                base: IpAddr::from([127, 0, 0, 0]),
                prefix: 8,
            },
            Cidr {
                base: IpAddr::V6(Ipv6Addr::LOCALHOST),
                prefix: 128,
            },
        ]
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                same_prefix(&base.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                same_prefix(&base.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    let rest = bits % 8;
    a[..whole] == b[..whole] && (rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0)
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("{s:?} is not an address range; write e.g. 10.0.0.0/8, 192.0.2.7 or fd00::/8")
        };
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s.trim(), None),
        };
        let base = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { base, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// Why a proxied request's client cannot be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardedError {
    #[error("the request came through a trusted proxy without an X-Forwarded-For header")]
    Missing,
    #[error("the X-Forwarded-For entry {0:?} is not an address")]
    Unreadable(String),
}

/// The client's address: the peer itself unless the peer is a trusted proxy, then the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy (or the left-most entry
/// when every one is). `forwarded` holds each `X-Forwarded-For` header's value in order.
pub fn client_address(
    peer: IpAddr,
    forwarded: &[&str],
    trusted: &[Cidr],
) -> Result<IpAddr, ForwardedError> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Ok(peer);
    }
    // Right to left: what lies left of the client's own address is whatever the client
    // wrote, and is never read.
    let entries = forwarded.iter().flat_map(|h| h.split(',')).map(str::trim);
    let mut leftmost = None;
    for entry in entries.rev() {
        let hop = parse_hop(entry).ok_or_else(|| ForwardedError::Unreadable(entry.to_owned()))?;
        if !is_trusted(hop) {
            return Ok(hop);
        }
        leftmost = Some(hop);
    }
    leftmost.ok_or(ForwardedError::Missing)
}

/// One `X-Forwarded-For` entry: an address, possibly `[v6]:port` or `v4:port`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = entry.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_ipv6_network_is_its_slash_64_and_an_ipv4_address_is_itself() {
        let a = Network::of(ip("2001:db8:1:2::1"));
        let b = Network::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        let other = Network::of(ip("2001:db8:1:3::1"));
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(a.as_str(), "2001:db8:1:2::/64");
        assert_eq!(Network::of(ip("203.0.113.7")).as_str(), "203.0.113.7");
        assert_ne!(
            Network::of(ip("203.0.113.7")),
            Network::of(ip("203.0.113.8"))
        );
        assert_eq!(
            Network::of(ip("::ffff:203.0.113.7")),
            Network::of(ip("203.0.113.7"))
        );
    }

    #[test]
    fn ranges_parse_and_contain() {
        let ten: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(ten.contains(ip("10.200.3.4")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(ten.contains(ip("::ffff:10.1.1.1")));
        let odd: Cidr = "192.0.2.64/27".parse().unwrap();
        assert!(odd.contains(ip("192.0.2.95")));
        assert!(!odd.contains(ip("192.0.2.96")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies_right_to_left() {
        let proxies: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        let client = client_address(ip("10.0.0.2"), &["198.51.100.9"], &proxies);
        assert_eq!(client, Ok(ip("198.51.100.9")));
        // A client that writes its own header gets its forged entry ignored: the proxy
        // appended the real address on the right.
        let forged = client_address(ip("10.0.0.2"), &["1.2.3.4, 198.51.100.9"], &proxies);
        assert_eq!(forged, Ok(ip("198.51.100.9")));
        // Two proxies in a row: the right-most untrusted entry.
        let chain = client_address(
            ip("10.0.0.2"),
            &["1.2.3.4", "198.51.100.9, 10.0.0.3"],
            &proxies,
        );
        assert_eq!(chain, Ok(ip("198.51.100.9")));
        // Not from a proxy: the header is anyone's to write, so it is ignored.
        let direct = client_address(ip("203.0.113.5"), &["1.2.3.4"], &proxies);
        assert_eq!(direct, Ok(ip("203.0.113.5")));
        // From a proxy that did not say who the client is: refused, never unlimited.
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &proxies),
            Err(ForwardedError::Missing)
        );
        assert!(matches!(
            client_address(ip("10.0.0.2"), &["unknown"], &proxies),
            Err(ForwardedError::Unreadable(_))
        ));
        // Whatever a client wrote left of its own address is never read.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["junk, 198.51.100.9"], &proxies),
            Ok(ip("198.51.100.9"))
        );
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &["[2001:db8::5]:443", "198.51.100.9:5000"],
                &proxies
            ),
            Ok(ip("198.51.100.9"))
        );
    }
}
