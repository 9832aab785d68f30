package fakecomfy

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// socket is one websocket client. Messages go through a buffer so that a
// slow client never blocks the worker; a client that falls that far
// behind is dropped.
type socket struct {
	conn *websocket.Conn
	out  chan frame
	once sync.Once
	done chan struct{}
}

type frame struct {
	binary bool
	data   []byte
}

func (c *socket) send(f frame) {
	select {
	case <-c.done:
	case c.out <- f:
	default:
		c.close("too slow")
	}
}

func (c *socket) close(reason string) {
	c.once.Do(func() {
		close(c.done)
		go c.conn.Close(websocket.StatusGoingAway, reason)
	})
}

// serveWS serves /ws?clientId=: ComfyUI sends a client the status at once,
// then the messages of the prompts queued with its client_id, and the
// broadcasts (queue status, interruptions).
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	sid := r.URL.Query().Get("clientId")
	if sid == "" {
		sid = newUUID()
	}
	c := &socket{conn: conn, out: make(chan frame, 1024), done: make(chan struct{})}
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "server stopping")
		return
	default:
	}
	// As in ComfyUI, a client id that connects again replaces its old
	// connection, which then hears nothing more.
	s.sockets[sid] = c
	c.send(message("status", map[string]any{"status": s.queueInfoLocked(), "sid": sid}))
	if j := s.running; j != nil && j.clientID == sid && j.node != "" {
		c.send(message("executing", map[string]any{"node": j.node, "display_node": j.node, "prompt_id": j.id}))
	}
	s.mu.Unlock()

	go func() {
		// Reading notices the client leaving; clients send nothing else.
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				c.close("read failed")
				return
			}
		}
	}()
	defer func() {
		s.mu.Lock()
		if s.sockets[sid] == c {
			delete(s.sockets, sid)
		}
		s.mu.Unlock()
	}()
	for {
		select {
		case <-c.done:
			return
		case f := <-c.out:
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := conn.Write(ctx, typ, f.data)
			cancel()
			if err != nil {
				c.close("write failed")
				return
			}
		}
	}
}

// message encodes a JSON websocket message as ComfyUI sends them.
func message(typ string, data any) frame {
	b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	return frame{data: b}
}

// preview encodes a binary preview message: the event type (1, a preview
// image), the image type (1, JPEG) and the image.
func preview(jpeg []byte) frame {
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = binary.BigEndian.AppendUint32(b, 1)
	return frame{binary: true, data: append(b, jpeg...)}
}

// sendLocked sends f to client sid, or to every client when sid is "".
func (s *Server) sendLocked(sid string, f frame) {
	if sid == "" {
		for _, c := range s.sockets {
			c.send(f)
		}
		return
	}
	if c, ok := s.sockets[sid]; ok {
		c.send(f)
	}
}

func (s *Server) send(sid string, f frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendLocked(sid, f)
}

// statusLocked broadcasts the queue's status, as ComfyUI does on every
// change.
func (s *Server) statusLocked() {
	s.sendLocked("", message("status", map[string]any{"status": s.queueInfoLocked()}))
}
