# Evaluates a suggested snippet with the real impermanence or preservation
# module (nixpkgs' lib.evalModules, stub options for what NixOS provides,
# as in ../shared/nix/README.md) and reads back every entry, defaults filled
# in, as a flat list of strings: LOCATION USER KIND PATH OWNER GROUP MODE
# HOW INITRD per entry (USER empty for system entries; "" for a field the
# module does not have). Every user the snippet names gets an account whose
# home is /home/NAME and whose group is "users" (/root and "root" for root).
# Style home-manager is impermanence with its Home Manager module, which
# impermanence's NixOS module imports into every home-manager.users entry
# (home-manager.sharedModules); home-manager.nix, a stub of Home Manager's
# NixOS module, provides those. Its entries follow the NixOS ones, users sorted by name.
{ src, snippet, style }:
let
  lib = import (src + "/nixpkgs.lib/lib");
  raw = import snippet;
  homeManager = style == "home-manager";
  impermanence = style == "impermanence" || homeManager;
  locations = if impermanence then raw.environment.persistence or { } else raw.preservation.preserveAt;
  hmNames = builtins.attrNames (raw.home-manager.users or { });
  names = lib.unique (lib.concatMap (l: builtins.attrNames (l.users or { })) (builtins.attrValues locations) ++ hmNames);
  home = n: if n == "root" then "/root" else "/home/${n}";
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
      home = home n;
      group = if n == "root" then "root" else "users";
      homeMode = "700";
    });
  };
  eval = lib.evalModules {
    modules = [
      stub
      (if impermanence then src + "/impermanence/nixos.nix" else src + "/preservation/module.nix")
      snippet
    ] ++ lib.optional homeManager ./home-manager.nix;
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
  # Home Manager: home.persistence has the shape of a location, with paths
  # relative to the home, as users.NAME has.
  hm = lib.concatLists (lib.mapAttrsToList (user: c: lib.concatLists (lib.mapAttrsToList (location: l: entries location user l) c.home.persistence))
    (lib.getAttrs hmNames eval.config.home-manager.users));
in
lib.concatLists (lib.mapAttrsToList (location: l:
  entries location "" l ++ lib.concatLists (lib.mapAttrsToList (entries location) l.users)) config)
++ lib.optionals homeManager hm
