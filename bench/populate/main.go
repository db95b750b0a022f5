//go:build linux

// Command populate fills a directory with a deterministic, NixOS-root-like
// tree of exactly N new entries, for benchmarking fsdiff against fs-diff.sh:
//
//	go run ./bench/populate -n 300000 DIR
//
// The mix is about 8% directories (service, cache, log and home trees nested
// 2-4 levels below var/lib, var/cache, var/log, home/alice and root, such as
// var/lib/svc042/d01/d03), 10% symbolic links (mostly into /nix/store, some
// relative), 1% empty files and the rest small regular files of 4 bytes to
// 8 KiB of text. Every regular file but the empty ones has content, so that
// `btrfs subvolume find-new` (which lists file extents) sees it.
//
// The whole tree (names, modes, sizes, contents, link targets) is planned
// from -seed before anything is created, so a given -n and -seed always give
// the same tree; only inode numbers and creation order vary, since entries are
// created by -j goroutines in parallel. populate refuses to overwrite: if any
// planned name already exists it stops with an error, so when it succeeds it
// has made exactly N new entries.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// minEntries is the smallest -n: the fixed skeleton of top-level
// directories has to fit in the directory share.
const minEntries = 200

type kind uint8

const (
	kindFile kind = iota
	kindEmpty
	kindSymlink
)

// dir is a planned directory. Its parent precedes it in the plan.
type dir struct {
	path  string // relative to the target directory
	depth int    // number of path components
	mode  uint32
}

// leaf is a planned non-directory entry in dirs[dir].
type leaf struct {
	name   string
	kind   kind
	mode   uint32
	off    int    // content is text[off : off+size]
	size   int    // regular files
	target string // symlinks
}

type plan struct {
	dirs   []dir
	leaves [][]leaf // by index in dirs
	text   []byte   // content source shared by all files
	counts struct{ dirs, files, empty, symlinks int }
}

// skeleton is created first, in this order; a category roots the trees
// of one kind of state.
var skeleton = []string{
	"var", "var/lib", "var/cache", "var/log",
	"home", "home/alice", "home/alice/.config", "home/alice/.local", "home/alice/.local/share",
	"root", "root/.cache",
}

var categories = []struct {
	root   string
	prefix string
	weight int
}{
	{"var/lib", "svc", 45},
	{"var/cache", "cache", 15},
	{"var/log", "log", 8},
	{"home/alice/.config", "app", 10},
	{"home/alice/.local/share", "data", 12},
	{"root/.cache", "tool", 10},
}

var (
	baseNames = []string{"state", "data", "index", "session", "config", "journal", "blob", "meta", "cache", "settings", "history", "db", "key", "cookie", "manifest"}
	exts      = []string{".json", ".db", ".log", ".conf", ".txt", ".bin", ".toml", ".xml", ".sqlite", "", ".cache", ".lock"}
	pkgNames  = []string{"systemd-257.5", "bash-5.2p37", "coreutils-9.5", "openssh-9.9p2", "nginx-1.26.3", "postgresql-16.8", "glibc-2.40-66", "python3-3.12.9", "dbus-1.14.10", "home-manager-files", "etc-os-release", "firefox-136.0"}
	pkgFiles  = []string{"bin/", "share/applications/", "lib/systemd/system/", "etc/", "share/man/man1/", "lib/"}
	words     = []string{"the", "service", "started", "user", "session", "key", "value", "enabled", "true", "false", "path", "/var/lib", "error", "ok", "nixos", "unit", "timer", "socket", "127.0.0.1", "port", "8080", "cache", "hit", "miss"}
)

const nixBase32 = "0123456789abcdfghijklmnpqrsvwxyz"

func main() {
	n := flag.Int("n", 300000, "number of entries to create")
	seed := flag.Uint64("seed", 1, "seed of the layout")
	jobs := flag.Int("j", runtime.NumCPU(), "parallel workers")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: populate [-n N] [-seed S] [-j J] DIR\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *n < minEntries {
		fatalf("-n must be at least %d", minEntries)
	}
	if *jobs < 1 {
		*jobs = 1
	}
	top := flag.Arg(0)
	if st, err := os.Stat(top); err != nil {
		fatalf("%v", err)
	} else if !st.IsDir() {
		fatalf("%s is not a directory", top)
	}

	start := time.Now()
	p := makePlan(*n, *seed)
	made, err := p.create(top, *jobs)
	if err != nil {
		fatalf("%v (made %d of %d entries)", err, made, *n)
	}
	fmt.Printf("populate: made %d entries in %s (%d directories, %d files, %d empty files, %d symlinks) in %.2f s\n",
		made, top, p.counts.dirs, p.counts.files, p.counts.empty, p.counts.symlinks, time.Since(start).Seconds())
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "populate: "+format+"\n", args...)
	os.Exit(1)
}

