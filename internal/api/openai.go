package api

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// The OpenAI-compatible routes (/v1/videos) serve the same generations as
// the v2 routes, in the shapes of OpenAI's video API, so that its SDKs work
// by changing the base URL and the key.
//
// Mapping of the create request onto a generation request:
//
//   - model: any image-to-video or text-to-video model served (transitions
//     and lip-syncs are v2's alone); any "sora-2…" name, or none, is the
//     first of them. Responses name the model rendered.
//   - seconds: one of the model's durations ("5" by default) → duration.
//   - size: "WIDTHxHEIGHT"; its short side picks the resolution: 360, 540,
//     720 or 1080 (1024, as in "1792x1024", counts as 1080). The frame's
//     orientation and aspect ratio follow the input image, as on v2; for
//     text-to-video the size's shape is the aspect_ratio.
//   - input_reference: an image file (multipart), or {"image_url": URL}
//     (JSON, or the multipart field input_reference[image_url]); image_url
//     at the top level is accepted too. The first frame of the video,
//     required for image-to-video.
//   - negative_prompt, style, seed, lip_sync_tts_content,
//     lip_sync_tts_speaker, v5.5's generate_audio_switch,
//     generate_multi_clip_switch and thinking_type, and callback_url pass
//     through as on v2.
//
// Statuses: queued → queued, generating → in_progress, completed →
// completed, error → failed (error.code is v2's error.name).
const videosPath = "/v1/videos"

// openAIFields renames v2 request fields to their /v1 names in errors.
var openAIFields = map[string]string{
	"image_url":  "input_reference",
	"duration":   "seconds",
	"resolution": "size",
}

// passThrough are the v2 fields /v1 accepts as extensions, unchanged.
var passThrough = []string{"negative_prompt", "style", "seed", "lip_sync_tts_content", "lip_sync_tts_speaker",
	"generate_audio_switch", "generate_multi_clip_switch", "thinking_type", "callback_url"}

// openAIError is the error shape of the /v1 routes, the one OpenAI's SDKs
// parse.
type openAIError struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

func newOpenAIError(fe *fault.Error, status int, msg string) openAIError {
	d := openAIErrorDetail{Message: msg, Type: "invalid_request_error", Code: fe.Kind.String()}
	switch {
	case status >= 500:
		d.Type = "server_error"
	case status == http.StatusUnauthorized:
		d.Type = "authentication_error"
	case status == http.StatusTooManyRequests:
		d.Type = "rate_limit_error"
	}
	if fe.Kind == methodNotAllowed {
		d.Code = "method_not_allowed"
	}
	if len(fe.Fields) > 0 {
		p := fe.Fields[0].Field
		d.Param = &p
		var parts []string
		for _, f := range fe.Fields {
			parts = append(parts, f.Field+": "+f.Message)
		}
		d.Message = strings.TrimSuffix(msg, "!") + ": " + strings.Join(parts, "; ")
	}
	return openAIError{Error: d}
}

// isOpenAI reports whether r is on the OpenAI-compatible routes.
func isOpenAI(r *http.Request) bool {
	return r.URL.Path == videosPath || strings.HasPrefix(r.URL.Path, videosPath+"/") || r.URL.Path == "/v1/models"
}

// videoObject is OpenAI's video object.
type videoObject struct {
	ID          string      `json:"id"`
	Object      string      `json:"object"`
	Model       string      `json:"model"`
	Status      string      `json:"status"`
	Progress    int         `json:"progress"`
	CreatedAt   int64       `json:"created_at"`
	CompletedAt *int64      `json:"completed_at"`
	ExpiresAt   *int64      `json:"expires_at"`
	Error       *videoError `json:"error"`
	Prompt      string      `json:"prompt"`
	Remixed     *string     `json:"remixed_from_video_id"`
	Seconds     string      `json:"seconds"`
	Size        string      `json:"size"`
	// Test marks a test key's generation (test mode).
	Test bool `json:"test,omitempty"`
}

