#!/bin/bash
# Relay benchmark (issue 9): 1 GiB through a container's stdio, side by side in
# one hyperfine run per case for skiff, docker, podman (runc) and the floor
# `unshare -p -f -m -u -i -n chroot ROOTFS CMD` (same root file system, the
# container's stdio are the shell's own):
#   out-head-null  container runs `head -c 1GiB /dev/zero`, host stdout is /dev/null
#   out-head-pipe  the same, read by the host through a pipe (`| cat >/dev/null`)
#   out-dd-null    `busybox dd if=/dev/zero bs=1M count=1024`, host stdout /dev/null
#   out-dd-pipe    the same through `| cat >/dev/null`
#   in-cat         `head -c 1GiB /dev/zero | ENGINE run -i IMG sh -c 'cat >/dev/null'`
# busybox `head -c` copies byte by byte through stdio (4 KiB writes, CPU-bound
# near 350 MB/s), dd writes 1 MiB at a time: the dd cases are the ones that
# measure the relay itself. /dev/null and a pipe are both measured because
# splice behaves differently for each. Then what each engine gives the
# container as fd 0/1/2 (file, pipe, socket; pipe size). Root only; not part
# of CI. Results on stdout (markdown).
#   bench/relay.sh [RUNS]      (default 5; each run moves 1 GiB, seconds each)
# ENGINES="skiff docker podman floor" (default) picks the engines, CASES the
# cases (default all five above); SKIFF=path a binary; SKIFF_BASE=path an
# older build measured in the same runs ("skiff-base", its own store).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-5}
ENGINES=${ENGINES:-skiff docker podman floor}
CASES=${CASES:-out-head-null out-head-pipe out-dd-null out-dd-pipe in-cat}
MKIMAGE="/usr/bin/python3 $REPO_DIR/tests/images/mkimage.py"
SROOT=$WORK/relay-root
IMAGE=bench-relay:1
ROOTFS=$WORK/relay-rootfs
SIZE=1073741824
OUT_HEAD="head -c $SIZE /dev/zero"
OUT_DD="busybox dd if=/dev/zero bs=1M count=1024"
IN_CAT="sh -c 'cat >/dev/null'"

have() { case " $ENGINES " in *" $1 "*) return 0 ;; esac; return 1; }

# run_prefix ENGINE [-i] -> the command line that runs the image with the args that follow
run_prefix() {
	local e=$1 i=${2:-}
	case $e in
	skiff) echo "$SKIFF --root $SROOT run $i --rm --network none $IMAGE" ;;
	skiff-base) echo "$SKIFF_BASE --root $SROOT-base run $i --rm --network none $IMAGE" ;;
	docker) echo "docker run $i --rm --network none $IMAGE" ;;
	podman) echo "podman --runtime runc run $i --rm --network none $IMAGE" ;;
	floor) echo "unshare -p -f -m -u -i -n chroot $ROOTFS" ;;
	esac
}

# case_cmd CASE ENGINE -> the shell command hyperfine times
case_cmd() {
	local c=$1 e=$2
	case $c in
	out-head-null) echo "$(run_prefix "$e") $OUT_HEAD >/dev/null" ;;
	out-head-pipe) echo "$(run_prefix "$e") $OUT_HEAD | cat >/dev/null" ;;
	out-dd-null) echo "$(run_prefix "$e") $OUT_DD >/dev/null 2>/dev/null" ;;
	out-dd-pipe) echo "$(run_prefix "$e") $OUT_DD 2>/dev/null | cat >/dev/null" ;;
	in-cat) echo "head -c $SIZE /dev/zero | $(run_prefix "$e" -i) $IN_CAT" ;;
	esac
}

prepare() {
	[ -f "$WORK/relay-bb.tar" ] || $MKIMAGE docker-archive "$WORK/relay-bb.tar" --tag $IMAGE >/dev/null
	ENG=()
	if have skiff; then
		$SKIFF --root "$SROOT" load -q -i "$WORK/relay-bb.tar" >/dev/null
		ENG+=(skiff)
	fi
	if [ -n "${SKIFF_BASE:-}" ]; then
		"$SKIFF_BASE" --root "$SROOT-base" load -q -i "$WORK/relay-bb.tar" >/dev/null
		ENG+=(skiff-base)
	fi
	if have docker && start_dockerd; then
		docker load -q -i "$WORK/relay-bb.tar" >/dev/null && ENG+=(docker)
	fi
	if have podman && setup_podman; then
		podman load -q -i "$WORK/relay-bb.tar" >/dev/null && ENG+=(podman)
	fi
	if have floor; then
		# The floor's root: the image's single layer, as bench/run.sh does.
		rm -rf "$ROOTFS"; mkdir -p "$ROOTFS"
		local layer
		tar -xOf "$WORK/relay-bb.tar" manifest.json >"$WORK/relay-manifest.json"
		layer=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][0])' "$WORK/relay-manifest.json")
		tar -xOf "$WORK/relay-bb.tar" "$layer" | tar -x -C "$ROOTFS"
		# chroot gives no /dev: without these nodes `>/dev/null` would write
		# a 1 GiB file into the root and `head /dev/zero` would fail.
		mkdir -p "$ROOTFS/dev"
		mknod -m 666 "$ROOTFS/dev/null" c 1 3
		mknod -m 666 "$ROOTFS/dev/zero" c 1 5
		ENG+=(floor)
	fi
}