// makePlan lays out n entries from seed.
func makePlan(n int, seed uint64) *plan {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	p := &plan{text: makeText(r, 64<<10)}

	nDirs := n * 8 / 100
	nSymlinks := n * 10 / 100
	nEmpty := n / 100
	nFiles := n - nDirs - nSymlinks - nEmpty
	p.counts.dirs, p.counts.files, p.counts.empty, p.counts.symlinks = nDirs, nFiles, nEmpty, nSymlinks

	add := func(path string, mode uint32) int {
		p.dirs = append(p.dirs, dir{path: path, depth: depthOf(path), mode: mode})
		return len(p.dirs) - 1
	}
	for _, s := range skeleton {
		add(s, 0o755)
	}

	// Trees: an application directory per category (level 1) with dNN
	// subdirectories down to level 4, until the directory share is used.
	totalWeight := 0
	for _, c := range categories {
		totalWeight += c.weight
	}
	appCount := make([]int, len(categories))
	var leafDirs []int // where files go: every directory below a category
	for len(p.dirs) < nDirs {
		w := r.IntN(totalWeight)
		ci := 0
		for w >= categories[ci].weight {
			w -= categories[ci].weight
			ci++
		}
		c := categories[ci]
		appCount[ci]++
		mode := uint32(0o755)
		if r.IntN(5) == 0 {
			mode = 0o700
		}
		app := add(fmt.Sprintf("%s/%s%03d", c.root, c.prefix, appCount[ci]), mode)
		leafDirs = append(leafDirs, app)
		// Breadth-first below the application directory.
		queue := []int{app}
		for level := 2; level <= 4 && len(queue) > 0; level++ {
			var next []int
			for _, parent := range queue {
				kids := r.IntN(6 - level) // 0-3 at level 2, 0-2 at 3, 0-1 at 4
				if level == 2 {
					kids = r.IntN(5) // 0-4
				}
				for k := 1; k <= kids && len(p.dirs) < nDirs; k++ {
					d := add(fmt.Sprintf("%s/d%02d", p.dirs[parent].path, k), p.dirs[parent].mode)
					leafDirs = append(leafDirs, d)
					next = append(next, d)
				}
			}
			queue = next
		}
	}

	p.leaves = make([][]leaf, len(p.dirs))
	// Entries are interleaved so that kinds mix within directories; the
	// index makes every name unique.
	kinds := make([]kind, 0, n-nDirs)
	for range nFiles {
		kinds = append(kinds, kindFile)
	}
	for range nEmpty {
		kinds = append(kinds, kindEmpty)
	}
	for range nSymlinks {
		kinds = append(kinds, kindSymlink)
	}
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	for i, k := range kinds {
		di := leafDirs[r.IntN(len(leafDirs))]
		l := leaf{kind: k}
		switch k {
		case kindFile:
			l.name = fmt.Sprintf("%s-%d%s", baseNames[r.IntN(len(baseNames))], i, exts[r.IntN(len(exts))])
			l.mode = 0o644
			if r.IntN(8) == 0 {
				l.mode = 0o600
			}
			// Log-uniform between 4 bytes and 8 KiB: most below 1 KiB,
			// the largest past btrfs's inline limit.
			l.size = int(math.Exp(math.Log(4) + r.Float64()*(math.Log(8192)-math.Log(4))))
			l.off = r.IntN(len(p.text) - l.size)
		case kindEmpty:
			l.name = fmt.Sprintf("%s-%d%s", []string{"lock", "pid", "ready", "stamp"}[r.IntN(4)], i, []string{"", ".lock", ".pid", ".stamp"}[r.IntN(4)])
			l.mode = 0o644
		case kindSymlink:
			l.name = fmt.Sprintf("%s-%d%s", baseNames[r.IntN(len(baseNames))], i, exts[r.IntN(len(exts))])
			if r.IntN(4) == 0 {
				// Relative, to a sibling that may or may not exist.
				l.target = fmt.Sprintf("../%s-%d%s", baseNames[r.IntN(len(baseNames))], r.IntN(n), exts[r.IntN(len(exts))])
			} else {
				l.target = "/nix/store/" + storeHash(r) + "-" + pkgNames[r.IntN(len(pkgNames))] + "/" +
					pkgFiles[r.IntN(len(pkgFiles))] + baseNames[r.IntN(len(baseNames))] + exts[r.IntN(len(exts))]
			}
		}
		p.leaves[di] = append(p.leaves[di], l)
	}
	return p
}

