package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// Errors of ReadAudit, for callers to match.
var (
	// ErrNotAudit: the document is not an audit report fsdiff wrote
	// (another JSON document, another fsdiff output, damaged or cut short).
	ErrNotAudit = errors.New("not an fsdiff audit report")
	// ErrSchema: an audit report of a schema version this fsdiff does not
	// read.
	ErrSchema = errors.New("unsupported audit report schema")
	// ErrTooLarge: the document is longer than the limit it was read with.
	ErrTooLarge = errors.New("report too large")
)

// Saved is an audit report read back: what Write wrote as JSON.
type Saved struct {
	Audit   Audit
	Entries *classify.List // in the document's order: report order for what fsdiff wrote
}

// Limits bound what ReadAudit reads, and so the memory it takes: the
// changes as a classify.List (56 bytes each, their names, each distinct
// verdict once), at most Size bytes of names, plus Value.
type Limits struct {
	Size    int64 // bytes of the document
	Value   int64 // bytes of one member or change: it is held whole before it is decoded
	Changes int   // changes in the document
}

// SavedLimits are the limits of fsdiff diff: reports of the 3 million
// changed paths SPEC §8 scales to (about 600 bytes of JSON each) fit.
var SavedLimits = Limits{Size: 4 << 30, Value: 16 << 20, Changes: 4_000_000}

// ReadAudit reads an audit report (Write with Format JSON) strictly: a
// JSON object whose first member is "schema": AuditSchema, every change
// with a valid path, kind, type and category, nothing after the document.
// Members it does not know are skipped (a version may add some). A
// document beyond a limit is ErrTooLarge, however long it is. Names come
// back byte for byte (names.DecodeJSON).
func ReadAudit(r io.Reader, limits Limits) (*Saved, error) {
	lr := &limitedReader{r: r, limits: limits}
	dec := json.NewDecoder(lr)
	lr.dec = dec
	s, err := readAudit(dec, limits.Changes)
	switch {
	case lr.err != nil:
		return nil, lr.err
	case (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) && lr.read == 0:
		return nil, fmt.Errorf("%w: empty", ErrNotAudit)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: cut short after %d bytes", ErrNotAudit, lr.read)
	case err != nil && (errors.Is(err, ErrNotAudit) || errors.Is(err, ErrSchema) || errors.Is(err, ErrTooLarge)):
		return nil, err
	case err != nil:
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("%w: invalid JSON at byte %d: %v", ErrNotAudit, syntax.Offset, err)
		}
		return nil, err // the reader's own error
	}
	return s, nil
}

