package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
)

// CheckURL validates a callback URL without network I/O: an http(s) URL
// with a host, at most generation.MaxCallbackURL bytes. Unless allowPrivate, a host that is a
// forbidden IP literal (intake.IsForbiddenIP) or localhost is refused; the
// addresses a name resolves to are checked when delivering.
func CheckURL(s string, allowPrivate bool) error {
	if err := generation.CheckCallbackURL(s); err != nil {
		return err
	}
	if allowPrivate {
		return nil
	}
	u, _ := url.Parse(s)
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip, err := netip.ParseAddr(host); err == nil && intake.IsForbiddenIP(ip) {
		return fmt.Errorf("points at %s, a private, loopback, link-local or reserved address; stillmotion does not deliver there (set STILLMOTION_ALLOW_PRIVATE_FETCH=1 to allow)", ip)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("points at %s, a loopback address; stillmotion does not deliver there (set STILLMOTION_ALLOW_PRIVATE_FETCH=1 to allow)", host)
	}
	return nil
}

// deniedAddr is the dialer's refusal to connect to addr.
type deniedAddr struct{ addr string }

func (e *deniedAddr) Error() string {
	return "refusing to connect to " + e.addr + ", a forbidden address"
}

// transport checks every address it connects to, after DNS and before
// connect, as intake's does; it never uses a proxy.
func transport(allowPrivate bool, timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || intake.IsForbiddenIP(ap.Addr()) {
				return &deniedAddr{addr: address}
			}
			return nil
		}
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
}
