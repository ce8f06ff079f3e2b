#!/bin/bash
# Many containers (issue 11, item 22): does a command's cost grow with the
# containers a store holds? Side by side (hyperfine -N, no shell), medians
# over ROUNDS rounds whose order alternates, so that the drift of a shared
# machine's load hits every command alike (one hyperfine run of 30 a then 30
# b showed 1.12x where the interleaved medians are 0.98x):
#   - `skiff run --rm IMAGE /bin/true` in an empty store, in a store with N
#     stopped containers, and in one with RUNNING running ones (their
#     monitors alive: each costs the run's sweep a lock attempt);
#   - `skiff ps -a` / `ps` with N stopped containers against `docker ps -a` /
#     `ps` of a dockerd holding N stopped containers;
#   - `docker run --rm` on that dockerd, for reference.
# Goals (issue 11): run with N stopped at most 1.1x the empty store; ps -a at
# most 1/5 of docker's.
# dockerd is a private one (own data-root, exec-root and socket under $WORK,
# so that it neither sees nor disturbs another dockerd of the host), started
# here and stopped at the end. The stores and docker's data-root are kept in
# $WORK and topped up to N on the next run (filling docker takes minutes);
# BENCH_CLEAN=1 removes them at the end. Root only; not part of CI. Results on
# stdout (markdown).
#   bench/many.sh [RUNS] [N]      (default 60 runs, 1000 containers)
# ROUNDS=6 rounds (RUNS/ROUNDS runs of each command per round);
# RUNNING=100 running containers for the third run row (0: none);
# ENGINES="skiff docker" (default) picks the engines; SKIFF=path a binary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-60}
ROUNDS=${ROUNDS:-6}
N=${2:-1000}
RUNNING=${RUNNING:-100}
MKIMAGE="/usr/bin/python3 $REPO_DIR/tests/images/mkimage.py"
IMAGE=bench-many:1
EMPTY=$WORK/many-empty
MANY=$WORK/many-stopped
LIVE=$WORK/many-running
DROOT=$WORK/many-docker
DEXEC=$WORK/many-docker-exec
DSOCK=$WORK/many-docker.sock
DPID=$WORK/many-docker.pid
DOCKER="docker -H unix://$DSOCK"
HAVE_DOCKER=

count_skiff() { { ls "$1/containers" 2>/dev/null || true; } | grep -cE '^[0-9a-f]{64}$' || true; }

# fill_skiff ROOT N: top the store up to N exited containers
fill_skiff() {
	local root=$1 n=$2 have
	$SKIFF --root "$root" load -q -i "$WORK/many-bb.tar" >/dev/null
	have=$(count_skiff "$root")
	[ "$have" -lt "$n" ] && log "skiff: making $((n - have)) stopped containers in $root"
	for ((i = have; i < n; i++)); do
		$SKIFF --root "$root" run --network none $IMAGE true
	done
}

start_private_dockerd() {
	command -v dockerd >/dev/null || { log "docker.io not installed: docker skipped"; return 1; }
	mkdir -p "$DROOT" "$DEXEC"
	cat >"$WORK/many-daemon.json" <<EOJ
{"iptables":false,"bridge":"none",
 "default-ulimits":{"nofile":{"Name":"nofile","Hard":20000,"Soft":20000}}}
EOJ
	dockerd --config-file "$WORK/many-daemon.json" --data-root "$DROOT" --exec-root "$DEXEC" \
		-H "unix://$DSOCK" --pidfile "$DPID" >"$WORK/many-dockerd.log" 2>&1 &
	for _ in $(seq 150); do $DOCKER info >/dev/null 2>&1 && return 0; sleep 0.2; done
	log "dockerd did not start (see $WORK/many-dockerd.log)"
	return 1
}

stop_private_dockerd() {
	local pid
	[ -f "$DPID" ] || return 0
	pid=$(cat "$DPID")
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
	log "dockerd $pid still running"
}

fill_docker() {
	local have
	$DOCKER load -q -i "$WORK/many-bb.tar" >/dev/null
	have=$($DOCKER ps -aq | wc -l)
	[ "$have" -lt "$N" ] || return 0
	log "docker: making $((N - have)) stopped containers (a few minutes)"
	seq $((N - have)) | xargs -P 4 -I{} $DOCKER run --network none $IMAGE true
}