type videoError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// nominalSize is the size reported before the video exists when the client
// asked for none: the aspect ratio asked for (text-to-video), else 16:9
// landscape, at the resolution.
func nominalSize(req *generation.Request) string {
	short := req.ShortSide()
	w, h := req.Aspect()
	if w >= h {
		return fmt.Sprintf("%dx%d", (short*w/h+1)&^1, short)
	}
	return fmt.Sprintf("%dx%d", short, (short*h/w+1)&^1)
}

// videoObjectOf describes g as OpenAI's video object.
func (s *Server) videoObjectOf(g *generation.Generation) videoObject {
	v := newVideoObject(g)
	if t := s.Service.ExpiresAt(g); !t.IsZero() {
		u := t.Unix()
		v.ExpiresAt = &u
	}
	return v
}

func newVideoObject(g *generation.Generation) videoObject {
	v := videoObject{
		ID:        g.ID,
		Object:    "video",
		Model:     cmp.Or(g.Request.Model, generation.Model),
		CreatedAt: g.Created.Unix(),
		Prompt:    g.Request.Prompt,
		Seconds:   strconv.Itoa(g.Request.Duration),
		Size:      g.Request.Size,
		Test:      g.Test,
	}
	if v.Size == "" {
		v.Size = nominalSize(&g.Request)
	}
	switch g.Status {
	case generation.Queued:
		v.Status = "queued"
	case generation.Generating:
		v.Status = "in_progress"
		v.Progress = min(int(g.Progress*100), 99)
	case generation.Completed:
		v.Status, v.Progress = "completed", 100
		if g.Video != nil && g.Video.Width > 0 {
			v.Size = fmt.Sprintf("%dx%d", g.Video.Width, g.Video.Height)
		}
		if g.Video != nil && g.Request.Duration == 0 {
			// A lip-sync is as long as its video came out.
			v.Seconds = strconv.Itoa(int(math.Round(g.Video.Duration)))
		}
	case generation.Failed:
		v.Status = "failed"
		v.Progress = int(g.Progress * 100)
		if g.Failure != nil {
			v.Error = &videoError{Code: g.Failure.Name, Message: g.Failure.Message}
		}
	}
	if g.Status.Terminal() {
		t := g.Updated.Unix()
		v.CompletedAt = &t
	}
	return v
}

// createVideo serves POST /v1/videos, JSON or multipart/form-data.
func (s *Server) createVideo(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	if s.draining.Load() {
		s.fail(w, r, fault.E(fault.Unavailable, "Shutting down: not accepting new generations; retry on another instance or later"))
		return
	}
	limit := s.maxBody()
	done, err := s.guardBody(w, r, k.ID, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	body, asked, err := s.videoParams(r)
	done(err)
	if err != nil {
		s.fail(w, r, renameFields(s.bodyError(err, limit, "send large images as input_reference.image_url")))
		return
	}
	req, err := generation.ParseRequest(body, s.Service.RoutesServed()...)
	if err != nil {
		s.fail(w, r, renameFields(err))
		return
	}
	req.Size = asked
	if err := s.admit(r, req); err != nil {
		s.fail(w, r, renameFields(err))
		return
	}
	g, _, w, ok := s.submitOnce(w, r, k, req)
	if !ok {
		return
	}
	noteGeneration(r, g.ID)
	writeJSON(w, http.StatusOK, s.videoObjectOf(g))
}

// renameFields gives an Invalid error's fields their /v1 names.
func renameFields(err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) == 0 {
		return err
	}
	c := *fe
	c.Fields = make([]fault.FieldError, len(fe.Fields))
	for i, f := range fe.Fields {
		if n, ok := openAIFields[f.Field]; ok {
			f.Field = n
			f.Message = strings.ReplaceAll(f.Message, "image_url", "input_reference")
		}
		c.Fields[i] = f
	}
	return &c
}

