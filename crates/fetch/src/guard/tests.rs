use super::*;
use AddressClass::*;

fn class(ip: &str) -> Option<AddressClass> {
    let ip: IpAddr = ip.parse().unwrap_or_else(|_| panic!("{ip} is not an IP"));
    classify(ip).map(|b| b.class)
}

/// Every address in `cases` has the class given (`None`: public, passes).
fn check(cases: &[(&str, Option<AddressClass>)]) {
    for &(ip, want) in cases {
        assert_eq!(class(ip), want, "{ip}");
    }
}

#[test]
fn public_addresses_pass() {
    check(&[
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("93.184.215.14", None),
        ("223.255.255.255", None),
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001:81c::200e", None),
        ("2000::", None),
        ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2003::1", None),
        ("2001:200::1", None),
        ("2001:ffff::1", None),
    ]);
}

#[test]
fn unspecified() {
    check(&[
        ("0.0.0.0", Some(Unspecified)),
        ("0.255.255.255", Some(Unspecified)),
        ("1.0.0.0", None),
        ("::", Some(Unspecified)),
    ]);
}

#[test]
fn loopback() {
    check(&[
        ("127.0.0.0", Some(Loopback)),
        ("127.0.0.1", Some(Loopback)),
        ("127.0.0.2", Some(Loopback)),
        ("127.255.255.255", Some(Loopback)),
        ("126.255.255.255", None),
        ("128.0.0.0", None),
        ("::1", Some(Loopback)),
    ]);
}

#[test]
fn private() {
    check(&[
        ("10.0.0.0", Some(Private)),
        ("10.255.255.255", Some(Private)),
        ("9.255.255.255", None),
        ("11.0.0.0", None),
        // 172.16/12, not 127.x (Firecrawl #2070).
        ("172.16.0.0", Some(Private)),
        ("172.31.255.255", Some(Private)),
        ("172.15.255.255", None),
        ("172.32.0.0", None),
        ("192.168.0.0", Some(Private)),
        ("192.168.255.255", Some(Private)),
        ("192.167.255.255", None),
        ("192.169.0.0", None),
        ("fc00::", Some(Private)),
        ("fd12:3456::1", Some(Private)),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Private)),
        // Just outside fc00::/7: unallocated space, refused as reserved.
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
        ("fe00::", Some(Reserved)),
    ]);
}

#[test]
fn link_local() {
    check(&[
        ("169.254.0.0", Some(LinkLocal)),
        ("169.254.255.255", Some(LinkLocal)),
        ("169.253.255.255", None),
        ("169.255.0.0", None),
        ("fe80::", Some(LinkLocal)),
        ("fe80::1", Some(LinkLocal)),
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(LinkLocal)),
        ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
        ("fec0::", Some(SiteLocal)),
    ]);
}

#[test]
fn cloud_metadata() {
    check(&[
        ("169.254.169.254", Some(CloudMetadata)),
        ("169.254.170.2", Some(CloudMetadata)),
        ("169.254.170.23", Some(CloudMetadata)),
        ("169.254.0.23", Some(CloudMetadata)),
        ("100.100.100.200", Some(CloudMetadata)),
        ("168.63.129.16", Some(CloudMetadata)),
        ("fd00:ec2::254", Some(CloudMetadata)),
        ("fd00:ec2::23", Some(CloudMetadata)),
        // Neighbours fall back to their ranges.
        ("169.254.169.253", Some(LinkLocal)),
        ("169.254.169.255", Some(LinkLocal)),
        ("100.100.100.201", Some(SharedAddressSpace)),
        ("168.63.129.15", None),
        ("168.63.129.17", None),
        ("fd00:ec2::253", Some(Private)),
        // Embedded forms of a metadata address are metadata too.
        ("::ffff:169.254.169.254", Some(CloudMetadata)),
        ("64:ff9b::a9fe:a9fe", Some(CloudMetadata)),
        ("2002:a9fe:a9fe::", Some(CloudMetadata)),
    ]);
}

#[test]
fn shared_address_space() {
    check(&[
        ("100.64.0.0", Some(SharedAddressSpace)),
        ("100.127.255.255", Some(SharedAddressSpace)),
        ("100.63.255.255", None),
        ("100.128.0.0", None),
    ]);
}

#[test]
fn multicast_broadcast_and_reserved() {
    check(&[
        ("224.0.0.0", Some(Multicast)),
        ("224.0.0.251", Some(Multicast)),
        ("239.255.255.255", Some(Multicast)),
        ("223.255.255.255", None),
        ("240.0.0.0", Some(Reserved)),
        ("250.1.2.3", Some(Reserved)),
        ("255.255.255.254", Some(Reserved)),
        ("255.255.255.255", Some(Broadcast)),
        ("ff00::", Some(Multicast)),
        ("ff02::1", Some(Multicast)),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Multicast)),
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(SiteLocal)),
    ]);
}

