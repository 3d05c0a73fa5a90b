//! The address guard: which IP addresses a fetch may connect to when the fetcher works for
//! callers it does not trust (the HTTP server), and how that is enforced.
//!
//! # Policy
//!
//! With [`FetchConfig::allow_private`](crate::FetchConfig::allow_private) off, a fetch only
//! connects to addresses that are reachable on the public internet. [`classify`] names the
//! class of every address that is refused; where ranges overlap, the narrower one names the
//! class (169.254.169.254 is cloud metadata, not link-local):
//!
//! | class ([`AddressClass`]) | IPv4 | IPv6 |
//! | --- | --- | --- |
//! | cloud metadata | 169.254.169.254 (AWS, GCP, Azure, OCI, OpenStack, DigitalOcean…), 169.254.170.2 (AWS ECS), 169.254.170.23 (AWS EKS Pod Identity), 169.254.0.23 (Tencent Cloud), 100.100.100.200 (Alibaba Cloud), 168.63.129.16 (Azure WireServer, a public address that reaches the host's platform agent) | fd00:ec2::254 (AWS), fd00:ec2::23 (AWS EKS Pod Identity) |
//! | unspecified | 0.0.0.0/8 ("this network") | `::` |
//! | loopback | 127.0.0.0/8 | `::1` |
//! | private | 10/8, 172.16/12, 192.168/16 | fc00::/7 (unique local) |
//! | link-local | 169.254/16 | fe80::/10 |
//! | shared address space (CGNAT) | 100.64/10 | |
//! | IETF protocol assignments | 192.0.0/24 (all of it) | 2001::/23, except its globally reachable blocks 2001:1::1, 2001:1::2, 2001:1::3, 2001:3::/32, 2001:4:112::/48, 2001:20::/28, 2001:30::/28 |
//! | documentation | 192.0.2/24, 198.51.100/24, 203.0.113/24 | 2001:db8::/32, 3fff::/20 |
//! | benchmarking | 198.18/15 | 2001:2::/48 |
//! | multicast | 224/4 | ff00::/8 |
//! | broadcast | 255.255.255.255 | |
//! | reserved | 240/4 | everything outside 2000::/3 (global unicast) not named here, e.g. 4000::/3, 5f00::/16 (SRv6), `::ffff:0:0:0/96` (IPv4-translated) |
//! | site-local (deprecated) | | fec0::/10 |
//! | discard-only | | 100::/64 |
//! | Teredo | | 2001::/32, refused whole |
//! | NAT64 local-use | | 64:ff9b:1::/48, refused whole |
//!
//! IPv6 addresses that carry an IPv4 address are judged by the IPv4 address they carry
//! ([`Blocked::embedded`] says which form):
//!
//! - IPv4-mapped `::ffff:0:0/96` and IPv4-compatible `::/96` (`::` and `::1` aside): the last
//!   32 bits;
//! - NAT64 well-known prefix `64:ff9b::/96` (RFC 6052): the last 32 bits;
//! - 6to4 `2002::/16`: bits 16 to 47.
//!
//! Two forms are refused whole instead, because the IPv4 address in them cannot be trusted:
//! in **Teredo** (`2001::/32`) the client's address is the bitwise NOT of the last 32 bits and
//! the server's sits in bits 32 to 63, and the packets go through a relay to either; Teredo is
//! deprecated and no crawl target lives there. In **NAT64 local-use** (`64:ff9b:1::/48`,
//! RFC 8215) the operator picks the prefix length (/48 to /96), so where the IPv4 address sits
//! is unknown. An operator whose DNS64 uses that prefix can exempt addresses.
//!
//! Everything else passes, public IPv4 addresses and IPv6 in 2000::/3 alike. This is the
//! "not globally reachable" rule of the IANA special-purpose address registries (what Python's
//! and Rust's `is_global` implement) plus the embedded forms, the metadata endpoints, all of
//! 192.0.0/24 and the IPv6 space outside 2000::/3.
//!
//! # Enforcement
//!
//! A check is only as good as the address that is then dialled, so:
//!
//! - **Host names** are resolved once, by a resolver of our own (a `reqwest::dns::Resolve`
//!   over tokio's `lookup_host`) that drops every refused address and fails with a
//!   [`Refusal`] when none is left. reqwest connects only to the addresses a resolver returns,
//!   so the address checked is the address dialled: a name cannot resolve to a public address
//!   for the check and to a private one for the connection (DNS rebinding).
//! - **IP-literal hosts** never reach a resolver (reqwest dials them directly), so they are
//!   checked before each request: the URL's host as the `url` crate parsed it, which turns
//!   `http://2130706433/`, `http://0x7f.1/`, `http://0177.0.0.1/` and `http://127.1/` into
//!   127.0.0.1 first.
//! - **Every redirect hop** is a new request and goes through the same two checks; so do
//!   [`Fetcher::exchange`](crate::Fetcher::exchange), robots.txt and sitemap fetches, which
//!   share the client.
//! - **Proxies** from the environment (`HTTP_PROXY`, `ALL_PROXY`…) are ignored while the
//!   guard is on: through a proxy, the proxy resolves the target and the check would see
//!   only the proxy.
//!
//! A refusal happens before any connection is attempted, and fails the fetch with
//! [`FetchErrorKind::ForbiddenAddress`](crate::FetchErrorKind::ForbiddenAddress), which is
//! not retryable.
//!
//! [`FetchConfig::exempt_addresses`](crate::FetchConfig::exempt_addresses) lets chosen
//! addresses through ([`ExemptAddress`]), for tests and for operators with a known internal
//! service.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use url::{Host, Url};

