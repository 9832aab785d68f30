package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"stillmotion/internal/auth"
	"stillmotion/internal/generation"
)

// BenchmarkPoll polls 400 bootstrap keys' generations, half completed and
// half queued, through the whole handler over a real SQLite store:
//
//	go test -run '^$' -bench Poll -cpuprofile /tmp/poll.out ./internal/api/
func BenchmarkPoll(b *testing.B) {
	bn := setup(b)
	const n = 400
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("sm_pollbench%04d", i)
	}
	bn.api.Auth = auth.NewAuthenticator(bn.store, keys)
	bn.api.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) // as the server logs, formatting included
	bn.handler = bn.api.Handler()
	ctx := context.Background()
	paths := make([]string, n)
	for i, k := range keys {
		benchSubmit(b, bn.handler, k)
		id := fmt.Sprintf("gen%018d", i+1)
		if i%2 == 0 {
			v := &generation.Video{Key: "videos/" + id + ".mp4", FileName: id + ".mp4", Size: 812345, Width: 640, Height: 360, Duration: 5, FPS: 24}
			if err := bn.store.Finish(ctx, id, v, nil); err != nil {
				b.Fatal(err)
			}
		}
		paths[i] = universalPath + "?generation_id=" + id
	}
	b.SetParallelism(32) // 64 goroutines on 2 cores, as wrk -c64 keeps busy
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i = (i + 7) % n
			r := httptest.NewRequest("GET", paths[i], nil)
			r.Header.Set("Authorization", "Bearer "+keys[i])
			w := httptest.NewRecorder()
			bn.handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("poll: %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkList lists 20 bootstrap keys' generations, 21 completed each,
// a page of 20 at a time, through the whole handler over a real SQLite
// store:
//
//	go test -run '^$' -bench List -cpuprofile /tmp/list.out ./internal/api/
func BenchmarkList(b *testing.B) {
	bn := setup(b)
	const n, each = 20, 21
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("sm_listbench%04d", i)
	}
	bn.api.Auth = auth.NewAuthenticator(bn.store, keys)
	bn.api.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	bn.handler = bn.api.Handler()
	ctx := context.Background()
	for i := range n * each {
		benchSubmit(b, bn.handler, keys[i%n])
		id := fmt.Sprintf("gen%018d", i+1)
		v := &generation.Video{Key: "videos/" + id + ".mp4", FileName: id + ".mp4", Size: 812345, Width: 640, Height: 360, Duration: 5, FPS: 24}
		if err := bn.store.Finish(ctx, id, v, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i = (i + 7) % n
			r := httptest.NewRequest("GET", listPath, nil)
			r.Header.Set("Authorization", "Bearer "+keys[i])
			w := httptest.NewRecorder()
			bn.handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("list: %d %s", w.Code, w.Body)
			}
		}
	})
}

// benchSubmit submits a generation as key through h.
func benchSubmit(b *testing.B, h http.Handler, key string) {
	b.Helper()
	r := httptest.NewRequest("POST", universalPath, strings.NewReader(`{"model":"pixverse/v5/image-to-video","prompt":"a slow pan","image_url":"https://example.com/a.png"}`))
	r.Header.Set("Authorization", "Bearer "+key)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Fatalf("submit: %d %s", w.Code, w.Body)
	}
}