#[test]
fn ipv6_outside_global_unicast_is_reserved() {
    check(&[
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
        ("4000::1", Some(Reserved)),
        ("5f00::1", Some(Reserved)),
        ("e000::1", Some(Reserved)),
        // IPv4-translated (SIIT) form ::ffff:0:a.b.c.d: not an embedding we trust.
        ("::ffff:0:808:808", Some(Reserved)),
        ("::1:0:0:0", Some(Reserved)),
    ]);
}

#[test]
fn benchmarking() {
    check(&[
        ("198.18.0.0", Some(Benchmarking)),
        ("198.19.255.255", Some(Benchmarking)),
        ("198.17.255.255", None),
        ("198.20.0.0", None),
        ("2001:2::", Some(Benchmarking)),
        ("2001:2:0:ffff:ffff:ffff:ffff:ffff", Some(Benchmarking)),
        ("2001:2:1::", Some(ProtocolAssignments)),
    ]);
}

#[test]
fn documentation() {
    check(&[
        ("192.0.2.0", Some(Documentation)),
        ("192.0.2.255", Some(Documentation)),
        ("192.0.1.255", None),
        ("192.0.3.0", None),
        ("198.51.100.0", Some(Documentation)),
        ("198.51.100.255", Some(Documentation)),
        ("198.51.99.255", None),
        ("198.51.101.0", None),
        ("203.0.113.0", Some(Documentation)),
        ("203.0.113.255", Some(Documentation)),
        ("203.0.112.255", None),
        ("203.0.114.0", None),
        ("2001:db8::", Some(Documentation)),
        (
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(Documentation),
        ),
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2001:db9::", None),
        ("3fff::", Some(Documentation)),
        (
            "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(Documentation),
        ),
        ("3fff:1000::", None),
        ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ]);
}

#[test]
fn protocol_assignments() {
    check(&[
        ("192.0.0.0", Some(ProtocolAssignments)),
        ("192.0.0.9", Some(ProtocolAssignments)),
        ("192.0.0.255", Some(ProtocolAssignments)),
        ("191.255.255.255", None),
        ("192.0.1.0", None),
        ("2001:1::4", Some(ProtocolAssignments)),
        ("2001:10::1", Some(ProtocolAssignments)),
        (
            "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(ProtocolAssignments),
        ),
        ("2001:200::", None),
        // The globally reachable blocks inside 2001::/23.
        ("2001:1::1", None),
        ("2001:1::2", None),
        ("2001:1::3", None),
        ("2001:3::1", None),
        ("2001:3:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2001:4:112::1", None),
        ("2001:4:113::", Some(ProtocolAssignments)),
        ("2001:20::1", None),
        ("2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2001:30::1", None),
        ("2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2001:40::", Some(ProtocolAssignments)),
    ]);
}

#[test]
fn site_local_and_discard() {
    check(&[
        ("fec0::", Some(SiteLocal)),
        ("fec0::1", Some(SiteLocal)),
        ("100::", Some(Discard)),
        ("100::ffff:ffff:ffff:ffff", Some(Discard)),
        ("100:0:0:1::", Some(Reserved)),
    ]);
}

#[test]
fn teredo_is_refused_whole() {
    check(&[
        ("2001::", Some(Teredo)),
        // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (NOT of c000:2d),
        // port 40000.
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some(Teredo)),
        // A client address of NOT(public) is refused all the same.
        ("2001:0:808:808::f7f7:f7f7", Some(Teredo)),
        ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", Some(Teredo)),
        ("2001:1::", Some(ProtocolAssignments)),
    ]);
}

#[test]
fn nat64_local_use_is_refused_whole() {
    check(&[
        ("64:ff9b:1::", Some(Nat64LocalUse)),
        ("64:ff9b:1::808:808", Some(Nat64LocalUse)),
        ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", Some(Nat64LocalUse)),
        ("64:ff9b:2::", Some(Reserved)),
        ("64:ff9b:0:1::", Some(Reserved)),
    ]);
}

fn embedded(ip: &str) -> Option<(AddressClass, Embedding, Ipv4Addr)> {
    let parsed: IpAddr = ip.parse().unwrap_or_else(|_| panic!("{ip} is not an IP"));
    let blocked = classify(parsed)?;
    let (form, v4) = blocked.embedded?;
    Some((blocked.class, form, v4))
}

