#!/usr/bin/env bash
# walk.sh: fsdiff's walk source against find -xdev over the same tree of N
# new entries (SPEC §8: within 1.5x of find -xdev -printf '%s %T@\n').
#
#   bench/walk.sh                 N=300000 entries under a temporary directory, best of RUNS=3
#   DIR=/mnt/x bench/walk.sh      make the tree on another filesystem
#
# It times, with a warm cache: find; the walk source alone (BenchmarkWalk,
# what the target is about); and fsdiff end to end (walk, classification of
# every entry, sorting, --format ndjson --all output), and prints both
# ratios.
set -euo pipefail
N=${N:-300000}
RUNS=${RUNS:-3}
GO=${GO:-go}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK=$(mktemp -d "${DIR:-${TMPDIR:-/tmp}}/fsdiff-walk.XXXXXX")
NAME=walk.sh
# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"

cd "$REPO"
"$GO" build -o "$WORK/fsdiff" ./cmd/fsdiff
mkdir "$WORK/tree"
"$GO" run ./bench/populate -n "$N" "$WORK/tree"
find "$WORK/tree" -xdev -printf '%s %T@\n' >/dev/null # warm the cache

best_of find "$WORK/tree" -xdev -printf '%s %T@\n'
find_ns=$BEST
best_of "$WORK/fsdiff" --source walk --root "$WORK/tree" --baseline none --format ndjson --all
fsdiff_ns=$BEST
walk_ns=$(FSDIFF_WALK_TREE="$WORK/tree" "$GO" test ./internal/snapshot -run '^$' -bench '^BenchmarkWalk$' -benchtime "${RUNS}x" -count 1 |
	awk '/^BenchmarkWalk/ { print $3 }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "N=$N entries, best of $RUNS, warm cache, $(uname -r), $(df -T "$WORK" | awk 'NR==2 { print $2 }')"
echo "find -xdev -printf: $(seconds "$find_ns") s"
echo "walk source alone:  $(seconds "$walk_ns") s ($(ratio "$walk_ns" "$find_ns")x find; target 1.5x)"
echo "fsdiff end to end:  $(seconds "$fsdiff_ns") s ($(ratio "$fsdiff_ns" "$find_ns")x find; target 1.5x; --format ndjson --all: walk + classify + sort + output)"
