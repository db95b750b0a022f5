{
  description = "fsdiff: find the undeclared state on an erased-at-boot NixOS root";

  # nixpkgs only: impermanence and preservation are the user's choice, and
  # nix/module.nix reads their options only when the host has them.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # From the flake's revision: "0-unstable-2026-11-30+613dcec", or
      # "+613dcec-dirty" for a tree with uncommitted changes. fsdiff version
      # prints it (cmd/fsdiff/version.go reads it from -X main.buildVersion).
      date = self.lastModifiedDate or "19700101000000";
      version = "0-unstable-${builtins.substring 0 4 date}-${builtins.substring 4 2 date}-${builtins.substring 6 2 date}+${
        self.shortRev or self.dirtyShortRev or "unknown"
      }";
      fsdiffFor = pkgs: pkgs.callPackage ./nix/package.nix { inherit version; };
    in
    {
      packages = forAllSystems (pkgs: {
        fsdiff = fsdiffFor pkgs;
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.fsdiff;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.fsdiff;
        };
      });

      overlays.default = final: prev: { fsdiff = fsdiffFor final; };

      # nix/module.nix, with the package built from this flake, so that
      # fsdiff version on the host names the revision (nix/module.nix alone
      # builds the same source as "devel" when pkgs has no fsdiff).
      nixosModules.default =
        { pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.fsdiff.package = lib.mkDefault (fsdiffFor pkgs);
        };

      # nix flake check: the package builds, and the module evaluates inside
      # a real NixOS configuration and gives a unit file that runs the
      # audit with what the options ask for.
      checks = forAllSystems (
        pkgs:
        let
          system = pkgs.stdenv.hostPlatform.system;
          host = lib.nixosSystem {
            modules = [
              self.nixosModules.default
              {
                nixpkgs.hostPlatform = system;
                boot.loader.grub.enable = false;
                fileSystems."/" = {
                  device = "/dev/vda";
                  fsType = "btrfs";
                  options = [ "subvol=root" ];
                };
                system.stateVersion = "25.11";
                services.fsdiff = {
                  enable = true;
                  interval = "daily";
                  failOn = [ "persist:critical" ];
                  rules = "ephemeral /var/lib/example/** -- the example's cache";
                  metrics.enable = true;
                };
              }
            ];
          };
          unit = host.config.systemd.units."fsdiff.service".unit;
          timer = host.config.systemd.units."fsdiff.timer".unit;
        in
        {
          # The package has what nix/package.nix promises: the flake's
          # version, a static binary, completions and man pages.
          package =
            let
              pkg = self.packages.${system}.fsdiff;
            in
            pkgs.runCommand "fsdiff-package-check" { } ''
              ${lib.getExe pkg} version | grep -F -- 'fsdiff ${version} ('
              if ${pkgs.binutils-unwrapped}/bin/readelf -l ${lib.getExe pkg} | grep -F INTERP; then exit 1; fi
              ls ${pkg}/share/man/man1/fsdiff.1* ${pkg}/share/man/man1/fsdiff-check.1*
              ls ${pkg}/share/bash-completion/completions/fsdiff* ${pkg}/share/zsh/site-functions/_fsdiff \
                ${pkg}/share/fish/vendor_completions.d/fsdiff.fish
              touch $out
            '';
          module = pkgs.runCommand "fsdiff-module-check" { } ''
            grep -F -- '"check" "--format" "table"' ${unit}/fsdiff.service
            grep -F -- '"--fail-on" "persist:critical"' ${unit}/fsdiff.service
            grep -F -- '"--metrics" "/run/fsdiff/fsdiff.prom"' ${unit}/fsdiff.service
            grep -F -- 'SuccessExitStatus=1' ${unit}/fsdiff.service
            grep -F -- 'OnCalendar=daily' ${timer}/fsdiff.timer
            grep -F -- 'ephemeral /var/lib/example/**' ${host.config.environment.etc."fsdiff/rules".source}
            # The host has neither impermanence nor preservation: nothing declared.
            if grep -F -- '--declared' ${unit}/fsdiff.service; then exit 1; fi
            grep -F -- '-fsdiff-${version}/bin/fsdiff' ${unit}/fsdiff.service
            touch $out
          '';
        }
      );
    };
}