#[test]
fn embedded_ipv4_forms_are_judged_by_the_ipv4_address() {
    use Embedding::*;
    let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    let cases = [
        ("::ffff:127.0.0.1", Loopback, Ipv4Mapped, "127.0.0.1"),
        ("::ffff:7f00:1", Loopback, Ipv4Mapped, "127.0.0.1"),
        ("::ffff:10.0.0.1", Private, Ipv4Mapped, "10.0.0.1"),
        ("::ffff:0.0.0.0", Unspecified, Ipv4Mapped, "0.0.0.0"),
        (
            "::ffff:255.255.255.255",
            Broadcast,
            Ipv4Mapped,
            "255.255.255.255",
        ),
        ("::127.0.0.1", Loopback, Ipv4Compatible, "127.0.0.1"),
        ("::0.0.0.2", Unspecified, Ipv4Compatible, "0.0.0.2"),
        ("::192.168.1.1", Private, Ipv4Compatible, "192.168.1.1"),
        ("64:ff9b::127.0.0.1", Loopback, Nat64, "127.0.0.1"),
        ("64:ff9b::a00:1", Private, Nat64, "10.0.0.1"),
        ("64:ff9b::6440:1", SharedAddressSpace, Nat64, "100.64.0.1"),
        ("2002:7f00:1::", Loopback, SixToFour, "127.0.0.1"),
        ("2002:a00:1::1", Private, SixToFour, "10.0.0.1"),
        ("2002:c0a8:101:1::1", Private, SixToFour, "192.168.1.1"),
        ("2002:a9fe:1:ffff::", LinkLocal, SixToFour, "169.254.0.1"),
        ("2002:e000:1::", Multicast, SixToFour, "224.0.0.1"),
    ];
    for (ip, class, form, addr) in cases {
        assert_eq!(embedded(ip), Some((class, form, v4(addr))), "{ip}");
    }
    // Public IPv4 inside: passes.
    check(&[
        ("::ffff:8.8.8.8", None),
        ("::8.8.8.8", None),
        ("64:ff9b::808:808", None),
        ("2002:808:808::1", None),
        ("2002:808:808:ffff:ffff:ffff:ffff:ffff", None),
        // Just outside the NAT64 /96 and the mapped /96.
        ("64:ff9b::1:7f00:1", Some(Reserved)),
        ("::fffe:7f00:1", Some(Reserved)),
    ]);
}

#[test]
fn embedding_boundaries() {
    // Neither mapped (::ffff:0:0/96) nor compatible (::/96): 0xfffe sits in bits 80..96.
    let ip: Ipv6Addr = "::fffe:7f00:1".parse().unwrap();
    assert_eq!(embedded_ipv4(ip), None);
    let ip: Ipv6Addr = "::7f00:1".parse().unwrap();
    assert_eq!(
        embedded_ipv4(ip),
        Some((Embedding::Ipv4Compatible, Ipv4Addr::new(127, 0, 0, 1)))
    );
    let ip: Ipv6Addr = "2003:7f00:1::".parse().unwrap();
    assert_eq!(embedded_ipv4(ip), None);
}

#[test]
fn blocked_messages() {
    let blocked = |ip: &str| classify(ip.parse().unwrap()).unwrap().to_string();
    assert_eq!(blocked("127.0.0.1"), "loopback");
    assert_eq!(blocked("169.254.169.254"), "cloud metadata");
    assert_eq!(
        blocked("::ffff:127.0.0.1"),
        "loopback 127.0.0.1 in IPv4-mapped form"
    );
    assert_eq!(blocked("2002:a00:1::"), "private 10.0.0.1 in 6to4 form");
}

