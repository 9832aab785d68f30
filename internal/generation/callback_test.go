package generation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/webhook"
)

func TestCallbackURL(t *testing.T) {
	body := func(cb string) []byte {
		return []byte(`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","callback_url":` + cb + `}`)
	}
	r, err := generation.ParseRequest(body(`"https://hooks.example.com/x?y=1"`))
	if err != nil || r.CallbackURL != "https://hooks.example.com/x?y=1" {
		t.Fatalf("ParseRequest = %+v, %v", r, err)
	}
	for _, cb := range []string{`"ftp://example.com/"`, `"not a url"`, `7`, `"https://example.com/` + strings.Repeat("a", 2048) + `"`} {
		_, err := generation.ParseRequest(body(cb))
		var fe *fault.Error
		if !errors.As(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != "callback_url" {
			t.Errorf("callback_url %.40s: %v, want one callback_url field error", cb, err)
		}
	}

	svc, _ := setup(t, &scriptedEngine{})
	svc.CheckCallback = func(u string) error { return webhook.CheckURL(u, false) }
	req, _ := generation.ParseRequest(body(`"http://10.0.0.1/hook"`))
	_, err = svc.Submit(context.Background(), "k", true, req)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != "callback_url" {
		t.Errorf("Submit with a private callback_url = %v, want Invalid", err)
	}
	svc.CheckCallback = func(u string) error { return webhook.CheckURL(u, true) }
	if _, err := svc.Submit(context.Background(), "k", true, req); err != nil {
		t.Errorf("Submit allowing private callbacks = %v", err)
	}
}
