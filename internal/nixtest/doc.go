// Package nixtest evaluates generated Nix in tests: with nix-instantiate
// alone, and against the real impermanence and preservation modules, whose
// offline copies are in ../shared/nix next to the repository (its
// README.md: lib.evalModules with nixpkgs' lib and stub options for what
// NixOS provides). Tests skip without them, and fail instead when CI is
// set.
package nixtest
