package replicate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	_ "image/gif" // the image's size is read for {{width}} and {{height}}
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"strings"

	_ "golang.org/x/image/webp"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/render"
)

// input renders the template for t's request: the JSON of the input
// object.
func (e *Engine) input(ctx context.Context, t *generation.Task) (json.RawMessage, error) {
	req := t.Request
	v := values{
		"prompt":          req.Prompt,
		"negative_prompt": req.NegativePrompt,
		"style":           req.Style,
		"seed":            req.Seed,
		"resolution":      req.Resolution,
		"duration":        req.Duration,
		"aspect_ratio":    cmp.Or(req.AspectRatio, "16:9"),
		"fps":             e.cfg.FPS,
		"frames":          req.Duration * e.cfg.FPS,
	}
	var img []byte // the image's bytes, once read
	if e.tmpl.usesAny("image", "image_url") {
		ref, b, err := imageRef(ctx, t)
		if err != nil {
			return nil, err
		}
		if ref != "" {
			// A text-to-video request has none: its key is left out.
			v["image"], v["image_url"], img = ref, ref, b
		}
	}
	if e.tmpl.usesAny("width", "height") {
		// Without an image's size: the aspect ratio asked for (text to
		// video), else a landscape frame.
		w, h := req.Aspect()
		if in := t.Input(generation.FieldImage); img == nil && in != nil {
			b, err := in.Bytes(ctx)
			if err != nil {
				return nil, err
			}
			img = b
		}
		if img == nil && strings.HasPrefix(req.ImageURL, "data:") {
			img, _ = decodeDataURI(req.ImageURL, 64<<20)
		}
		if img != nil {
			if c, _, err := image.DecodeConfig(bytes.NewReader(img)); err == nil {
				w, h = c.Width, c.Height
			}
		}
		v["width"], v["height"] = render.FrameSize(w, h, req.ShortSide())
	}
	b, err := json.Marshal(e.tmpl.render(v))
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "encoding the model's input", err)
	}
	return b, nil
}

// imageRef is what the model is sent for the request's image: an http(s)
// URL it can fetch when there is one, else a data URI of the bytes (which
// are returned too).
func imageRef(ctx context.Context, t *generation.Task) (string, []byte, error) {
	in := t.Input(generation.FieldImage)
	if in == nil {
		return t.Request.ImageURL, nil, nil
	}
	u, err := in.URL(ctx)
	if err != nil {
		return "", nil, err
	}
	if u != "" {
		return u, nil, nil
	}
	b, err := in.Bytes(ctx)
	if err != nil {
		return "", nil, err
	}
	return "data:" + http.DetectContentType(b) + ";base64," + base64.StdEncoding.EncodeToString(b), b, nil
}
