#!/bin/sh
# `make test-deps`: the Debian packages the test suite needs on top of what
# skiff itself needs (.ci/packages). Kept apart so that the main job never
# installs a registry: Debian's docker-registry package ships a service that
# listens on :5000 on every interface. The tests start their own registries
# on 127.0.0.1, so the packaged service is kept from starting (policy-rc.d,
# which deb-systemd-invoke honours) and disabled where systemd runs.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "test-deps: must run as root (apt-get)" >&2
	exit 1
fi
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# skiff test-deps: no service starts during this install\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
xargs -a .ci/packages-test apt-get install -y --no-install-recommends </dev/null
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
fi
