// Package nix holds the tests of the flake and the NixOS module: that they
// parse, that the vendor hash is the one buildGoModule will find, and that
// nix/module.nix defines what its options ask for. The module is
// evaluated with nixpkgs' lib and stub NixOS options (internal/nixtest),
// so these run without NixOS; a build through nixpkgs and a VM test need
// nixpkgs (README, "Install on NixOS").
package nix

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/nixtest"
)

// TestNixFilesParse: nix-instantiate --parse accepts the flake and what it
// imports.
func TestNixFilesParse(t *testing.T) {
	for _, f := range []string{"../flake.nix", "module.nix", "package.nix"} {
		nixtest.Run(t, ".", "--parse", f)
	}
}

// TestVendorHash recomputes vendorHash as buildGoModule does (proxyVendor
// false): its fixed-output derivation runs go mod vendor in the source and
// hashes the vendor directory recursively. It fails with the right value
// when go.mod or go.sum changed and nix/vendor-hash did not.
func TestVendorHash(t *testing.T) {
	nixtest.HashPath(t, ".") // skips without nix before the work
	data, err := os.ReadFile("vendor-hash")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(data))

	dir := t.TempDir()
	copyModule(t, "..", dir)
	cmd := exec.Command("go", "mod", "vendor")
	cmd.Dir = dir
	// The fixed-output derivation's environment: buildGoModule's env
	// (CGO_ENABLED=0 here, GOTOOLCHAIN=local) and no GOFLAGS (a -mod flag,
	// GOFLAGS=-mod=vendor in a Nix build, would refuse to vendor).
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	if got := nixtest.HashPath(t, filepath.Join(dir, "vendor")); got != want {
		t.Errorf("nix/vendor-hash holds %s, but go.mod and go.sum vendor to %s: write that to nix/vendor-hash", want, got)
	}
}

// copyModule copies the module's source at src into dst: what go mod
// vendor reads (go.mod, go.sum and the packages, embedded files included),
// not the repository's history or a vendor directory of its own.
func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && (d.Name() == ".git" || d.Name() == "vendor" || d.Name() == "testdata"):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// alice is the account the hosts below declare home paths for.
const alice = `users.users.alice = { home = "/home/alice"; group = "users"; homeMode = "700"; };`

// declared is /etc/fsdiff/declared.json read back.
func declared(t *testing.T, h nixtest.Host) map[string]map[string][]string {
	t.Helper()
	text, ok := h.Etc["fsdiff/declared.json"]
	if !ok {
		t.Fatalf("no /etc/fsdiff/declared.json; /etc/fsdiff has %v", h.Etc)
	}
	var d map[string]map[string][]string
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return d
}

