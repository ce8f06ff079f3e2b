#!/bin/bash
# Network benchmark (issue 15, "Figures"): the cost of docker's default bridge
# at start, and TCP throughput through it, next to podman's netavark bridge.
#  1. `run --rm IMAGE /bin/true` with skiff's default bridge, `--network none`
#     and a published port (-p), podman (runc) with `--network none`, its
#     default bridge and -p, in one hyperfine run (-N, warm-up). Goal: bridge at
#     most +5 ms over none, and faster than podman with no network at all.
#  2. iperf3 (Debian's, run from the host in the container's network namespace
#     with nsenter; the image has no iperf3) in a detached container of each
#     engine, both directions of each path (-R: the server sends):
#     - through the published port from the host, on 127.0.0.1 and on the
#       uplink's address (DNAT in output),
#     - through the published port from a neighbour (a network namespace on a
#       veth with the uplink's MTU: another machine; DNAT in prerouting, forward),
#     - between the container and the host on the bridge's gateway address.
#     Each test runs for skiff then podman before the next test, so a pair sees
#     the same load; median of ROUNDS (default 5) per engine, the ratio of the
#     medians and the median of the per-round ratios. The MTUs of both setups
#     are printed: the MTU decides these figures (docs/BENCH.md).
#     BENCH_SK_MTU=N: an experiment, skiff's eth0, host veth and skiff0 set to
#     N by hand before the measurement (skiff0 put back at exit).
# docker is not measured: dockerd here runs with "bridge": "none" (PEERS.md).
# Root only; not part of CI. Results on stdout (markdown).
#   bench/network.sh [RUNS]      (default 30 runs per hyperfine case)
#   IPERF_SECS=5 IPERF_ROUNDS=5 SKIFF=./skiff bench/network.sh
#   BENCH_PARTS=throughput bench/network.sh   (start, throughput or both)
#   BENCH_THR_TESTS="h2c-lo c2h" bench/network.sh   (some of h2c-lo h2c-uplink n2c c2h)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-30}
IPERF_SECS=${IPERF_SECS:-5}
IPERF_ROUNDS=${IPERF_ROUNDS:-5}
PARTS=${BENCH_PARTS:-start throughput}
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
SK_CTR="" PM_CTR="" PM_NET="" IPERF_SRV="" NEIGH="" SK_BRIDGE_MTU0=""

cleanup() {
	[ -z "$IPERF_SRV" ] || kill "$IPERF_SRV" 2>/dev/null || true
	[ -z "$SK_CTR" ] || $SK rm -f "$SK_CTR" >/dev/null 2>&1 || true
	[ -z "$PM_CTR" ] || $PODMAN rm -f -t 0 "$PM_CTR" >/dev/null 2>&1 || true
	[ -z "$PM_NET" ] || $PODMAN network rm "$PM_NET" >/dev/null 2>&1 || true
	[ -z "$SK_BRIDGE_MTU0" ] || ip link set skiff0 mtu "$SK_BRIDGE_MTU0" 2>/dev/null || true
	neigh_down
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
	$SK network create "$TAG-net" >/dev/null
	hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/net-start.json" \
		-n "skiff --network none" "$SK run --rm --network none $IMG /bin/true" \
		-n "skiff bridge (default)" "$SK run --rm $IMG /bin/true" \
		-n "skiff user network (resolver)" "$SK run --rm --network $TAG-net $IMG /bin/true" \
		-n "skiff bridge -p" "$SK run --rm -p $PROBE_PORT:80 $IMG /bin/true" \
		-n "podman --network none" "$PODMAN run --rm --network none $IMG /bin/true" \
		-n "podman bridge (default)" "$PODMAN run --rm $IMG /bin/true" \
		-n "podman bridge -p" "$PODMAN run --rm -p $PROBE_PORT:80 $IMG /bin/true" >&2
	$SK network rm "$TAG-net" >/dev/null
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

# A place a command runs in: "host", "pid:PID" (that process's network
# namespace) or "netns:NAME" (ip netns). ns_prefix sets NSPRE to its prefix.
ns_prefix() {
	case $1 in
	host) NSPRE=() ;;
	pid:*) NSPRE=(nsenter "--net=/proc/${1#pid:}/ns/net") ;;
	netns:*) NSPRE=(ip netns exec "${1#netns:}") ;;
	esac
}

