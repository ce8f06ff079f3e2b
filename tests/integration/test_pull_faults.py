"""A misbehaving registry: the lying proxy in front of the real one corrupts
bytes, cuts bodies short, answers 429 or 500. skiff must verify, resume with
Range, retry what is worth retrying, and leave the store untouched when it
gives up."""

import re
import time

import regkit
from regkit import Image, Layer, TarBuilder, busybox_tar


def blob_path(digest):
    return re.escape(f"/blobs/{digest}")


def test_wrong_bytes_are_refused_naming_both_digests(skiff, store, registry, proxy):
    """An uncompressed layer whose bytes still parse as tar: only the digest
    check can catch it, and the error names the expected and the received digest."""
    layer = Layer(busybox_tar(), "none")
    registry.client.push_image("faults/app", Image([layer]), tag="latest")
    proxy.add(blob_path(layer.digest), "corrupt", times=None, offset=layer.size // 2)
    before = store.snapshot()

    r = skiff.fails("pull", f"{proxy.hostport}/faults/app", code=1)

    line = regkit.error_line(r)
    assert layer.digest in line, line
    assert re.search(r"sha256:[0-9a-f]{64}", line.replace(layer.digest, "")), \
        "the digest actually received is named too: " + line
    after = store.snapshot()
    assert after["refs"] == before["refs"]
    assert layer.diff_hex not in after["layers"]
    assert not store.tmp_layers()


def test_corrupted_gzip_stream_is_refused(skiff, store, registry, proxy, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")
    layer = busybox.layers[0]
    proxy.add(blob_path(layer.digest), "corrupt", times=None, offset=5000)
    before = store.snapshot()

    r = skiff.fails("pull", f"{proxy.hostport}/faults/app", code=1)

    line = regkit.error_line(r)
    assert "faults/app" in line and layer.hex[:12] in line, line
    after = store.snapshot()
    assert after["refs"] == before["refs"]
    assert layer.diff_hex not in after["layers"]
    assert not store.tmp_layers()


def test_corrupted_config_is_refused(skiff, store, registry, proxy, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")
    proxy.add(blob_path(busybox.config_digest), "corrupt", times=None, offset=3)

    r = skiff.fails("pull", f"{proxy.hostport}/faults/app", code=1)

    assert busybox.config_digest in regkit.error_line(r)
    assert not store.refs() and not store.has_blob(busybox.config_digest)


def test_truncated_body_is_resumed_with_range(skiff, store, registry, proxy, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")
    layer = busybox.layers[0]
    proxy.add(blob_path(layer.digest), "truncate", after=300_000)

    skiff.ok("pull", f"{proxy.hostport}/faults/app")

    gets = proxy.blob_gets(layer.digest)
    assert len(gets) >= 2, gets
    assert gets[0]["fault"] == "truncate"
    resumed = [g for g in gets[1:] if g["range"]]
    assert resumed, f"no Range request after the cut: {gets}"
    start = int(re.match(r"bytes=(\d+)-", resumed[0]["range"]).group(1))
    assert 0 < start <= 300_000
    assert layer.diff_hex in store.layer_ids()


def test_429_with_retry_after_then_success(skiff, store, registry, proxy, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")
    layer = busybox.layers[0]
    proxy.add(blob_path(layer.digest), "status", status=429, retry_after=1)

    t0 = time.monotonic()
    skiff.ok("pull", f"{proxy.hostport}/faults/app")

    assert time.monotonic() - t0 >= 0.9, "Retry-After: 1 was not honoured"
    statuses = [g["status"] for g in proxy.blob_gets(layer.digest)]
    assert statuses[0] == 429 and statuses[-1] in (200, 206), statuses
    assert layer.diff_hex in store.layer_ids()


def test_500_then_success(skiff, store, registry, proxy, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")
    layer = busybox.layers[0]
    proxy.add(blob_path(layer.digest), "status", status=500)
    proxy.add(r"/manifests/latest$", "status", status=503)

    skiff.ok("pull", f"{proxy.hostport}/faults/app")

    assert [g["status"] for g in proxy.blob_gets(layer.digest)][:2] == [500, 200]
    assert f"{proxy.hostport}/faults/app:latest" in store.refs()


def test_persistent_500_is_a_clear_error(skiff, store, registry, proxy, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")
    layer = busybox.layers[0]
    proxy.add(blob_path(layer.digest), "status", status=500, times=None)

    t0 = time.monotonic()
    r = skiff.fails("pull", f"{proxy.hostport}/faults/app", code=1)

    assert time.monotonic() - t0 < 100, "gave up too slowly"
    line = regkit.error_line(r)
    assert "500" in line and (layer.digest in line or layer.hex[:12] in line), line
    assert 2 <= len(proxy.blob_gets(layer.digest)) <= 10  # retried, but boundedly
    assert not store.refs() and not store.tmp_layers()


def test_manifest_404_is_manifest_unknown(skiff, store, registry, busybox):
    registry.client.push_image("faults/app", busybox, tag="latest")

    r = skiff.fails("pull", f"{registry.hostport}/faults/app:nope", code=1)

    line = regkit.error_line(r)
    assert "manifest unknown" in line and "nope" in line, line
    assert not store.refs()


def test_unknown_repository(skiff, store, registry):
    r = skiff.fails("pull", f"{registry.hostport}/no/such/repo", code=1)

    line = regkit.error_line(r)
    assert "no/such/repo" in line
    assert "manifest unknown" in line or "name unknown" in line or "not found" in line, line


def test_registry_not_listening(skiff, store):
    port = regkit.free_port()

    r = skiff.fails("pull", f"127.0.0.1:{port}/x/y", code=1)

    line = regkit.error_line(r)
    assert f"127.0.0.1:{port}" in line
    assert not store.refs()


def test_blob_larger_than_its_descriptor_is_refused(skiff, store, registry):
    """The manifest says the layer has N bytes; the registry sends more."""
    layer = Layer(busybox_tar())
    img = Image([layer])
    registry.client.push_image("faults/size", img)
    import json
    m = json.loads(img.manifest)
    m["layers"][0]["size"] = layer.size - 1000
    body = json.dumps(m).encode()
    registry.client.push_manifest("faults/size", "latest", body, img.media_type)

    r = skiff.fails("pull", f"{registry.hostport}/faults/size", code=1)

    line = regkit.error_line(r)
    assert layer.digest in line or layer.hex[:12] in line, line
    assert not store.refs() and layer.diff_hex not in store.layer_ids()


def test_small_layers_with_one_flaky(skiff, store, registry, proxy):
    """Several layers in parallel; one flaky layer does not break the others."""
    layers = [Layer(TarBuilder().file(f"f{i}", "x" * (i + 1) * 1000).bytes()) for i in range(6)]
    img = Image(layers)
    registry.client.push_image("faults/many", img, tag="latest")
    proxy.add(blob_path(layers[3].digest), "status", status=502)

    skiff.ok("pull", "--max-concurrent-downloads", "3", f"{proxy.hostport}/faults/many")

    assert {l.diff_hex for l in layers} <= store.layer_ids()