// TestModuleDeclaredFromTheHost: with impermanence (Home Manager users
// included), preservation or both in the host, /etc/fsdiff/declared.json holds every path they persist,
// absolute (home paths joined as each module joins them, preservation's
// own parent directories left out), and fsdiff --declared reads back
// exactly those paths.
func TestModuleDeclaredFromTheHost(t *testing.T) {
	const impermanence = `environment.persistence."/persist" = {
    directories = [ "/var/lib/nixos" { directory = "/var/lib/private"; mode = "0700"; } ];
    files = [ "/etc/machine-id" ];
    users.alice = { directories = [ ".ssh" "/.gnupg" ]; files = [ ".zsh_history" ]; };
  };
  environment.persistence."/off" = { enable = false; directories = [ "/var/lib/off" ]; };`
	const preservation = `preservation.enable = true;
  preservation.preserveAt."/state" = {
    directories = [ "/var/lib/systemd" ];
    files = [ { file = "/etc/machine-id"; inInitrd = true; } ];
    users.alice = { directories = [ ".config/foo" ]; files = [ ".local/share/bar" ]; };
  };
  preservation.preserveAt."/persist".directories = [ "/var/log" ];`
	want := map[string]map[string][]string{
		"/persist": {"directories": {"/var/lib/nixos", "/var/lib/private", "/home/alice/.ssh", "/home/alice/.gnupg"}, "files": {"/etc/machine-id", "/home/alice/.zsh_history"}},
		"/state":   {"directories": {"/var/lib/systemd", "/home/alice/.config/foo"}, "files": {"/etc/machine-id", "/home/alice/.local/share/bar"}},
	}
	const homeManager = `home-manager.users.alice.home.persistence."/persist" = {
    directories = [ ".local/share/x" { directory = ".mozilla"; mode = "0700"; } ];
    files = [ ".bashrc" ];
  };
  home-manager.users.alice.home.persistence."/off" = { enable = false; files = [ ".off" ]; };`
	both := map[string]map[string][]string{
		"/persist": {"directories": append(slices.Clone(want["/persist"]["directories"]), "/var/log"), "files": want["/persist"]["files"]},
		"/state":   want["/state"],
	}
	for _, tc := range []struct {
		name string
		host string
		real []string
		want map[string]map[string][]string
	}{
		{"impermanence", impermanence, []string{"impermanence"}, map[string]map[string][]string{"/persist": want["/persist"]}},
		{"preservation", preservation, []string{"preservation"}, map[string]map[string][]string{"/state": want["/state"], "/persist": {"directories": {"/var/log"}, "files": {}}}},
		{"both", impermanence + preservation, []string{"impermanence", "preservation"}, both},
		{"home-manager", impermanence + homeManager, []string{"impermanence", "home-manager"}, map[string]map[string][]string{"/persist": {
			"directories": append(slices.Clone(want["/persist"]["directories"]), "/home/alice/.local/share/x", "/home/alice/.mozilla"),
			"files":       append(slices.Clone(want["/persist"]["files"]), "/home/alice/.bashrc"),
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := nixtest.NixOS(t, []byte("{\n  services.fsdiff.enable = true;\n  "+alice+"\n  "+tc.host+"\n}\n"), tc.real...)
			got := declared(t, h)
			for _, d := range tc.want { // JSON has no nil lists
				for k, v := range d {
					if v == nil {
						d[k] = []string{}
					}
				}
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("declared.json:\n got %s\nwant %s", gotJSON, wantJSON)
			}
			args := execStart(t, h)
			if i := slices.Index(args, "--declared"); i < 0 || i+1 == len(args) || args[i+1] != "/etc/fsdiff/declared.json" {
				t.Errorf("ExecStart %q does not pass --declared /etc/fsdiff/declared.json", args)
			}

			// What fsdiff reads back: every path, under its storage path.
			parsed, storage, err := classify.ParseDeclared([]byte(h.Etc["fsdiff/declared.json"]), nil)
			if err != nil {
				t.Fatal(err)
			}
			var gotPaths, wantPaths []string
			for _, d := range parsed {
				gotPaths = append(gotPaths, d.Path)
			}
			for _, loc := range tc.want {
				wantPaths = append(wantPaths, loc["directories"]...)
				wantPaths = append(wantPaths, loc["files"]...)
			}
			slices.Sort(gotPaths)
			slices.Sort(wantPaths)
			if !slices.Equal(gotPaths, wantPaths) {
				t.Errorf("fsdiff --declared reads\n %q\nwant\n %q", gotPaths, wantPaths)
			}
			if wantStorage := slices.Sorted(func(yield func(string) bool) {
				for s := range tc.want {
					if !yield(s) {
						return
					}
				}
			}); !slices.Equal(storage, wantStorage) {
				t.Errorf("storage paths %q, want %q", storage, wantStorage)
			}
		})
	}
}

// execStart returns the arguments of the service's ExecStart=, as systemd
// splits them (each one a JSON string: utils.escapeSystemdExecArgs).
func execStart(t *testing.T, h nixtest.Host) []string {
	t.Helper()
	if h.Service == nil {
		t.Fatal("no systemd.services.fsdiff")
	}
	line, ok := h.Service.ServiceConfig["ExecStart"].(string)
	if !ok {
		t.Fatalf("ExecStart is %#v", h.Service.ServiceConfig["ExecStart"])
	}
	return nixtest.Strings(t, []byte(line))
}

// TestModuleUnit: the service runs fsdiff check with the flags the options
// ask for, after boot, and fsdiff is in the system's packages; the timer, the rules file and the metrics
// directory exist only when asked for; drift fails the unit only with
// failOnDrift.
func TestModuleUnit(t *testing.T) {
	const exe = "/nix/store/00000000000000000000000000000000-fsdiff/bin/fsdiff"
	for _, tc := range []struct {
		name, options string
		args          []string
		timer         string
		rules         string
		tmpfiles      []string
		failOnDrift   bool
	}{
		{name: "defaults", args: []string{exe, "check", "--format", "table"}},
		{
			name: "every option",
			options: `interval = "hourly"; failOn = [ "persist:critical" "unknown" ]; failOnDrift = true;
      extraArgs = [ "--context" "mutable-users" ]; metrics.enable = true; metrics.directory = "/run/node-exporter";
      rules = "ephemeral /var/lib/foo/** -- a cache";`,
			args: []string{exe, "check", "--format", "table", "--fail-on", "persist:critical,unknown",
				"--metrics", "/run/node-exporter/fsdiff.prom", "--context", "mutable-users"},
			timer:       "hourly",
			rules:       "ephemeral /var/lib/foo/** -- a cache",
			tmpfiles:    []string{"d /run/node-exporter 0755 root root -"},
			failOnDrift: true,
		},
		{name: "metrics", options: "metrics.enable = true;", args: []string{exe, "check", "--format", "table", "--metrics", "/run/fsdiff/fsdiff.prom"},
			tmpfiles: []string{"d /run/fsdiff 0755 root root -"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := nixtest.NixOS(t, []byte("{ services.fsdiff = { enable = true; "+tc.options+" }; }"))
			if args := execStart(t, h); !slices.Equal(args, tc.args) {
				t.Errorf("ExecStart:\n got %q\nwant %q", args, tc.args)
			}
			s := h.Service
			if s.ServiceConfig["Type"] != "oneshot" || !slices.Equal(s.WantedBy, []string{"multi-user.target"}) || !slices.Equal(s.After, []string{"multi-user.target"}) {
				t.Errorf("not a oneshot after multi-user.target: %+v", s)
			}
			if !slices.Contains(h.Defined, "environment.systemPackages") {
				t.Error("fsdiff is not in the system's packages")
			}
			if _, ok := h.Etc["fsdiff/declared.json"]; ok || slices.Contains(execStart(t, h), "--declared") {
				t.Error("a host without impermanence or preservation gets declared.json")
			}
			status, ok := s.ServiceConfig["SuccessExitStatus"].([]any)
			if tc.failOnDrift == ok || ok && (len(status) != 1 || status[0] != float64(1)) {
				t.Errorf("failOnDrift = %v, SuccessExitStatus = %v", tc.failOnDrift, s.ServiceConfig["SuccessExitStatus"])
			}
			switch {
			case tc.timer == "" && h.Timer != nil:
				t.Errorf("a timer without interval: %+v", h.Timer)
			case tc.timer != "" && (h.Timer == nil || h.Timer.TimerConfig["OnCalendar"] != tc.timer || !slices.Equal(h.Timer.WantedBy, []string{"timers.target"})):
				t.Errorf("interval %q gives timer %+v", tc.timer, h.Timer)
			}
			if rules, ok := h.Etc["fsdiff/rules"]; rules != tc.rules || ok != (tc.rules != "") {
				t.Errorf("/etc/fsdiff/rules %q (%v), want %q", rules, ok, tc.rules)
			}
			if !slices.Equal(h.Tmpfiles, tc.tmpfiles) {
				t.Errorf("tmpfiles %q, want %q", h.Tmpfiles, tc.tmpfiles)
			}
		})
	}
}

// TestModuleHardeningKeepsTheRootVisible: the unit may not use the
// directives systemd implements with mounts over the root's directories
// (fsdiff would read those mounts as declared persistence) or that hide
// homes and block devices, and it keeps the capabilities fsdiff needs.
func TestModuleHardeningKeepsTheRootVisible(t *testing.T) {
	sc := nixtest.NixOS(t, []byte("{ services.fsdiff.enable = true; }")).Service.ServiceConfig
	for _, d := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths",
		"TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths", "PrivateDevices", "DevicePolicy", "ProtectClock", "PrivateUsers"} {
		if v, ok := sc[d]; ok {
			t.Errorf("%s = %v", d, v)
		}
	}
	caps, _ := sc["CapabilityBoundingSet"].([]any)
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH", "CAP_FOWNER"} {
		if !slices.Contains(caps, any(c)) {
			t.Errorf("CapabilityBoundingSet %v lacks %s", caps, c)
		}
	}
}

