package comfyui

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"

	"stillmotion/internal/redact"
)

// The listener's own events: the websocket connected, or dropped.
const (
	wsUp   = "stillmotion:ws-up"
	wsDown = "stillmotion:ws-down"
)

// listener reads a server's websocket for one client id, reconnecting
// when it drops, and passes the messages on.
type listener struct {
	events chan event
	cancel context.CancelFunc
	done   chan struct{}
}

// listen starts following the job's websocket messages.
func (r *render) listen(ctx context.Context) {
	r.stopListening()
	lctx, cancel := context.WithCancel(ctx)
	l := &listener{events: make(chan event, 64), cancel: cancel, done: make(chan struct{})}
	go l.run(lctx, r.e, r.srv, r.st.ClientID)
	r.ws = l
}

// stopListening ends the listener, waiting briefly for it: a render that
// is cancelled must return at once.
func (r *render) stopListening() {
	if r.ws == nil {
		return
	}
	r.ws.cancel()
	select {
	case <-r.ws.done:
	case <-time.After(200 * time.Millisecond):
	}
	r.ws = nil
}

// events is the channel of the listener's messages (nil, which never
// delivers, without a listener).
func (r *render) events() <-chan event {
	if r.ws == nil {
		return nil
	}
	return r.ws.events
}

func (l *listener) run(ctx context.Context, e *Engine, s *server, clientID string) {
	defer close(l.done)
	for i := 0; ; i++ {
		conn, err := e.dial(ctx, s, clientID)
		if err == nil {
			i = 0
			if l.emit(ctx, event{typ: wsUp}) {
				err = l.read(ctx, conn)
			}
			conn.CloseNow()
			if !l.emit(ctx, event{typ: wsDown}) {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		// The dial error names the URL, query (a proxy's token) and all.
		e.log.Debug("ComfyUI websocket down; reconnecting", "server", s.host, "err", redact.Error(err))
		if sleep(ctx, min(backoff(i), 5*time.Second)) != nil {
			return
		}
	}
}

// emit passes an event on; false when the listener is stopping.
func (l *listener) emit(ctx context.Context, ev event) bool {
	select {
	case l.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// read passes on the connection's messages until it fails. Binary
// messages (latent previews) are skipped.
func (l *listener) read(ctx context.Context, conn *websocket.Conn) error {
	for {
		typ, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			continue
		}
		if ev, ok := parseEvent(b); ok && !l.emit(ctx, ev) {
			return ctx.Err()
		}
	}
}

// dial opens /ws?clientId= on the server.
func (e *Engine) dial(ctx context.Context, s *server, clientID string) (*websocket.Conn, error) {
	u := *s.base
	u.Scheme = "ws"
	if s.base.Scheme == "https" {
		u.Scheme = "wss"
	}
	u.Path += "/ws"
	q := url.Values{}
	for k, vs := range s.query {
		q[k] = vs
	}
	q.Set("clientId", clientID)
	u.RawQuery = q.Encode()
	hdr := http.Header{}
	if s.user != nil {
		pw, _ := s.user.Password()
		req := &http.Request{Header: hdr}
		req.SetBasicAuth(s.user.Username(), pw)
	}
	dctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: e.client, HTTPHeader: hdr})
	if err != nil {
		return nil, err
	}
	// Messages carry whole node outputs and preview images: more than
	// the library's 32 KiB default.
	conn.SetReadLimit(32 << 20)
	return conn, nil
}
