package intake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"

	"stillmotion/internal/fault"
	"stillmotion/internal/redact"
)

// A deniedAddr is the dialer's refusal to connect to addr.
type deniedAddr struct {
	addr   string
	reason string // as forbiddenReason returns
}

func (e *deniedAddr) Error() string { return "refusing to connect to " + e.addr + ", " + e.reason }

// newTransport returns a transport that checks every address it connects
// to against deny (nil allows all) and never uses a proxy, so neither DNS
// tricks nor the environment can route around the check.
func newTransport(opt Options, deny func(netip.AddrPort) string) *http.Transport {
	d := &net.Dialer{Timeout: opt.Timeout}
	if deny != nil {
		// Control runs on the resolved address of each connection attempt,
		// after DNS and before connect: what is checked is what is dialled.
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &deniedAddr{addr: address, reason: "an address that cannot be checked"}
			}
			if r := deny(ap); r != "" {
				return &deniedAddr{addr: ap.Addr().WithZone("").String(), reason: r}
			}
			return nil
		}
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    opt.Timeout,
		DisableKeepAlives:      true, // one fetch per transport; leave nothing open
		DisableCompression:     true, // count the bytes that arrive, not a gzip bomb's
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// fetch GETs u and returns the body, following at most opt.MaxRedirects
// http(s) redirects, within opt.Timeout and opt.MaxBytes.
func fetch(ctx context.Context, u *url.URL, opt Options) ([]byte, error) {
	field := opt.Field
	fctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()

	var redirect *url.URL // the last redirect followed, for messages
	client := opt.Client
	if client == nil {
		tr := newTransport(opt, opt.policy())
		defer tr.CloseIdleConnections()
		client = &http.Client{
			Transport: tr,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > opt.MaxRedirects {
					return tooManyRedirects(opt.MaxRedirects, field)
				}
				if s := req.URL.Scheme; s != "http" && s != "https" {
					return forbidden(fmt.Sprintf("%s redirects to %s, which is not an http(s) URL", field, redact.URL(req.URL.String())))
				}
				redirect = req.URL
				return nil
			},
		}
	}

	req, err := http.NewRequestWithContext(fctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, invalidField(field, field+" is not a valid URL; "+allowed)
	}
	req.Header.Set("Accept", "image/jpeg, image/png, image/webp, image/gif;q=0.9, */*;q=0.1")
	req.Header.Set("User-Agent", "stillmotion-image-fetch/1")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fetchError(ctx, fctx, err, opt, redirect)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		status := fmt.Sprint(resp.StatusCode)
		if t := http.StatusText(resp.StatusCode); t != "" {
			status += " " + t
		}
		return nil, fault.Errorf(fault.ImageFetch, "fetching %s: the server answered %s", field, status)
	}
	if resp.ContentLength > opt.MaxBytes {
		return nil, tooLarge(opt.MaxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, opt.MaxBytes+1))
	if err != nil {
		return nil, fetchError(ctx, fctx, err, opt, redirect)
	}
	if int64(len(b)) > opt.MaxBytes {
		return nil, tooLarge(opt.MaxBytes)
	}
	return b, nil
}

// tooManyRedirects says that the URL redirected more than max times.
func tooManyRedirects(max int, field string) *fault.Error {
	switch max {
	case 0:
		return fault.E(fault.ImageFetch, "fetching "+field+": it redirected, and no redirects are followed")
	case 1:
		return fault.E(fault.ImageFetch, "fetching "+field+": it redirected more than once")
	}
	return fault.Errorf(fault.ImageFetch, "fetching %s: it redirected more than %d times", field, max)
}

// fetchError describes err, a failure to fetch the image; fctx is ctx with
// the fetch timeout, and redirect the last redirect followed, if any.
func fetchError(ctx, fctx context.Context, err error, opt Options, redirect *url.URL) error {
	field := opt.Field
	// The cause is logged: the client's URL goes without its query (a
	// signed URL's signature) or user info.
	err = redact.Error(err)
	if cerr := ctx.Err(); cerr != nil {
		return ctxFault(cerr, field)
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe // from CheckRedirect
	}
	var denied *deniedAddr
	if errors.As(err, &denied) {
		what := field + " resolves to "
		if redirect != nil {
			what = field + " redirects to " + redact.URL(redirect.String()) + ", which resolves to "
		}
		fe = forbidden(what + denied.addr + ", " + denied.reason)
		fe.Err = err
		return fe
	}
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		netErr  net.Error
		msg     string
	)
	switch {
	case errors.Is(fctx.Err(), context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		msg = fmt.Sprintf("fetching %s: timed out after %s", field, opt.Timeout)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		msg = fmt.Sprintf("fetching %s: the host %q does not exist", field, dnsErr.Name)
	case errors.As(err, &dnsErr):
		msg = fmt.Sprintf("fetching %s: could not look up the host %q", field, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "fetching " + field + ": the server refused the connection"
	case errors.As(err, &certErr), errors.As(err, &unknown):
		msg = "fetching " + field + ": the server's TLS certificate is not valid"
	default:
		msg = "fetching " + field + ": the connection to the server failed"
	}
	return fault.Wrap(fault.ImageFetch, msg, err)
}
