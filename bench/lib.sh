# Shared helpers for the benchmarks: a real registry on 127.0.0.1, dockerd and
# podman set up as PEERS.md describes, and median extraction from hyperfine JSON.
# Sourced by bench/*.sh; not part of CI.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-/var/tmp/skiff-bench}
REG_PORT=${BENCH_REG_PORT:-5599}
REG="127.0.0.1:$REG_PORT"
SKIFF_GIVEN=${SKIFF:+1}
SKIFF=${SKIFF:-$REPO_DIR/skiff}
mkdir -p "$WORK"

log() { echo "bench: $*" >&2; }

start_registry() {
	if curl -fsS "http://$REG/v2/" >/dev/null 2>&1; then return 0; fi
	mkdir -p "$WORK/registry"
	cat >"$WORK/registry.yml" <<EOY
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}, delete: {enabled: true}}
http: {addr: $REG}
EOY
	docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
	echo $! >"$WORK/registry.pid"
	for _ in $(seq 50); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && return 0; sleep 0.1; done
	log "registry did not start"; return 1
}

stop_registry() {
	[ -f "$WORK/registry.pid" ] && kill "$(cat "$WORK/registry.pid")" 2>/dev/null || true
	rm -f "$WORK/registry.pid"
}

start_dockerd() {
	command -v dockerd >/dev/null || { log "docker.io not installed: docker skipped"; return 1; }
	if docker info >/dev/null 2>&1; then return 0; fi
	mkdir -p /etc/docker
	cat >/etc/docker/daemon.json <<EOJ
{"insecure-registries":["$REG"],"iptables":false,"bridge":"none",
 "default-ulimits":{"nofile":{"Name":"nofile","Hard":20000,"Soft":20000}}}
EOJ
	(dockerd >"$WORK/dockerd.log" 2>&1 &)
	for _ in $(seq 100); do docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
	log "dockerd did not start (see $WORK/dockerd.log)"; return 1
}

setup_podman() {
	command -v podman >/dev/null || { log "podman not installed: podman skipped"; return 1; }
	mkdir -p /etc/containers/registries.conf.d
	printf '[[registry]]\nlocation="%s"\ninsecure=true\n' "$REG" >/etc/containers/registries.conf.d/skiff-bench.conf
	if ! grep -q skiff-bench /etc/containers/containers.conf 2>/dev/null; then
		printf '# skiff-bench\n[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]\n' \
			>>/etc/containers/containers.conf
	fi
}

# median_of FILE.json INDEX -> seconds (hyperfine --export-json)
median_of() {
	/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.4f" % r["median"])' "$1" "$2"
}

# push_blob REPO FILE -> prints digest
push_blob() {
	local repo=$1 file=$2 digest loc
	digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
	if curl -fs -o /dev/null -I "http://$REG/v2/$repo/blobs/$digest" 2>/dev/null; then echo "$digest"; return; fi
	loc=$(curl -fsS -X POST -D - -o /dev/null "http://$REG/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
	case $loc in http*) ;; *) loc="http://$REG$loc" ;; esac
	case $loc in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
	curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$loc" >/dev/null
	echo "$digest"
}

# push_image REPO TAG CONFIG_FILE LAYER_GZ...  (Docker schema 2 manifest)
push_image() {
	local repo=$1 tag=$2 config=$3; shift 3
	local cdigest layers="" sep="" f d
	cdigest=$(push_blob "$repo" "$config")
	for f in "$@"; do
		d=$(push_blob "$repo" "$f")
		layers="$layers$sep{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":$(stat -c %s "$f"),\"digest\":\"$d\"}"
		sep=","
	done
	printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%s,"digest":"%s"},"layers":[%s]}' \
		"$(stat -c %s "$config")" "$cdigest" "$layers" >"$WORK/manifest-$tag.json"
	curl -fsS -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
		--data-binary "@$WORK/manifest-$tag.json" "http://$REG/v2/$repo/manifests/$tag" >/dev/null
}
