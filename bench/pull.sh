#!/bin/bash
# Pull benchmark (issue 2): a cold pull of a ~140 MB, 6-layer gzip image from a
# registry on 127.0.0.1, skiff side by side with `docker pull` and `podman pull`
# (median of RUNS rounds, the tools taking turns in each round), a warm pull (base
# layers present, hyperfine), and skiff's peak RSS. Root only; not part of CI.
# Results: stdout (markdown).
#   bench/pull.sh [RUNS]        (default 5)
#   SKIFF=/path/to/skiff bench/pull.sh   (otherwise ./skiff is built)
#   SKIFF_BASE=/path/to/older/skiff       also measures that build ("skiff-base")
#
# Cold pulls never follow a deletion. On a journal-less ext4 (these VMs), inodes
# freed in the last 60 s (6 min while their inode-table block is dirty) are
# skipped one by one by every new allocation in that block group, so a pull
# right after `rm -rf store` / `docker rmi` pays for the deletion, by an amount
# that depends on what else was deleted nearby. Instead each round pushes a
# fresh variant of the image (every layer prefixed with one tiny unique file, as
# an extra gzip member), so no tool has any of it, and every tool pulls into its
# own store without deleting anything; the stores are emptied after the
# measurements. Same image size and shape for all, same conditions for all.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-5}
IMG=$WORK/img
REPO=bench/debian

build_layers() {
	[ -f "$IMG/done" ] && return 0
	rm -rf "$IMG"; mkdir -p "$IMG"/{l1,l2,l3,l4,l5,l6}
	log "layer 1: Debian minbase root"
	if command -v mmdebstrap >/dev/null && mmdebstrap --quiet --variant=minbase bookworm "$IMG/l1.tar" 2>"$WORK/mmdebstrap.log"; then :; else
		log "mmdebstrap unavailable: using a copy of host /usr/lib/x86_64-linux-gnu + /usr/share as the base layer"
		tar -C / -cf "$IMG/l1.tar" usr/share/perl usr/share/locale usr/lib/x86_64-linux-gnu/perl-base bin etc 2>/dev/null || true
	fi
	log "layer 2: 1500 small files"
	for i in $(seq 1500); do
		d="$IMG/l2/app/data/$((i % 30))"; mkdir -p "$d"
		head -c $((1024 + (i * 37) % 7000)) /dev/urandom | base64 >"$d/file-$i.txt"
	done
	tar -C "$IMG/l2" -cf "$IMG/l2.tar" .
	log "layer 3: 64 MB incompressible"
	mkdir -p "$IMG/l3/opt"; head -c $((64 << 20)) /dev/urandom >"$IMG/l3/opt/blob.bin"
	tar -C "$IMG/l3" -cf "$IMG/l3.tar" .
	log "layers 4-6: deletions, config, opaque dir"
	mkdir -p "$IMG/l4/app/data/0" "$IMG/l4/usr/share"
	for i in 30 60 90 120; do : >"$IMG/l4/app/data/0/.wh.file-$i.txt"; done
	: >"$IMG/l4/usr/share/.wh.doc"
	tar -C "$IMG/l4" -cf "$IMG/l4.tar" .
	mkdir -p "$IMG/l5/etc/app"; echo "setting=1" >"$IMG/l5/etc/app/app.conf"
	tar -C "$IMG/l5" -cf "$IMG/l5.tar" .
	mkdir -p "$IMG/l6/app/data/1"; : >"$IMG/l6/app/data/1/.wh..wh..opq"; echo new >"$IMG/l6/app/data/1/only"
	tar -C "$IMG/l6" -cf "$IMG/l6.tar" .
	mkdir -p "$IMG/w1"; echo warm >"$IMG/w1/warm.txt"; tar -C "$IMG/w1" -cf "$IMG/w1.tar" .
	for l in l1 l2 l3 l4 l5 l6 w1; do gzip -6 -n -c "$IMG/$l.tar" >"$IMG/$l.tar.gz"; done
	touch "$IMG/done"
}

