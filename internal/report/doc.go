// Package report renders classified changes as a table for people or as
// TSV, JSON, NDJSON or a path list for programs.
//
// File names are bytes. Every format keeps them exact:
//   - paths -0 writes them raw, NUL-terminated;
//   - tsv, paths and the table escape them C-style, one line per path:
//     \\ \t \n \r, and \xNN for other control bytes and for bytes that are
//     not UTF-8 (see Escape);
//   - json and ndjson write valid UTF-8 as JSON does and each byte that is
//     not UTF-8 as a lone low surrogate \udc80-\udcff, the "surrogateescape"
//     of PEP 383: Python's os.fsencode turns such a string back into the
//     original bytes, and DecodeJSONString does the same in Go.
package report
