#!/bin/bash
# The original interface: ./your_docker.sh run <image> <command> <args...>
# Builds ./skiff when it is missing or older than the sources (build output goes
# to stderr only, so stdout is the container's own), then runs it:
# `run ARGS` becomes `skiff run --rm ARGS`, anything else is passed to skiff as is.
set -eu

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
bin="$here/skiff"

needs_build() {
	[ -x "$bin" ] || return 0
	[ -n "$(find "$here/src" "$here/Makefile" -newer "$bin" -print -quit 2>/dev/null)" ]
}

build() {
	# One build at a time when several invocations start together (the lock is
	# taken on the Makefile itself, so no stray lock file is left behind).
	if command -v flock >/dev/null; then
		flock "$here/Makefile" make -s -C "$here" -j"$(nproc)" skiff >&2
	else
		make -s -C "$here" -j"$(nproc)" skiff >&2
	fi
}

if needs_build; then
	build || { echo "your_docker.sh: building skiff failed" >&2; exit 125; }
fi
if [ "${1-}" = run ]; then
	exec "$bin" run --rm "${@:2}"
fi
exec "$bin" "$@"
