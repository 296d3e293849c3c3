//! The address a request really came from, behind trusted reverse proxies.
//!
//! Behind nginx every connection comes from the proxy, so rate limits keyed
//! on the peer address would put all clients in one bucket. When the peer is
//! one of the operator's trusted proxies, the client is the right-most address
//! of `X-Forwarded-For` that is not itself a trusted proxy: proxies append the
//! address they saw, so everything to the right of that entry was written by
//! machines the operator trusts and everything to its left by the client,
//! which may lie. A peer that is not trusted is the client, whatever its
//! headers say, so `X-Forwarded-For` cannot be forged from outside.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;

/// A network of trusted proxies: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `::1` or `fd00::/8`; a bare address is a network
    /// of one.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or network (e.g. 10.0.0.0/8)"))?;
        let address = address.to_canonical();
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= bits)
                .ok_or_else(|| format!("'{text}' has a prefix length outside 0 to {bits}"))?,
        };
        Ok(Network { address, prefix })
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Parses a comma-separated list of trusted proxy networks.
pub fn parse_networks(text: &str) -> Result<Vec<Network>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(Network::parse)
        .collect()
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the
/// right-most untrusted address of `X-Forwarded-For`.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Network]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|network| network.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for hop in hops.into_iter().rev() {
        // An entry that is not an address ends the trusted chain: nothing to
        // its left can be believed.
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let loopback = Network::parse("127.0.0.1").unwrap();
        assert!(loopback.contains(ip("127.0.0.1")));
        assert!(!loopback.contains(ip("127.0.0.2")));
        assert!(loopback.contains(ip("::ffff:127.0.0.1")), "v4-mapped v6");
        let private = Network::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.200.3.4")));
        assert!(!private.contains(ip("11.0.0.1")));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("nginx").is_err());
        assert_eq!(parse_networks(" 127.0.0.1, ::1 ,").unwrap().len(), 2);
        assert!(parse_networks("").unwrap().is_empty());
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_behind_a_trusted_peer() {
        let trusted = parse_networks("127.0.0.1,10.0.0.0/8").unwrap();
        let proxy = Some(ip("127.0.0.1"));
        // nginx appended the client it saw.
        assert_eq!(
            client_ip(proxy, &headers(&["203.0.113.7"]), &trusted),
            Some(ip("203.0.113.7"))
        );
        // A client that forges an entry only adds to the left of the truth.
        assert_eq!(
            client_ip(proxy, &headers(&["198.51.100.1, 203.0.113.7"]), &trusted),
            Some(ip("203.0.113.7"))
        );
        // Two trusted proxies in a row, header split over two lines.
        assert_eq!(
            client_ip(proxy, &headers(&["203.0.113.7", "10.1.2.3"]), &trusted),
            Some(ip("203.0.113.7"))
        );
        // Garbage ends the chain at the last trusted hop.
        assert_eq!(
            client_ip(proxy, &headers(&["203.0.113.7, junk, 10.1.2.3"]), &trusted),
            Some(ip("10.1.2.3"))
        );
        // No header: the proxy itself.
        assert_eq!(client_ip(proxy, &headers(&[]), &trusted), proxy);
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let trusted = parse_networks("10.0.0.0/8").unwrap();
        let peer = Some(ip("203.0.113.9"));
        assert_eq!(client_ip(peer, &headers(&["1.2.3.4"]), &trusted), peer);
        assert_eq!(client_ip(peer, &headers(&["1.2.3.4"]), &[]), peer);
        assert_eq!(client_ip(None, &headers(&["1.2.3.4"]), &trusted), None);
    }
}
