# services.fsdiff: audit the erased-at-boot root after every boot, and on
# a calendar if asked, against what the host itself declares persistent.
# The flake exports this file as nixosModules.default; it also works
# imported on its own (the package is then built from this checkout).
{
  config,
  lib,
  options,
  pkgs,
  utils,
  ...
}:
let
  cfg = config.services.fsdiff;
  inherit (lib) mkOption types;

  # The declared persistence of the host, in the JSON fsdiff --declared
  # reads (internal/classify/declared.go): storage path -> { directories,
  # files }, every path absolute. builtins.toJSON of the options' own
  # values does not work: impermanence keeps removed options
  # (allowOther) that throw when read, and its entries hold internal
  # attributes. So only paths are taken, made absolute here, where each
  # module's rule is known: impermanence's user entries are relative to
  # the entry's home, preservation's are already absolute, and
  # preservation's "_intermediate" entries are parents it creates, not
  # persisted paths.
  #
  # impermanence: environment.persistence, and the home.persistence of
  # every Home Manager user (its Home Manager module, which its NixOS
  # module imports into each), locations of the same shape.
  impermanence = lib.optionals (options ? environment.persistence) (
    map
      (
        locations:
        lib.mapAttrs (_: l: {
          directories = map (e: underHome e.home e.directory) (
            l.directories ++ lib.concatMap (u: u.directories) (lib.attrValues (l.users or { }))
          );
          files = map (e: underHome e.home e.file) (
            l.files ++ lib.concatMap (u: u.files) (lib.attrValues (l.users or { }))
          );
        }) (lib.filterAttrs (_: l: l.enable) locations)
      )
      (
        [ config.environment.persistence ]
        ++ lib.optionals (options ? home-manager.users) (
          map (u: u.home.persistence or { }) (lib.attrValues config.home-manager.users)
        )
      )
  );
  # As impermanence's concatPaths joins them: a leading / is ignored.
  underHome = home: p: if home == null then p else "${home}/${lib.removePrefix "/" p}";

  preservation = lib.optionalAttrs (options ? preservation.preserveAt && config.preservation.enable) (
    lib.mapAttrs (
      _: l:
      let
        own = builtins.filter (e: e.how != "_intermediate");
        users = lib.attrValues l.users;
      in
      {
        directories = map (e: e.directory) (own (l.directories ++ lib.concatMap (u: u.directories) users));
        files = map (e: e.file) (own (l.files ++ lib.concatMap (u: u.files) users));
      }
    ) config.preservation.preserveAt
  );

  # A host may use both, and Home Manager: merge them per storage path.
  declaredFromConfig = lib.zipAttrsWith (_: ls: {
    directories = lib.concatMap (l: l.directories) ls;
    files = lib.concatMap (l: l.files) ls;
  }) (impermanence ++ [ preservation ]);

  args = [
    (lib.getExe cfg.package)
    "check"
    # Off a terminal fsdiff prints TSV; the journal is read by people
    # (systemctl status fsdiff), so a table.
    "--format"
    "table"
  ]
  ++ lib.optionals (cfg.declared != null) [
    "--declared"
    "/etc/fsdiff/declared.json"
  ]
  ++ lib.optionals (cfg.failOn != [ ]) [
    "--fail-on"
    (lib.concatStringsSep "," cfg.failOn)
  ]
  ++ lib.optionals cfg.metrics.enable [
    "--metrics"
    "${cfg.metrics.directory}/fsdiff.prom"
  ]
  ++ cfg.extraArgs;