# What the container's process gets as stdio: start `exec sleep 3.25` with the
# host's stdin from a pipe and stdout to a pipe, find the sleep (exact argv),
# and describe its fds 0-2 from the host: the link target, and F_GETPIPE_SZ
# for pipes and FIFOs.
stdio_of() {
	local e=$1
	local cmd
	cmd="sleep 4 | $(run_prefix "$e" -i) sh -c 'exec sleep 3.25' 2>&1 | cat >/dev/null"
	bash -c "$cmd" &
	local bg=$!
	/usr/bin/python3 - <<'EOPY' || true
import fcntl, os, stat, time
F_GETPIPE_SZ = 1032
def find():
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            if open("/proc/%s/cmdline" % p, "rb").read() == b"sleep\x003.25\x00": return p
        except OSError: pass
for _ in range(100):
    pid = find()
    if pid: break
    time.sleep(0.05)
out = []
for fd in (0, 1, 2):
    path = "/proc/%s/fd/%d" % (pid, fd)
    try:
        t = os.readlink(path)
    except OSError as e:
        out.append("%d: ? (%s)" % (fd, e.strerror)); continue
    desc = t
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            f = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            desc += " (%d KiB)" % (fcntl.fcntl(f, F_GETPIPE_SZ) // 1024)
            os.close(f)
    except OSError:
        pass
    out.append("%d: %s" % (fd, desc))
print("; ".join(out) if pid else "not found")
EOPY
	wait "$bg" 2>/dev/null || true
}

# Every engine must move exactly 1 GiB in both directions, or its time means nothing.
check_bytes() {
	local e n
	for e in "${ENG[@]}"; do
		n=$(bash -c "$(run_prefix "$e") $OUT_DD 2>/dev/null | wc -c")
		[ "$n" = "$SIZE" ] || { log "$e: dd gave $n bytes, not $SIZE"; exit 1; }
		n=$(bash -c "head -c $SIZE /dev/zero | $(run_prefix "$e" -i) sh -c 'cat | wc -c'")
		[ "$n" = "$SIZE" ] || { log "$e: -i read $n bytes, not $SIZE"; exit 1; }
	done
}

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ -n "$SKIFF_GIVEN" ] || make -C "$REPO_DIR" -s skiff >&2
	prepare
	check_bytes
	local load0 c e cmds
	load0=$(uptime)
	for c in $CASES; do
		cmds=()
		for e in "${ENG[@]}"; do cmds+=(-n "$e" "$(case_cmd "$c" "$e")"); done
		log "case $c"
		hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/relay-$c.json" "${cmds[@]}" >&2
	done
	echo "1 GiB through the container's stdio, median of $RUNS (hyperfine, 1 warm-up)."
	echo "Load before: \`$load0\`; after: \`$(uptime)\`. Kernel $(uname -r)."
	echo "skiff: $SKIFF${SKIFF_BASE:+; skiff-base: $SKIFF_BASE}"
	echo
	/usr/bin/python3 - "$WORK" "$SIZE" $CASES <<'EOPY'
import json, sys
work, size, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
mib = size / 1048576
print("| case | engine | median | min–max | MiB/s | vs docker | vs floor |")
print("|---|---|---|---|---|---|---|")
for c in cases:
    res = json.load(open("%s/relay-%s.json" % (work, c)))["results"]
    med = {r["command"]: r for r in res}
    dock = med.get("docker", {}).get("median")
    floor = med.get("floor", {}).get("median")
    for name, r in med.items():
        m = r["median"]
        print("| %s | %s | %.3f s | %.2f–%.2f | %.0f | %s | %s |" % (
            c, name, m, r["min"], r["max"], mib / m,
            "%.2fx" % (m / dock) if dock else "-",
            "%.2fx" % (m / floor) if floor else "-"))
EOPY
	echo
	echo "| engine | the container's fds 0, 1, 2 (stdin and stdout from host pipes) |"
	echo "|---|---|"
	for e in "${ENG[@]}"; do
		echo "| $e | $(stdio_of "$e") |"
	done
}
main "$@"
