// Package audit is fsdiff's pipeline as a library: it reads the rules
// (the files the user names, then the default ones, then the built-in
// rules), opens what to audit with package snapshot, reads the audited
// root's /etc/.clean, /etc/passwd and /etc/group, turns what is mounted
// over a live root into declared persistence, classifies every change the
// source streams and sorts the verdicts for reports. It also fills the
// options of a suggestion from what it audited.
//
// Commands hold flags, output formats and exit codes; everything they
// decide about the audited system is here, testable without a command
// line and, for what needs no filesystem, without root.
package audit
