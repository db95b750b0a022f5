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
      # "/deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24/d25/d26/d27/d28/d29/d30/d31/d32/d33/d34/d35/d36/d37/d38/d39/d40/d41/d42/d43/d44/d45/d46/d47/d48/d49/d50/d51/d52/d53/d54/d55/d56/d57/d58/d59/leaf"
      # unknown: written into /etc at run time, not by NixOS (no store symlink, not in…
      # "/etc/empty"
      # "/etc/moved.txt"
    ];
    users.alice = {
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
  };
}
