#!/usr/bin/env bash
# scale.sh: fsdiff's time and peak memory per changed path, per output
# format, next to fs-diff.sh and a bare `btrfs subvolume find-new` of the
# same root, as ratios from one run (SPEC §8, issue 12).
#
#   sudo bench/scale.sh                      N=300000 entries, RUNS=3 interleaved rounds
#   sudo N=1000000 RUNS=1 bench/scale.sh     a larger root (the image is sparse)
#   sudo OLD=/tmp/fsdiff.old bench/scale.sh  also check that OLD prints the same bytes
#   sudo KEEP=1 bench/scale.sh               leave the image mounted and say where
#   sudo MNT=/tmp/x/mnt bench/scale.sh       reuse a kept image (nothing is removed)
#   sudo BIN=/tmp/fsdiff.old bench/scale.sh  measure that binary instead of the worktree's
#   sudo TOOLS="find-new paths" bench/scale.sh   only these (of fs-diff.sh find-new table paths ndjson)
#
# Each round runs every tool once, so a load change on the host hits all of
# them alike; the figures are medians over the rounds. Time and peak RSS
# come from GNU time (/usr/bin/time). Needs root, btrfs-progs, loop devices
# and Go (GO=/path/to/go if root's PATH has none).
set -euo pipefail

N=${N:-300000}
RUNS=${RUNS:-3}
GO=${GO:-go}
OLD=${OLD:-}
KEEP=${KEEP:-0}
MNT=${MNT:-}
BIN=${BIN:-}

NAME=scale.sh
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fsdiff-scale.XXXXXX")
# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"

[[ $N =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ ]] || die "N and RUNS must be positive integers"
[ "$(id -u)" -eq 0 ] || die "must run as root (loop mount, btrfs ioctls): sudo $0"
for tool in mkfs.btrfs btrfs mount umount truncate /usr/bin/time "$GO"; do
	command -v "$tool" >/dev/null || die "needs $tool (btrfs-progs, GNU time; for go: sudo env PATH=\"\$PATH\" $0, or GO=...)"
done

echo "building fsdiff and populate in $WORK"
(cd "$REPO" && "$GO" build -o "$WORK/fsdiff" ./cmd/fsdiff && "$GO" build -o "$WORK/populate" ./bench/populate)
if [ -n "$BIN" ]; then cp -- "$BIN" "$WORK/fsdiff"; fi

if [ -z "$MNT" ]; then
	MNT=$WORK/mnt
	make_image
fi
[ -d "$MNT/root" ] && [ -d "$MNT/root-blank" ] || die "$MNT has no root and root-blank subvolumes"

gen=$(btrfs subvolume find-new "$MNT/root-blank" 9999999)
gen=${gen#transid marker was }

# The tools, by name; fsdiff-* are fsdiff's formats, each of its runs
# audits the whole root.
names=(${TOOLS:-fs-diff.sh find-new table paths ndjson})
declare -A cmd
cmd[fs-diff.sh]="$REPO/bench/fs-diff.sh $MNT"
cmd[find-new]="btrfs subvolume find-new $MNT/root $gen"
fsdiff="$WORK/fsdiff --mount $MNT --root root --baseline root-blank"
cmd[table]="$fsdiff --format table" # the default on a terminal; TSV to /dev/null
cmd[paths]="$fsdiff --format paths --all"
cmd[ndjson]="$fsdiff --format ndjson --all"

# One untimed run of each: a warm cache, and the number of changed paths.
for t in "${names[@]}"; do ${cmd[$t]} >"$WORK/$t.out"; done
paths=$("$WORK/fsdiff" --mount "$MNT" --root root --baseline root-blank --format paths --all | wc -l)

if [ -n "$OLD" ]; then
	same=1
	for f in "" "--format paths --all" "--format ndjson --all" "--format tsv" "--format json" "--format table" "--format table --all" "--format paths -0"; do
		SOURCE_DATE_EPOCH=1 "$OLD" --mount "$MNT" --root root --baseline root-blank $f >"$WORK/old.out"
		SOURCE_DATE_EPOCH=1 "$WORK/fsdiff" --mount "$MNT" --root root --baseline root-blank $f >"$WORK/new.out"
		if cmp -s "$WORK/old.out" "$WORK/new.out"; then
			echo "same output as $OLD: ${f:-table} ($(wc -c <"$WORK/new.out") bytes)"
		else
			echo "DIFFERENT output from $OLD: ${f:-table}"
			same=0
		fi
	done
	[ "$same" = 1 ] || die "outputs differ from $OLD"
fi

# rounds of "elapsed-seconds max-rss-KiB" per tool.
declare -A times rss
for ((i = 0; i < RUNS; i++)); do
	for t in "${names[@]}"; do
		/usr/bin/time -f '%e %M' -o "$WORK/time" ${cmd[$t]} >/dev/null
		read -r e m <"$WORK/time"
		times[$t]+="$e "
		rss[$t]+="$m "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

made="N=$N entries"
if [ "$MOUNTED" = 0 ]; then made="image $MNT"; fi
echo "$made, $paths changed paths, $RUNS rounds (medians), warm cache, $(uname -r), $(nproc) CPUs"
printf '%-11s %8s %10s %12s\n' tool seconds "RSS MiB" "RSS B/path"
declare -A med
for t in "${names[@]}"; do
	med[$t]=$(median <<<"${times[$t]}")
	m=$(median <<<"${rss[$t]}")
	per="-"
	case $t in table | paths | ndjson) per=$((m * 1024 / paths)) ;; esac
	printf '%-11s %8s %10d %12s\n' "$t" "${med[$t]}" $((m / 1024)) "$per"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a / b}'; }
if [ -n "${med[fs-diff.sh]:-}" ] && [ -n "${med[ndjson]:-}" ]; then
	echo "ndjson --all vs fs-diff.sh: $(ratio "${med[fs-diff.sh]}" "${med[ndjson]}") (target 10x)"
fi
if [ -n "${med[find-new]:-}" ] && [ -n "${med[paths]:-}" ]; then
	echo "paths --all vs find-new:    $(ratio "${med[find-new]}" "${med[paths]}") (target 4x)"
fi