// videoParams reads a create request and returns it as a v2 request body,
// with the size asked for ("" for none).
func (s *Server) videoParams(r *http.Request) (body []byte, size string, err error) {
	fields := map[string]json.RawMessage{}
	var bad []fault.FieldError
	str := func(v string) json.RawMessage { b, _ := json.Marshal(v); return b }

	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, "", err
			}
			return nil, "", fault.Wrap(fault.Invalid, "Could not read the multipart body", err)
		}
		for name, vs := range r.MultipartForm.Value {
			if len(vs) == 0 {
				continue
			}
			v := vs[0]
			switch {
			case name == "input_reference[image_url]":
				name = "image_url"
			case name == "seed" && isInteger(v),
				(name == "generate_audio_switch" || name == "generate_multi_clip_switch") && (v == "true" || v == "false"):
				// A form's values are text; these fields are not.
				fields[name] = json.RawMessage(v)
				continue
			}
			fields[name] = str(v)
		}
		if fhs := r.MultipartForm.File["input_reference"]; len(fhs) > 0 {
			uri, err := dataURI(fhs[0].Header.Get("Content-Type"), func() (io.ReadCloser, error) { return fhs[0].Open() })
			if err != nil {
				return nil, "", err
			}
			fields["image_url"] = str(uri)
		}
	case mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, "", err
		}
		if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
			return b, "", nil // ParseRequest says what is wrong
		}
		if ref, ok := fields["input_reference"]; ok {
			var o struct {
				ImageURL string `json:"image_url"`
				FileID   string `json:"file_id"`
			}
			switch {
			case json.Unmarshal(ref, &o) == nil && o.ImageURL != "":
				fields["image_url"] = str(o.ImageURL)
			case o.FileID != "":
				bad = append(bad, fault.FieldError{Field: "input_reference", Message: "file_id is not supported; send input_reference.image_url (an http(s) URL or a data URI) or upload the image as multipart"})
			default:
				bad = append(bad, fault.FieldError{Field: "input_reference", Message: `Expected {"image_url": "..."} or a multipart file upload`})
			}
		}
	default:
		return nil, "", fault.Errorf(fault.UnsupportedMedia, "Unsupported Content-Type %q: send application/json or multipart/form-data", r.Header.Get("Content-Type"))
	}

	// sora-2 names, and no model, go to the first model served that /v1
	// maps to: the image-to-video and text-to-video ones.
	var models []string
	schemas := map[string]generation.Schema{}
	for _, rt := range s.Service.RoutesServed() {
		if sc := rt.Schema(); sc.Kind == generation.ImageToVideo || sc.Kind == generation.TextToVideo {
			models = append(models, rt.Model)
			schemas[rt.Model] = sc
		}
	}
	if len(models) == 0 {
		return nil, "", fault.E(fault.Invalid, "No model served here maps to /v1/videos; use POST /v2/video/generations")
	}
	out := map[string]json.RawMessage{"model": str(models[0])}
	sc := schemas[models[0]]
	var model string
	if m, ok := fields["model"]; ok && json.Unmarshal(m, &model) == nil && model != "" && !strings.HasPrefix(model, "sora-2") {
		_, served := s.Service.Route(model)
		switch {
		case slices.Contains(models, model):
			out["model"], sc = m, schemas[model]
		case served:
			bad = append(bad, fault.FieldError{Field: "model", Message: fmt.Sprintf("Model %q does not map to /v1/videos; send it to POST /v2/video/generations", model)})
		default:
			bad = append(bad, fault.FieldError{Field: "model", Message: fmt.Sprintf("Invalid model %q. Expected '%s' or a sora-2 model name (rendered as %s)", model, strings.Join(models, "' | '"), models[0])})
		}
	}
	for _, f := range append([]string{"prompt", "image_url"}, passThrough...) {
		if v, ok := fields[f]; ok {
			out[f] = v
		}
	}
	if v, ok := fields["seconds"]; ok {
		var sec string
		if json.Unmarshal(v, &sec) != nil {
			sec = string(v) // a number
		}
		var allowed []string
		for _, d := range sc.Durations {
			allowed = append(allowed, strconv.Itoa(d))
		}
		if !slices.Contains(allowed, sec) {
			bad = append(bad, fault.FieldError{Field: "seconds", Message: fmt.Sprintf("Invalid value %s. Expected '%s'", v, strings.Join(allowed, "' | '"))})
		} else {
			out["duration"] = json.RawMessage(sec)
		}
	}
	if v, ok := fields["size"]; ok {
		res, err := resolutionOf(v)
		if err != nil {
			bad = append(bad, fault.FieldError{Field: "size", Message: err.Error()})
		} else {
			out["resolution"] = str(res)
			json.Unmarshal(v, &size)
			if sc.Kind == generation.TextToVideo {
				// Without an image, the size's shape is the frame's.
				ar, err := aspectOf(size)
				if err != nil {
					bad = append(bad, fault.FieldError{Field: "size", Message: err.Error()})
				}
				out["aspect_ratio"] = str(ar)
			}
		}
	}
	if _, ok := out["image_url"]; !ok && sc.Kind == generation.ImageToVideo {
		bad = append(bad, fault.FieldError{Field: "input_reference", Message: "Required: the first frame of the video, as an image file (multipart) or input_reference.image_url"})
	}
	if len(bad) > 0 {
		return nil, "", &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Fields: bad}
	}
	body, err = json.Marshal(out)
	return body, size, err
}

