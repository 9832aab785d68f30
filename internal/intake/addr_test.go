package intake

import (
	"net/netip"
	"testing"
)

func TestIsForbiddenIP(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		// Public addresses.
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"93.184.216.34", false},
		{"172.15.255.255", false},
		{"172.32.0.1", false},
		{"100.63.255.255", false},
		{"100.128.0.1", false},
		{"192.0.2.1", false}, // documentation: unroutable, harmless
		{"2606:4700:4700::1111", false},
		{"2001:4860:4860::8888", false},
		{"64:ff9b::808:808", false},             // NAT64 of 8.8.8.8
		{"2002:808:808::1", false},              // 6to4 of 8.8.8.8
		{"2001:0:808:808:0:0:f7f7:fbfb", false}, // Teredo, server 8.8.8.8, client 8.8.4.4

		// Loopback, private, link-local, multicast, unspecified.
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"10.0.0.1", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"0.0.0.0", true},
		{"::", true},
		{"::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"ff02::1", true},
		{"ff05::2", true},

		// The rest of the list.
		{"0.1.2.3", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"192.0.0.8", true},
		{"198.18.0.1", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		{"fec0::1", true},

		// IPv6 forms of forbidden IPv4 addresses.
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::127.0.0.1", true},               // IPv4-compatible
		{"64:ff9b::7f00:1", true},           // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true},        // NAT64 of 169.254.169.254
		{"64:ff9b:1::8.8.8.8", true},        // local-use NAT64
		{"2002:a00:1::1", true},             // 6to4 of 10.0.0.1
		{"2001:0:a00:1::f7f7:fbfb", true},   // Teredo, server 10.0.0.1
		{"2001:0:808:808::80ff:fffe", true}, // Teredo, client 127.0.0.1
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			if got := IsForbiddenIP(ip); got != tt.want {
				t.Errorf("IsForbiddenIP(%s) = %v (%q), want %v", ip, got, forbiddenReason(ip), tt.want)
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		if !IsForbiddenIP(netip.Addr{}) {
			t.Error("IsForbiddenIP(zero Addr) = false, want true")
		}
	})
}

func TestForbiddenReason(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"127.0.0.1", "a loopback address"},
		{"::ffff:127.0.0.1", "a loopback address"},
		{"10.0.0.1", "a private address"},
		{"169.254.169.254", "a link-local address"},
		{"ff02::1", "a link-local address"},
		{"239.1.2.3", "a multicast address"},
		{"100.64.0.1", "a carrier-grade NAT address"},
		{"64:ff9b::7f00:1", "an address that embeds 127.0.0.1, a loopback address"},
		{"8.8.8.8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := forbiddenReason(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("forbiddenReason(%s) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}
