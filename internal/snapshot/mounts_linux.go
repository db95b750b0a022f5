package snapshot

import (
	"fmt"
	"os"
)

// MountTable reads this process's mount table (/proc/self/mountinfo).
func MountTable() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	defer f.Close()
	return ParseMountInfo(f)
}
