#!/bin/bash
# Making and sharing images (issue 12), skiff next to docker in one run:
#   - save of a 1-layer image (busybox, ~2 MB) and of a 20-layer image
#     (busybox + 19 layers of 2 MB of incompressible files each) to /dev/null
#     (the layers as pulled: gzip blobs from a registry on 127.0.0.1);
#   - commit of a stopped container that changed 200 files (~8 MB);
#   - save of the committed image (its new layer written again from the store).
# hyperfine -N (stdout to /dev/null: never `save -o /dev/null`, docker's CLI renames
# its temporary file over the target and would replace the device), medians. Root only; not part of CI. Results: stdout (markdown).
#   bench/images_make.sh [RUNS]     (default 10)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${1:-10}
IMG=$WORK/images-make
STORE=$IMG/store

make_images() {
	rm -rf "$IMG"; mkdir -p "$IMG"
	/usr/bin/python3 - "$IMG" "$REG" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ.get("REPO_DIR", "."), "tests", "integration"))
import regkit
from regkit import Image, Layer, TarBuilder
out, reg = sys.argv[1], sys.argv[2]
client = regkit.RegistryClient("http://" + reg)
one = regkit.busybox_image()
client.push_image("bench/save1", one, tag="1")
layers = [Layer(regkit.busybox_tar(), "gzip")]
for i in range(1, 20):
    t = TarBuilder().dir("l%d" % i)
    for k in range(4):
        t.file("l%d/f%d" % (i, k), os.urandom(512 * 1024))
    layers.append(Layer(t.bytes(), "gzip"))
client.push_image("bench/save20", Image(layers), tag="1")
EOF
}

main() {
	export REPO_DIR
	start_registry
	start_dockerd || { log "docker is needed for this comparison"; exit 1; }
	make_images
	local s="$SKIFF --root $STORE"
	for i in 1 20; do
		$s pull -q "$REG/bench/save$i:1" >/dev/null
		docker pull -q "$REG/bench/save$i:1" >/dev/null
	done
	# a container that changed 200 files, in both
	local script='i=0; while [ $i -lt 200 ]; do head -c 40000 /dev/urandom > /data-$i; i=$((i+1)); done'
	$s rm -f bench-commit >/dev/null 2>&1 || true
	docker rm -f bench-commit >/dev/null 2>&1 || true
	$s run --name bench-commit "$REG/bench/save1:1" sh -c "$script"
	docker run --name bench-commit --network none "$REG/bench/save1:1" sh -c "$script"
	$s commit bench-commit bench/committed:1 >/dev/null
	docker commit bench-commit bench/committed:1 >/dev/null

	hyperfine -N -w 2 -r "$RUNS" --export-json "$IMG/h.json" \
		-n "skiff save 1 layer" "$s save $REG/bench/save1:1" \
		-n "docker save 1 layer" "docker save $REG/bench/save1:1" \
		-n "skiff save 20 layers" "$s save $REG/bench/save20:1" \
		-n "docker save 20 layers" "docker save $REG/bench/save20:1" \
		-n "skiff commit" "$s commit bench-commit bench/committed:1" \
		-n "docker commit" "docker commit bench-commit bench/committed:1" \
		-n "skiff save committed" "$s save bench/committed:1" \
		-n "docker save committed" "docker save bench/committed:1" >&2
	echo "| what | skiff | docker | ratio |"
	echo "|---|---|---|---|"
	local names=("save, 1 layer" "save, 20 layers" "commit, 200 files / 8 MB" "save of that commit")
	for k in 0 1 2 3; do
		local a b
		a=$(median_of "$IMG/h.json" $((2 * k)))
		b=$(median_of "$IMG/h.json" $((2 * k + 1)))
		awk -v n="${names[$k]}" -v a="$a" -v b="$b" \
			'BEGIN { printf "| %s | %.1f ms | %.1f ms | %.2fx |\n", n, a * 1000, b * 1000, a / b }'
	done
	$s rm -f bench-commit >/dev/null 2>&1 || true
	docker rm -f bench-commit >/dev/null 2>&1 || true
	docker rmi -f "$REG/bench/save1:1" "$REG/bench/save20:1" bench/committed:1 >/dev/null 2>&1 || true
	docker image prune -f >/dev/null 2>&1 || true
	rm -rf "$STORE"
	stop_registry
}

main "$@"
