package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Download streams the file at videoURL (a Video's URL) to w and returns
// the number of bytes written. If progress is not nil, it is called after
// each write with the bytes written so far and the total (-1 if the server
// does not say). The URL is signed, so the request carries no API key:
// object stores that presign URLs refuse a second credential.
func (c *Client) Download(ctx context.Context, videoURL string, w io.Writer, progress func(written, total int64)) (int64, error) {
	if strings.HasPrefix(videoURL, "/") {
		videoURL = c.base + videoURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, videoURL, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", c.userAgent)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, decodeError(res, time.Now())
	}
	if progress != nil {
		w = &progressWriter{w: w, total: res.ContentLength, f: progress}
	}
	// A body cut short fails the copy with io.ErrUnexpectedEOF: the
	// transport checks the length the server announced.
	n, err := io.Copy(w, res.Body)
	if err != nil {
		return n, fmt.Errorf("client: downloading the video: %w", err)
	}
	return n, nil
}

type progressWriter struct {
	w     io.Writer
	n     int64
	total int64
	f     func(written, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.f(p.n, p.total)
	return n, err
}

// ImageDataURI reads an image from r and returns it as a data: URI, for
// CreateRequest.ImageURL. The media type is sniffed from the bytes; the
// server recognises the image from its bytes in any case.
func ImageDataURI(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	ct := http.DetectContentType(b)
	if !strings.HasPrefix(ct, "image/") {
		ct = "image/unknown"
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}

// FileDataURI returns the image file at path as a data: URI, for
// CreateRequest.ImageURL when the server cannot fetch the image itself.
func FileDataURI(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return ImageDataURI(f)
}
