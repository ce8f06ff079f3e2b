#!/bin/bash
# Pull benchmark (issue 2): a cold pull of a ~140 MB, 6-layer gzip image from a
# registry on 127.0.0.1, skiff side by side with `docker pull` and `podman pull`
# in the same run (hyperfine, median of RUNS), a warm pull (base layers present),
# and skiff's peak RSS. Root only; not part of CI. Results: stdout (markdown).
#   bench/pull.sh [RUNS]        (default 5)
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

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	make -C "$REPO_DIR" -s skiff >&2
	start_registry; build_layers; push_bench_images
	local cold="$REG/$REPO:cold" warm="$REG/$REPO:warm" sroot="$WORK/skiff-root"
	local cmds=(-n skiff --prepare "rm -rf $sroot" "$SKIFF --root $sroot pull -q $cold")
	local wcmds=(-n skiff --prepare "$SKIFF --root $sroot pull -q $cold >/dev/null; $SKIFF --root $sroot rmi $warm >/dev/null 2>&1 || true" "$SKIFF --root $sroot pull -q $warm")
	if start_dockerd; then
		cmds+=(-n docker --prepare "docker rmi -f $cold >/dev/null 2>&1 || true" "docker pull -q $cold")
		wcmds+=(-n docker --prepare "docker pull -q $cold >/dev/null; docker rmi -f $warm >/dev/null 2>&1 || true" "docker pull -q $warm")
	fi
	if setup_podman; then
		cmds+=(-n podman --prepare "podman rmi -f $cold >/dev/null 2>&1 || true" "podman pull -q $cold")
		wcmds+=(-n podman --prepare "podman pull -q $cold >/dev/null; podman rmi -f $warm >/dev/null 2>&1 || true" "podman pull -q $warm")
	fi
	hyperfine --style basic --runs "$RUNS" --export-json "$WORK/pull-cold.json" "${cmds[@]}" >&2
	hyperfine --style basic --runs "$RUNS" --export-json "$WORK/pull-warm.json" "${wcmds[@]}" >&2
	local rss=0 r
	for _ in 1 2 3; do
		rm -rf "$sroot"
		r=$( { /usr/bin/time -f %M "$SKIFF" --root "$sroot" pull -q "$cold" >/dev/null; } 2>&1 | tail -1)
		[ "$r" -gt "$rss" ] && rss=$r
	done
	/usr/bin/python3 - "$WORK/pull-cold.json" "$WORK/pull-warm.json" "$rss" <<'EOPY'
import json, sys
cold = json.load(open(sys.argv[1]))["results"]; warm = json.load(open(sys.argv[2]))["results"]
base = {r["command"]: r["median"] for r in cold}
print("| pull (median of %d) | cold | warm (3 base layers present) | cold vs skiff |" % len(cold[0]["times"]))
print("|---|---|---|---|")
wm = {r["command"]: r["median"] for r in warm}
sk = base.get("skiff")
for name, m in base.items():
    print("| %s | %.3f s | %.3f s | %.2fx |" % (name, m, wm.get(name, float("nan")), m / sk))
print("\nskiff peak RSS during a cold pull: %.1f MB (max of 3)" % (int(sys.argv[3]) / 1024))
EOPY
}
main "$@"
