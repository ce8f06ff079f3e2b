#!/bin/bash
# Run benchmark (issue 3): `skiff run --rm IMAGE /bin/true` with the image present,
# side by side in one hyperfine run with docker, podman (runc), runc run, crun run
# and the floor `unshare -p -f -m -u -i -n chroot ROOTFS /bin/true`; then latency
# against the number of layers (1, 10, 50, 120) and 100 containers one after
# another. Root only; not part of CI. Results on stdout (markdown).
#   bench/run.sh [RUNS]      (default 30)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-30}
MKIMAGE="/usr/bin/python3 $REPO_DIR/tests/images/mkimage.py"
SROOT=$WORK/run-root
SK="$SKIFF --root $SROOT"

prepare_images() {
	for n in 1 10 50 120; do
		[ -f "$WORK/run-$n.tar" ] || $MKIMAGE docker-archive "$WORK/run-$n.tar" --tag "bench-run:$n" --layers "$n" >/dev/null
		$SK load -q -i "$WORK/run-$n.tar" >/dev/null
	done
	# One root file system for runc, crun and the floor: the 1-layer image's layer.
	rm -rf "$WORK/bundle"; mkdir -p "$WORK/bundle/rootfs"
	tar -xf "$WORK/run-1.tar" -C "$WORK" --wildcards 'manifest.json'
	local layer
	layer=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][0])' "$WORK/manifest.json")
	tar -xOf "$WORK/run-1.tar" "$layer" | tar -x -C "$WORK/bundle/rootfs"
	runc spec --rootless=false -b "$WORK/bundle" 2>/dev/null || (cd "$WORK/bundle" && runc spec)
	/usr/bin/python3 - "$WORK/bundle/config.json" <<'EOPY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["readonly"] = False
json.dump(c, open(sys.argv[1], "w"))
EOPY
}

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ -n "$SKIFF_GIVEN" ] || make -C "$REPO_DIR" -s skiff >&2
	prepare_images
	local cmds=(-n "skiff run" "$SK run --rm --network none bench-run:1 /bin/true"
		-n "unshare+chroot floor" "unshare -p -f -m -u -i -n chroot $WORK/bundle/rootfs /bin/true")
	command -v runc >/dev/null && cmds+=(-n "runc run" "runc run -b $WORK/bundle bench-\$RANDOM\$RANDOM")
	command -v crun >/dev/null && cmds+=(-n "crun run" "unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=disabled run -b $WORK/bundle bench-\$RANDOM\$RANDOM'")
	if start_dockerd; then
		docker load -q -i "$WORK/run-1.tar" >/dev/null
		cmds+=(-n "docker run" "docker run --rm --network none bench-run:1 /bin/true")
	fi
	if setup_podman; then
		podman load -q -i "$WORK/run-1.tar" >/dev/null
		cmds+=(-n "podman run (runc)" "podman run --rm --runtime runc --network none bench-run:1 /bin/true")
	fi
	hyperfine --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/run.json" "${cmds[@]}" >&2
	# The ratio to the floor without a shell in between: hyperfine -N execs
	# both directly (the table above needs a shell for runc/crun's $RANDOM
	# and wrapper, and its shell-spawn correction adds noise).
	hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/run-direct.json" \
		-n "skiff run" "$SK run --rm --network none bench-run:1 /bin/true" \
		-n "unshare+chroot floor" "unshare -p -f -m -u -i -n chroot $WORK/bundle/rootfs /bin/true" >&2
	hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/run-layers.json" \
		-n 1 "$SK run --rm --network none bench-run:1 /bin/true" -n 10 "$SK run --rm --network none bench-run:10 /bin/true" \
		-n 50 "$SK run --rm --network none bench-run:50 /bin/true" -n 120 "$SK run --rm --network none bench-run:120 /bin/true" >&2
	local t0 t1
	t0=$(date +%s.%N)
	for _ in $(seq 100); do $SK run --rm --network none bench-run:1 /bin/true; done
	t1=$(date +%s.%N)
	/usr/bin/python3 - "$WORK/run.json" "$WORK/run-layers.json" "$t0" "$t1" "$WORK/run-direct.json" <<'EOPY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
direct = {r["command"]: r["median"] for r in json.load(open(sys.argv[5]))["results"]}
med = {r["command"]: r["median"] for r in res}
floor = med["unshare+chroot floor"]
print("| run /bin/true, image present (median of %d) | median | vs floor | vs skiff |" % len(res[0]["times"]))
print("|---|---|---|---|")
for name, m in med.items():
    print("| %s | %.2f ms | %.2fx | %.2fx |" % (name, m * 1000, m / floor, m / med["skiff run"]))
print("\n| without a shell (hyperfine -N), median of %d | median | vs floor |" % len(res[0]["times"]))
print("|---|---|---|")
for name, m in direct.items():
    print("| %s | %.2f ms | %.2fx |" % (name, m * 1000, m / direct["unshare+chroot floor"]))
lay = {r["command"]: r["median"] for r in json.load(open(sys.argv[2]))["results"]}
print("\n| layers | skiff run median | vs 1 layer |\n|---|---|---|")
for n, m in lay.items():
    print("| %s | %.2f ms | %.2fx |" % (n, m * 1000, m / lay["1"]))
print("\n100 containers one after another: %.2f s" % (float(sys.argv[4]) - float(sys.argv[3])))
EOPY
}
main "$@"