// resolutionOf maps a /v1 size ("1280x720") to a resolution ("720p").
func resolutionOf(v json.RawMessage) (string, error) {
	var s string
	json.Unmarshal(v, &s)
	ws, hs, ok := strings.Cut(s, "x")
	wd, err1 := strconv.Atoi(ws)
	ht, err2 := strconv.Atoi(hs)
	if ok && err1 == nil && err2 == nil {
		switch short := min(wd, ht); short {
		case 360, 540, 720, 1080:
			return strconv.Itoa(short) + "p", nil
		case 1024:
			return "1080p", nil
		}
	}
	//lint:ignore ST1005 the text is a field error shown to clients as it is
	return "", fmt.Errorf("Invalid value %s. Expected WIDTHxHEIGHT with a short side of 360, 540, 720, 1024 or 1080, e.g. '1280x720' | '720x1280' | '1792x1024'", v)
}

// aspectOf maps a /v1 size ("1280x720") to the text-to-video aspect ratio
// of the same shape ("16:9").
func aspectOf(size string) (string, error) {
	ws, hs, _ := strings.Cut(size, "x")
	w, _ := strconv.Atoi(ws)
	h, _ := strconv.Atoi(hs)
	for _, ar := range generation.AspectRatios {
		a, b, _ := strings.Cut(ar, ":")
		n, _ := strconv.Atoi(a)
		d, _ := strconv.Atoi(b)
		if math.Abs(float64(w)*float64(d)-float64(h)*float64(n)) <= 0.02*float64(h*n) {
			return ar, nil
		}
	}
	//lint:ignore ST1005 the text is a field error shown to clients as it is
	return "", fmt.Errorf("Invalid value %q. A text-to-video size must have the shape of one of %s", size, strings.Join(generation.AspectRatios, ", "))
}

