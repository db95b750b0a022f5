# lib.sh: what the benchmarks share. Source it after setting NAME (for
# messages), REPO, WORK (the temporary directory to remove on exit) and,
# for an image, N, MNT and KEEP (1: leave the image mounted).
# shellcheck shell=bash

MOUNTED=0 # set when this run mounted an image it must remove

die() {
	echo "$NAME: $*" >&2
	exit 1
}

# cleanup unmounts the image this run made and removes WORK, unless KEEP=1
# asks to keep the image for another run (MNT=...).
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$MOUNTED" = 1 ] && [ "${KEEP:-0}" = 1 ]; then
		echo "kept: $MNT (image $WORK/fs.img); reuse with MNT=$MNT, remove with: umount $MNT && rm -rf $WORK"
		exit "$rc"
	fi
	if [ "$MOUNTED" = 1 ] && ! umount "$MNT"; then
		sleep 1
		if ! umount "$MNT"; then
			echo "$NAME: could not unmount $MNT; left $WORK in place" >&2
			exit "$rc"
		fi
	fi
	rm -rf -- "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# make_image mounts a sparse btrfs image at MNT in the "erase your
# darlings" layout (root is a writable snapshot of the empty read-only
# root-blank, as after a rollback at boot) and fills root with N new
# entries by WORK/populate. 8 KiB an entry, at least 4 GiB: only what is
# written takes space.
make_image() {
	local size=$((N * 8192))
	if ((size < 4 << 30)); then size=$((4 << 30)); fi
	truncate -s "$size" "$WORK/fs.img"
	mkfs.btrfs -q -f "$WORK/fs.img" >/dev/null
	mkdir "$MNT"
	mount -o loop "$WORK/fs.img" "$MNT"
	MOUNTED=1
	btrfs subvolume create "$MNT/root" >/dev/null
	btrfs subvolume snapshot -r "$MNT/root" "$MNT/root-blank" >/dev/null
	btrfs subvolume delete "$MNT/root" >/dev/null
	btrfs subvolume snapshot "$MNT/root-blank" "$MNT/root" >/dev/null
	echo "populating $N entries"
	"$WORK/populate" -n "$N" "$MNT/root"
	btrfs filesystem sync "$MNT"
}

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

# best_of CMD...: runs CMD RUNS times, stdout to /dev/null, and sets BEST to
# the shortest wall-clock time in nanoseconds; with COLD=1 the page cache
# is dropped before each run.
best_of() {
	local i start end
	BEST=0
	for ((i = 0; i < RUNS; i++)); do
		if [ "${COLD:-0}" = 1 ]; then
			sync
			echo 3 >/proc/sys/vm/drop_caches
		fi
		start=$(now_ns)
		"$@" >/dev/null
		end=$(now_ns)
		if ((BEST == 0 || end - start < BEST)); then BEST=$((end - start)); fi
	done
}
