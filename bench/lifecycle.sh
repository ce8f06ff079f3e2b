#!/bin/bash
# Lifecycle benchmark (issue 5): 100 detached `sleep` containers, one after
# another, for skiff, docker and podman side by side in the same run:
#   - the time to start the 100 (`run -d`), median of REPS repetitions;
#   - memory per running container: Rss and Pss of each container's monitor
#     (skiff's monitor, docker's containerd-shim-runc-v2, podman's conmon: the
#     parent of the container's first process) and of the container's
#     processes, summed and divided by 100; and the system-wide "used" memory
#     (free -k) after minus before, divided by 100, as a cross-check that also
#     counts what the daemons (dockerd, containerd, podman's none) grow by.
# All containers of a repetition are removed before the next. Root only; not
# part of CI. Results on stdout (markdown).
#   bench/lifecycle.sh [REPS] [N]      (default 3 repetitions of 100 containers)
# ENGINES="skiff docker podman" (default) picks the engines; SKIFF=path a binary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPS=${1:-3}
N=${2:-100}
MKIMAGE="/usr/bin/python3 $REPO_DIR/tests/images/mkimage.py"
SROOT=$WORK/life-root
SK="$SKIFF --root $SROOT"
IMAGE=bench-life:1
LABEL=skiff.bench=lifecycle
RESULTS=$WORK/lifecycle.tsv
SETTLE=${BENCH_SETTLE:-3} # seconds between the last start and the measurement

used_kb() { free -k | awk '/^Mem:/ {print $3}'; }

# ids_<engine>: the ids of this benchmark's containers, one a line
ids_skiff() { $SK ps -aq --no-trunc; }
ids_docker() { docker ps -aq --no-trunc --filter "label=$LABEL"; }
ids_podman() { podman ps -aq --no-trunc --filter "label=$LABEL"; }

# start_<engine>: one detached container
start_skiff() { $SK run -d $IMAGE sleep 1000 >/dev/null; }
start_docker() { docker run -d --network none --label $LABEL $IMAGE sleep 1000 >/dev/null; }
start_podman() { podman run -d --runtime runc --network none --label $LABEL $IMAGE sleep 1000 >/dev/null; }

# pids_<engine> IDS...: the containers' first processes
pids_skiff() { $SK inspect -f '{{.State.Pid}}' "$@"; }
pids_docker() { docker inspect -f '{{.State.Pid}}' "$@"; }
pids_podman() { podman inspect -f '{{.State.Pid}}' "$@"; }

cleanup() {
	local e=$1 ids
	ids=$(ids_$e)
	[ -z "$ids" ] && return 0
	case $e in
	skiff) echo "$ids" | xargs $SK rm -f >/dev/null ;;
	*) echo "$ids" | xargs $e rm -f >/dev/null 2>&1 ;;
	esac
}

cleanup_all() {
	cleanup skiff
	[ -n "${HAVE_DOCKER:-}" ] && cleanup docker
	[ -n "${HAVE_PODMAN:-}" ] && cleanup podman
	return 0
}

prepare() {
	[ -f "$WORK/life-bb.tar" ] || $MKIMAGE docker-archive "$WORK/life-bb.tar" --tag $IMAGE >/dev/null
	$SK load -q -i "$WORK/life-bb.tar" >/dev/null
	if start_dockerd; then
		docker load -q -i "$WORK/life-bb.tar" >/dev/null && HAVE_DOCKER=1
	fi
	if setup_podman; then
		podman load -q -i "$WORK/life-bb.tar" >/dev/null && HAVE_PODMAN=1
	fi
}

# Memory of the running containers: "mon_rss mon_pss ctr_rss ctr_pss n_monitors n_ctr_procs" in kB.
measure_memory() {
	/usr/bin/python3 - "$@" <<'EOPY'
import os, sys

def rollup(pid):
    out = {}
    try:
        for line in open("/proc/%d/smaps_rollup" % pid):
            k, _, v = line.partition(":")
            if k in ("Rss", "Pss"):
                out[k] = int(v.split()[0])
    except OSError:
        pass
    return out.get("Rss", 0), out.get("Pss", 0)

children = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            stat = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))

