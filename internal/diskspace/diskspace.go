// Package diskspace tells whether the directories a server writes to have
// room: renders and uploads stop with a clear error before a full disk
// fails them halfway.
package diskspace

import (
	"fmt"
	"syscall"

	"stillmotion/internal/bytesize"
	"stillmotion/internal/fault"
)

// Free returns the bytes an unprivileged process may still write on the
// file system of dir.
func Free(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Floor checks directories against a floor of free space.
type Floor struct {
	Min  int64    // bytes; 0 checks nothing
	Dirs []string // the data dir, the temp dir
	// Free measures a directory; defaults to the package's Free. Tests
	// set it.
	Free func(dir string) (int64, error)
}

// Check returns a fault.StorageFull error naming the first directory with
// less than f.Min bytes free, or nil. A directory that cannot be measured
// is not held against the server.
func (f *Floor) Check() error {
	if f == nil || f.Min <= 0 {
		return nil
	}
	free := f.Free
	if free == nil {
		free = Free
	}
	for _, d := range f.Dirs {
		n, err := free(d)
		if err == nil && n < f.Min {
			return fault.Errorf(fault.StorageFull, "Storage is nearly full: %s free on %s, below the %s floor; retry later (operators: free space, or lower --min-free-mb)",
				bytesize.Format(n), d, bytesize.Format(f.Min))
		}
	}
	return nil
}

// String describes the floor for logs.
func (f *Floor) String() string { return fmt.Sprintf("%s free on %v", bytesize.Format(f.Min), f.Dirs) }
