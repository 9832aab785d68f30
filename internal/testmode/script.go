// Package testmode reads the scripts that make a test key's generation
// behave as the hosted service does on a bad day: how long it stays queued
// and generating, how it ends, and which HTTP faults its submit and polls
// meet. A script is sent in the X-Stillmotion-Script header, in a compact
// form:
//
//	queue=3s;generate=10s;then=error:image_fetch_failed
//	poll=2:429,4:504;retry_after=5;then=succeeded
//
// Parse reads it; Script.String writes it back in canonical order.
package testmode

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/fault"
)

// Limits of a script's values.
const (
	// MaxWait bounds queue and generate: a script is for tests, which
	// should not wait longer.
	MaxWait = 10 * time.Minute
	// MaxPoll is the highest poll number a fault may be put on.
	MaxPoll = 1000
	// MaxRetryAfter bounds retry_after.
	MaxRetryAfter = 3600
	// MaxMessage bounds an error's message, in bytes.
	MaxMessage = 500
	// MaxLen bounds a whole script, in bytes.
	MaxLen = 2048
)

// Fault is what an HTTP answer is made to be instead of the real one.
type Fault string

// The faults a script can put on a submit or a poll.
const (
	TooMany     Fault = "429"   // 429 with Retry-After
	Internal    Fault = "500"   // 500 in the error shape
	BadGateway  Fault = "502"   // 502, as a proxy in front gives
	Unavailable Fault = "503"   // 503 with Retry-After
	Timeout     Fault = "504"   // 504 "Generation timeout"
	Reset       Fault = "reset" // the connection is closed without an answer
	Slow        Fault = "slow"  // the right answer, its body sent slowly
)

// Faults are every Fault, in the order the docs list them.
var Faults = []Fault{TooMany, Internal, BadGateway, Unavailable, Timeout, Reset, Slow}

// Render says what makes a scripted generation's video.
type Render string

// The renders.
const (
	// Fast gives a tiny valid MP4 at once, without an engine.
	Fast Render = "fast"
	// Real renders the request with the engine its model is routed to.
	Real Render = "real"
)

// End is how a scripted generation ends.
type End struct {
	// Status is "completed", "succeeded" or "error".
	Status string
	// Name and Message are the error's, for Status "error"; an empty
	// Message gets the usual one for Name.
	Name, Message string
}

// The end statuses.
var endStatuses = []string{"completed", "succeeded", "error"}

// Script is a parsed script. Its zero value is a generation that behaves
// as a real one would, rendered fast.
type Script struct {
	Queue, Generate time.Duration // time spent queued, then generating
	Then            End           // the end; zero: completed
	// Submit is a fault on every submit with this script ("" for none);
	// Submits maps the number of a submit with this script from one key
	// (1 for the first, counted by each API process) to its fault, so a
	// client that retries gets through.
	Submit  Fault
	Submits map[int]Fault
	// Polls maps a poll's number (1 for the first) to its fault.
	Polls      map[int]Fault
	RetryAfter int // seconds, of a 429 or 503 fault; 0: the default
	Render     Render
	Preset     string // a name from Presets; "" for none
}

// keys are a script's keys in canonical order.
var keys = []string{"queue", "generate", "then", "submit", "poll", "retry_after", "render", "preset"}

// Error is a script that cannot be read: what is wrong, and what is allowed.
type Error struct{ Msg string }

func (e *Error) Error() string { return "X-Stillmotion-Script: " + e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Parse reads a script. Its *Error names the first thing wrong and what
// is allowed there.
func Parse(s string) (*Script, error) {
	if len(s) > MaxLen {
		return nil, errorf("the script is %d bytes; at most %d", len(s), MaxLen)
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] == 0x7f {
			return nil, errorf("the script holds a control character at byte %d", i)
		}
	}
	sc := &Script{}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return nil, errorf("%q is not key=value; the keys are %s", clip(item), strings.Join(keys, ", "))
		}
		if !slices.Contains(keys, k) {
			return nil, errorf("unknown key %q; the keys are %s", clip(k), strings.Join(keys, ", "))
		}
		if seen[k] {
			return nil, errorf("%s is given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "queue":
			sc.Queue, err = wait(k, v)
		case "generate":
			sc.Generate, err = wait(k, v)
		case "then":
			sc.Then, err = end(v)
		case "submit":
			if strings.Contains(v, ":") {
				sc.Submits, err = numbered(k, v)
			} else {
				sc.Submit, err = faultOf(k, v)
			}
		case "poll":
			sc.Polls, err = numbered(k, v)
		case "retry_after":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 || n > MaxRetryAfter {
				err = errorf("retry_after=%q: want whole seconds from 1 to %d", clip(v), MaxRetryAfter)
			}
			sc.RetryAfter = n
		case "render":
			sc.Render = Render(v)
			if sc.Render != Fast && sc.Render != Real {
				err = errorf("render=%q: want fast or real", clip(v))
			}
		case "preset":
			if _, ok := PresetNamed(v); !ok {
				err = errorf("preset=%q: want one of %s", clip(v), strings.Join(PresetNames(), ", "))
			}
			sc.Preset = v
		}
		if err != nil {
			return nil, err
		}
	}
	return sc, nil
}

