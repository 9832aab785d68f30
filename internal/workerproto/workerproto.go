// Package workerproto is the wire format of the remote worker protocol: a
// machine that reaches only the API (a GPU box behind NAT, a rented
// instance) leases render jobs over HTTPS, renews its lease with progress,
// uploads the video and completes the job, or reports its failure. The
// server side is in package api, the reference worker in package remote;
// docs/remote-workers.md describes the protocol for other languages.
//
// Every call but an input's download carries the worker token as
// "Authorization: Bearer TOKEN".
package workerproto

import (
	"encoding/json"
	"time"
)

// The routes. {id} is a lease id, {part} a part number from 1, {field} a
// URL field of the request (image_url, tail_image_url, video_url,
// audio_url).
const (
	// LeasesPath takes a lease: POST a LeaseRequest; the answer is a Lease
	// (200) or nothing to do within the wait (204).
	LeasesPath = "/v2/worker/leases"
	// HeartbeatPath renews a lease: POST a Heartbeat, answered with a
	// HeartbeatReply.
	HeartbeatPath = LeasesPath + "/{id}/heartbeat"
	// PartPath uploads a part of the output: PUT the bytes with
	// SHA256Header.
	PartPath = LeasesPath + "/{id}/output/{part}"
	// CompletePath completes the job: POST a Completion.
	CompletePath = LeasesPath + "/{id}/complete"
	// FailPath reports that the render failed: POST a Failure.
	FailPath = LeasesPath + "/{id}/fail"
	// ReleasePath hands the job back, not counted as an attempt (the
	// worker is stopping): POST with no body.
	ReleasePath = LeasesPath + "/{id}/release"
	// InputPath serves an input file of the leased generation while the
	// lease lasts; the URL is the credential, so that the worker may hand
	// it to a local model server.
	InputPath = LeasesPath + "/{id}/inputs/{field}"
)

// SHA256Header carries the hex SHA-256 of an uploaded part.
const SHA256Header = "X-Content-Sha256"

// MaxPartBytes is the largest part of an upload.
const MaxPartBytes = 64 << 20

// MaxWait is the longest a lease request waits for work.
const MaxWait = 30 * time.Second

// LeaseRequest asks for a job.
type LeaseRequest struct {
	// Queues are the render queues to take from (render_ENGINE); empty
	// means every queue of the token.
	Queues []string `json:"queues,omitempty"`
	// WaitSeconds is how long to wait for a job before answering 204 (a
	// long poll), at most MaxWait; 0 answers at once.
	WaitSeconds float64 `json:"wait_seconds,omitempty"`
}

// Lease is a job lent to the worker.
type Lease struct {
	ID           string `json:"lease_id"`
	GenerationID string `json:"generation_id"`
	// Engine is the engine to render with: the name the server's engines
	// file gives it, which the worker's own engines file must use too.
	Engine      string `json:"engine"`
	Queue       string `json:"queue"`
	Attempt     int    `json:"attempt"`
	MaxAttempts int    `json:"max_attempts"`
	// Request is the generation's request, as the server validated it,
	// its seed fixed; its URL fields name the Inputs.
	Request json.RawMessage `json:"request"`
	// Inputs are the URLs of the request's input files by URL field,
	// relative to the API's base URL: fetch them from the API.
	Inputs map[string]string `json:"inputs,omitempty"`
	// Script is a test generation's script (test mode), for the scripted
	// engine.
	Script string `json:"script,omitempty"`
	// State is what an earlier attempt's engine saved (Heartbeat.State),
	// to resume a job on a model server instead of submitting it again.
	State string `json:"state,omitempty"`
	// ExpiresAt is when the lease ends unless renewed; Deadline, the
	// attempt's time limit, past which it cannot be renewed.
	ExpiresAt time.Time `json:"expires_at"`
	Deadline  time.Time `json:"deadline"`
	// HeartbeatMillis is how often to send a Heartbeat.
	HeartbeatMillis int64 `json:"heartbeat_interval_ms"`
}

// Heartbeat renews a lease.
type Heartbeat struct {
	// Progress is how far the render is, 0 to 1.
	Progress float64 `json:"progress"`
	// State, if set, is saved for the next attempt (see Lease.State).
	State string `json:"state,omitempty"`
}

// HeartbeatReply answers a Heartbeat.
type HeartbeatReply struct {
	// Cancelled says the generation was cancelled: stop rendering and
	// drop the job; the lease has ended.
	Cancelled bool `json:"cancelled"`
	// ExpiresAt is the lease's new end.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Part acknowledges an uploaded part.
type Part struct {
	Part   int    `json:"part"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Completion completes a job whose output was uploaded in Parts parts
// (1 to Parts), which together make Size bytes with hex SHA-256 SHA256.
type Completion struct {
	Parts  int    `json:"parts"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Output Output `json:"output"`
}

// Output describes the video: what the engine reports about it.
type Output struct {
	Width    int      `json:"width"`
	Height   int      `json:"height"`
	Duration float64  `json:"duration"`
	FPS      int      `json:"fps"`
	HasAudio bool     `json:"has_audio"`
	Plan     string   `json:"plan,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Failure reports that the render failed.
type Failure struct {
	Error Error `json:"error"`
}

// Error is a failure's name (a generation's error.name: render_failed,
// input_rejected, upstream_unavailable, timeout...) and message, which the
// client sees if the generation fails.
type Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// FailureReply answers a Failure.
type FailureReply struct {
	// Retried says the job will be tried again (by any worker); otherwise
	// the generation failed.
	Retried bool `json:"retried"`
}