fn socket(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn exemptions() {
    let guard = AddressGuard::new(&[
        ExemptAddress::Ip("10.1.2.3".parse().unwrap()),
        ExemptAddress::Socket(socket("127.0.0.1:8080")),
    ]);
    assert!(guard.check_ip("10.1.2.3".parse().unwrap()).is_ok());
    assert!(guard.check_ip("::ffff:10.1.2.3".parse().unwrap()).is_ok());
    assert!(guard.check_socket(socket("10.1.2.3:1")).is_ok());
    assert_eq!(
        guard
            .check_ip("10.1.2.4".parse().unwrap())
            .map_err(|b| b.class),
        Err(Private)
    );
    assert!(guard.check_socket(socket("127.0.0.1:8080")).is_ok());
    assert!(
        guard
            .check_socket(socket("[::ffff:127.0.0.1]:8080"))
            .is_ok()
    );
    assert!(guard.check_socket(socket("127.0.0.1:8081")).is_err());
    assert!(guard.check_socket(socket("127.0.0.2:8080")).is_err());
    // The port of a resolved name is unknown: a socket exemption does not cover it.
    assert!(guard.check_ip("127.0.0.1".parse().unwrap()).is_err());
    // Public addresses need no exemption.
    assert!(
        AddressGuard::default()
            .check_ip("8.8.8.8".parse().unwrap())
            .is_ok()
    );
}

#[test]
fn literal_hosts_in_every_spelling_are_checked() {
    let guard = AddressGuard::default();
    let refused = |url: &str| {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        guard
            .check_url(&url)
            .map_err(|r| (r.ip(), r.blocked().class))
    };
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    for url in [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://127.1/",
        "http://127.0.1/",
        "http://127.0.0.1./",
        "http://%31%32%37.0.0.1/",
        "http://127\u{3002}0\u{3002}0\u{3002}1/",
        "http://\u{ff11}\u{ff12}\u{ff17}.0.0.1/",
        "https://127.0.0.1:8443/x",
        "http://user:pass@127.0.0.1/",
    ] {
        assert_eq!(refused(url), Err((loopback, Loopback)), "{url}");
    }
    for (url, ip, class) in [
        ("http://[::1]/", "::1", Loopback),
        ("http://[0:0:0:0:0:0:0:1]/", "::1", Loopback),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", Loopback),
        ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1", Loopback),
        ("http://[::127.0.0.1]/", "::127.0.0.1", Loopback),
        ("http://[64:ff9b::10.0.0.1]/", "64:ff9b::a00:1", Private),
        (
            "http://[2002:a9fe:a9fe::1]/",
            "2002:a9fe:a9fe::1",
            CloudMetadata,
        ),
        ("http://[fe80::1]/", "fe80::1", LinkLocal),
        ("http://0/", "0.0.0.0", Unspecified),
        ("http://0x0a.0.0.1/", "10.0.0.1", Private),
        ("http://167772161/", "10.0.0.1", Private),
        (
            "http://0251.0376.0251.0376/",
            "169.254.169.254",
            CloudMetadata,
        ),
        ("http://2852039166/", "169.254.169.254", CloudMetadata),
    ] {
        assert_eq!(refused(url), Err((ip.parse().unwrap(), class)), "{url}");
    }
    // Names pass here: the resolver checks them.
    assert_eq!(refused("http://localhost/"), Ok(()));
    assert_eq!(refused("http://example.com/"), Ok(()));
    assert_eq!(refused("http://8.8.8.8/"), Ok(()));
    assert_eq!(refused("http://[2606:4700:4700::1111]/"), Ok(()));
}

#[test]
fn literal_socket_exemption_matches_the_default_port() {
    let guard = AddressGuard::new(&[ExemptAddress::Socket(socket("127.0.0.1:80"))]);
    let url = |s: &str| Url::parse(s).unwrap();
    assert!(guard.check_url(&url("http://127.0.0.1/")).is_ok());
    assert!(guard.check_url(&url("http://127.0.0.1:80/")).is_ok());
    assert!(guard.check_url(&url("https://127.0.0.1/")).is_err());
}

#[test]
fn resolved_addresses_are_filtered() {
    let guard = AddressGuard::new(&[ExemptAddress::Ip("10.9.9.9".parse().unwrap())]);
    let addrs = [
        socket("127.0.0.1:0"),
        socket("93.184.215.14:0"),
        socket("[::1]:0"),
        socket("[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:0"),
        socket("10.9.9.9:0"),
        socket("10.0.0.1:0"),
    ];
    assert_eq!(
        guard.filter_resolved("mixed.test", addrs),
        Ok(vec![
            socket("93.184.215.14:0"),
            socket("[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:0"),
            socket("10.9.9.9:0"),
        ])
    );
    assert_eq!(guard.filter_resolved("empty.test", []), Ok(vec![]));
}

#[test]
fn a_name_with_only_refused_addresses_is_refused() {
    let guard = AddressGuard::default();
    let refusal = guard
        .filter_resolved("localhost", [socket("127.0.0.1:0")])
        .unwrap_err();
    assert_eq!(refusal.host(), Some("localhost"));
    assert_eq!(refusal.ip(), "127.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(
        refusal.to_string(),
        "refused: localhost resolves to 127.0.0.1 (loopback)"
    );
    let refusal = guard
        .filter_resolved(
            "inside.test",
            [
                socket("10.0.0.1:0"),
                socket("10.0.0.1:0"),
                socket("[fd00::1]:0"),
                socket("169.254.169.254:0"),
            ],
        )
        .unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "refused: inside.test resolves to 10.0.0.1 (private) and 2 more refused addresses"
    );
}

#[test]
fn literal_refusal_message() {
    let refusal = AddressGuard::default()
        .check_url(&Url::parse("http://[::ffff:10.0.0.1]:8080/").unwrap())
        .unwrap_err();
    assert_eq!(refusal.host(), None);
    assert_eq!(
        refusal.to_string(),
        "refused: ::ffff:10.0.0.1 (private 10.0.0.1 in IPv4-mapped form)"
    );
}
