package testmode

import "testing"

func TestMagic(t *testing.T) {
	for _, m := range MagicSeeds {
		if _, err := Parse(m.Script); err != nil {
			t.Errorf("seed %d: %v", m.Seed, err)
		}
	}
	for _, tt := range []struct {
		seed      int64
		seedGiven bool
		prompt    string
		want      string
		ok        bool
	}{
		{4000001, true, "a cat", "then=error:image_fetch_failed", true},
		{4000001, false, "a cat", "", false}, // a seed left out is not a magic one
		{4000002, true, "a dog [stillmotion-script: queue=1s; then=succeeded ] running", "queue=1s; then=succeeded", true},
		{7, true, "a cat", "", false},
		{7, true, "a cat [stillmotion-script:]", "", true},
	} {
		got, ok := Magic(tt.seed, tt.seedGiven, tt.prompt)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Magic(%d, %v, %q) = %q, %v; want %q, %v", tt.seed, tt.seedGiven, tt.prompt, got, ok, tt.want, tt.ok)
		}
	}
}
