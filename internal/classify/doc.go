// Package classify decides what each changed path is: NixOS-managed,
// ephemeral, state to persist, already persisted, or unknown, and why.
//
// This first version knows only structure: symlinks into the Nix store,
// files NixOS copies into /etc (listed in /etc/.clean), and fifos and
// sockets. Everything else is unknown until rules say otherwise. The package
// is pure: it reads nothing from disk, callers pass what it needs.
package classify
