# fsdiff, built the way nixpkgs builds Go programs. The flake calls it with
# a version from its revision; nix/module.nix calls it when pkgs has no
# fsdiff (a host that imports the module without the flake's overlay).
{
  lib,
  stdenv,
  buildGoModule,
  installShellFiles,
  version ? "devel",
}:

buildGoModule {
  pname = "fsdiff";
  inherit version;

  # Only what the build and its tests read: a change to the README's prose
  # or to nix/ does not rebuild fsdiff. The README is there for
  # cmd/fsdiff/readme_test.go.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../go.mod
      ../go.sum
      ../cmd
      ../internal
      ../testdata
      ../README.md
    ];
  };

  # The hash of the vendor directory `go mod vendor` makes (proxyVendor is
  # false), in its own file so that nix/nix_test.go (TestVendorHash) can
  # recompute it and say when go.mod or go.sum changed without it.
  vendorHash = lib.fileContents ./vendor-hash;

  # internal/classify/gen is a main package too: ship fsdiff only.
  subPackages = [ "cmd/fsdiff" ];

  # Static: no ELF interpreter, so the same binary runs in an initrd and in
  # a rescue shell (SPEC §9).
  env.CGO_ENABLED = "0";

  # There is no .git in a Nix build, so Go's VCS stamping (which
  # cmd/fsdiff/version.go reads when buildVersion is empty) has nothing
  # to stamp: the version comes in through -X instead.
  ldflags = [
    "-s"
    "-w"
    "-X main.buildVersion=${version}"
  ];

  nativeBuildInputs = [ installShellFiles ];

  # Completions and man pages come from running fsdiff, which a cross build
  # cannot do. The man command is in -tags docs builds only
  # (cmd/fsdiff/man.go): build such a binary next to the shipped one, with
  # the same flags, run it, and leave it out of $out, so that fsdiff itself
  # carries neither the man page generator nor its Markdown renderer.
  # (GOFLAGS, -mod=vendor and -trimpath, are in the environment; ldflags is
  # read as buildGoModule's own buildGoDir reads it, array or string.)
  postInstall = lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
    installShellCompletion --cmd fsdiff \
      --bash <($out/bin/fsdiff completion bash) \
      --fish <($out/bin/fsdiff completion fish) \
      --zsh <($out/bin/fsdiff completion zsh)
    go build -tags docs -ldflags="''${ldflags[*]}" -o "$TMPDIR/fsdiff-docs" ./cmd/fsdiff
    "$TMPDIR/fsdiff-docs" man "$TMPDIR/man"
    installManPage "$TMPDIR"/man/*.1
  '';

  meta = {
    description = "Find the undeclared state on an erased-at-boot NixOS root";
    homepage = "https://github.com/fsdiff-nix/fsdiff";
    mainProgram = "fsdiff";
    platforms = lib.platforms.linux;
  };
}
