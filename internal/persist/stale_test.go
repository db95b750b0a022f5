package persist

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// TestFindStale: a declared entry whose copy is missing, an empty
// directory or an empty file is stale; one that holds something is not,
// nor one declared by a mount.
func TestFindStale(t *testing.T) {
	storage := t.TempDir()
	for _, d := range []string{"var/lib/full", "var/lib/empty", "etc"} {
		if err := os.MkdirAll(filepath.Join(storage, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"var/lib/full/x": "x", "etc/machine-id": "id\n", "etc/adjtime": ""} {
		if err := os.WriteFile(filepath.Join(storage, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var declared []classify.Declared
	for _, p := range []string{"/var/lib/full", "/var/lib/empty", "/var/lib/gone", "/etc/machine-id", "/etc/adjtime"} {
		declared = append(declared, classify.Declared{Path: p, Storage: storage})
	}
	declared = append(declared, classify.Declared{Path: "/mounted"})
	stale, err := FindStale(declared)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stale {
		got = append(got, s.Why+" "+s.Path)
		if s.Copy != filepath.Join(storage, s.Path) {
			t.Errorf("%s: copy %q", s.Path, s.Copy)
		}
	}
	if want := []string{"empty /var/lib/empty", "missing /var/lib/gone", "empty /etc/adjtime"}; !slices.Equal(got, want) {
		t.Errorf("stale %q, want %q", got, want)
	}
}
