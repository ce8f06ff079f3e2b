#!/bin/bash
# Network benchmark (issue 15, "Figures"): the cost of docker's default bridge
# at start, and TCP throughput through it, next to podman's netavark bridge.
#  1. `run --rm IMAGE /bin/true` with skiff's default bridge, `--network none`
#     and a published port (-p), podman (runc) with `--network none`, its
#     default bridge and -p, in one hyperfine run (-N, warm-up). Goal: bridge at
#     most +5 ms over none, and faster than podman with no network at all.
#  2. iperf3 (Debian's, run from the host in the container's network namespace
#     with nsenter; the image has no iperf3) in a detached container of each
#     engine: host -> container through the published port on 127.0.0.1 and on
#     the uplink's address, container -> host to the bridge's gateway address.
#     Rounds alternate between the engines; median of ROUNDS (default 3).
# docker is not measured: dockerd here runs with "bridge": "none" (PEERS.md).
# Root only; not part of CI. Results on stdout (markdown).
#   bench/network.sh [RUNS]      (default 30 runs per hyperfine case)
#   IPERF_SECS=10 IPERF_ROUNDS=3 SKIFF=./skiff bench/network.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-30}
IPERF_SECS=${IPERF_SECS:-10}
IPERF_ROUNDS=${IPERF_ROUNDS:-3}
SK_HOSTPORT=${BENCH_SK_HOSTPORT:-18201}   # skiff's published iperf3 port
PM_HOSTPORT=${BENCH_PM_HOSTPORT:-18202}   # podman's
PROBE_PORT=${BENCH_PROBE_PORT:-18203}     # published by the -p case of hyperfine
GW_PORT=${BENCH_GW_PORT:-18204}           # host-side iperf3 server on a gateway address
IMG=bench-net:1
MKIMAGE="/usr/bin/python3 $REPO_DIR/tests/images/mkimage.py"
SROOT=$WORK/net-root
SK="$SKIFF --root $SROOT"
PODMAN="podman --runtime runc"
TAG=bench-net-$$
SK_CTR="" PM_CTR="" IPERF_SRV=""

