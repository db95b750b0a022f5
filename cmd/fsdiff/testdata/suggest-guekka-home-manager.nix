# Suggested by fsdiff devel for host unknown at 2026-01-01T00:00:00Z.
# Source: btrfs source, root /root; baseline: /root-blank (generation 8).
{
  environment.persistence."/persist" = {
    directories = [
      "/etc/nixos"
      "/var/lib/NetworkManager"
      "/var/lib/nixos"
    ];
    files = [
      "/etc/machine-id"
      "/etc/ssh/ssh_host_ed25519_key"
      "/etc/ssh/ssh_host_ed25519_key.pub"
      "/etc/ssh/ssh_host_rsa_key"
      "/etc/ssh/ssh_host_rsa_key.pub"
      "/var/lib/systemd/random-seed"
    ];
  };
}
