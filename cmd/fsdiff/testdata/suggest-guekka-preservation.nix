# Suggested by fsdiff devel for host unknown at 2026-01-01T00:00:00Z.
# Source: btrfs source, root /root; baseline: /root-blank (generation 8).
{
  preservation.enable = true;
  preservation.preserveAt."/persist" = {
    directories = [
      "/etc/nixos"
      "/var/lib/NetworkManager"
      {
        directory = "/var/lib/nixos";
        inInitrd = true;
      }
    ];
    files = [
      {
        file = "/etc/machine-id";
        inInitrd = true;
      }
      {
        file = "/etc/ssh/ssh_host_ed25519_key";
        user = "root";
        group = "root";
        mode = "0600";
        how = "symlink";
        configureParent = true;
      }
      {
        file = "/etc/ssh/ssh_host_ed25519_key.pub";
        how = "symlink";
        configureParent = true;
      }
      {
        file = "/etc/ssh/ssh_host_rsa_key";
        user = "root";
        group = "root";
        mode = "0600";
        how = "symlink";
        configureParent = true;
      }
      {
        file = "/etc/ssh/ssh_host_rsa_key.pub";
        how = "symlink";
        configureParent = true;
      }
      {
        file = "/var/lib/systemd/random-seed";
        how = "symlink";
        inInitrd = true;
        configureParent = true;
      }
    ];
  };
}