cleanup() {
	[ -z "$IPERF_SRV" ] || kill "$IPERF_SRV" 2>/dev/null || true
	[ -z "$SK_CTR" ] || $SK rm -f "$SK_CTR" >/dev/null 2>&1 || true
	[ -z "$PM_CTR" ] || $PODMAN rm -f -t 0 "$PM_CTR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

prepare_image() {
	[ -f "$WORK/net.tar" ] || $MKIMAGE docker-archive "$WORK/net.tar" --tag "$IMG" >/dev/null
	$SK load -q -i "$WORK/net.tar" >/dev/null
	$PODMAN load -q -i "$WORK/net.tar" >/dev/null
}

# --- 1. start cost -----------------------------------------------------------

bench_start() {
	port_free "$PROBE_PORT" || { log "port $PROBE_PORT is in use (set BENCH_PROBE_PORT)"; return 1; }
	hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/net-start.json" \
		-n "skiff --network none" "$SK run --rm --network none $IMG /bin/true" \
		-n "skiff bridge (default)" "$SK run --rm $IMG /bin/true" \
		-n "skiff bridge -p" "$SK run --rm -p $PROBE_PORT:80 $IMG /bin/true" \
		-n "podman --network none" "$PODMAN run --rm --network none $IMG /bin/true" \
		-n "podman bridge (default)" "$PODMAN run --rm $IMG /bin/true" \
		-n "podman bridge -p" "$PODMAN run --rm -p $PROBE_PORT:80 $IMG /bin/true" >&2
}

report_start() {
	/usr/bin/python3 - "$WORK/net-start.json" <<'EOPY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] for r in res}
none, pnone = med["skiff --network none"], med["podman --network none"]
print("| run --rm /bin/true (hyperfine -N, median of %d) | median | vs skiff none | vs podman none |" % len(res[0]["times"]))
print("|---|---|---|---|")
for name, m in med.items():
    print("| %s | %.2f ms | %.2fx (%+.2f ms) | %.2fx |" % (name, m * 1e3, m / none, (m - none) * 1e3, m / pnone))
br = med["skiff bridge (default)"]
print("\nGoal: skiff bridge at most +5 ms over none: %+.2f ms (%s); faster than podman"
      " with no network: %.2f ms vs %.2f ms (%s)." % (
          (br - none) * 1e3, "met" if br - none <= 0.005 else "NOT met",
          br * 1e3, pnone * 1e3, "met" if br < pnone else "NOT met"))
EOPY
}

# --- 2. throughput -----------------------------------------------------------

# wait_listen NETNS_PID|host PORT: until a TCP socket listens on PORT there
wait_listen() {
	local ns=()
	[ "$1" = host ] || ns=(nsenter "--net=/proc/$1/ns/net")
	for _ in $(seq 100); do
		"${ns[@]}" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	log "no iperf3 server on port $2 ($1)"; return 1
}

# iperf_once NAME SERVER_NETNS_PID|host SERVER_BIND CLIENT_NETNS_PID|host CLIENT_TARGET CLIENT_PORT SERVER_PORT
# Runs one iperf3 test; the client's JSON goes to $WORK/iperf/NAME.$round.json.
iperf_once() {
	local name=$1 sns=$2 bind=$3 cns=$4 target=$5 cport=$6 sport=$7
	local spre=() cpre=()
	[ "$sns" = host ] || spre=(nsenter "--net=/proc/$sns/ns/net")
	[ "$cns" = host ] || cpre=(nsenter "--net=/proc/$cns/ns/net")
	"${spre[@]}" iperf3 -s -1 -p "$sport" ${bind:+-B "$bind"} >/dev/null 2>&1 &
	IPERF_SRV=$!
	wait_listen "$sns" "$sport"
	"${cpre[@]}" iperf3 -c "$target" -p "$cport" -t "$IPERF_SECS" -J >"$WORK/iperf/$name.$round.json" || true
	wait "$IPERF_SRV" || true
	IPERF_SRV=""
}

ctr_pid_gw() { # NETNS_PID -> "gateway address" of the container's default route
	nsenter "--net=/proc/$1/ns/net" ip -4 route show default | awk '{print $3; exit}'
}

bench_throughput() {
	local uplink skpid pmpid skgw pmgw p round e pid gw hp
	for p in "$SK_HOSTPORT" "$PM_HOSTPORT" "$GW_PORT"; do
		port_free "$p" || { log "port $p is in use (set BENCH_*_PORT)"; return 1; }
	done
	uplink=$(ip -4 route get 1.1.1.1 | awk '{for (i = 1; i < NF; i++) if ($i == "src") {print $(i + 1); exit}}')
	SK_CTR=$($SK run -d --name "$TAG" -p "$SK_HOSTPORT:5201" $IMG sleep 86400)
	skpid=$($SK inspect -f '{{.State.Pid}}' "$SK_CTR")
	PM_CTR=$($PODMAN run -d --name "$TAG" -p "$PM_HOSTPORT:5201" $IMG sleep 86400)
	pmpid=$($PODMAN inspect -f '{{.State.Pid}}' "$PM_CTR")
	skgw=$(ctr_pid_gw "$skpid")
	pmgw=$(ctr_pid_gw "$pmpid")
	log "uplink $uplink; skiff pid $skpid gw $skgw; podman pid $pmpid gw $pmgw"
	rm -rf "$WORK/iperf"; mkdir -p "$WORK/iperf"
	echo "$uplink" >"$WORK/iperf/uplink"
	for round in $(seq "$IPERF_ROUNDS"); do
		log "iperf3 round $round/$IPERF_ROUNDS"
		iperf_once host-loopback host 127.0.0.1 host 127.0.0.1 "$GW_PORT" "$GW_PORT"
		for e in skiff podman; do
			if [ $e = skiff ]; then pid=$skpid gw=$skgw hp=$SK_HOSTPORT; else pid=$pmpid gw=$pmgw hp=$PM_HOSTPORT; fi
			iperf_once "$e-h2c-lo" "$pid" "" host 127.0.0.1 "$hp" 5201
			iperf_once "$e-h2c-uplink" "$pid" "" host "$uplink" "$hp" 5201
			iperf_once "$e-c2h" host "$gw" "$pid" "$gw" "$GW_PORT" "$GW_PORT"
		done
	done
}

report_throughput() {
	/usr/bin/python3 - "$WORK/iperf" "$IPERF_SECS" <<'EOPY'
import glob, json, os, statistics, sys
d, secs = sys.argv[1], sys.argv[2]
uplink = open(os.path.join(d, "uplink")).read().strip()
errors = []
def gbits(name):
    """Gbit/s of each round; None for a round iperf3 reported as failed."""
    out = []
    for f in sorted(glob.glob(os.path.join(d, name + ".*.json"))):
        try:
            j = json.load(open(f))
            if j.get("error"):
                raise ValueError(j["error"])
            out.append(j["end"]["sum_received"]["bits_per_second"] / 1e9)
        except (ValueError, KeyError) as e:
            errors.append("%s: %s" % (os.path.basename(f), e))
            out.append(None)
    return out
def cell(v):
    ok = [x for x in v if x is not None]
    if not ok:
        return "failed", None
    m = statistics.median(ok)
    runs = ", ".join("%.1f" % x if x is not None else "fail" for x in v)
    return "%.2f (%s)" % (m, runs), m
rows = [("host -> container, published port on 127.0.0.1", "h2c-lo"),
        ("host -> container, published port on %s (uplink)" % uplink, "h2c-uplink"),
        ("container -> host, bridge gateway address", "c2h")]
print("| iperf3 TCP, %s s, Gbit/s median (each round) | skiff | podman (netavark) | skiff / podman |" % secs)
print("|---|---|---|---|")
for label, key in rows:
    s, sm = cell(gbits("skiff-" + key))
    p, pm = cell(gbits("podman-" + key))
    ratio = "%.2fx" % (sm / pm) if sm and pm else "-"
    print("| %s | %s | %s | %s |" % (label, s, p, ratio))
b, _ = cell(gbits("host-loopback"))
print("| (reference) host loopback, no container | %s | | |" % b)
for e in errors:
    print("\nFailed round (left out of the median): %s" % e)
EOPY
}

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ -n "$SKIFF_GIVEN" ] || make -C "$REPO_DIR" -s skiff >&2
	setup_podman || exit 1
	local load0 load1 have_iperf=1
	command -v iperf3 >/dev/null || { log "iperf3 missing (apt-get install -y iperf3): throughput skipped"; have_iperf=; }
	load0=$(uptime)
	prepare_image
	bench_start
	[ -z "$have_iperf" ] || bench_throughput
	load1=$(uptime)
	echo "$($SK --version 2>/dev/null | head -1), $(podman --version), $(iperf3 --version 2>/dev/null | head -1 | cut -d' ' -f1-2); $(nproc) CPUs"
	echo
	report_start
	if [ -n "$have_iperf" ]; then echo; report_throughput; fi
	printf '\nLoad before: %s\nLoad after:  %s\n' "${load0#*load }" "${load1#*load }"
}
main "$@"
