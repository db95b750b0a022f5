// Package report writes classified changes for programs: TSV, JSON,
// NDJSON or a path list, the check report, and the differences between two
// saved reports, which it reads back. It groups changes into the rows the
// default table, the check report and fsdiff diff show, one per category
// and anchor (Group). Package tables draws the tables for people, apart:
// its terminal library imports golang.org/x/sys/unix, which report, like
// classify and suggest, does without.
//
// File names are bytes; every format keeps them exact (package names):
// paths -0 writes them raw, NUL-terminated; tsv and paths escape them one
// per line (names.Escape), as the tables do; json and ndjson write bytes
// that are not UTF-8 as lone surrogates (names.AppendJSON).
package report
