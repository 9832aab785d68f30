// Package redact removes what may be secret from URLs before they reach a
// log line or an error message: user info, and the query and fragment,
// where signed URLs keep their signatures and webhooks their tokens.
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// URL returns raw without its user info, query and fragment. A data URI is
// named, not shown.
func URL(raw string) string {
	if strings.HasPrefix(raw, "data:") {
		return "a data URI"
	}
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#@"); i >= 0 {
			raw = raw[:i]
		}
		return raw
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// Error returns err with the URL an HTTP client's error names redacted.
func Error(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: URL(ue.URL), Err: ue.Err}
	}
	return err
}
