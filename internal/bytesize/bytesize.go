// Package bytesize writes byte counts the way messages state limits and
// amounts: in the largest binary unit that fits, whole when exact, else to
// one decimal.
package bytesize

import "fmt"

// Format returns n bytes in words: "20 MiB", "512 KiB", "1.5 GiB", "900
// bytes".
func Format(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		switch {
		case n >= u.size && n%u.size == 0:
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		case n >= u.size:
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