cleanup() {
	local ids
	ids=$($SKIFF --root "$LIVE" ps -q --no-trunc 2>/dev/null || true)
	[ -n "$ids" ] && echo "$ids" | xargs $SKIFF --root "$LIVE" rm -f >/dev/null
	[ -n "$HAVE_DOCKER" ] && stop_private_dockerd
	if [ -n "${BENCH_CLEAN:-}" ]; then
		rm -rf "$EMPTY" "$MANY" "$LIVE" "$DROOT" "$DEXEC"
	fi
	return 0
}

prepare() {
	[ -f "$WORK/many-bb.tar" ] || $MKIMAGE docker-archive "$WORK/many-bb.tar" --tag $IMAGE >/dev/null
	fill_skiff "$EMPTY" 0
	fill_skiff "$MANY" "$N"
	fill_skiff "$LIVE" 0
	for i in $(seq "$RUNNING"); do
		$SKIFF --root "$LIVE" run -d --network none $IMAGE sleep 100000 >/dev/null
	done
	case " ${ENGINES:-skiff docker} " in *" docker "*) ;; *) return 0 ;; esac
	if start_private_dockerd; then
		HAVE_DOCKER=1
		fill_docker
	fi
}

# interleaved OUT -n NAME CMD -n NAME CMD...: ROUNDS hyperfine runs, the
# commands' order reversed every other round, into OUT.<round>.json
interleaved() {
	local out=$1 per=$((RUNS / ROUNDS)) r
	shift
	local fwd=("$@") rev=() i
	for ((i = ${#fwd[@]} - 3; i >= 0; i -= 3)); do rev+=("${fwd[@]:i:3}"); done
	rm -f "$out".*.json
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then set -- "${fwd[@]}"; else set -- "${rev[@]}"; fi
		hyperfine -N --style basic --warmup 2 --runs "$per" --export-json "$out.$r.json" "$@" >&2
	done
}

report() {
	/usr/bin/python3 - "$WORK/many-run" "$WORK/many-ps" "$N" "$RUNNING" \
		"$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOPY'
import glob, json, statistics, sys

def medians(prefix):
    times = {}
    for f in sorted(glob.glob(prefix + ".*.json")):
        for r in json.load(open(f))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    return {k: statistics.median(v) for k, v in times.items()}, \
        max((len(v) for v in times.values()), default=0)

run, runs = medians(sys.argv[1])
ps, _ = medians(sys.argv[2])
n, running = sys.argv[3], sys.argv[4]
empty = run["skiff run, empty store"]
print("| `run --rm IMAGE /bin/true` (median of %d) | median | vs empty store |" % runs)
print("|---|---|---|")
for name, m in run.items():
    print("| %s | %.2f ms | %s |" % (name, m * 1000,
                                    "%.2fx" % (m / empty) if name.startswith("skiff") else "-"))
if ps:
    print("\n| %s stopped containers (median of %d) | median | skiff vs docker |" % (n, runs))
    print("|---|---|---|")
    for name, m in ps.items():
        peer = ps.get(name.replace("skiff", "docker"))
        print("| %s | %.2f ms | %s |" % (name, m * 1000,
              "%.2fx" % (m / peer) if name.startswith("skiff") and peer else ""))
print("\nload average before: %s; after: %s" % (sys.argv[5], sys.argv[6]))
EOPY
}

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ -n "$SKIFF_GIVEN" ] || make -C "$REPO_DIR" -s skiff >&2
	trap cleanup EXIT
	prepare
	LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
	local run="run --rm --network none $IMAGE /bin/true"
	local run_cmds=(-n "skiff run, empty store" "$SKIFF --root $EMPTY $run"
		-n "skiff run, $N stopped" "$SKIFF --root $MANY $run")
	[ "$RUNNING" -gt 0 ] && run_cmds+=(-n "skiff run, $RUNNING running" "$SKIFF --root $LIVE $run")
	[ -n "$HAVE_DOCKER" ] && run_cmds+=(-n "docker run, $N stopped" "$DOCKER $run")
	interleaved "$WORK/many-run" "${run_cmds[@]}"
	local ps_cmds=(-n "skiff ps -a" "$SKIFF --root $MANY ps -a" -n "skiff ps" "$SKIFF --root $MANY ps")
	[ -n "$HAVE_DOCKER" ] && ps_cmds+=(-n "docker ps -a" "$DOCKER ps -a" -n "docker ps" "$DOCKER ps")
	interleaved "$WORK/many-ps" "${ps_cmds[@]}"
	report
}
main "$@"
