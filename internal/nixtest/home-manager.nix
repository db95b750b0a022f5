# Home Manager's NixOS module, as far as impermanence uses it: a
# home-manager.users.NAME configuration per user, made of the shared
# modules (impermanence's NixOS module adds its Home Manager module there)
# and the user's own, with home.username and home.homeDirectory
# (/home/NAME; /root for root).
{ config, lib, ... }:
{
  options.home-manager = {
    sharedModules = lib.mkOption {
      type = lib.types.listOf lib.types.raw;
      default = [ ];
    };
    users = lib.mkOption {
      type = lib.types.attrsOf (
        lib.types.submoduleWith {
          specialArgs.pkgs.callPackage = f: args: import f ({ inherit lib; } // args);
          modules = config.home-manager.sharedModules ++ [
            (
              { name, lib, ... }:
              {
                options.home.username = lib.mkOption { type = lib.types.str; };
                options.home.homeDirectory = lib.mkOption { type = lib.types.str; };
                options.assertions = lib.mkOption { type = lib.types.anything; };
                config.home.username = name;
                config.home.homeDirectory = if name == "root" then "/root" else "/home/${name}";
              }
            )
          ];
        }
      );
      default = { };
    };
  };
}
