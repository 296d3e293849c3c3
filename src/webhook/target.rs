//! The SSRF guard: which callback URLs the service may POST to.
//!
//! Only `http` and `https`. The host must be, and resolve only to, public
//! addresses: loopback, private (RFC 1918, CGNAT), link-local, multicast,
//! broadcast, unspecified, documentation and IPv6 unique-local addresses are
//! refused, IPv4 addresses embedded in IPv6 (mapped, NAT64) included. The
//! check runs at submission and again before every delivery attempt, and the
//! delivery client resolves names through [`GuardedResolver`], so a name
//! that changes its answer between check and connect is still refused.
//! `BENCHMARK_WEBHOOK_ALLOW_PRIVATE=1` lifts the address rule (not the scheme
//! rule) for intranet deployments and tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;

/// Why a callback URL is refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TargetError {
    /// Not a parseable http(s) URL with a host.
    #[error("callback_url is not a valid http:// or https:// URL: {0}")]
    Invalid(String),
    /// The host is or resolves to an address the service must not call.
    #[error(
        "callback_url host {host} is or resolves to {address}, a loopback, private, link-local, multicast or otherwise non-public address; use a public address (operators may set BENCHMARK_WEBHOOK_ALLOW_PRIVATE=1)"
    )]
    Forbidden { host: String, address: IpAddr },
    /// The host name does not resolve.
    #[error("callback_url host {host} does not resolve ({reason}); use a resolvable public host")]
    Unresolvable { host: String, reason: String },
}

impl TargetError {
    /// The stable API code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::Invalid(_) => "invalid-callback-url",
            TargetError::Forbidden { .. } => "callback-url-forbidden",
            TargetError::Unresolvable { .. } => "callback-url-unresolvable",
        }
    }
}

/// Parses and checks a callback URL, resolving its host unless
/// `allow_private` is set.
pub async fn check(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let parsed = Url::parse(url).map_err(|e| TargetError::Invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::Invalid(format!(
            "scheme {} is not allowed",
            parsed.scheme()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Invalid(
            "credentials in the URL are not allowed".into(),
        ));
    }
    let Some(host) = parsed.host_str().map(str::to_string) else {
        return Err(TargetError::Invalid("the URL has no host".into()));
    };
    if allow_private {
        return Ok(parsed);
    }

    // The URL parser already normalised IPv4 spellings (decimal, hex, short).
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = literal.parse::<IpAddr>() {
        refuse_if_forbidden(&host, address)?;
    } else {
        let port = parsed.port_or_known_default().unwrap_or(443);
        for address in resolve(&host, port).await? {
            refuse_if_forbidden(&host, address.ip())?;
        }
    }
    Ok(parsed)
}

fn refuse_if_forbidden(host: &str, address: IpAddr) -> Result<(), TargetError> {
    if is_forbidden(address) {
        Err(TargetError::Forbidden {
            host: host.to_string(),
            address,
        })
    } else {
        Ok(())
    }
}

async fn resolve(name: &str, port: u16) -> Result<Vec<SocketAddr>, TargetError> {
    let unresolvable = |reason: String| TargetError::Unresolvable {
        host: name.to_string(),
        reason,
    };
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
        .await
        .map_err(|e| unresolvable(e.to_string()))?
        .collect();
    if addresses.is_empty() {
        return Err(unresolvable("no addresses".into()));
    }
    Ok(addresses)
}

/// True for every address a callback must not reach.
pub fn is_forbidden(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(ip) => is_forbidden_v4(ip),
        IpAddr::V6(ip) => is_forbidden_v6(ip),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., high, low] = segments;
        let v4 = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        return is_forbidden_v4(v4);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || segments[..6] == [0, 0, 0, 0, 0, 0]
}

/// A DNS resolver for the delivery client that drops forbidden addresses and
/// fails when none is left, so the connection goes where the check looked.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = resolved.iter().find(|a| is_forbidden(a.ip())) {
                let refusal = TargetError::Forbidden {
                    host,
                    address: bad.ip(),
                };
                return Err(Box::new(refusal) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addresses: Addrs = Box::new(resolved.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_forbidden() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let address: IpAddr = text.parse().expect("address");
            assert!(is_forbidden(address), "{text} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for text in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"] {
            let address: IpAddr = text.parse().expect("address");
            assert!(!is_forbidden(address), "{text} should be allowed");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn odd_spellings_of_loopback_are_refused() {
        for url in [
            "http://2130706433/hook",
            "http://0x7f.1/hook",
            "http://[::ffff:7f00:1]/hook",
            "http://localhost:9/hook",
        ] {
            let error = check(url, false).await.expect_err(url);
            assert_eq!(error.code(), "callback-url-forbidden", "{url}: {error}");
        }
        assert_eq!(
            check("ftp://example.org/", false)
                .await
                .expect_err("ftp")
                .code(),
            "invalid-callback-url"
        );
    }
}
