package names

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var names = []string{
	"", "/etc/machine-id", "new\nline", "tab\there", "cr\rhere", "\x01ctrl\x7f", `back\slash`, `\x41`, `\\n`,
	`quote"s'`, "-dash", " lead", "trail ", "${x}", "\xff\xfe", "ok\xc3", "é\x80", "\u2028", "\U0001F600",
	"\xed\xb2\x80", // an encoded surrogate: not UTF-8, so escaped byte by byte
	strings.Repeat("é", 127) + "x",
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, name := range names {
		esc := Escape(name)
		if strings.ContainsAny(esc, "\n\t\r\x00") || !utf8.ValidString(esc) {
			t.Errorf("Escape(%q) = %q: not one printable UTF-8 line", name, esc)
		}
		if got, err := Unescape(esc); err != nil || got != name {
			t.Errorf("Unescape(Escape(%q)) = %q, %v", name, got, err)
		}
	}
	if Escape("plain/path é") != "plain/path é" {
		t.Error("Escape changed a name that needs no escaping")
	}
}

func TestJSONStringRoundTrip(t *testing.T) {
	for _, name := range names {
		checkJSONString(t, name)
	}
}

func checkJSONString(t *testing.T, name string) {
	t.Helper()
	lit := string(AppendJSON(nil, name))
	var std string
	if err := json.Unmarshal([]byte(lit), &std); err != nil {
		t.Fatalf("%q encodes as invalid JSON %s: %v", name, lit, err)
	}
	if utf8.ValidString(name) && std != name {
		t.Errorf("valid UTF-8 %q decodes as %q with encoding/json", name, std)
	}
	if got, err := DecodeJSON(lit); err != nil || got != name {
		t.Errorf("DecodeJSON(%s) = %q, %v; want %q", lit, got, err, name)
	}
}

func FuzzEscape(f *testing.F) {
	for _, name := range names {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, err := Unescape(Escape(name)); err != nil || got != name {
			t.Errorf("Unescape(Escape(%q)) = %q, %v", name, got, err)
		}
		checkJSONString(t, name)
	})
}

func TestStringJSON(t *testing.T) {
	type doc struct {
		Names []String `json:"names"`
	}
	in := doc{}
	for _, n := range names {
		in.Names = append(in.Names, String(n))
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Names, out.Names) {
		t.Errorf("round trip through encoding/json:\n got %q\nwant %q", out.Names, in.Names)
	}
}

// TestAppendJSONBytes pins AppendJSON's exact output, with plain runs next
// to every kind of escape, so that the bulk copy of plain runs changes no
// byte of what the JSON formats print.
func TestAppendJSONBytes(t *testing.T) {
	for name, want := range map[string]string{
		"":                       `""`,
		"/var/lib/svc042/d01":    `"/var/lib/svc042/d01"`,
		`a"b\c`:                  `"a\"b\\c"`,
		"x\ny\tz\rw":             `"x\ny\tz\rw"`,
		"a\x01b\x7fc~":           `"a\u0001b\u007fc~"`,
		"é/\u2028/\u2029/😀":      "\"é/\\u2028/\\u2029/😀\"",
		"ok\xffend\xc3":          `"ok\udcffend\udcc3"`,
		" leading and trailing ": `" leading and trailing "`,
	} {
		if got := string(AppendJSON([]byte("prefix"), name)); got != "prefix"+want {
			t.Errorf("AppendJSON(%q) = %s, want %s", name, got[len("prefix"):], want)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendJSON(buf[:0], "/home/alice/.cache/mozilla/firefox/abcd1234.default/cache2/entries/0123456789ABCDEF")
	}
}
