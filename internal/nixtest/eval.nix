# Evaluates a suggested snippet with the real impermanence or preservation
# module (nixpkgs' lib.evalModules, stub options for what NixOS provides,
# as in ../shared/nix/README.md) and reads back every entry, defaults filled
# in, as a flat list of strings: LOCATION USER KIND PATH OWNER GROUP MODE
# HOW INITRD per entry (USER empty for system entries; "" for a field the
# module does not have). Every user the snippet names gets an account whose
# home is /home/NAME and whose group is "users" (/root and "root" for root).
{ src, snippet, style }:
let
  lib = import (src + "/nixpkgs.lib/lib");
  raw = import snippet;
  impermanence = style == "impermanence";
  locations = if impermanence then raw.environment.persistence else raw.preservation.preserveAt;
  names = lib.unique (lib.concatMap (l: builtins.attrNames (l.users or { })) (builtins.attrValues locations));
  anything = lib.mkOption { type = lib.types.anything; };
  stub = { lib, ... }: {
    options = {
      users.users = lib.mkOption {
        type = lib.types.attrsOf (lib.types.submodule { freeformType = lib.types.attrsOf lib.types.anything; });
        default = { };
      };
      boot = anything;
      systemd = anything;
      assertions = anything;
      warnings = anything;
    } // lib.optionalAttrs impermanence {
      fileSystems = anything;
      system = anything;
      environment.systemPackages = anything;
      environment.etc = anything;
      services = anything;
      programs = anything;
      security = anything;
    };
    config.users.users = lib.genAttrs (names ++ [ "root" ]) (n: {
      home = if n == "root" then "/root" else "/home/${n}";
      group = if n == "root" then "root" else "users";
      homeMode = "700";
    });
  };
  eval = lib.evalModules {
    modules = [ stub (if impermanence then src + "/impermanence/nixos.nix" else src + "/preservation/module.nix") snippet ];
    specialArgs = lib.optionalAttrs impermanence {
      pkgs.callPackage = f: args: import f ({ inherit lib; } // args);
      utils = { escapeSystemdPath = s: s; pathsNeededForBoot = [ ]; };
    };
  };
  config = if impermanence then eval.config.environment.persistence else eval.config.preservation.preserveAt;
  str = v: if v == null then "" else if builtins.isBool v then lib.boolToString v else toString v;
  flat = location: user: kind: e: [
    location user kind e.${kind}
    (str (e.user or null)) (str (e.group or null)) (str (e.mode or null)) (str (e.how or null)) (str (e.inInitrd or null))
  ];
  # preservation adds the parents of a user's entries ("_intermediate"):
  # the module's own, not the snippet's.
  own = builtins.filter (e: (e.how or null) != "_intermediate");
  entries = location: user: l:
    lib.concatMap (flat location user "directory") (own l.directories) ++ lib.concatMap (flat location user "file") (own l.files);
in
lib.concatLists (lib.mapAttrsToList (location: l:
  entries location "" l ++ lib.concatLists (lib.mapAttrsToList (entries location) l.users)) config)