func wait(k, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > MaxWait {
		return 0, errorf("%s=%q: want a duration such as 3s, 1500ms or 2m, from 0 to %s", k, clip(v), MaxWait)
	}
	return d, nil
}

func end(v string) (End, error) {
	status, rest, hasName := strings.Cut(v, ":")
	if !slices.Contains(endStatuses, status) {
		return End{}, errorf("then=%q: want completed, succeeded or error:NAME[:MESSAGE]", clip(v))
	}
	if status != "error" {
		if hasName {
			return End{}, errorf("then=%q: only an error has a name", clip(v))
		}
		return End{Status: status}, nil
	}
	name, msg, _ := strings.Cut(rest, ":")
	if k, ok := fault.Named(name); !hasName || !ok || !slices.Contains(fault.Ending(), k) {
		return End{}, errorf("then=%q: want error:NAME[:MESSAGE], NAME one of %s", clip(v), strings.Join(endingNames(), ", "))
	}
	if len(msg) > MaxMessage || strings.TrimSpace(msg) != msg {
		return End{}, errorf("then: the message is %d bytes, at most %d, without spaces around it", len(msg), MaxMessage)
	}
	return End{Status: status, Name: name, Message: msg}, nil
}

// endingNames are the error.name values a generation can end with.
func endingNames() []string {
	var n []string
	for _, k := range fault.Ending() {
		n = append(n, k.String())
	}
	return n
}

func faultOf(k, v string) (Fault, error) {
	f := Fault(v)
	if !slices.Contains(Faults, f) {
		names := make([]string, len(Faults))
		for i, f := range Faults {
			names[i] = string(f)
		}
		return "", errorf("%s=%q: want one of %s", k, clip(v), strings.Join(names, ", "))
	}
	return f, nil
}

// numbered reads N:FAULT[,N:FAULT...] of key k (poll or submit).
func numbered(k, v string) (map[int]Fault, error) {
	m := map[int]Fault{}
	for p := range strings.SplitSeq(v, ",") {
		ns, fs, ok := strings.Cut(strings.TrimSpace(p), ":")
		n, err := strconv.Atoi(ns)
		if !ok || err != nil || n < 1 || n > MaxPoll {
			return nil, errorf("%s=%q: want N:FAULT[,N:FAULT...], N the %s's number from 1 to %d", k, clip(v), k, MaxPoll)
		}
		if _, dup := m[n]; dup {
			return nil, errorf("%s %d is given twice", k, n)
		}
		f, err := faultOf(k, fs)
		if err != nil {
			return nil, err
		}
		m[n] = f
	}
	return m, nil
}

func numberedString(m map[int]Fault) string {
	ns := make([]int, 0, len(m))
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	ps := make([]string, len(ns))
	for i, n := range ns {
		ps[i] = strconv.Itoa(n) + ":" + string(m[n])
	}
	return strings.Join(ps, ",")
}

// clip keeps an echoed value short.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// String writes the script in canonical form: Parse(s.String()) is s.
func (s *Script) String() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+v) }
	if s.Queue > 0 {
		add("queue", s.Queue.String())
	}
	if s.Generate > 0 {
		add("generate", s.Generate.String())
	}
	if s.Then.Status != "" {
		v := s.Then.Status
		if s.Then.Status == "error" {
			v += ":" + s.Then.Name
			if s.Then.Message != "" {
				v += ":" + s.Then.Message
			}
		}
		add("then", v)
	}
	if s.Submit != "" {
		add("submit", string(s.Submit))
	}
	if len(s.Submits) > 0 {
		add("submit", numberedString(s.Submits))
	}
	if len(s.Polls) > 0 {
		add("poll", numberedString(s.Polls))
	}
	if s.RetryAfter > 0 {
		add("retry_after", strconv.Itoa(s.RetryAfter))
	}
	if s.Render != "" {
		add("render", string(s.Render))
	}
	if s.Preset != "" {
		add("preset", s.Preset)
	}
	return strings.Join(parts, ";")
}
