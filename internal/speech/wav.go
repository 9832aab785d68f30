package speech

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"stillmotion/internal/fault"
)

// WriteWAVFile writes samples at rate Hz to a new WAV file in dir
// (os.TempDir() when "") whose name matches pattern (see os.CreateTemp),
// and returns its name; the caller removes it. A failure leaves no file
// and is a fault of kind Internal.
func WriteWAVFile(dir, pattern string, samples []int16, rate int) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fault.Wrap(fault.Internal, "creating the audio track", err)
	}
	err = WriteWAV(f, samples, rate)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fault.Wrap(fault.Internal, "writing the audio track", err)
	}
	return f.Name(), nil
}

// WriteWAV writes samples as a canonical 44-byte-header RIFF/WAVE file:
// 16-bit little-endian mono PCM at rate Hz.
func WriteWAV(w io.Writer, samples []int16, rate int) error {
	if rate <= 0 {
		return fmt.Errorf("speech: WriteWAV: invalid sample rate %d", rate)
	}
	data := 2 * len(samples)
	if int64(data) > math.MaxUint32-36 {
		return errors.New("speech: WriteWAV: too many samples for a WAV file")
	}
	b := make([]byte, 44+data)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16) // fmt chunk size
	le.PutUint16(b[20:], 1)  // PCM
	le.PutUint16(b[22:], 1)  // mono
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(rate*2)) // byte rate
	le.PutUint16(b[32:], 2)              // block align
	le.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(data))
	for i, s := range samples {
		le.PutUint16(b[44+2*i:], uint16(s))
	}
	_, err := w.Write(b)
	return err
}

// readWAV decodes a 16-bit mono PCM RIFF/WAVE file, as flite writes it. It
// walks the chunks rather than assuming a 44-byte header, and tolerates a data
// chunk whose declared size runs past the end of the file (a writer that was
// cut short).
func readWAV(b []byte) (samples []int16, rate int, err error) {
	le := binary.LittleEndian
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE file")
	}
	var haveFmt bool
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int64(le.Uint32(b[p+4:]))
		body := b[p+8:]
		if n < int64(len(body)) {
			body = body[:n]
		}
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			format, channels := le.Uint16(body[0:]), le.Uint16(body[2:])
			rate = int(le.Uint32(body[4:]))
			bits := le.Uint16(body[14:])
			if format != 1 || channels != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("unsupported WAV format %d, %d channels, %d bits; want 16-bit mono PCM", format, channels, bits)
			}
			if rate <= 0 || rate > 384000 {
				return nil, 0, fmt.Errorf("invalid WAV sample rate %d", rate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, 0, errors.New("WAV data chunk before fmt chunk")
			}
			samples = make([]int16, len(body)/2)
			for i := range samples {
				samples[i] = int16(le.Uint16(body[2*i:]))
			}
			return samples, rate, nil
		}
		p += 8 + int(n) + int(n&1) // chunks are padded to an even size
	}
	return nil, 0, errors.New("WAV file has no data chunk")
}