# wait_listen WHERE PORT: until a TCP socket listens on PORT there
wait_listen() {
	ns_prefix "$1"
	for _ in $(seq 100); do
		"${NSPRE[@]}" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	log "no iperf3 server on port $2 ($1)"; return 1
}

# iperf_once NAME SERVER_WHERE SERVER_BIND CLIENT_WHERE CLIENT_TARGET CLIENT_PORT SERVER_PORT [-R]
# One iperf3 test (-R: the server sends); the client's JSON goes to
# $WORK/iperf/NAME.$round.json.
iperf_once() {
	local name=$1 sw=$2 bind=$3 cw=$4 target=$5 cport=$6 sport=$7 rev=${8:-}
	local spre cpre
	ns_prefix "$sw"; spre=("${NSPRE[@]}")
	ns_prefix "$cw"; cpre=("${NSPRE[@]}")
	"${spre[@]}" iperf3 -s -1 -p "$sport" ${bind:+-B "$bind"} >/dev/null 2>&1 &
	IPERF_SRV=$!
	wait_listen "$sw" "$sport"
	"${cpre[@]}" iperf3 -c "$target" -p "$cport" -t "$IPERF_SECS" $rev -J >"$WORK/iperf/$name.$round.json" || true
	wait "$IPERF_SRV" || true
	IPERF_SRV=""
}

ctr_pid_gw() { # NETNS_PID -> "gateway address" of the container's default route
	nsenter "--net=/proc/$1/ns/net" ip -4 route show default | awk '{print $3; exit}'
}

# (nsenter --net leaves /sys the host's: links are read with ip, not sysfs)
ctr_eth0() { # NETNS_PID FIELD -> "ifindex" of the host's end of eth0, or its "mtu"
	nsenter "--net=/proc/$1/ns/net" ip -o link show eth0 |
		sed -n "$([ "$2" = mtu ] && echo 's/.* mtu \([0-9]*\) .*/\1/p' || echo 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')"
}

ctr_host_veth() { # NETNS_PID BRIDGE -> the host's end of the container's eth0 (a port of BRIDGE)
	local idx name
	idx=$(ctr_eth0 "$1" ifindex)
	name=$(ip -o link show | awk -F': ' -v i="$idx" '$1 == i {sub(/@.*/, "", $2); print $2; exit}')
	[ -n "$idx" ] && [ -n "$name" ] && [ "$(basename "$(readlink "/sys/class/net/$name/master")")" = "$2" ] ||
		{ log "no host veth of $1 on $2"; return 1; }
	echo "$name"
}

# The neighbour: another machine on the uplink, as a network namespace on a
# veth with the uplink's MTU (or BENCH_NEIGH_MTU), 10.99.N.2 -> host 10.99.N.1.
neigh_up() {
	local n mtu=$1
	for n in $(seq 200 250); do
		ip -4 route show | grep -q "^10\.99\.$n\." || break
	done
	NEIGH=skbn$$ NEIGH_NET=10.99.$n
	ip netns add "$NEIGH"
	ip link add "${NEIGH}h" mtu "$mtu" type veth peer name "${NEIGH}p" mtu "$mtu"
	ip link set "${NEIGH}p" netns "$NEIGH"
	ip addr add "$NEIGH_NET.1/24" dev "${NEIGH}h"
	ip link set "${NEIGH}h" up
	ip -n "$NEIGH" addr add "$NEIGH_NET.2/24" dev "${NEIGH}p"
	ip -n "$NEIGH" link set "${NEIGH}p" up
	ip -n "$NEIGH" link set lo up
	ip -n "$NEIGH" route add default via "$NEIGH_NET.1"
}

neigh_down() {
	[ -n "$NEIGH" ] || return 0
	ip link del "${NEIGH}h" 2>/dev/null || true
	ip netns del "$NEIGH" 2>/dev/null || true
	NEIGH=""
}

