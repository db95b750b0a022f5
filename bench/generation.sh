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

die() {
	echo "generation.sh: $*" >&2
	exit 1
}

[[ $N =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ ]] || die "N and RUNS must be positive integers"
[ "$(id -u)" -eq 0 ] || die "must run as root (loop mount, btrfs ioctls): sudo $0"
for tool in mkfs.btrfs btrfs mount umount truncate "$GO"; do
	command -v "$tool" >/dev/null || die "needs $tool in PATH (btrfs-progs; for go: sudo env PATH=\"\$PATH\" $0, or GO=...)"
done
[ "$(date +%N)" != N ] || die "needs date +%N (GNU coreutils)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fsdiff-bench.XXXXXX")
MNT=$WORK/mnt
MOUNTED=0

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$MOUNTED" = 1 ] && ! umount "$MNT"; then
		sleep 1
		if ! umount "$MNT"; then
			echo "generation.sh: could not unmount $MNT; left $WORK in place" >&2
			exit "$rc"
		fi
	fi
	rm -rf -- "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# now_ns prints the wall clock in nanoseconds: date +%s.%N without the dot.
now_ns() {
	local t
	t=$(date +%s.%N)
	echo "${t/./}"
}

# seconds NS prints NS nanoseconds as seconds with two decimals.
seconds() {
	local cs=$((($1 + 5000000) / 10000000))
	printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# best_of CMD...: runs CMD RUNS times, stdout to /dev/null, and sets BEST to
# the shortest wall-clock time in nanoseconds.
best_of() {
	local i start end
	BEST=0
	for ((i = 0; i < RUNS; i++)); do
		if [ "$COLD" = 1 ]; then drop_caches; fi
		start=$(now_ns)
		"$@" >/dev/null
		end=$(now_ns)
		if ((BEST == 0 || end - start < BEST)); then BEST=$((end - start)); fi
	done
}

echo "building fsdiff and populate in $WORK"
(cd "$REPO" && "$GO" build -o "$WORK/fsdiff" ./cmd/fsdiff && "$GO" build -o "$WORK/populate" ./bench/populate)

# A sparse image: 4 GiB, or 8 KiB per entry if more (300,000 entries take
# about 0.7 GiB, metadata duplicated).
size=$((N * 8192))
if ((size < 4 << 30)); then size=$((4 << 30)); fi
truncate -s "$size" "$WORK/fs.img"
mkfs.btrfs -q -f "$WORK/fs.img" >/dev/null
mkdir "$MNT"
mount -o loop "$WORK/fs.img" "$MNT"
MOUNTED=1

# The "erase your darlings" layout: root is a writable snapshot of the empty
# read-only root-blank, as after a rollback at boot.
btrfs subvolume create "$MNT/root" >/dev/null
btrfs subvolume snapshot -r "$MNT/root" "$MNT/root-blank" >/dev/null
btrfs subvolume delete "$MNT/root" >/dev/null
btrfs subvolume snapshot "$MNT/root-blank" "$MNT/root" >/dev/null

"$WORK/populate" -n "$N" "$MNT/root"
btrfs filesystem sync "$MNT"

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