/// The class of an address that the guard refuses (see the table in the [module
/// docs](crate::guard)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// 0.0.0.0/8 and `::`.
    Unspecified,
    /// 127.0.0.0/8 and `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918) and fc00::/7 (unique local, RFC 4193).
    Private,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
    /// A cloud provider's instance metadata or platform endpoint.
    CloudMetadata,
    /// 100.64/10, the shared address space of carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// 224/4 and ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 240/4, and IPv6 outside 2000::/3 that no other class names.
    Reserved,
    /// 198.18/15 and 2001:2::/48 (RFC 2544, RFC 5180).
    Benchmarking,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 and 3fff::/20.
    Documentation,
    /// 192.0.0/24 and 2001::/23 (but for its globally reachable blocks).
    ProtocolAssignments,
    /// fec0::/10 (deprecated by RFC 3879).
    SiteLocal,
    /// 100::/64, the discard-only block (RFC 6666).
    Discard,
    /// 2001::/32, Teredo tunnels (RFC 4380).
    Teredo,
    /// 64:ff9b:1::/48, the local-use NAT64 prefix (RFC 8215).
    Nat64LocalUse,
}

impl AddressClass {
    /// A short lowercase name, as used in error messages (`"loopback"`, `"cloud metadata"`).
    pub fn name(self) -> &'static str {
        match self {
            AddressClass::Unspecified => "unspecified",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::CloudMetadata => "cloud metadata",
            AddressClass::SharedAddressSpace => "shared address space",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::Benchmarking => "benchmarking",
            AddressClass::Documentation => "documentation",
            AddressClass::ProtocolAssignments => "IETF protocol assignments",
            AddressClass::SiteLocal => "site-local",
            AddressClass::Discard => "discard-only",
            AddressClass::Teredo => "Teredo",
            AddressClass::Nat64LocalUse => "NAT64 local-use",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An IPv6 form that carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Embedding {
    /// `::ffff:a.b.c.d` (`::ffff:0:0/96`).
    Ipv4Mapped,
    /// `::a.b.c.d` (`::/96`, deprecated by RFC 4291).
    Ipv4Compatible,
    /// `64:ff9b::a.b.c.d` (`64:ff9b::/96`, RFC 6052).
    Nat64,
    /// `2002:AABB:CCDD::/48` (`2002::/16`, RFC 3056).
    SixToFour,
}

impl Embedding {
    /// A short name, as used in error messages (`"IPv4-mapped"`, `"6to4"`).
    pub fn name(self) -> &'static str {
        match self {
            Embedding::Ipv4Mapped => "IPv4-mapped",
            Embedding::Ipv4Compatible => "IPv4-compatible",
            Embedding::Nat64 => "NAT64",
            Embedding::SixToFour => "6to4",
        }
    }
}

/// Why [`classify`] refuses an address: its class, and for an IPv6 address judged by the
/// IPv4 address inside it, that address and the form that carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Blocked {
    /// The class of the address (of the embedded IPv4 address, when there is one).
    pub class: AddressClass,
    /// The IPv6 form and the IPv4 address in it that decided, if any.
    pub embedded: Option<(Embedding, Ipv4Addr)>,
}

