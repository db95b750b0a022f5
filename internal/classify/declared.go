package classify

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// User is an account of the audited root, from its /etc/passwd.
type User struct {
	Name     string
	UID, GID int
	Home     string
}

// ParsePasswd reads passwd(5) lines; malformed ones are skipped.
func ParsePasswd(data []byte) []User {
	var users []User
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		users = append(users, User{Name: f[0], UID: uid, GID: gid, Home: f[5]})
	}
	return users
}

// ParseGroup reads group(5) lines into a map from GID to name; malformed
// ones are skipped.
func ParseGroup(data []byte) map[int]string {
	groups := map[int]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		if gid, err := strconv.Atoi(f[2]); err == nil {
			groups[gid] = f[0]
		}
	}
	return groups
}

// Homes returns the home directories of people's accounts: root's and
// those of ordinary users (UID 1000 to 65533). Service accounts often have
// a home under /var/lib that is service state, not a home.
func Homes(users []User) []string {
	var homes []string
	for _, u := range users {
		if (u.UID == 0 || u.UID >= 1000 && u.UID < 65534) && path.IsAbs(u.Home) && u.Home != "/" && u.Home != "/var/empty" {
			homes = append(homes, path.Clean(u.Home))
		}
	}
	slices.Sort(homes)
	return slices.Compact(homes)
}

// persistenceLocation is one storage location of the JSON of
// config.environment.persistence (impermanence) or
// config.preservation.preserveAt (preservation): both map a storage path
// to lists of directories and files, system-wide and per user.
type persistenceLocation struct {
	Enable      *bool                         `json:"enable"`
	Directories []persistenceEntry            `json:"directories"`
	Files       []persistenceEntry            `json:"files"`
	Users       map[string]persistenceEntries `json:"users"`
}

type persistenceEntries struct {
	Home        string             `json:"home"`
	Directories []persistenceEntry `json:"directories"`
	Files       []persistenceEntry `json:"files"`
}

// persistenceEntry is a string or an attrset with directory or file, as
// the options' coercedTo types allow.
type persistenceEntry struct {
	path string
	// intermediate is a parent directory that preservation's evaluated
	// options add (how = "_intermediate") so that it can create it with
	// the right owner: it is created, not persisted.
	intermediate bool
}

func (e *persistenceEntry) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		e.path = s
		return nil
	}
	var attrs struct {
		Directory *string `json:"directory"`
		File      *string `json:"file"`
		How       string  `json:"how"`
	}
	if err := json.Unmarshal(b, &attrs); err != nil {
		return err
	}
	switch {
	case attrs.Directory != nil:
		e.path = *attrs.Directory
	case attrs.File != nil:
		e.path = *attrs.File
	default:
		return fmt.Errorf("entry %s has neither directory nor file", b)
	}
	e.intermediate = attrs.How == "_intermediate"
	return nil
}

// MaxDeclaredSize is the most bytes of declared persistence ParseDeclared
// takes: a host's is a few kilobytes.
const MaxDeclaredSize = 16 << 20

// ParseDeclared reads the JSON of
//
//	nix eval --json FLAKE#nixosConfigurations.HOST.config.environment.persistence
//	nix eval --json FLAKE#nixosConfigurations.HOST.config.preservation.preserveAt
//
// and returns every declared path with the storage paths. users gives the
// homes of users.<name> entries, whose paths are relative to the home.
// It refuses more than MaxDeclaredSize bytes (a caller reads at most one
// more); encoding/json refuses nesting deeper than 10,000.
func ParseDeclared(data []byte, users []User) (declared []Declared, storage []string, err error) {
	if len(data) > MaxDeclaredSize {
		return nil, nil, fmt.Errorf("%w: declared persistence may have at most %d bytes", ErrTooLarge, MaxDeclaredSize)
	}
	var locations map[string]persistenceLocation
	if err := json.Unmarshal(data, &locations); err != nil {
		return nil, nil, fmt.Errorf("want the JSON of environment.persistence or preservation.preserveAt: %w", err)
	}
	homes := map[string]string{}
	for _, u := range users {
		homes[u.Name] = u.Home
	}
	for _, where := range slices.Sorted(maps.Keys(locations)) {
		loc := locations[where]
		if loc.Enable != nil && !*loc.Enable {
			continue
		}
		storage = append(storage, where)
		add := func(home string, entries []persistenceEntry, kind string) {
			for _, e := range entries {
				if e.intermediate {
					continue
				}
				p := path.Clean("/" + e.path)
				// A user's entries are relative to the home (impermanence's
				// concatPaths ignores a leading /), except in preservation's
				// evaluated options, which already hold the absolute path.
				if home != "" && p != home && !strings.HasPrefix(p, home+"/") {
					p = path.Join(home, p)
				}
				declared = append(declared, Declared{Path: p, Storage: where, Reason: fmt.Sprintf("declared in %q %s", where, kind)})
			}
		}
		add("", loc.Directories, "directories")
		add("", loc.Files, "files")
		for _, name := range slices.Sorted(maps.Keys(loc.Users)) {
			u := loc.Users[name]
			home := cmp.Or(u.Home, homes[name], "/home/"+name)
			if name == "root" && u.Home == "" && homes[name] == "" {
				home = "/root"
			}
			add(home, u.Directories, "users."+name+".directories")
			add(home, u.Files, "users."+name+".files")
		}
	}
	return declared, storage, nil
}
