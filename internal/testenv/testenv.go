package testenv

import (
	"os"
	"testing"
)

// SkipOrFail ends t for want of what reason says ("needs root to mount
// btrfs images"): a skip, or a failure when the CI variable is set.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s, and CI is set: CI must run this test", reason)
	}
	t.Skip(reason)
}