impl Blocked {
    fn direct(class: AddressClass) -> Blocked {
        Blocked {
            class,
            embedded: None,
        }
    }
}

impl fmt::Display for Blocked {
    /// `loopback`, or `loopback 127.0.0.1 in IPv4-mapped form`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            None => write!(f, "{}", self.class),
            Some((form, v4)) => write!(f, "{} {v4} in {} form", self.class, form.name()),
        }
    }
}

/// The class of `ip` when the guard refuses it, `None` when it is a public address. The
/// policy, class by class, is in the [module docs](crate::guard).
///
/// ```
/// use gannet_fetch::{AddressClass, classify};
///
/// let class = |ip: &str| classify(ip.parse().expect("an IP")).map(|b| b.class);
/// assert_eq!(class("172.31.0.1"), Some(AddressClass::Private));
/// assert_eq!(class("::ffff:169.254.169.254"), Some(AddressClass::CloudMetadata));
/// assert_eq!(class("2002:7f00:1::"), Some(AddressClass::Loopback));
/// assert_eq!(class("172.32.0.1"), None);
/// assert_eq!(class("2606:4700:4700::1111"), None);
/// ```
pub fn classify(ip: IpAddr) -> Option<Blocked> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4).map(Blocked::direct),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Metadata endpoints, matched before their enclosing ranges so that messages name them.
const METADATA_V4: [Ipv4Addr; 6] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(169, 254, 170, 23),
    Ipv4Addr::new(169, 254, 0, 23),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(168, 63, 129, 16),
];

const METADATA_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23),
];

/// Refused IPv4 ranges (network, prefix length, class); the first match wins.
const V4_RANGES: [(Ipv4Addr, u8, AddressClass); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, AddressClass::Unspecified),
    (Ipv4Addr::new(127, 0, 0, 0), 8, AddressClass::Loopback),
    (Ipv4Addr::new(10, 0, 0, 0), 8, AddressClass::Private),
    (Ipv4Addr::new(172, 16, 0, 0), 12, AddressClass::Private),
    (Ipv4Addr::new(192, 168, 0, 0), 16, AddressClass::Private),
    (Ipv4Addr::new(169, 254, 0, 0), 16, AddressClass::LinkLocal),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        AddressClass::SharedAddressSpace,
    ),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        AddressClass::ProtocolAssignments,
    ),
    (Ipv4Addr::new(192, 0, 2, 0), 24, AddressClass::Documentation),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        AddressClass::Documentation,
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        AddressClass::Documentation,
    ),
    (Ipv4Addr::new(198, 18, 0, 0), 15, AddressClass::Benchmarking),
    (Ipv4Addr::new(224, 0, 0, 0), 4, AddressClass::Multicast),
    (
        Ipv4Addr::new(255, 255, 255, 255),
        32,
        AddressClass::Broadcast,
    ),
    (Ipv4Addr::new(240, 0, 0, 0), 4, AddressClass::Reserved),
];

/// Special IPv6 ranges (network, prefix length, class or `None` for a globally reachable
/// block inside a refused one); the first match wins. The embedded IPv4 forms, `::` and `::1`
/// are handled before this table, and the space outside 2000::/3 after it.
const V6_RANGES: [(Ipv6Addr, u8, Option<AddressClass>); 18] = [
    // Globally reachable blocks of 2001::/23 (IANA registry): PCP, TURN and DNS-SD SRP
    // anycast, AMT, AS112-v6, ORCHIDv2, drone remote ID.
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128, None),
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 2), 128, None),
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 3), 128, None),
    (Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32, None),
    (Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48, None),
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28, None),
    (Ipv6Addr::new(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28, None),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        Some(AddressClass::Nat64LocalUse),
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        Some(AddressClass::Discard),
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        32,
        Some(AddressClass::Teredo),
    ),
    (
        Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0),
        48,
        Some(AddressClass::Benchmarking),
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        Some(AddressClass::Documentation),
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        Some(AddressClass::Documentation),
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        Some(AddressClass::ProtocolAssignments),
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        Some(AddressClass::Private),
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        Some(AddressClass::LinkLocal),
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        Some(AddressClass::SiteLocal),
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        Some(AddressClass::Multicast),
    ),
];

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    if METADATA_V4.contains(&ip) {
        return Some(AddressClass::CloudMetadata);
    }
    V4_RANGES
        .iter()
        .find(|&&(net, len, _)| in_v4(ip, net, len))
        .map(|&(_, _, class)| class)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Blocked> {
    if METADATA_V6.contains(&ip) {
        return Some(Blocked::direct(AddressClass::CloudMetadata));
    }
    if ip == Ipv6Addr::UNSPECIFIED {
        return Some(Blocked::direct(AddressClass::Unspecified));
    }
    if ip == Ipv6Addr::LOCALHOST {
        return Some(Blocked::direct(AddressClass::Loopback));
    }
    if let Some((form, v4)) = embedded_ipv4(ip) {
        return classify_v4(v4).map(|class| Blocked {
            class,
            embedded: Some((form, v4)),
        });
    }
    if let Some(&(_, _, class)) = V6_RANGES.iter().find(|&&(net, len, _)| in_v6(ip, net, len)) {
        return class.map(Blocked::direct);
    }
    let global_unicast = Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0);
    if !in_v6(ip, global_unicast, 3) {
        return Some(Blocked::direct(AddressClass::Reserved));
    }
    None
}

