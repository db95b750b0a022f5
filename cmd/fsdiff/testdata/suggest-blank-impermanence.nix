# Suggested by fsdiff devel for host unknown at 2026-01-01T00:00:00Z.
# Source: send source, root /root; baseline: /root-blank.
# Commented-out entries are state no rule knows: uncomment what should survive a reboot.
{
  environment.persistence."/persist" = {
    directories = [
      # unknown: no rule matches
      # "/deep"
      # unknown: no rule matches
      # "/odd"
      # unknown: a service state directory no rule knows: persist it if the service's data matters (20 repos persist all of /var/lib)
      # {
        # directory = "/var/lib/app";
        # user = "root";
        # group = "root";
        # mode = "0750";
      # }
      {
        directory = "/var/lib/colord";
        user = "colord";
        group = "colord";
        mode = "0750";
      }
      # unknown: a service state directory no rule knows: persist it if the service's data matters (20 repos persist all of /var/lib)
      # {
        # directory = "/var/lib/emptydir";
        # user = "root";
        # group = "root";
        # mode = "0700";
      # }
    ];
    files = [
      # unknown: no rule matches
      # "/base/append.txt"
      # unknown: no rule matches
      # "/base/chmod.txt"
      # unknown: no rule matches
      # "/base/chown.txt"
      # unknown: no rule matches
      # "/base/overwrite.txt"
      # unknown: no rule matches
      # "/base/renamed.txt"
      # unknown: no rule matches
      # "/base/truncate.txt"
      # unknown: no rule matches
      # "/base/xattr.txt"
      # unknown: review: any other regular, non-symlink /etc file not listed in /etc/.clean was written at runtime by some tool: usually imperative state (or junk); needs human review
      # "/etc/empty"
      "/etc/machine-id"
      # unknown: review: any other regular, non-symlink /etc file not listed in /etc/.clean was written at runtime by some tool: usually imperative state (or junk); needs human review
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
