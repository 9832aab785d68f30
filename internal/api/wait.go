package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/generation"
)

// maxWait caps Prefer: wait=N, in seconds.
const maxWait = 60

// waitPoll is how often a held submit checks its generation.
const waitPoll = 200 * time.Millisecond

// preferredWait returns the seconds asked for by Prefer: wait=N (RFC 7240),
// capped at maxWait; 0 if none (a malformed preference is ignored, as the
// RFC allows).
func preferredWait(h http.Header) int {
	for _, v := range h.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			pref, _, _ = strings.Cut(pref, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err != nil || n <= 0 {
				return 0
			}
			return min(n, maxWait)
		}
	}
	return 0
}

// wait holds a submit that asked for Prefer: wait=N until g ends, N seconds
// pass or the client goes, and returns g as it is then. waited reports
// whether the preference was applied (Preference-Applied says so too).
func (s *Server) wait(w http.ResponseWriter, r *http.Request, k *auth.Key, g *generation.Generation) (_ *generation.Generation, waited bool, err error) {
	n := preferredWait(r.Header)
	if n == 0 {
		return g, false, nil
	}
	w.Header().Set("Preference-Applied", "wait="+strconv.Itoa(n))
	deadline := time.NewTimer(time.Duration(n) * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for !g.Status.Terminal() {
		select {
		case <-r.Context().Done():
			return g, true, nil
		case <-deadline.C:
			return g, true, nil
		case <-tick.C:
		}
		if g, err = s.Service.Get(r.Context(), k.ID, g.ID); err != nil {
			return nil, true, err
		}
	}
	return g, true, nil
}