def ppid_of(pid):
    stat = open("/proc/%d/stat" % pid).read()
    return int(stat.rsplit(")", 1)[1].split()[1])

monitors, ctr = set(), set()
for p in (int(x) for x in sys.argv[1:] if x.strip() and int(x) > 0):
    monitors.add(ppid_of(p))
    todo = [p]
    while todo:
        q = todo.pop()
        ctr.add(q)
        todo.extend(children.get(q, []))
m = [rollup(p) for p in monitors]
c = [rollup(p) for p in ctr]
print(sum(r for r, _ in m), sum(p for _, p in m), sum(r for r, _ in c), sum(p for _, p in c),
      len(monitors), len(ctr))
EOPY
}

one_rep() {
	local e=$1 rep=$2 before after t0 t1 ids pids mem
	cleanup "$e"
	sync
	sleep 2
	before=$(used_kb)
	t0=$(date +%s.%N)
	for _ in $(seq "$N"); do start_$e; done
	t1=$(date +%s.%N)
	sleep "$SETTLE"
	after=$(used_kb)
	ids=$(ids_$e)
	pids=$(pids_$e $ids)
	mem=$(measure_memory $pids)
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$e" "$rep" \
		"$(echo "$t1 - $t0" | bc -l)" "$mem" "$before" "$after" | tr ' ' '\t' >>"$RESULTS"
	log "$e rep $rep: $(tail -1 "$RESULTS")"
	cleanup "$e"
}

report() {
	/usr/bin/python3 - "$RESULTS" "$N" <<'EOPY'
import statistics, sys
n = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    e = f[0]
    t, mr, mp, cr, cp, nm, nc, before, after = map(float, f[2:11])
    rows.setdefault(e, []).append(dict(t=t, mr=mr, mp=mp, cr=cr, cp=cp, nm=nm, nc=nc,
                                       used=(after - before)))
med = {e: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for e, rs in rows.items()}
names = {"skiff": "skiff (monitor)", "docker": "docker (containerd-shim-runc-v2)",
         "podman": "podman (conmon)"}
order = [e for e in ("skiff", "docker", "podman") if e in med]
reps = len(rows[order[0]])
print("| start %d detached containers, one after another (median of %d) | total | per container | vs docker |" % (n, reps))
print("|---|---|---|---|")
for e in order:
    m = med[e]
    vs = "%.3fx" % (m["t"] / med["docker"]["t"]) if "docker" in med else "-"
    print("| %s | %.2f s | %.1f ms | %s |" % (e, m["t"], m["t"] / n * 1000, vs))
print()
print("| memory per running container, %d `sleep` containers (median of %d) | monitor Rss | monitor Pss | container Rss | container Pss | monitor+container Pss | system \"used\" delta / %d |" % (n, reps, n))
print("|---|---|---|---|---|---|---|")
for e in order:
    m = med[e]
    nm = max(m["nm"], 1)
    print("| %s | %.0f kB | %.0f kB | %.0f kB | %.0f kB | %.0f kB | %.0f kB |" % (
        names[e], m["mr"] / nm, m["mp"] / nm, m["cr"] / n, m["cp"] / n,
        (m["mp"] + m["cp"]) / n, m["used"] / n))
print()
for e in order:
    m = med[e]
    print("%s: %d monitor processes, %d container processes for %d containers" % (e, m["nm"], m["nc"], n))
EOPY
}

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ -n "$SKIFF_GIVEN" ] || make -C "$REPO_DIR" -s skiff >&2
	prepare
	case " ${ENGINES:-skiff docker podman} " in *" docker "*) ;; *) HAVE_DOCKER= ;; esac
	case " ${ENGINES:-skiff docker podman} " in *" podman "*) ;; *) HAVE_PODMAN= ;; esac
	trap cleanup_all EXIT
	: >"$RESULTS"
	# Engines interleaved per repetition, so that background load hits all alike.
	for rep in $(seq "$REPS"); do
		one_rep skiff "$rep"
		[ -n "${HAVE_DOCKER:-}" ] && one_rep docker "$rep"
		[ -n "${HAVE_PODMAN:-}" ] && one_rep podman "$rep"
	done
	report
}
main "$@"