# variant_layer TAG N: $V/lN.tar.gz = gzip(tiny tar entry, no end marker) + lN.tar.gz
# (a two-member gzip), and its diff_id, without recompressing the layer.
variant_layer() {
	local tag=$1 n=$2 v=$IMG/v-$1
	/usr/bin/python3 - "$v/p$n.tar" ".bench-$tag-l$n" <<'EOPY'
import sys, tarfile
name = sys.argv[2]; data = name.encode() + b"\n"
ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644; ti.mtime = 1700000000
open(sys.argv[1], "wb").write(ti.tobuf(format=tarfile.USTAR_FORMAT) + data + b"\0" * (-len(data) % 512))
EOPY
	gzip -n -c "$v/p$n.tar" | cat - "$IMG/l$n.tar.gz" >"$v/l$n.tar.gz"
	echo "sha256:$(cat "$v/p$n.tar" "$IMG/l$n.tar" | sha256sum | cut -d' ' -f1)" >"$v/l$n.diffid"
}

# push_variant TAG: the cold image with every layer made unique to TAG.
push_variant() {
	local tag=$1 v=$IMG/v-$1 ids="" sep="" n
	mkdir -p "$v"
	for n in 1 2 3 4 5 6; do
		variant_layer "$tag" "$n"
		ids="$ids$sep\"$(cat "$v/l$n.diffid")\""; sep=","
	done
	printf '{"architecture":"amd64","os":"linux","created":"2026-11-25T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/bash"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$ids" >"$v/config.json"
	push_image "$REPO" "$tag" "$v/config.json" "$v"/l{1,2,3,4,5,6}.tar.gz
	rm -rf "$v"
}

make_config() { # OUT LAYER_TAR...
	local out=$1 ids="" sep=""; shift
	for t in "$@"; do ids="$ids$sep\"sha256:$(sha256sum "$t" | cut -d' ' -f1)\""; sep=","; done
	printf '{"architecture":"amd64","os":"linux","created":"2026-11-25T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/bash"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$ids" >"$out"
}

push_bench_images() {
	make_config "$IMG/cold.json" "$IMG"/l{1,2,3,4,5,6}.tar
	push_image "$REPO" cold "$IMG/cold.json" "$IMG"/l{1,2,3,4,5,6}.tar.gz
	make_config "$IMG/warm.json" "$IMG"/l{1,2,3}.tar "$IMG/w1.tar"
	push_image "$REPO" warm "$IMG/warm.json" "$IMG"/l{1,2,3}.tar.gz "$IMG/w1.tar.gz"
	log "image: $(du -cb "$IMG"/l?.tar.gz | tail -1 | cut -f1) bytes compressed, $(du -cb "$IMG"/l?.tar | tail -1 | cut -f1) uncompressed"
}

# time_cmd CMD... -> seconds on stdout; the command's output is discarded.
time_cmd() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$WORK/last-err.log" || { log "failed: $* ($(tail -1 "$WORK/last-err.log"))"; return 1; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}

# Cold: RUNS rounds; in each, every tool pulls the same never-seen variant.
cold_rounds() {
	local stamp r tag img name out=$WORK/pull-cold.tsv
	stamp=$(date +%s)
	: >"$out"
	for r in $(seq "$RUNS"); do
		tag=cold-$stamp-$r; img="$REG/$REPO:$tag"
		push_variant "$tag"
		sync # the pushes' writes are not part of anyone's pull
		for name in "${TOOLS[@]}"; do
			case $name in
			skiff) echo "skiff	$(time_cmd "$SKIFF" --root "$SROOT" pull -q "$img")" >>"$out" ;;
			skiff-base) echo "skiff-base	$(time_cmd "$SKIFF_BASE" --root "$SROOT-base" pull -q "$img")" >>"$out" ;;
			docker) echo "docker	$(time_cmd docker pull -q "$img")" >>"$out" ;;
			podman) echo "podman	$(time_cmd podman pull -q "$img")" >>"$out" ;;
			esac
		done
		log "cold round $r: $(tail -n ${#TOOLS[@]} "$out" | tr '\t\n' ' ,')"
	done
}