/// The IPv4 address carried by an IPv4-mapped, IPv4-compatible, NAT64 (well-known prefix)
/// or 6to4 address. `::` and `::1` must be handled before: they are IPv4-compatible in form.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<(Embedding, Ipv4Addr)> {
    let o = ip.octets();
    let last = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let high = u128::from(ip) >> 32;
    if high == 0xffff {
        Some((Embedding::Ipv4Mapped, last))
    } else if high == 0 {
        Some((Embedding::Ipv4Compatible, last))
    } else if high == 0x0064_ff9b_0000_0000_0000_0000 {
        Some((Embedding::Nat64, last))
    } else if ip.segments()[0] == 0x2002 {
        Some((Embedding::SixToFour, Ipv4Addr::new(o[2], o[3], o[4], o[5])))
    } else {
        None
    }
}

/// An address the guard lets through although [`classify`] refuses it; see
/// [`FetchConfig::exempt_addresses`](crate::FetchConfig::exempt_addresses).
///
/// Addresses compare in canonical form: exempting 127.0.0.1 exempts `::ffff:127.0.0.1` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExemptAddress {
    /// This address on every port, for IP-literal hosts and resolved names alike.
    Ip(IpAddr),
    /// This address on this port only. Checked for IP-literal hosts only: the resolver does
    /// not learn the port, so a host name that resolves to the address is still refused.
    Socket(SocketAddr),
}

impl From<IpAddr> for ExemptAddress {
    fn from(ip: IpAddr) -> ExemptAddress {
        ExemptAddress::Ip(ip)
    }
}

impl From<SocketAddr> for ExemptAddress {
    fn from(addr: SocketAddr) -> ExemptAddress {
        ExemptAddress::Socket(addr)
    }
}

/// A fetch the guard refused: the host name (when the address came from resolving it), the
/// address, and why it is refused. Its message is one line, e.g. `refused: localhost resolves
/// to 127.0.0.1 (loopback)` or `refused: 10.0.0.1 (private)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.display())]
pub struct Refusal {
    host: Option<String>,
    ip: IpAddr,
    blocked: Blocked,
    others: usize,
}

impl Refusal {
    /// The host name that resolved to the refused address; `None` for an IP-literal host.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The refused address (for a name, the first of its refused addresses).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Why the address is refused.
    pub fn blocked(&self) -> Blocked {
        self.blocked
    }

    fn display(&self) -> String {
        let more = match self.others {
            0 => String::new(),
            1 => " and 1 more refused address".to_owned(),
            n => format!(" and {n} more refused addresses"),
        };
        match &self.host {
            Some(host) => format!(
                "refused: {host} resolves to {} ({}){more}",
                self.ip, self.blocked
            ),
            None => format!("refused: {} ({})", self.ip, self.blocked),
        }
    }
}

