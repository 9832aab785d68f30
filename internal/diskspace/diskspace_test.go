package diskspace

import (
	"errors"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

func TestFree(t *testing.T) {
	if n, err := Free(t.TempDir()); err != nil || n <= 0 {
		t.Errorf("Free = %d, %v", n, err)
	}
	if _, err := Free("/nonexistent/dir"); err == nil {
		t.Error("Free of a missing directory succeeded")
	}
}

func TestFloor(t *testing.T) {
	free := map[string]int64{"/data": 5 << 30, "/tmp": 100 << 20}
	f := &Floor{Min: 1 << 30, Dirs: []string{"/data", "/tmp", "/gone"}, Free: func(d string) (int64, error) {
		if n, ok := free[d]; ok {
			return n, nil
		}
		return 0, errors.New("no such directory")
	}}
	err := f.Check()
	if fault.KindOf(err) != fault.StorageFull || !strings.Contains(err.Error(), "100 MiB free on /tmp, below the 1 GiB floor") {
		t.Errorf("Check = %v, want /tmp named", err)
	}
	free["/tmp"] = 2 << 30
	if err := f.Check(); err != nil {
		t.Errorf("Check with room = %v", err)
	}
	if err := (&Floor{}).Check(); err != nil {
		t.Errorf("no floor: %v", err)
	}
}
