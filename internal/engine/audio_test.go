package engine

import (
	"math"
	"testing"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/generation"
	"stillmotion/internal/prompt"
	"stillmotion/internal/speech"
)

func rmsDB(s []int16) float64 {
	var sum float64
	for _, v := range s {
		f := float64(v) / 32768
		sum += f * f
	}
	if sum == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sum/float64(len(s)))
}

func TestSoundtrack(t *testing.T) {
	if ambience.SampleRate != speech.SampleRate {
		t.Fatalf("ambience at %d Hz, speech at %d Hz", ambience.SampleRate, speech.SampleRate)
	}
	length := 5 * time.Second
	n := int(length.Seconds() * speech.SampleRate)
	voice := &speech.Audio{Samples: make([]int16, speech.SampleRate)}
	for i := range voice.Samples {
		voice.Samples[i] = int16(8000 * math.Sin(2*math.Pi*220*float64(i)/speech.SampleRate))
	}
	tests := []struct {
		name         string
		prompt, neg  string
		audio        *speech.Audio
		minDB, maxDB float64
	}{
		{"rain alone is audible", "heavy rain on the window", "", nil, -40, -10},
		{"quiet room is quiet but not digital silence", "a portrait", "", nil, -80, -35},
		{"speech over a bed", "waves crash on the beach", "", voice, -40, -5},
		{"storm", "a storm with lightning over the city", "", nil, -40, -8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &generation.Request{Prompt: tt.prompt, NegativePrompt: tt.neg, Seed: 5}
			s := soundtrack(req, tt.audio, length)
			if len(s) != n {
				t.Fatalf("%d samples, want %d", len(s), n)
			}
			if db := rmsDB(s); db < tt.minDB || db > tt.maxDB {
				t.Errorf("level %.1f dBFS, want %.0f..%.0f", db, tt.minDB, tt.maxDB)
			}
			if again := soundtrack(req, tt.audio, length); rmsDB(again) != rmsDB(s) {
				t.Error("not deterministic")
			}
		})
	}
}

func TestSoundtrackThunderFollowsLightning(t *testing.T) {
	storm := &generation.Request{Prompt: "a storm with lightning over the city", Seed: 5}
	calm := &generation.Request{Prompt: storm.Prompt, NegativePrompt: "lightning", Seed: 5}
	a, b := soundtrack(storm, nil, 5*time.Second), soundtrack(calm, nil, 5*time.Second)
	ev := ambience.Lightning(prompt.Read(storm.Prompt, storm.NegativePrompt), 5*time.Second, 5)
	if len(ev) == 0 {
		t.Fatal("no lightning planned for a prompt that asks for it")
	}
	// Around the first flash, the storm has a crack the calm clip lacks.
	at := int(ev[0].At.Seconds() * speech.SampleRate)
	win := speech.SampleRate / 24
	if rmsDB(a[at:at+win]) < rmsDB(b[at:at+win])+3 {
		t.Errorf("no thunder at the flash: %.1f vs %.1f dBFS", rmsDB(a[at:at+win]), rmsDB(b[at:at+win]))
	}
}
