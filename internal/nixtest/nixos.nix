# Evaluates fsdiff's NixOS module (nix/module.nix) in a host without NixOS:
# nixpkgs' lib.evalModules, stub options for what NixOS provides, a stub
# fsdiff package, and the real impermanence and preservation modules that
# `real` names ("home-manager": home-manager.nix, with impermanence's Home
# Manager module in every user). Returns, as JSON: fsdiff's /etc files, its service and
# timer, the tmpfiles rules, and which of the stubbed NixOS options have
# definitions at all.
{
  src,
  module,
  host,
  real ? [ ],
}:
let
  lib = import (src + "/nixpkgs.lib/lib");
  anything = lib.mkOption { type = lib.types.anything; };
  # The options of NixOS that fsdiff's module and the real modules define,
  # declared where NixOS declares them (so that `options ? environment.persistence`
  # answers as on a host), typed as anything: definitions are kept as written.
  provided = map (lib.splitString ".") [
    "systemd.services"
    "systemd.timers"
    "systemd.targets"
    "systemd.mounts"
    "systemd.tmpfiles"
    "systemd.suppressedUnits"
    "environment.etc"
    "environment.systemPackages"
  ];
  stub =
    { lib, ... }:
    {
      options = lib.foldl' lib.recursiveUpdate {
        users.users = lib.mkOption {
          type = lib.types.attrsOf (lib.types.submodule { freeformType = lib.types.attrsOf lib.types.anything; });
          default = { };
        };
        boot = anything;
        fileSystems = anything;
        system = anything;
        assertions = anything;
        warnings = anything;
        programs = anything;
        security = anything;
      } (map (p: lib.setAttrByPath p anything) provided);
    };
  eval = lib.evalModules {
    modules = [
      stub
      module
      host
    ]
    ++ lib.optional (builtins.elem "impermanence" real) (src + "/impermanence/nixos.nix")
    ++ lib.optional (builtins.elem "preservation" real) (src + "/preservation/module.nix")
    ++ lib.optional (builtins.elem "home-manager" real) ./home-manager.nix;
    specialArgs = {
      pkgs = {
        callPackage = f: args: import f ({ inherit lib; } // args);
        fsdiff = {
          type = "derivation";
          name = "fsdiff";
          outPath = "/nix/store/00000000000000000000000000000000-fsdiff";
          meta.mainProgram = "fsdiff";
        };
      };
      utils = {
        escapeSystemdPath = s: s;
        pathsNeededForBoot = [ ];
        # As nixos/lib/utils.nix writes an ExecStart= argument: a JSON
        # string, with systemd's specifiers (%) and variables ($) escaped.
        escapeSystemdExecArgs = lib.concatMapStringsSep " " (
          a: builtins.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON a)
        );
      };
    };
  };
  defined = builtins.filter (p: (lib.getAttrFromPath p eval.options).isDefined) provided;
  get = p: if builtins.elem p defined then lib.getAttrFromPath p eval.config else { };
in
{
  etc = lib.mapAttrs (_: f: f.text) (lib.filterAttrs (n: _: lib.hasPrefix "fsdiff/" n) (get [ "environment" "etc" ]));
  service = (get [ "systemd" "services" ]).fsdiff or null;
  timer = (get [ "systemd" "timers" ]).fsdiff or null;
  tmpfiles = (get [ "systemd" "tmpfiles" ]).rules or [ ];
  defined = map (lib.concatStringsSep ".") defined;
}