# set_sk_mtu PID MTU: an experiment (BENCH_SK_MTU): what skiff would do with
# another MTU; the container's eth0, its host veth and skiff0 are set by hand
# (skiff0's MTU is put back at exit). Other containers on skiff0 keep their
# MTU: their TCP is safe (their MSS is the smaller), a large UDP datagram from
# the host to them is dropped at their veth while this runs.
set_sk_mtu() {
	local veth
	veth=$(ctr_host_veth "$1" skiff0) || return 1
	SK_BRIDGE_MTU0=$(cat /sys/class/net/skiff0/mtu)
	ip link set skiff0 mtu "$2"
	ip link set "$veth" mtu "$2"
	nsenter "--net=/proc/$1/ns/net" ip link set eth0 mtu "$2"
	sleep 1
}

mtus() { # ENGINE PID BRIDGE -> a line of the MTU table
	local veth
	veth=$(ctr_host_veth "$2" "$3")
	echo "| $1 | $(ctr_eth0 "$2" mtu) | $(cat "/sys/class/net/$veth/mtu") | $(cat "/sys/class/net/$3/mtu") |"
}

THR_TESTS=${BENCH_THR_TESTS:-h2c-lo h2c-uplink n2c c2h}

bench_throughput() {
	local uplink updev upmtu skpid pmpid skgw pmgw p round e pid gw hp d rev t
	for p in "$SK_HOSTPORT" "$PM_HOSTPORT" "$GW_PORT"; do
		port_free "$p" || { log "port $p is in use (set BENCH_*_PORT)"; return 1; }
	done
	uplink=$(ip -4 route get 1.1.1.1 | awk '{for (i = 1; i < NF; i++) if ($i == "src") {print $(i + 1); exit}}')
	updev=$(ip -4 route get 1.1.1.1 | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
	upmtu=$(cat "/sys/class/net/$updev/mtu")
	neigh_up "${BENCH_NEIGH_MTU:-$upmtu}"
	SK_CTR=$($SK run -d --name "$TAG" -p "$SK_HOSTPORT:5201" $IMG sleep 86400)
	skpid=$($SK inspect -f '{{.State.Pid}}' "$SK_CTR")
	# BENCH_PM_MTU=N: podman on a network of its own with that MTU (the
	# same as skiff's, to compare the engines at one MTU)
	if [ -n "${BENCH_PM_MTU:-}" ]; then
		$PODMAN network create --opt mtu="$BENCH_PM_MTU" "$TAG-pm" >/dev/null
		PM_NET="$TAG-pm"
	fi
	PM_BRIDGE=podman0
	[ -z "$PM_NET" ] || PM_BRIDGE=$($PODMAN network inspect -f '{{.NetworkInterface}}' "$PM_NET")
	PM_CTR=$($PODMAN run -d --name "$TAG" ${PM_NET:+--network "$PM_NET"} -p "$PM_HOSTPORT:5201" $IMG sleep 86400)
	pmpid=$($PODMAN inspect -f '{{.State.Pid}}' "$PM_CTR")
	[ -z "${BENCH_SK_MTU:-}" ] || set_sk_mtu "$skpid" "$BENCH_SK_MTU" || return 1
	skgw=$(ctr_pid_gw "$skpid")
	pmgw=$(ctr_pid_gw "$pmpid")
	log "uplink $uplink (mtu $upmtu); neighbour $NEIGH_NET.2; skiff pid $skpid gw $skgw; podman pid $pmpid gw $pmgw"
	rm -rf "$WORK/iperf"; mkdir -p "$WORK/iperf"
	echo "$uplink" >"$WORK/iperf/uplink"
	{
		echo "| MTU | container eth0 | host veth | bridge / link |"
		echo "|---|---|---|---|"
		mtus skiff "$skpid" skiff0
		mtus podman "$pmpid" "$PM_BRIDGE"
		echo "| uplink ($updev) | | | $upmtu |"
		echo "| neighbour's veth | | | ${BENCH_NEIGH_MTU:-$upmtu} |"
	} >"$WORK/iperf/mtu.md"
	for round in $(seq "$IPERF_ROUNDS"); do
		log "iperf3 round $round/$IPERF_ROUNDS"
		iperf_once host-loopback host 127.0.0.1 host 127.0.0.1 "$GW_PORT" "$GW_PORT"
		# each test for both engines one right after the other: a round's
		# pair runs under the same load (this host is noisy)
		for d in fwd rev; do
			rev=""; [ $d = fwd ] || rev=-R
			for t in $THR_TESTS; do
				for e in skiff podman; do
					if [ $e = skiff ]; then pid=$skpid gw=$skgw hp=$SK_HOSTPORT; else pid=$pmpid gw=$pmgw hp=$PM_HOSTPORT; fi
					case $t in
					h2c-lo) iperf_once "$e-$t-$d" "pid:$pid" "" host 127.0.0.1 "$hp" 5201 $rev ;;
					h2c-uplink) iperf_once "$e-$t-$d" "pid:$pid" "" host "$uplink" "$hp" 5201 $rev ;;
					n2c) iperf_once "$e-$t-$d" "pid:$pid" "" "netns:$NEIGH" "$NEIGH_NET.1" "$hp" 5201 $rev ;;
					c2h) iperf_once "$e-$t-$d" host "$gw" "pid:$pid" "$gw" "$GW_PORT" "$GW_PORT" $rev ;;
					esac
				done
			done
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
    files = glob.glob(os.path.join(d, name + ".*.json"))
    for f in sorted(files, key=lambda f: int(f.rsplit(".", 2)[1])):
        try:
            j = json.load(open(f))
            if j.get("error"):
                raise ValueError(j["error"])
            out.append(j["end"]["sum_received"]["bits_per_second"] / 1e9)
        except (ValueError, KeyError) as e:
            errors.append("%s: %s" % (os.path.basename(f), e))
            out.append(None)
    return out
