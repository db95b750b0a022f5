// Package classify decides what each changed path is: NixOS-managed,
// ephemeral, state to persist, already persisted, or unknown; why, on
// whose authority, and which path a person decides about (the anchor).
//
// Structural detectors decide first: symlinks into the Nix store, files
// NixOS copies into /etc (listed in /etc/.clean), fifos and sockets, and
// declared persistence. Then rules: the built-in knowledge base
// (builtin.rules, embedded) and the user's rule files, in one plain-text
// format (see Rule). User rules beat built-in ones, a more specific pattern
// beats a less specific one, and ties are broken by a context condition,
// then file order.
//
// Matching is indexed: braces are expanded when rules are compiled, each
// alternative is filed under its fixed leading directory, and a path is
// only tried against the alternatives filed under its ancestors, memoised
// per directory. Most alternatives then need a string comparison; the rest
// go to github.com/bmatcuk/doublestar/v4, a maintained glob library with
// ** and {a,b}. The package is pure: it reads nothing from disk, callers
// pass what it needs.
package classify
