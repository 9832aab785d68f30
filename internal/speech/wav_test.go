package speech

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestWriteWAV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteWAV(&buf, []int16{0, 1, -1, 32767, -32768}, 48000); err != nil {
		t.Fatal(err)
	}
	want := "52494646" + "2e000000" + "57415645" + // RIFF, 36+10, WAVE
		"666d7420" + "10000000" + "0100" + "0100" + "80bb0000" + "00770100" + "0200" + "1000" +
		"64617461" + "0a000000" + "0000" + "0100" + "ffff" + "ff7f" + "0080"
	if got := hex.EncodeToString(buf.Bytes()); got != want {
		t.Errorf("WriteWAV wrote\n%s\nwant\n%s", got, want)
	}
}

func TestReadWAV(t *testing.T) {
	samples := []int16{5, -6, 7, 32767, -32768}
	var buf bytes.Buffer
	if err := WriteWAV(&buf, samples, 16000); err != nil {
		t.Fatal(err)
	}
	canonical := buf.Bytes()
	// An odd-sized LIST chunk before data, padded to even, as some writers add.
	extra := append([]byte(nil), canonical[:36]...)
	extra = append(extra, "LIST\x03\x00\x00\x00abc\x00"...)
	extra = append(extra, canonical[36:]...)
	// A data size that runs past the end, as from a writer that was cut short.
	long := append([]byte(nil), canonical...)
	long[40] = 0xff

	tests := []struct {
		name string
		in   []byte
		want []int16
		ok   bool
	}{
		{"canonical", canonical, samples, true},
		{"extra chunk", extra, samples, true},
		{"long data size", long, samples, true},
		{"empty", nil, nil, false},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE"), nil, false},
		{"no data", canonical[:36], nil, false},
		{"stereo", func() []byte { b := bytes.Clone(canonical); b[22] = 2; return b }(), nil, false},
		{"8 bit", func() []byte { b := bytes.Clone(canonical); b[34] = 8; return b }(), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rate, err := readWAV(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("readWAV error = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if rate != 16000 || !equalInt16(got, tt.want) {
				t.Errorf("readWAV = %v at %d Hz, want %v at 16000 Hz", got, rate, tt.want)
			}
		})
	}
}

func equalInt16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
