// Package nixtest evaluates Nix in tests: generated snippets with
// nix-instantiate alone and against the real impermanence and preservation
// modules, and fsdiff's own NixOS module (nix/module.nix) in a host made of
// stub NixOS options and those real modules. The offline copies are in
// ../shared/nix next to the repository (its README.md: lib.evalModules
// with nixpkgs' lib and stub options for what NixOS provides). It also
// hashes directories as Nix does (HashPath). Tests skip without
// nix-instantiate, nix or the copies, and fail instead when CI is set.
package nixtest
