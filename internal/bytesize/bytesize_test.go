package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 900: "900 bytes", 1024: "1 KiB", 1536: "1.5 KiB", 20 << 20: "20 MiB",
		32<<20 + 1: "32.0 MiB", 1 << 30: "1 GiB", 3<<30 + 1<<29: "3.5 GiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