# Empty the stores after measuring (never right before a cold pull).
cleanup_stores() {
	rm -rf "$WORK/trash"
	[ -n "$HAVE_DOCKER" ] && docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$REG/$REPO:cold-" | xargs -r docker rmi -f >/dev/null 2>&1 || true
	[ -n "$HAVE_PODMAN" ] && podman images --format '{{.Repository}}:{{.Tag}}' | grep "^$REG/$REPO:cold-" | xargs -r podman rmi -f >/dev/null 2>&1 || true
	sync
	touch "$WORK/last-cleanup"
}

# The previous run's cleanup freed ~100k inodes: let ext4 stop skipping them.
wait_after_cleanup() {
	local age
	[ -f "$WORK/last-cleanup" ] || return 0
	age=$(( $(date +%s) - $(stat -c %Y "$WORK/last-cleanup") ))
	if [ "$age" -lt 360 ]; then
		log "waiting $((360 - age)) s: the last run's cleanup is too recent (see the top of this file)"
		sleep $((360 - age))
	fi
}

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ -n "${SKIFF_GIVEN:-}" ] || make -C "$REPO_DIR" -s skiff >&2
	wait_after_cleanup
	start_registry; build_layers; push_bench_images
	local cold="$REG/$REPO:cold" warm="$REG/$REPO:warm" wroot="$WORK/skiff-warm-root"
	HAVE_DOCKER=; HAVE_PODMAN=; TOOLS=(skiff)
	[ -n "${SKIFF_BASE:-}" ] && TOOLS+=(skiff-base)
	start_dockerd && { HAVE_DOCKER=1; TOOLS+=(docker); }
	setup_podman && { HAVE_PODMAN=1; TOOLS+=(podman); }
	# skiff's cold store is a new directory; trash/ is emptied at the end.
	mkdir -p "$WORK/trash"
	SROOT=$WORK/trash/skiff-cold-$$
	cold_rounds
	local wcmds=(-n skiff --prepare "$SKIFF --root $wroot pull -q $cold >/dev/null; $SKIFF --root $wroot rmi $warm >/dev/null 2>&1 || true" "$SKIFF --root $wroot pull -q $warm")
	if [ -n "$HAVE_DOCKER" ]; then
		wcmds+=(-n docker --prepare "docker pull -q $cold >/dev/null; docker rmi -f $warm >/dev/null 2>&1 || true" "docker pull -q $warm")
	fi
	if [ -n "$HAVE_PODMAN" ]; then
		wcmds+=(-n podman --prepare "podman pull -q $cold >/dev/null; podman rmi -f $warm >/dev/null 2>&1 || true" "podman pull -q $warm")
	fi
	hyperfine --style basic --runs "$RUNS" --export-json "$WORK/pull-warm.json" "${wcmds[@]}" >&2
	local rss=0 r i
	for i in 1 2 3; do
		r=$( { /usr/bin/time -f %M "$SKIFF" --root "$WORK/trash/rss-$$-$i" pull -q "$cold" >/dev/null; } 2>&1 | tail -1)
		[ "$r" -gt "$rss" ] && rss=$r
	done
	cleanup_stores
	/usr/bin/python3 - "$WORK/pull-cold.tsv" "$WORK/pull-warm.json" "$rss" <<'EOPY'
import json, statistics, sys
cold = {}
for line in open(sys.argv[1]):
    name, t = line.split("\t")
    cold.setdefault(name, []).append(float(t))
warm = {r["command"]: r["median"] for r in json.load(open(sys.argv[2]))["results"]}
sk = statistics.median(cold["skiff"])
print("| pull (median of %d) | cold | cold min-max | warm (3 base layers present) | cold vs skiff |" % len(cold["skiff"]))
print("|---|---|---|---|---|")
for name, ts in cold.items():
    m = statistics.median(ts)
    print("| %s | %.3f s | %.2f-%.2f s | %.3f s | %.2fx |" % (name, m, min(ts), max(ts), warm.get(name, float("nan")), m / sk))
print("\nskiff peak RSS during a cold pull: %.1f MB (max of 3)" % (int(sys.argv[3]) / 1024))
EOPY
}
main "$@"