func depthOf(path string) int {
	d := 1
	for i := range len(path) {
		if path[i] == '/' {
			d++
		}
	}
	return d
}

func storeHash(r *rand.Rand) string {
	var b [32]byte
	for i := range b {
		b[i] = nixBase32[r.IntN(len(nixBase32))]
	}
	return string(b[:])
}

// makeText returns size bytes of log- and config-like lines.
func makeText(r *rand.Rand, size int) []byte {
	b := make([]byte, 0, size+64)
	for len(b) < size {
		for w := 3 + r.IntN(8); w > 0; w-- {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
		b[len(b)-1] = '\n'
	}
	return b[:size]
}

// create makes the planned tree under top with jobs workers and returns
// how many entries it made.
func (p *plan) create(top string, jobs int) (int, error) {
	unix.Umask(0) // modes are part of the plan
	var made atomic.Int64

	// Directories, one depth at a time so that parents exist.
	maxDepth := 0
	for _, d := range p.dirs {
		maxDepth = max(maxDepth, d.depth)
	}
	byDepth := make([][]int, maxDepth+1)
	for i, d := range p.dirs {
		byDepth[d.depth] = append(byDepth[d.depth], i)
	}
	for _, level := range byDepth {
		err := parallel(jobs, len(level), func(k int) error {
			d := p.dirs[level[k]]
			if err := unix.Mkdir(filepath.Join(top, d.path), d.mode); err != nil {
				return &os.PathError{Op: "mkdir", Path: filepath.Join(top, d.path), Err: err}
			}
			made.Add(1)
			return nil
		})
		if err != nil {
			return int(made.Load()), err
		}
	}

	// Everything else, a directory per task.
	err := parallel(jobs, len(p.dirs), func(i int) error {
		if len(p.leaves[i]) == 0 {
			return nil
		}
		path := filepath.Join(top, p.dirs[i].path)
		dfd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: path, Err: err}
		}
		defer unix.Close(dfd)
		for _, l := range p.leaves[i] {
			if err := p.createLeaf(dfd, l); err != nil {
				return &os.PathError{Op: "create", Path: filepath.Join(path, l.name), Err: err}
			}
			made.Add(1)
		}
		return nil
	})
	return int(made.Load()), err
}

func (p *plan) createLeaf(dfd int, l leaf) error {
	if l.kind == kindSymlink {
		return unix.Symlinkat(l.target, dfd, l.name)
	}
	fd, err := unix.Openat(dfd, l.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, l.mode)
	if err != nil {
		return err
	}
	if l.size > 0 {
		data := p.text[l.off : l.off+l.size]
		for len(data) > 0 {
			w, err := unix.Write(fd, data)
			if err != nil {
				unix.Close(fd)
				return err
			}
			data = data[w:]
		}
	}
	return unix.Close(fd)
}

// parallel runs f(0) ... f(n-1) on up to jobs goroutines, each over a
// contiguous range, and returns the first error; after an error no new calls
// start. Contiguous ranges keep the workers in different directories, whose
// entries live in different leaves of the subvolume's b-tree; handing out
// directories in turn made two workers about 15% slower on btrfs.
func parallel(jobs, n int, f func(int) error) error {
	var (
		failed atomic.Bool
		mu     sync.Mutex
		first  error
		wg     sync.WaitGroup
	)
	jobs = min(jobs, n)
	for w := range jobs {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi && !failed.Load(); i++ {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		}(w*n/jobs, (w+1)*n/jobs)
	}
	wg.Wait()
	if first != nil && errors.Is(first, unix.EEXIST) {
		return fmt.Errorf("%w: populate only makes new entries; use an empty directory", first)
	}
	return first
}
