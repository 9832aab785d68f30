package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"stillmotion/client"
)

// This example makes a video from a local image: create, wait with
// progress, download. It needs a server, so it is compiled but not run.
func Example() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("STILLMOTION_API_KEY"))

	img, err := client.FileDataURI("astronaut.png")
	if err != nil {
		log.Fatal(err)
	}
	g, err := c.Create(ctx, &client.CreateRequest{
		Prompt:     "An astronaut smiles at the camera, slow zoom in",
		ImageURL:   img,
		Resolution: "720p",
		Speech:     "Hello from orbit.",
		Speaker:    "Chloe",
	})
	if err != nil {
		log.Fatal(err)
	}
	g, err = c.Wait(ctx, g.ID, client.OnProgress(func(g *client.Generation) {
		fmt.Printf("%s %.0f%%\n", g.Status, 100*g.Progress)
	}))
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create("output.mp4")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := c.Download(ctx, g.Video.URL, f, nil); err != nil {
		log.Fatal(err)
	}
}

// fakeServer answers polls of generation "abc" with the next of bodies, in
// the wire format, the last one repeated: a stand-in for a real server so
// that the examples below run.
func fakeServer(bodies ...string) *httptest.Server {
	var n atomic.Int32
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		i := min(int(n.Add(1))-1, len(bodies)-1)
		if strings.HasPrefix(bodies[i], `{"message"`) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
		io.WriteString(w, bodies[i])
	}))
}

func ExampleClient_Wait() {
	srv := fakeServer(
		`{"id":"abc","status":"queued","meta":{"usage":{"credits_used":315000,"usd_spent":0.1575}}}`,
		`{"id":"abc","status":"generating","progress":40,"meta":{"usage":{"credits_used":315000,"usd_spent":0.1575}}}`,
		`{"message":"Too many requests for this key; retry after the time in Retry-After"}`,
		`{"id":"abc","status":"generating","progress":90,"meta":{"usage":{"credits_used":315000,"usd_spent":0.1575}}}`,
		`{"id":"abc","status":"completed","video":{"url":"http://127.0.0.1:8080/files/abc/output.mp4","content_type":"video/mp4","file_name":"output.mp4","file_size":1234567,"width":640,"height":360,"duration":5,"fps":24,"has_audio":true},"meta":{"usage":{"credits_used":315000,"usd_spent":0.1575}}}`,
	)
	defer srv.Close()

	c := client.New(srv.URL, "my-key")
	g, err := c.Wait(context.Background(), "abc",
		client.PollInterval(time.Millisecond, 10*time.Millisecond),
		client.OnProgress(func(g *client.Generation) {
			if g.Status == client.Generating {
				fmt.Printf("%s %.0f%%\n", g.Status, 100*g.Progress)
				return
			}
			fmt.Println(g.Status)
		}))
	if err != nil {
		log.Fatal(err)
	}
	v := g.Video
	fmt.Printf("%s: %d bytes, %dx%d, %g s, $%g\n", v.FileName, v.FileSize, v.Width, v.Height, v.Duration, g.Usage.USDSpent)
	// Output:
	// queued
	// generating 40%
	// generating 90%
	// completed
	// output.mp4: 1234567 bytes, 640x360, 5 s, $0.1575
}

func ExampleClient_Wait_failed() {
	srv := fakeServer(`{"id":"abc","status":"error","error":{"name":"image_fetch_failed","message":"Could not fetch image_url: 404 Not Found"},"meta":{"usage":{"credits_used":0,"usd_spent":0}}}`)
	defer srv.Close()

	_, err := client.New(srv.URL, "my-key").Wait(context.Background(), "abc")
	var ge *client.GenerationError
	if errors.As(err, &ge) {
		fmt.Println(ge.Name)
		fmt.Println(ge.Message)
	}
	// Output:
	// image_fetch_failed
	// Could not fetch image_url: 404 Not Found
}

func ExampleAPIError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Body validation error!","path":"/v2/video/generations","requestId":"req001","statusCode":400,"timestamp":"2026-11-24T10:00:00.000Z","errors":[{"field":"resolution","message":"Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '4k'"}]}`)
	}))
	defer srv.Close()

	c := client.New(srv.URL, "my-key")
	_, err := c.Create(context.Background(), &client.CreateRequest{
		Prompt: "slow zoom in", ImageURL: "https://example.com/a.png", Resolution: "4k",
	})
	fmt.Println(errors.Is(err, client.ErrInvalid))
	var ae *client.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, ae.Message, ae.RequestID)
		for _, f := range ae.Fields {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
	// Output:
	// true
	// 400 Body validation error! req001
	// resolution: Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '4k'
}

func ExampleClient_Cancel() {
	c := client.New("http://127.0.0.1:8080", os.Getenv("STILLMOTION_API_KEY"))
	g, err := c.Cancel(context.Background(), "3yFHGAkECD5RPnpL11mHe")
	switch {
	case errors.Is(err, client.ErrConflict):
		fmt.Println("it has already ended")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(g.Status, g.Error.Name) // error cancelled
	}
}

func ExampleImageDataURI() {
	uri, err := client.ImageDataURI(strings.NewReader("\x89PNG\r\n\x1a\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(uri)
	// Output:
	// data:image/png;base64,iVBORw0KGgo=
}
