// Package report renders classified changes as a table for people or as
// TSV, JSON, NDJSON or a path list for programs.
//
// File names are bytes; every format keeps them exact (package names):
// paths -0 writes them raw, NUL-terminated; tsv, paths and the table escape
// them one per line (names.Escape); json and ndjson write bytes that are not
// UTF-8 as lone surrogates (names.AppendJSON).
package report
