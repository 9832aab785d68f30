package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"stillmotion/internal/api"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
	"stillmotion/internal/redact"
	"stillmotion/internal/webhook"
)

// event is a webhook's body: its type, when it was sent, and the
// generation as a v2 poll answers with it at delivery time (so a
// completed generation's video URL is freshly signed).
type event struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// deliverer returns the queue's DeliverFunc: it reads the generation,
// builds the event body and sends it signed. The operator's endpoints
// (WebhookURLs) are trusted with any address; a callback_url gets the
// intake address rules unless AllowPrivateFetch.
func deliverer(svc *generation.Service, secret webhook.Secret, c *Config) queue.DeliverFunc {
	callback := &webhook.Sender{Secret: secret, AllowPrivate: c.AllowPrivateFetch}
	trusted := &webhook.Sender{Secret: secret, AllowPrivate: true}
	return func(ctx context.Context, a queue.WebhookArgs) error {
		sender := callback
		if slices.Contains(c.WebhookURLs, a.URL) {
			sender = trusted
		}
		g, err := svc.Store.Get(ctx, a.GenerationID)
		if fault.KindOf(err) == fault.NotFound {
			return fmt.Errorf("%w: generation %s is gone", queue.ErrGiveUp, a.GenerationID)
		}
		if err != nil {
			return err
		}
		body, err := eventBody(ctx, svc, g, a.Event)
		if err != nil {
			return err
		}
		err = sender.Send(ctx, a.URL, webhook.MessageID(g.ID, a.Event), body)
		switch {
		case errors.Is(err, webhook.ErrGiveUp):
			c.Logger.Warn("webhook not delivered; giving up", "id", g.ID, "event", a.Event, "url", redact.URL(a.URL), "err", redact.Error(err))
			return fmt.Errorf("%w: %v", queue.ErrGiveUp, err)
		case err != nil:
			c.Logger.Info("webhook not delivered; will retry", "id", g.ID, "event", a.Event, "url", redact.URL(a.URL), "err", redact.Error(err))
			return err
		}
		c.Logger.Info("webhook delivered", "id", g.ID, "event", a.Event, "url", redact.URL(a.URL))
		return nil
	}
}

func eventBody(ctx context.Context, svc *generation.Service, g *generation.Generation, typ string) ([]byte, error) {
	d, err := api.Body(ctx, svc, g)
	if err != nil {
		return nil, err
	}
	return json.Marshal(event{Type: typ, Timestamp: time.Now().UTC().Format(time.RFC3339), Data: d})
}
