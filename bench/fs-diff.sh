#!/usr/bin/env bash
# fs-diff.sh MNT: the classic fs-diff.sh of "erase your darlings" setups
# (mt-caret, 2020, after serverfault 399894), kept as it is copied around,
# as the baseline fsdiff is benchmarked against (bench/generation.sh).
#
# The only changes are the variant used when the audited root is not the
# live /: the top level is mounted at MNT (the original hardcodes /mnt), so
# the blank snapshot is MNT/root-blank, the root is MNT/root, and the -L/-d
# tests look at MNT/root/<path> instead of /<path>; and sudo is skipped when
# already root. The output is the original's: one absolute path per line, as
# seen from the audited root.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 MNT  (MNT: the btrfs top level, holding root and root-blank)" >&2
  exit 2
fi
MNT=${1%/}
SUDO=sudo
if [ "$(id -u)" -eq 0 ]; then SUDO=; fi

OLD_TRANSID=$($SUDO btrfs subvolume find-new "$MNT/root-blank" 9999999)
OLD_TRANSID=${OLD_TRANSID#transid marker was }

# shellcheck disable=SC2162 # read without -r, as in the original
$SUDO btrfs subvolume find-new "$MNT/root" "$OLD_TRANSID" |
sed '$d' |
cut -f17- -d' ' |
sort |
uniq |
while read path; do
  path="/$path"
  if [ -L "$MNT/root$path" ]; then
    : # The path is a symbolic link, so is probably handled by NixOS already
  elif [ -d "$MNT/root$path" ]; then
    : # The path is a directory, ignore
  else
    echo "$path"
  fi
done