in
{
  options.services.fsdiff = {
    enable = lib.mkEnableOption "an fsdiff audit of the erased-at-boot root after every boot";

    package = mkOption {
      type = types.package;
      default = pkgs.fsdiff or (pkgs.callPackage ./package.nix { });
      defaultText = lib.literalExpression "pkgs.fsdiff (the flake's overlay), else built from this checkout";
      description = "The fsdiff package.";
    };

    interval = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "daily";
      description = ''
        Also audit on this calendar (systemd.time(7) OnCalendar=), to see
        state that appears while the host runs. null: after boot only.
      '';
    };

    declared = mkOption {
      type = types.nullOr (types.attrsOf (types.attrsOf (types.listOf types.str)));
      default = if declaredFromConfig == { } then null else declaredFromConfig;
      defaultText = lib.literalMD ''
        every path of `environment.persistence` and Home Manager's
        `home.persistence` (impermanence) and of `preservation.preserveAt`
        (preservation), where the host has those options; null when it has
        none
      '';
      example = lib.literalExpression ''{ "/persist" = { directories = [ "/var/lib/nixos" ]; files = [ "/etc/machine-id" ]; }; }'';
      description = ''
        Declared persistence, written at build time to
        /etc/fsdiff/declared.json and passed with --declared, so that the
        audit knows what the configuration persists without anyone running
        nix eval. null: only what is mounted over the live root counts as
        declared.
      '';
    };

    rules = mkOption {
      type = types.lines;
      default = "";
      example = ''
        ephemeral /var/lib/example/cache/** -- rebuilt at start
        persist   /var/lib/example/keys critical -- losing it locks users out
      '';
      description = "Rule lines for /etc/fsdiff/rules, which fsdiff reads before its built-in rules, so they win over them (README, \"Rules\").";
    };

    failOn = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "persist:critical"
        "unknown"
      ];
      description = "What counts as drift (fsdiff check --fail-on); empty: fsdiff's default, persist:recommended and unknown.";
    };

    failOnDrift = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether undeclared state fails the unit. Either way the table is in
        the journal and in systemctl status fsdiff; an error (exit status 2)
        always fails it.
      '';
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "--context"
        "mutable-users"
      ];
      description = "More arguments for fsdiff check.";
    };

    metrics = {
      enable = lib.mkEnableOption ''
        Prometheus metrics: fsdiff writes fsdiff.prom into metrics.directory
        after each audit, for node_exporter's textfile collector:

            services.prometheus.exporters.node.enabledCollectors = [ "textfile" ];
            services.prometheus.exporters.node.extraFlags = [ "--collector.textfile.directory=/run/fsdiff" ];
      '';
      directory = mkOption {
        type = types.str;
        default = "/run/fsdiff";
        description = ''
          Where fsdiff.prom goes. The default is on /run, a tmpfs: a file
          on the audited root would itself be state the next audit reports.
        '';
      };
    };
  };

  config = lib.mkIf cfg.enable {
    # fsdiff suggest, explain and check by hand, with the same rules.
    environment.systemPackages = [ cfg.package ];

    environment.etc = {
      "fsdiff/declared.json" = lib.mkIf (cfg.declared != null) { text = builtins.toJSON cfg.declared; };
      "fsdiff/rules" = lib.mkIf (cfg.rules != "") { text = cfg.rules; };
    };

    systemd.tmpfiles.rules = lib.mkIf cfg.metrics.enable [ "d ${cfg.metrics.directory} 0755 root root -" ];

    systemd.services.fsdiff = {
      description = "Audit the root for undeclared state (fsdiff check)";
      documentation = [ "https://github.com/fsdiff-nix/fsdiff#readme" ];
      # After boot: once the services that write state at start have run.
      wantedBy = [ "multi-user.target" ];
      after = [ "multi-user.target" ];
      # An audit is not a daemon: a rebuild does not need to run it again.
      restartIfChanged = false;
      serviceConfig = {
        Type = "oneshot";
        ExecStart = utils.escapeSystemdExecArgs args;
        # fsdiff check exits 1 on drift: a success unless asked otherwise;
        # the table is in the journal either way.
        SuccessExitStatus = lib.mkIf (!cfg.failOnDrift) [ 1 ];

        # Hardening for a read-only auditor that must see the whole root.
        #
        # Capabilities: CAP_SYS_ADMIN for the btrfs tree-search ioctls and
        # for mounting the top level privately and detached (fsopen(2),
        # fsmount(2), open_tree(2)); CAP_DAC_READ_SEARCH to read every
        # home and service directory whatever its mode; CAP_FOWNER for
        # O_NOATIME on files root does not own (reading must not touch
        # atimes). Nothing else.
        CapabilityBoundingSet = [
          "CAP_SYS_ADMIN"
          "CAP_DAC_READ_SEARCH"
          "CAP_FOWNER"
        ];
        NoNewPrivileges = true;
        # No network: fsdiff reads the disk and writes to stdout and files.
        RestrictAddressFamilies = [ "AF_UNIX" ];
        IPAddressDeny = "any";
        # fsdiff creates no namespaces (its mounts are detached, in its own).
        RestrictNamespaces = true;
        # The mount API is in @mount, which @system-service leaves out.
        SystemCallFilter = [
          "@system-service"
          "@mount"
        ];
        SystemCallErrorNumber = "EPERM";
        SystemCallArchitectures = "native";
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        # These only change kernel filesystems (proc, sysfs, cgroup2), which
        # fsdiff never counts as persistence.
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        UMask = "0022";
        # An audit can wait for the host's own work.
        Nice = 19;
        IOSchedulingClass = "idle";
        # Left out on purpose:
        # - ProtectHome (any value): fsdiff must read homes.
        # - ProtectSystem, PrivateTmp, ReadWritePaths, ReadOnlyPaths,
        #   TemporaryFileSystem: systemd implements them with mounts over
        #   the root's own directories (ProtectSystem=strict re-binds /home
        #   and /root onto themselves, PrivateTmp mounts a directory of /tmp
        #   at /tmp), and fsdiff reads a mount over the live root as
        #   declared persistence: /home, /root or /tmp would be reported as
        #   persisted. Writes are few anyway: the metrics file, and with the
        #   send source (--source send, or auto whenever the read-only blank
        #   is not empty) a temporary snapshot next to the root subvolume,
        #   made through a writable detached mount of fsdiff's own when the
        #   mount it reads through is read-only (it is, by default).
        # - PrivateDevices, DevicePolicy, ProtectClock (which sets a device
        #   policy): fsdiff mounts the btrfs top level from its block
        #   device, which these hide or deny.
        # - PrivateUsers: btrfs ioctls and mounting a block filesystem need
        #   CAP_SYS_ADMIN in the initial user namespace.
      };
    };

    systemd.timers.fsdiff = lib.mkIf (cfg.interval != null) {
      description = "Audit the root for undeclared state on a calendar";
      wantedBy = [ "timers.target" ];
      timerConfig.OnCalendar = cfg.interval;
    };
  };
}
