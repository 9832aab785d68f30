package fault

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"fault", E(NotFound, "x"), NotFound},
		{"wrapped fault", fmt.Errorf("ctx: %w", Wrap(ImageFetch, "m", errors.New("dial"))), ImageFetch},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), Cancelled},
		{"deadline", context.DeadlineExceeded, Timeout},
		{"plain", errors.New("boom"), Internal},
		{"nil", nil, Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNamesAreWireStable(t *testing.T) {
	// error.name values are part of the wire contract: changing one breaks clients.
	want := map[Kind]string{ImageFetch: "image_fetch_failed", ImageForbidden: "image_url_forbidden",
		ImageTooLarge: "image_too_large", ImageInvalid: "image_invalid", Speech: "speech_failed",
		Render: "render_failed", Cancelled: "cancelled", Timeout: "timeout", Internal: "internal_error"}
	for k, name := range want {
		if k.String() != name {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), name)
		}
	}
}

func TestMessageOfHidesInternals(t *testing.T) {
	if m := MessageOf(errors.New("secret path /etc/x")); m == "" || m == "secret path /etc/x" {
		t.Errorf("MessageOf leaked or was empty: %q", m)
	}
	if m := MessageOf(Wrap(ImageFetch, "fetching image_url failed", errors.New("secret"))); m != "fetching image_url failed" {
		t.Errorf("MessageOf = %q", m)
	}
}

func TestNamed(t *testing.T) {
	for _, k := range Ending() {
		if got, ok := Named(k.String()); !ok || got != k {
			t.Errorf("Named(%q) = %v, %v; want %v", k.String(), got, ok, k)
		}
	}
	if len(Ending()) != 11 || Ending()[0] != ImageFetch || Ending()[10] != StorageFull {
		t.Errorf("Ending() = %v", Ending())
	}
	if _, ok := Named("teapot"); ok {
		t.Error("Named(teapot) found a kind")
	}
}