def med(v):
    ok = [x for x in v if x is not None]
    return statistics.median(ok) if ok else None
def cell(v):
    m = med(v)
    if m is None:
        return "failed"
    return "%.2f (%s)" % (m, " ".join("%.1f" % x if x is not None else "fail" for x in v))
tests = [("h2c-lo", "published port on 127.0.0.1", "host sends", "container sends"),
         ("h2c-uplink", "published port on %s (uplink) from the host" % uplink, "host sends", "container sends"),
         ("n2c", "published port from the neighbour (forwarded)", "neighbour sends", "container sends"),
         ("c2h", "container to the bridge's gateway address", "container sends", "host sends")]
print(open(os.path.join(d, "mtu.md")).read())
print("| iperf3 TCP, %s s, Gbit/s: median (each round) | skiff | podman (netavark) | skiff / podman (medians) | median of per-round ratios |" % secs)
print("|---|---|---|---|---|")
for key, label, fwd, rev in tests:
    for dr, who in (("fwd", fwd), ("rev", rev)):
        s, p = gbits("skiff-%s-%s" % (key, dr)), gbits("podman-%s-%s" % (key, dr))
        if not s and not p:
            continue
        sm, pm = med(s), med(p)
        ratio = "%.2fx" % (sm / pm) if sm and pm else "-"
        rr = [a / b for a, b in zip(s, p) if a and b]
        rr = "%.2fx" % statistics.median(rr) if rr else "-"
        print("| %s, %s | %s | %s | %s | %s |" % (label, who, cell(s), cell(p), ratio, rr))
print("| (reference) host loopback, no container | %s | | | |" % cell(gbits("host-loopback")))
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
	case $PARTS in *start*) bench_start ;; *) PARTS_NOSTART=1 ;; esac
	case $PARTS in *throughput*) ;; *) have_iperf= ;; esac
	[ -z "$have_iperf" ] || bench_throughput
	load1=$(uptime)
	echo "$($SK --version 2>/dev/null | head -1), $(podman --version), $(iperf3 --version 2>/dev/null | head -1 | cut -d' ' -f1-2); $(nproc) CPUs"
	echo
	[ -n "${PARTS_NOSTART:-}" ] || report_start
	if [ -n "$have_iperf" ]; then echo; report_throughput; fi
	printf '\nLoad before: %s\nLoad after:  %s\n' "${load0#*load }" "${load1#*load }"
}
main "$@"