func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// dataURI reads an uploaded image into a data: URI, the form the intake
// takes inline images in.
func dataURI(contentType string, open func() (io.ReadCloser, error)) (string, error) {
	f, err := open()
	if err != nil {
		return "", fault.Wrap(fault.Invalid, "Could not read input_reference", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return "", fault.Wrap(fault.Invalid, "Could not read input_reference", err)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if !strings.HasPrefix(mt, "image/") {
		mt = http.DetectContentType(b)
	}
	var buf bytes.Buffer
	buf.WriteString("data:" + mt + ";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &buf)
	enc.Write(b)
	enc.Close()
	return buf.String(), nil
}

// getVideo serves GET /v1/videos/{id}.
func (s *Server) getVideo(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	var ok bool
	noteGeneration(r, r.PathValue("id"))
	g, err := s.Service.Get(r.Context(), k.ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if w, ok = s.pollFaulted(w, r, g); !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.videoObjectOf(g))
}

type videoList struct {
	Object  string        `json:"object"`
	Data    []videoObject `json:"data"`
	FirstID *string       `json:"first_id"`
	LastID  *string       `json:"last_id"`
	HasMore bool          `json:"has_more"`
}

// listVideos serves GET /v1/videos?after=ID&limit=N&order=asc|desc.
func (s *Server) listVideos(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	q := r.URL.Query()
	lq := generation.ListQuery{After: q.Get("after"), Limit: 20, Desc: true}
	var bad []fault.FieldError
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			bad = append(bad, fault.FieldError{Field: "limit", Message: fmt.Sprintf("Invalid value %q. Expected an integer from 1 to 100", v)})
		}
		lq.Limit = n
	}
	switch v := q.Get("order"); v {
	case "", "desc":
	case "asc":
		lq.Desc = false
	default:
		bad = append(bad, fault.FieldError{Field: "order", Message: fmt.Sprintf("Invalid enum value. Expected 'asc' | 'desc', received '%s'", v)})
	}
	if len(bad) > 0 {
		s.fail(w, r, &fault.Error{Kind: fault.Invalid, Message: "Query validation error!", Fields: bad})
		return
	}
	gs, more, err := s.page(r, k.ID, lq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := videoList{Object: "list", Data: []videoObject{}, HasMore: more}
	for _, g := range gs {
		out.Data = append(out.Data, s.videoObjectOf(g))
	}
	if len(gs) > 0 {
		first, last := gs[0].ID, gs[len(gs)-1].ID
		out.FirstID, out.LastID = &first, &last
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteVideo serves DELETE /v1/videos/{id}: a generation still queued or
// generating is cancelled (and refunded) first; then it is hidden from
// retrieve and list, and its file removed.
func (s *Server) deleteVideo(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	id := r.PathValue("id")
	noteGeneration(r, id)
	if err := s.Service.Delete(r.Context(), k.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}{id, "video.deleted", true})
}

// videoContent serves GET /v1/videos/{id}/content: variant video (the
// default) redirects to the file's signed download URL; variant thumbnail
// answers a JPEG of the first frame, when Thumbnail is set.
func (s *Server) videoContent(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	variant := r.URL.Query().Get("variant")
	switch {
	case variant == "" || variant == "video":
	case variant == "thumbnail" && s.Thumbnail != nil:
	default:
		allowed := "'video'"
		if s.Thumbnail != nil {
			allowed = "'video' | 'thumbnail'"
		}
		s.fail(w, r, &fault.Error{Kind: fault.Invalid, Message: "Query validation error!",
			Fields: []fault.FieldError{{Field: "variant", Message: fmt.Sprintf("Unsupported variant '%s'. Expected %s", variant, allowed)}}})
		return
	}
	id := r.PathValue("id")
	noteGeneration(r, id)
	g, err := s.Service.Get(r.Context(), k.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if g.Status != generation.Completed {
		s.fail(w, r, fault.Errorf(fault.Conflict, "Video %s is not completed (status %s); retrieve it until its status is completed", id, newVideoObject(g).Status))
		return
	}
	u, err := s.Service.VideoURL(r.Context(), g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if variant != "thumbnail" {
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	var jpeg bytes.Buffer
	if err := s.Thumbnail(r.Context(), u, &jpeg); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(jpeg.Len()))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(jpeg.Bytes())
}
