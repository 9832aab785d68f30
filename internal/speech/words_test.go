package speech

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// timed builds a contiguous phone timeline of 100 ms phones from symbols.
func timed(symbols string) []Phone {
	var phones []Phone
	for i, s := range strings.Fields(symbols) {
		phones = append(phones, Phone{s, ms(100 * i), ms(100 * (i + 1))})
	}
	return phones
}

func groupsOf(s string) [][]string {
	var g [][]string
	for _, w := range strings.Split(s, "|") {
		g = append(g, strings.Fields(w))
	}
	return g
}

func TestAlignWords(t *testing.T) {
	tests := []struct {
		name   string
		phones string
		groups string
		names  []string
		want   string // "text:start-end" in units of 100 ms; "" for nil
	}{
		{"exact", "hh ax l ow w er l d pau", "hh ax l ow|w er l d", []string{"hello", "world"},
			"hello:0-4 world:4-8"},
		{"unnamed", "hh ax l ow w er l d", "hh ax l ow|w er l d", nil, ":0-4 :4-8"},
		{"pause splits", "a b pau c d", "a b|c d", nil, ":0-2 :3-5"},
		{"substitution", "jh ah m p s ow v er", "jh aa m p s|ow v er", nil, ":0-5 :5-8"},
		{"insertion joins previous", "d ao g z k ae t", "d ao g|k ae t", nil, ":0-4 :4-7"},
		{"different reading", "d ow n t b iy l ey t d r ay v s m ih th", "d ow n t|b iy|l ey t|d aa k t er|s m ih th", nil,
			":0-4 :4-6 :6-9 :9-13 :13-17"},
		{"too different", "a b c d e", "v w|x y z", nil, ""},
		{"no speech", "pau pau", "a", nil, ""},
		{"no groups", "a b", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words := alignWords(timed(tt.phones), groupsOf(tt.groups), tt.names)
			var got []string
			for _, w := range words {
				got = append(got, fmt.Sprintf("%s:%d-%d", w.Text, w.Start/(100*time.Millisecond), w.End/(100*time.Millisecond)))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("alignWords = %q, want %q", g, tt.want)
			}
		})
	}
}

func TestFliteWords(t *testing.T) {
	needFlite(t)
	tests := []struct {
		text, voice, want string
	}{
		{"The quick brown fox.", "Ava", "The quick brown fox"},
		{"Don't be late, Dr. Smith!", "Jack", "Don't be late Doctor Smith"},
		{"It costs $5 - really.", "James", "It costs five dollars really"},
		{"Meet me at 10:30pm, e.g. on 3/4/2021.", "Oliver", "Meet me at ten thirty P M for example on March fourth twenty twenty-one"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			a := synth(t, tt.text, tt.voice)
			var got []string
			var prev time.Duration
			for _, w := range a.Words {
				got = append(got, w.Text)
				if w.Start < prev || w.End <= w.Start || w.End > a.Duration() {
					t.Errorf("word %v out of order or out of the audio", w)
				}
				prev = w.End
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("words %q, want %q", g, tt.want)
			}
		})
	}
}
