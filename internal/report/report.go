package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/names"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// Format names an output format.
type Format string

const (
	Table  Format = "table"
	TSV    Format = "tsv"
	JSON   Format = "json"
	NDJSON Format = "ndjson"
	Paths  Format = "paths"
)

// Formats lists every format, for flag help and completion.
var Formats = []Format{Table, TSV, JSON, NDJSON, Paths}

// AuditSchema and ChangeSchema name the versions of the JSON document
// and of the NDJSON records (docs/audit.schema.json), as CheckSchema does
// the check report's: each changes when a field changes meaning or
// disappears, not when one is added.
const (
	AuditSchema  = "fsdiff-audit/1"
	ChangeSchema = "fsdiff-change/1"
)

// Audit describes the run, for the JSON document.
type Audit struct {
	Version string
	Time    time.Time
	Source  change.Info
}

// Options select what is written. Package tables draws the Table format
// (tables.Audit, tables.Diff): Write and WriteDiff only write the formats
// for programs.
type Options struct {
	Format Format
	All    bool // one row per path instead of one per anchor (tables, WriteDiff)
	Null   bool // paths: NUL-terminated and unescaped
}

// errTable is Write's and WriteDiff's answer to the Table format.
var errTable = errors.New("the table format is drawn by package tables")

// Write renders sorted entries in a format for programs.
func Write(w io.Writer, audit Audit, entries classify.Entries, opts Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch opts.Format {
	case Table:
		return errTable
	case TSV:
		err = writeTSV(bw, entries)
	case JSON:
		err = writeJSON(bw, audit, entries)
	case NDJSON:
		var buf []byte
		for i := range entries.Len() {
			e := entries.At(i)
			// Each record says its version: a line is read on its own.
			buf = append(appendEntryJSON(append(buf[:0], `{"schema":"`+ChangeSchema+`",`...), e), '\n')
			if _, err = bw.Write(buf); err != nil {
				break
			}
		}
	case Paths:
		for i := range entries.Len() {
			writePath(bw, entries.Path(i), opts.Null)
		}
	default:
		return fmt.Errorf("unknown format %q", opts.Format)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writePath writes a path of --format paths: escaped on a line, or raw
// and NUL-terminated (-0).
func writePath(w *bufio.Writer, p string, null bool) {
	if null {
		w.WriteString(p)
		w.WriteByte(0)
		return
	}
	w.WriteString(names.Escape(p))
	w.WriteByte('\n')
}

// writeTSV writes category, kind, type, size and path, tab-separated,
// without a header.
func writeTSV(w *bufio.Writer, entries classify.Entries) error {
	var buf []byte
	for i := range entries.Len() {
		e := entries.At(i)
		buf = append(buf[:0], e.Category.String()...)
		buf = append(buf, '\t')
		buf = append(buf, e.Kind.String()...)
		buf = append(buf, '\t')
		buf = append(buf, e.Type.String()...)
		buf = append(buf, '\t')
		buf = strconv.AppendInt(buf, e.Size, 10)
		buf = append(buf, '\t')
		buf = append(buf, names.Escape(e.Path)...)
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w *bufio.Writer, audit Audit, entries classify.Entries) error {
	buf := fmt.Appendf(nil, "{\n  \"schema\": %q,\n  \"fsdiff_version\": ", AuditSchema)
	buf = names.AppendJSON(buf, audit.Version)
	buf = append(buf, ",\n  \"time\": "...)
	buf = names.AppendJSON(buf, audit.Time.UTC().Format(time.RFC3339))
	buf = append(buf, ",\n  \"source\": "...)
	buf = appendInfoJSON(buf, audit.Source)
	buf = append(buf, ",\n  \"changes\": ["...)
	for i := range entries.Len() {
		e := entries.At(i)
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n    {"...)
		buf = appendEntryJSON(buf, e)
		if len(buf) > 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if entries.Len() > 0 {
		buf = append(buf, "\n  "...)
	}
	buf = append(buf, "]\n}\n"...)
	_, err := w.Write(buf)
	return err
}

func appendInfoJSON(buf []byte, in change.Info) []byte {
	buf = append(buf, `{"kind": `...)
	buf = names.AppendJSON(buf, string(in.Source))
	buf = append(buf, `, "root": `...)
	buf = names.AppendJSON(buf, in.Root)
	buf = fmt.Appendf(buf, `, "root_id": %d, "top_level": `, in.RootID)
	buf = names.AppendJSON(buf, in.TopLevel)
	buf = append(buf, `, "baseline": `...)
	buf = names.AppendJSON(buf, in.Baseline)
	buf = fmt.Appendf(buf, `, "baseline_generation": %d, "decisions": [`, in.BaselineGeneration)
	for i, d := range in.Decisions {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = names.AppendJSON(buf, d)
	}
	return append(buf, "]}"...)
}

// appendEntryJSON writes the fields of a JSON object, after its opening
// brace, with every field of the change and the verdict. Names go through
// names.AppendJSON, so a name that is not UTF-8 survives (see the package
// documentation).
func appendEntryJSON(buf []byte, e classify.Entry) []byte {
	buf = append(buf, `"path":`...)
	buf = names.AppendJSON(buf, e.Path)
	buf = append(buf, `,"kind":"`...)
	buf = append(buf, e.Kind.String()...)
	buf = append(buf, `","type":"`...)
	buf = append(buf, e.Type.String()...)
	buf = append(buf, `","size":`...)
	buf = strconv.AppendInt(buf, e.Size, 10)
	buf = append(buf, `,"mode":"`...)
	buf = fmt.Appendf(buf, "%04o", e.Mode)
	buf = append(buf, `","uid":`...)
	buf = strconv.AppendUint(buf, uint64(e.UID), 10)
	buf = append(buf, `,"gid":`...)
	buf = strconv.AppendUint(buf, uint64(e.GID), 10)
	buf = append(buf, `,"mtime":"`...)
	buf = e.MTime.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, '"')
	if e.Type == change.Symlink {
		buf = append(buf, `,"target":`...)
		buf = names.AppendJSON(buf, e.Target)
	}
	if e.Kind == change.Renamed {
		buf = append(buf, `,"origin":`...)
		buf = names.AppendJSON(buf, e.Origin)
	}
	buf = append(buf, `,"inode":`...)
	buf = strconv.AppendUint(buf, e.Inode, 10)
	buf = append(buf, `,"nlink":`...)
	buf = strconv.AppendUint(buf, uint64(e.Nlink), 10)
	buf = append(buf, `,"category":"`...)
	buf = append(buf, e.Category.String()...)
	buf = append(buf, '"')
	if e.Priority != classify.NoPriority {
		buf = append(buf, `,"priority":"`...)
		buf = append(buf, e.Priority.String()...)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"anchor":`...)
	buf = names.AppendJSON(buf, e.Anchor)
	buf = append(buf, `,"rule":`...)
	buf = names.AppendJSON(buf, e.Rule)
	buf = append(buf, `,"pattern":`...)
	buf = names.AppendJSON(buf, e.Pattern)
	buf = append(buf, `,"reason":`...)
	buf = names.AppendJSON(buf, e.Reason)
	buf = append(buf, `,"source":`...)
	buf = names.AppendJSON(buf, e.Source)
	return append(buf, '}')
}
