package intake

import (
	"net/netip"
)

// Prefixes that netip.Addr's Is* methods do not cover but that still reach
// internal networks or are not routable on the public internet.
var (
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")      // "this host on this network"
	sharedCGNAT  = netip.MustParsePrefix("100.64.0.0/10")  // RFC 6598 carrier-grade NAT
	ietfProtocol = netip.MustParsePrefix("192.0.0.0/24")   // RFC 6890 protocol assignments
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")  // RFC 2544, often used internally
	reservedV4   = netip.MustParsePrefix("240.0.0.0/4")    // reserved, includes broadcast
	siteLocalV6  = netip.MustParsePrefix("fec0::/10")      // deprecated site-local
	compatV6     = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible
	nat64        = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052 well-known NAT64
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215 local-use NAT64
	sixToFour    = netip.MustParsePrefix("2002::/16")      // 6to4, IPv4 in bits 16-47
	teredo       = netip.MustParsePrefix("2001::/32")      // Teredo, server and client IPv4
)

// IsForbiddenIP reports whether ip is an address stillmotion refuses to fetch
// from: loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16,
// fe80::/10), multicast, unspecified, carrier-grade NAT (100.64.0.0/10),
// 0.0.0.0/8, other reserved IPv4 ranges, IPv6 site-local, and IPv6 forms that
// embed a forbidden IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
// Teredo). An invalid ip is forbidden.
func IsForbiddenIP(ip netip.Addr) bool { return forbiddenReason(ip) != "" }

// forbiddenReason describes why ip is forbidden ("a loopback address"), or
// returns "" when ip may be fetched from.
func forbiddenReason(ip netip.Addr) string {
	if !ip.IsValid() {
		return "an invalid address"
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	switch {
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	if ip.Is4() {
		switch {
		case thisNetwork.Contains(ip):
			return "a this-network address"
		case sharedCGNAT.Contains(ip):
			return "a carrier-grade NAT address"
		case ietfProtocol.Contains(ip), benchmarking.Contains(ip), reservedV4.Contains(ip):
			return "a reserved address"
		}
		return ""
	}
	switch {
	case siteLocalV6.Contains(ip):
		return "a site-local address"
	case nat64Local.Contains(ip):
		// Operators pick where the IPv4 address sits; the range is local anyway.
		return "a local-use NAT64 address"
	}
	// Translation and tunnelling forms carry an IPv4 address that a gateway
	// on the path may deliver to; judge them by that address.
	for _, v4 := range embeddedV4(ip) {
		if r := forbiddenReason(v4); r != "" {
			return "an address that embeds " + v4.String() + ", " + r
		}
	}
	return ""
}

// embeddedV4 returns the IPv4 addresses that the IPv6 address ip carries in
// a translation or tunnelling form.
func embeddedV4(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	v4 := func(o int) netip.Addr { return netip.AddrFrom4([4]byte(b[o : o+4])) }
	switch {
	case compatV6.Contains(ip), nat64.Contains(ip):
		return []netip.Addr{v4(12)}
	case sixToFour.Contains(ip):
		return []netip.Addr{v4(2)}
	case teredo.Contains(ip):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]} // stored inverted
		return []netip.Addr{v4(4), netip.AddrFrom4(client)}
	}
	return nil
}
