#!/bin/bash
# Limits benchmark (issue 4): `skiff run --rm IMAGE /bin/true` with
# `--memory 256m --pids-limit 100 --cpus 1` against the same run without limits,
# side by side in one hyperfine run, and docker with and without the same limits
# when dockerd can be started. Both skiff runs get docker's security defaults
# (capabilities, seccomp, a cgroup); the difference is the limits written to it.
# Root only; not part of CI. Results on stdout (markdown).
#   bench/run_limits.sh [RUNS]      (default 30)
#   SKIFF=/path/to/skiff bench/run_limits.sh   (default: the repo's ./skiff, rebuilt)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-30}
MKIMAGE="/usr/bin/python3 $REPO_DIR/tests/images/mkimage.py"
SROOT=$WORK/limits-root
SK="$SKIFF --root $SROOT"
IMAGE=bench-limits:1
LIMITS="--memory 256m --pids-limit 100 --cpus 1"

main() {
	[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
	[ "$SKIFF" = "$REPO_DIR/skiff" ] && make -C "$REPO_DIR" -s skiff >&2
	[ -f "$WORK/limits-1.tar" ] || $MKIMAGE docker-archive "$WORK/limits-1.tar" --tag "$IMAGE" --layers 1 >/dev/null
	$SK load -q -i "$WORK/limits-1.tar" >/dev/null
	# Fail early (with skiff's message) rather than time an error.
	$SK run --rm $LIMITS "$IMAGE" /bin/true
	local cmds=(-n "skiff run" "$SK run --rm $IMAGE /bin/true"
		-n "skiff run + limits" "$SK run --rm $LIMITS $IMAGE /bin/true")
	if start_dockerd; then
		docker load -q -i "$WORK/limits-1.tar" >/dev/null
		cmds+=(-n "docker run" "docker run --rm --network none $IMAGE /bin/true"
			-n "docker run + limits" "docker run --rm --network none $LIMITS $IMAGE /bin/true")
	fi
	hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/run-limits.json" \
		"${cmds[@]}" >&2
	/usr/bin/python3 - "$WORK/run-limits.json" "$LIMITS" <<'EOPY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] for r in res}
print("| run /bin/true, image present (median of %d) | median | with limits / without |"
      % len(res[0]["times"]))
print("|---|---|---|")
for name, m in med.items():
    base = med[name.replace(" + limits", "")]
    print("| %s | %.2f ms | %.2fx |" % (name, m * 1000, m / base))
print("\nlimits: `%s`" % sys.argv[2])
EOPY
}
main "$@"