func readAudit(dec *json.Decoder, maxChanges int) (*Saved, error) {
	notAudit := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s (at byte %d)", ErrNotAudit, fmt.Sprintf(format, args...), dec.InputOffset())
	}
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, notAudit("not a JSON object")
	}
	if key, err := dec.Token(); err != nil {
		return nil, err
	} else if key != "schema" {
		return nil, notAudit(`its first member is not "schema"`)
	}
	var schema json.RawMessage
	if err := dec.Decode(&schema); err != nil {
		return nil, err
	}
	if err := checkSchema(schema); err != nil {
		return nil, err
	}

	s := &Saved{}
	seen := map[string]bool{"schema": true}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, notAudit("%s twice", quoted(key))
		}
		seen[key] = true
		switch key {
		case "fsdiff_version":
			err = dec.Decode(&s.Audit.Version)
		case "time":
			err = dec.Decode(&s.Audit.Time)
		case "source":
			var src sourceJSON
			if err = dec.Decode(&src); err == nil {
				s.Audit.Source = src.info()
			}
		case "changes":
			s.Entries, err = readChanges(dec, maxChanges)
		default:
			err = dec.Decode(new(json.RawMessage))
		}
		if err != nil && !readError(err) {
			return nil, notAudit("%s: %v", key, err)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	for _, key := range []string{"fsdiff_version", "time", "source", "changes"} {
		if !seen[key] {
			return nil, notAudit("no %q", key)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notAudit("more follows the document")
	}
	return s, nil
}

// checkSchema accepts the schema this fsdiff writes, and the number 1
// that fsdiff wrote before its outputs named their schemas (the same
// document), and says what a document with another one is. What it
// quotes of the document is cut short: the value is hostile input.
func checkSchema(raw json.RawMessage) error {
	if n := json.Number(""); json.Unmarshal(raw, &n) == nil {
		if n == "1" {
			return nil
		}
		return fmt.Errorf("%w: schema %s; this fsdiff reads schema %q", ErrSchema, clip(string(n)), AuditSchema)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return fmt.Errorf("%w: schema %s", ErrNotAudit, clip(string(raw)))
	}
	switch {
	case s == AuditSchema:
		return nil
	case strings.HasPrefix(s, "fsdiff-audit/"):
		return fmt.Errorf("%w: schema %s; this fsdiff reads schema %q", ErrSchema, quoted(s), AuditSchema)
	case strings.HasPrefix(s, "fsdiff-check/"):
		return fmt.Errorf("%w: it is a check report (schema %s)", ErrNotAudit, quoted(s))
	}
	return fmt.Errorf("%w: schema %s", ErrNotAudit, quoted(s))
}

// quoted quotes a string of the document for an error message, and clip
// cuts a raw JSON value: a member of a hostile document may be megabytes
// long, and an error shows 64 bytes of it.
func quoted(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxShown]) + "…"
}

func clip(raw string) string {
	if len(raw) <= maxShown {
		return raw
	}
	return strconv.Quote(raw[:maxShown]) + "…"
}

const maxShown = 64

// sourceJSON is the "source" member (appendInfoJSON).
type sourceJSON struct {
	Kind               string         `json:"kind"`
	Root               names.String   `json:"root"`
	RootID             uint64         `json:"root_id"`
	TopLevel           names.String   `json:"top_level"`
	Baseline           names.String   `json:"baseline"`
	BaselineGeneration uint64         `json:"baseline_generation"`
	Decisions          []names.String `json:"decisions"`
}

func (s sourceJSON) info() change.Info {
	in := change.Info{Source: change.SourceName(s.Kind), Root: string(s.Root), RootID: s.RootID, TopLevel: string(s.TopLevel),
		Baseline: string(s.Baseline), BaselineGeneration: s.BaselineGeneration}
	for _, d := range s.Decisions {
		in.Decisions = append(in.Decisions, string(d))
	}
	return in
}

// entryJSON is one member of "changes" (appendEntryJSON).
type entryJSON struct {
	Path     *names.String `json:"path"`
	Kind     string        `json:"kind"`
	Type     *string       `json:"type"`
	Size     int64         `json:"size"`
	Mode     string        `json:"mode"`
	UID      uint32        `json:"uid"`
	GID      uint32        `json:"gid"`
	MTime    time.Time     `json:"mtime"`
	Target   names.String  `json:"target"`
	Origin   names.String  `json:"origin"`
	Inode    uint64        `json:"inode"`
	Nlink    uint32        `json:"nlink"`
	Category string        `json:"category"`
	Priority *string       `json:"priority"`
	Anchor   names.String  `json:"anchor"`
	Rule     names.String  `json:"rule"`
	Pattern  names.String  `json:"pattern"`
	Reason   names.String  `json:"reason"`
	Source   names.String  `json:"source"`
}

