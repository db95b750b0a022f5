#!/usr/bin/env bash
# generation.sh: fsdiff's btrfs generation source against the classic
# fs-diff.sh, end to end, on a fresh loop-mounted btrfs image whose root
# subvolume holds N new entries since its blank snapshot (SPEC §8: fsdiff at
# least 5x faster on a 300,000-entry root).
#
#   sudo bench/generation.sh              N=300000 entries, best of RUNS=3
#   sudo N=100000 RUNS=5 bench/generation.sh
#   sudo COLD=1 bench/generation.sh       drop the page cache before each run
#
# Needs root, btrfs-progs, loop devices and Go (GO=/path/to/go if root's
# PATH has none). Exits 1 if the target is not met. Everything it makes
# lives in one temporary directory that is unmounted and removed on exit.
set -euo pipefail

N=${N:-300000}
RUNS=${RUNS:-3}
COLD=${COLD:-0}
GO=${GO:-go}
TARGET=5 # SPEC §8: fsdiff at least 5x faster than fs-diff.sh

NAME=generation.sh
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fsdiff-bench.XXXXXX")
MNT=$WORK/mnt
# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"

[[ $N =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ ]] || die "N and RUNS must be positive integers"
[ "$(id -u)" -eq 0 ] || die "must run as root (loop mount, btrfs ioctls): sudo $0"
for tool in mkfs.btrfs btrfs mount umount truncate "$GO"; do
	command -v "$tool" >/dev/null || die "needs $tool in PATH (btrfs-progs; for go: sudo env PATH=\"\$PATH\" $0, or GO=...)"
done
[ "$(date +%N)" != N ] || die "needs date +%N (GNU coreutils)"

echo "building fsdiff and populate in $WORK"
(cd "$REPO" && "$GO" build -o "$WORK/fsdiff" ./cmd/fsdiff && "$GO" build -o "$WORK/populate" ./bench/populate)

make_image

classic=("$REPO/bench/fs-diff.sh" "$MNT")
fsdiff=("$WORK/fsdiff" --mount "$MNT" --root root --baseline root-blank --format paths)

# One untimed run of each: the line counts, and a warm cache unless COLD=1.
"${classic[@]}" >"$WORK/classic.out"
"${fsdiff[@]}" >"$WORK/fsdiff.out"
classic_lines=$(wc -l <"$WORK/classic.out")
fsdiff_lines=$(wc -l <"$WORK/fsdiff.out")

cache="warm cache"
if [ "$COLD" = 1 ]; then cache="cold cache (dropped before each run)"; fi
echo "N=$N entries, best of $RUNS runs, $cache, $(uname -r), $(btrfs --version)"

best_of "${classic[@]}"
classic_ns=$BEST
best_of "${fsdiff[@]}"
fsdiff_ns=$BEST

ratio10=$(((classic_ns * 10 + fsdiff_ns / 2) / fsdiff_ns))
echo "fs-diff.sh: $(seconds "$classic_ns") s ($classic_lines paths)"
echo "fsdiff: $(seconds "$fsdiff_ns") s ($fsdiff_lines changes)"
echo "ratio: $((ratio10 / 10)).$((ratio10 % 10))x"

if /usr/bin/time -f %M true >/dev/null 2>&1; then
	/usr/bin/time -f %M -o "$WORK/rss" "${fsdiff[@]}" >/dev/null
	rss=$(tail -n 1 "$WORK/rss")
	per=""
	if ((fsdiff_lines > 0)); then per=", $((rss * 1024 / fsdiff_lines)) bytes per change"; fi
	echo "fsdiff peak RSS: $((rss / 1024)) MiB ($rss KiB$per)"
else
	echo "fsdiff peak RSS: skipped (needs GNU time at /usr/bin/time)"
fi

if ((fsdiff_lines < N)); then
	echo "warning: fsdiff reported $fsdiff_lines changes for $N new entries" >&2
fi
if ((classic_ns >= TARGET * fsdiff_ns)); then
	echo "target (SPEC §8, at least ${TARGET}x): met"
else
	echo "target (SPEC §8, at least ${TARGET}x): NOT met"
	exit 1
fi
