# Suggested by fsdiff devel for host unknown at 2026-01-01T00:00:00Z.
# Source: send source, root /root; baseline: /root-blank.
# Commented-out entries are state no rule knows: uncomment what should survive a reboot.
{
  environment.persistence."/persist" = {
    directories = [
      {
        directory = "/var/lib/app";
        user = "root";
        group = "root";
        mode = "0750";
      }
      {
        directory = "/var/lib/colord";
        user = "colord";
        group = "colord";
        mode = "0750";
      }
      {
        directory = "/var/lib/emptydir";
        user = "root";
        group = "root";
        mode = "0700";
      }
      # unknown: no rule matches
      # "/deep"
      # "/odd"
    ];
    files = [
      "/etc/machine-id"
      # unknown: no rule matches
      # "/base/append.txt"
      # "/base/chmod.txt"
      # "/base/chown.txt"
      # "/base/overwrite.txt"
      # "/base/renamed.txt"
      # "/base/truncate.txt"
      # "/base/xattr.txt"
      # unknown: written into /etc at run time, not by NixOS (no store symlink, not in…
      # "/etc/empty"
      # "/etc/moved.txt"
    ];
  };
  home-manager.users.alice.home.persistence."/persist" = {
    directories = [
      {
        directory = ".ssh";
        mode = "0700";
      }
    ];
    files = [
      ".zsh_history"
    ];
  };
}
