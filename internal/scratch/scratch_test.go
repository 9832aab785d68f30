package scratch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSweep(t *testing.T) {
	const maxAge = 20 * time.Minute
	now := time.Now()
	old, recent := now.Add(-maxAge-time.Minute), now.Add(-maxAge+time.Minute)
	// Paths under the root; this process is 100, 200 runs, 300 has died.
	tests := []struct {
		name     string
		files    map[string]time.Time // file path: its mtime
		dirs     map[string]time.Time // directory path: its mtime, set after its files
		wantGone []string
	}{
		{
			name:     "an old file of this process's dead render",
			files:    map[string]time.Time{"100/out.mp4": old, "100/live.mp4": recent},
			wantGone: []string{"100/out.mp4"},
		},
		{
			name:     "a dead render's directory, all of it old",
			files:    map[string]time.Time{"100/comfyui-1/a.png": old, "100/comfyui-1/b.wav": old},
			dirs:     map[string]time.Time{"100/comfyui-1": old},
			wantGone: []string{"100/comfyui-1"},
		},
		{
			name:  "a live render's old directory holding a file it writes",
			files: map[string]time.Time{"100/comfyui-2/a.png": old, "100/comfyui-2/out.mp4": recent},
			dirs:  map[string]time.Time{"100/comfyui-2": old},
		},
		{
			name:  "a directory just made, holding an old file moved in",
			files: map[string]time.Time{"100/comfyui-3/in.png": old},
			dirs:  map[string]time.Time{"100/comfyui-3": recent},
		},
		{
			name:  "this process's own directory, empty and old",
			dirs:  map[string]time.Time{"100": old},
			files: map[string]time.Time{},
		},
		{
			name:  "a running process's old files",
			files: map[string]time.Time{"200/out.mp4": old},
			dirs:  map[string]time.Time{"200": old},
		},
		{
			name:     "a dead process's directory, however recent",
			files:    map[string]time.Time{"300/out.mp4": recent},
			wantGone: []string{"300"},
		},
		{
			name:  "loose entries, left to ClearDead at start",
			files: map[string]time.Time{"stray.mp4": old, "notapid/out.mp4": old},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"100", "200"} {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for p, mtime := range tt.files {
				p = filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
			for p, mtime := range tt.dirs {
				if err := os.Chtimes(filepath.Join(root, p), mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
			s := &Sweeper{Root: root, PID: 100, MaxAge: maxAge, alive: func(pid int) bool { return pid == 200 }}
			removed, err := s.Sweep(now)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, p := range tt.wantGone {
				want = append(want, filepath.Join(root, p))
			}
			slices.Sort(removed)
			slices.Sort(want)
			if !slices.Equal(removed, want) {
				t.Errorf("removed %v, want %v", removed, want)
			}
			for p := range tt.files {
				gone := slices.ContainsFunc(tt.wantGone, func(g string) bool { return p == g || filepath.Dir(p) == g })
				if _, err := os.Stat(filepath.Join(root, p)); os.IsNotExist(err) != gone {
					t.Errorf("%s: removed %v, want %v", p, !gone, gone)
				}
			}
			for _, d := range []string{"100", "200"} {
				if _, err := os.Stat(filepath.Join(root, d)); err != nil {
					t.Errorf("the directory of running process %s: %v", d, err)
				}
			}
		})
	}
}

// TestSweepWithoutMaxAge: a Sweeper not told how long renders run leaves
// this process's files alone, however old.
func TestSweepWithoutMaxAge(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "100", "out.mp4")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-24 * time.Hour)
	os.Chtimes(p, old, old)
	s := &Sweeper{Root: root, PID: 100, alive: func(int) bool { return false }}
	if removed, err := s.Sweep(time.Now()); len(removed) > 0 || err != nil {
		t.Errorf("Sweep = %v, %v; want nothing removed", removed, err)
	}
}

func TestClearDead(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"100/a", "200/b", "300/c", "stray.mp4"} {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &Sweeper{Root: root, PID: 100, alive: func(pid int) bool { return pid == 200 }}
	s.ClearDead()
	var left []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"100", "200"}) {
		t.Errorf("left %v, want this process's and the running one's", left)
	}
}

func TestRunning(t *testing.T) {
	if !running(os.Getpid()) {
		t.Error("this process is not running")
	}
	if running(1 << 30) {
		t.Error("a pid above the kernel's limit is running")
	}
}
