#!/usr/bin/env bash
# watch-flood.sh: fsdiff watch's peak memory while a package manager-like
# flood of N files (default 100,000) lands in a cache directory. The paths
# are ephemeral, so watch counts them per anchor: memory must not grow with
# the number of files.
#
#   bench/watch-flood.sh          N=100000 files under a temporary directory
#
# Linux, no root needed. Prints the peak RSS of fsdiff (GNU time) and the
# last count it printed.
set -euo pipefail
N=${N:-100000}
GO=${GO:-go}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fsdiff-watch.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
(cd "$REPO" && "$GO" build -o "$WORK/fsdiff" ./cmd/fsdiff)
mkdir -p "$WORK/root/cache"

/usr/bin/time -f '%M' -o "$WORK/rss" "$WORK/fsdiff" watch "$WORK/root" >"$WORK/out" 2>"$WORK/err" &
pid=$!
until grep -q watching "$WORK/err" 2>/dev/null; do sleep 0.1; done
sleep 0.5
start=$(date +%s.%N)
seq -f "$WORK/root/cache/f%06g" 1 "$N" | xargs touch
end=$(date +%s.%N)
# Wait until the watch has counted them all (it prints counts at powers of ten), then stop it.
for _ in $(seq 1 300); do
	grep -q "[ ~]${N} paths" "$WORK/out" && break
	sleep 0.1
done
kill -INT "$(pgrep -P "$pid" fsdiff || echo "$pid")" 2>/dev/null || true
wait "$pid" || true
echo "flood: $N files in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
echo "watch printed: $(grep -c . "$WORK/out") lines; last count: $(grep ' paths$' "$WORK/out" | tail -n 1)"
echo "fsdiff watch peak RSS: $(($(tail -n 1 "$WORK/rss") / 1024)) MiB"