/// [`classify`] with exemptions: what a guarded [`Fetcher`](crate::Fetcher) checks, for a
/// client of one's own (say, the server's webhook calls) to check the same way. Cheap to
/// clone; [`AddressGuard::default`] exempts nothing.
///
/// Enforcing it on another reqwest client takes all of: resolving names through
/// [`AddressGuard::resolver`] (`ClientBuilder::dns_resolver`), `ClientBuilder::no_proxy`,
/// [`AddressGuard::check_url`] before every request, and no automatic redirects (each hop
/// checked as a new request).
///
/// ```
/// use gannet_fetch::AddressGuard;
///
/// let guard = AddressGuard::default();
/// let url = url::Url::parse("http://0x7f.1/").expect("a URL");
/// let refusal = guard.check_url(&url).expect_err("127.0.0.1");
/// assert_eq!(refusal.to_string(), "refused: 127.0.0.1 (loopback)");
/// let client = reqwest::Client::builder()
///     .dns_resolver(guard.resolver())
///     .no_proxy()
///     .redirect(reqwest::redirect::Policy::none());
/// # let _ = client;
/// ```
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    exempt: Arc<[ExemptAddress]>,
}

impl AddressGuard {
    /// A guard that lets `exempt` through.
    pub fn new(exempt: &[ExemptAddress]) -> AddressGuard {
        AddressGuard {
            exempt: exempt.iter().copied().collect(),
        }
    }

    /// Checks an address whose port is unknown (a resolved name): only
    /// [`ExemptAddress::Ip`] exemptions apply.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Blocked> {
        let Some(blocked) = classify(ip) else {
            return Ok(());
        };
        let ip = ip.to_canonical();
        let exempt = self
            .exempt
            .iter()
            .any(|e| matches!(e, ExemptAddress::Ip(x) if x.to_canonical() == ip));
        if exempt { Ok(()) } else { Err(blocked) }
    }

    /// Checks an address and port (an IP-literal host): every exemption applies.
    pub fn check_socket(&self, addr: SocketAddr) -> Result<(), Blocked> {
        let Err(blocked) = self.check_ip(addr.ip()) else {
            return Ok(());
        };
        let ip = addr.ip().to_canonical();
        let exempt = self.exempt.iter().any(|e| {
            matches!(e, ExemptAddress::Socket(x)
                if x.ip().to_canonical() == ip && x.port() == addr.port())
        });
        if exempt { Ok(()) } else { Err(blocked) }
    }

    /// Checks the host of `url` when it is an IP literal (as the `url` crate parsed it, so
    /// `http://2130706433/` is 127.0.0.1), with its port; host names pass here, the
    /// [`AddressGuard::resolver`] checks them.
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(Host::Domain(_)) | None => return Ok(()),
        };
        let port = url.port_or_known_default().unwrap_or(0);
        self.check_socket(SocketAddr::new(ip, port))
            .map_err(|blocked| Refusal {
                host: None,
                ip,
                blocked,
                others: 0,
            })
    }

    /// Keeps the addresses `host` resolved to that pass (by [`AddressGuard::check_ip`]);
    /// fails naming the first refused one when none passes. An empty input gives an empty
    /// output.
    pub fn filter_resolved(
        &self,
        host: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        let mut kept = Vec::new();
        let mut refused: Vec<(IpAddr, Blocked)> = Vec::new();
        for addr in addrs {
            match self.check_ip(addr.ip()) {
                Ok(()) => kept.push(addr),
                Err(blocked) => {
                    if !refused.iter().any(|(ip, _)| *ip == addr.ip()) {
                        refused.push((addr.ip(), blocked));
                    }
                }
            }
        }
        match refused.first() {
            Some(&(ip, blocked)) if kept.is_empty() => Err(Refusal {
                host: Some(host.to_owned()),
                ip,
                blocked,
                others: refused.len() - 1,
            }),
            _ => Ok(kept),
        }
    }

    /// A resolver for `reqwest::ClientBuilder::dns_resolver` that applies this guard.
    pub fn resolver(&self) -> GuardedResolver {
        GuardedResolver {
            guard: self.clone(),
        }
    }
}

/// A `reqwest::dns::Resolve` that resolves a name once with tokio's `lookup_host`, keeps the
/// addresses [`AddressGuard::filter_resolved`] lets through, and fails with the
/// [`Refusal`] when none is left. reqwest dials only the addresses a resolver returns, so
/// the address checked is the address dialled. Made by [`AddressGuard::resolver`].
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    guard: AddressGuard,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_owned();
        let resolving: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> BoxError { Box::new(e) })?
                .collect();
            if found.is_empty() {
                return Err(format!("no addresses found for {host}").into());
            }
            let kept = guard
                .filter_resolved(&host, found)
                .map_err(|e| -> BoxError { Box::new(e) })?;
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        });
        resolving
    }
}

#[cfg(test)]
mod tests;
