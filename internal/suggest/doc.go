// Package suggest turns classified changes into a persistence model (one
// entry per anchor, with owners and modes where the audited tree needs
// them) and prints it as Nix for impermanence (environment.persistence),
// preservation (preservation.preserveAt), or impermanence with its Home
// Manager module for home paths (home-manager.users.NAME.home.persistence).
//
// Nix strings are written so that any path, whatever bytes it holds, stays
// a string: backslash, double quote, "${" and control characters are
// escaped, and evaluating the snippet gives back exactly the paths. The
// package is pure: what it knows of the audited root comes in Options.
package suggest