// TestModuleDisabled: a host that imports the module, sets its options
// and does not enable it gets nothing from it.
func TestModuleDisabled(t *testing.T) {
	h := nixtest.NixOS(t, []byte(`{ services.fsdiff = { interval = "daily"; metrics.enable = true; rules = "ephemeral /x"; }; }`))
	if len(h.Defined) != 0 || h.Service != nil || h.Timer != nil || len(h.Etc) != 0 {
		t.Errorf("a disabled module defines %q: %+v", h.Defined, h)
	}
}

// TestReadmeNixOSExample: the block the README's "Install on NixOS" asks
// readers to copy evaluates with the module and gives the audit after
// boot, the timer and the metrics it promises, in the directory its node
// exporter line names.
func TestReadmeNixOSExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Install on NixOS\n")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```nix\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal(`README's "Install on NixOS" has no nix block`)
	}
	h := nixtest.NixOS(t, []byte("{\n"+block+"}\n"))
	args := execStart(t, h)
	i := slices.Index(args, "--metrics")
	if i < 0 || h.Timer == nil {
		t.Fatalf("the README's block gives ExecStart %q and timer %+v", args, h.Timer)
	}
	if dir := filepath.Dir(args[i+1]); !strings.Contains(section, `"--collector.textfile.directory=`+dir+`"`) {
		t.Errorf("fsdiff writes its metrics into %s, which the README's node exporter line does not read", dir)
	}
}