func readChanges(dec *json.Decoder, max int) (*classify.List, error) {
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('[') {
		return nil, fmt.Errorf("%w: \"changes\" is not an array (at byte %d)", ErrNotAudit, dec.InputOffset())
	}
	entries := &classify.List{}
	for dec.More() {
		if entries.Len() == max {
			return nil, fmt.Errorf("%w: more than %d changes", ErrTooLarge, max)
		}
		var j entryJSON
		if err := dec.Decode(&j); err != nil && !readError(err) {
			return nil, fmt.Errorf("%w: change %d: %v (at byte %d)", ErrNotAudit, entries.Len()+1, err, dec.InputOffset())
		} else if err != nil {
			return nil, err
		}
		e, err := j.entry()
		if err != nil {
			return nil, fmt.Errorf("%w: change %d: %v (at byte %d)", ErrNotAudit, entries.Len()+1, err, dec.InputOffset())
		}
		entries.Append(e.Change, e.Verdict)
	}
	_, err := dec.Token() // the closing bracket
	return entries, err
}

func (j *entryJSON) entry() (classify.Entry, error) {
	var e classify.Entry
	if j.Path == nil || !strings.HasPrefix(string(*j.Path), "/") {
		return e, errors.New("no absolute path")
	}
	var ok bool
	if e.Kind, ok = change.ParseKind(j.Kind); !ok {
		return e, fmt.Errorf("kind %s", quoted(j.Kind))
	}
	if j.Type == nil {
		return e, errors.New("no type")
	}
	if e.Type, ok = change.ParseType(*j.Type); !ok {
		return e, fmt.Errorf("type %s", quoted(*j.Type))
	}
	if e.Category, ok = classify.ParseCategory(j.Category); !ok {
		return e, fmt.Errorf("category %s", quoted(j.Category))
	}
	if j.Priority != nil {
		if e.Priority, ok = classify.ParsePriority(*j.Priority); !ok || !e.Category.Meaning().Prioritized {
			return e, fmt.Errorf("priority %s of a %s verdict", quoted(*j.Priority), e.Category)
		}
	}
	mode, err := strconv.ParseUint(j.Mode, 8, 32)
	if err != nil {
		return e, fmt.Errorf("mode %s", quoted(j.Mode))
	}
	e.Path, e.Size, e.Mode, e.UID, e.GID, e.MTime = string(*j.Path), j.Size, uint32(mode), j.UID, j.GID, j.MTime
	e.Target, e.Origin, e.Inode, e.Nlink = string(j.Target), string(j.Origin), j.Inode, j.Nlink
	// classify.List keeps each verdict once, and an anchor as a length.
	e.Anchor, e.Rule, e.Pattern = string(j.Anchor), string(j.Rule), string(j.Pattern)
	e.Reason, e.Source = string(j.Reason), string(j.Source)
	return e, nil
}

// readError says whether err is about reading the document (its syntax,
// its end, its reader, a limit) rather than about a value that is not
// what an audit report holds there.
func readError(err error) bool {
	var syntax *json.SyntaxError
	return errors.As(err, &syntax) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrTooLarge)
}

// limitedReader stops a document beyond the limits: it reads at most
// Size bytes and one more (to tell a document of exactly Size from a
// longer one), and never more than Value bytes past what the decoder has
// decoded, which the decoder would hold at once.
type limitedReader struct {
	r      io.Reader
	dec    *json.Decoder
	limits Limits
	read   int64
	err    error // ErrTooLarge, once a limit is passed
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	ahead := l.read - l.dec.InputOffset()
	// Both are at least 1: passing a limit stops the reader first.
	want := min(int64(len(p)), l.limits.Size+1-l.read, l.limits.Value+1-ahead)
	n, err := l.r.Read(p[:want])
	l.read += int64(n)
	switch {
	case l.read > l.limits.Size:
		l.err = fmt.Errorf("%w: longer than %d bytes", ErrTooLarge, l.limits.Size)
	case l.read-l.dec.InputOffset() > l.limits.Value:
		l.err = fmt.Errorf("%w: a value at byte %d is longer than %d bytes", ErrTooLarge, l.dec.InputOffset(), l.limits.Value)
	}
	if l.err != nil {
		return n, l.err
	}
	return n, err
}
