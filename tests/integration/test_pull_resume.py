"""Crash safety and sharing: a pull killed with SIGKILL in the middle of a big
layer leaves a valid store and the next pull goes on from the bytes already on
disk (with a Range request); concurrent pulls of one image all succeed and
fetch each blob once."""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

import regkit
from regkit import Image, Layer, TarBuilder, busybox_tar

BIG = 64 << 20


@pytest.fixture(scope="module")
def big_image():
    """busybox plus a ~64 MB layer of random bytes (incompressible, gzip)."""
    data = os.urandom(BIG)
    big = Layer(TarBuilder().dir("data").file("data/random.bin", data).bytes(), "gzip")
    return Image([Layer(busybox_tar()), big]), big


def partial_bytes(store, digest):
    try:
        return os.path.getsize(store.path("partial", digest.split(":")[1]))
    except FileNotFoundError:
        return 0


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_killed_pull_leaves_valid_store_and_resumes(skiff, store, registry, proxy, big_image):
    img, big = big_image
    registry.client.push_image("big/app", img, tag="latest")
    ref = f"{proxy.hostport}/big/app:latest"
    # ~8 MB/s: the pull is still running when we kill it.
    proxy.add(re.escape(f"/blobs/{big.digest}"), "drip", times=None, chunk=128 << 10,
              delay=0.015)

    p = skiff.popen("pull", ref, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        got = wait_for(lambda: partial_bytes(store, big.digest) > (8 << 20), 60)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    assert got, "the big layer never started to arrive in partial/"
    kept = partial_bytes(store, big.digest)
    assert 0 < kept < big.size

    # The store is valid: nothing recorded, images works, no half layer visible.
    assert ref not in store.refs()
    listed = skiff.ok("images")
    assert "big/app" not in listed.stdout
    assert big.diff_hex not in store.layer_ids()

    proxy.clear()
    skiff.ok("pull", ref)

    assert store.refs()[ref][0] == img.digest
    gets = proxy.blob_gets(big.digest)
    assert len(gets) == 1, gets
    assert gets[0]["range"], "the second pull started over instead of resuming"
    start = int(re.match(r"bytes=(\d+)-", gets[0]["range"]).group(1))
    assert start >= (8 << 20) and start <= kept
    with open(os.path.join(store.layer_diff(big.diff_id), "data/random.bin"), "rb") as f:
        f.seek(0, 2)
        assert f.tell() == BIG
    assert not store.tmp_layers(), "stale tmp dirs were not cleaned up"
    assert not store.partials(), "the partial file stays after the layer is in place"


def test_concurrent_pulls_fetch_each_blob_once(skiff, store, registry, proxy):
    layers = [Layer(busybox_tar())] + \
             [Layer(TarBuilder().file(f"f{i}", os.urandom(1 << 20)).bytes()) for i in range(3)]
    img = Image(layers)
    registry.client.push_image("conc/app", img, tag="latest")
    ref = f"{proxy.hostport}/conc/app:latest"
    # Slow the layers down so the four pulls overlap.
    for l in layers:
        proxy.add(re.escape(f"/blobs/{l.digest}"), "drip", times=None, chunk=64 << 10,
                  delay=0.01)

    procs = [skiff.popen("pull", ref, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True) for _ in range(4)]
    outs = [p.communicate(timeout=regkit.DEFAULT_TIMEOUT) for p in procs]

    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    assert store.refs()[ref][0] == img.digest
    for l in layers:
        assert len(proxy.blob_gets(l.digest)) == 1, (l.digest, proxy.blob_gets(l.digest))
        assert l.diff_hex in store.layer_ids()
    assert not store.tmp_layers()


def test_concurrent_pulls_of_different_images_sharing_a_layer(skiff, store, registry, proxy):
    base = Layer(TarBuilder().file("base", os.urandom(2 << 20)).bytes())
    imgs = [Image([base, Layer(TarBuilder().file("own", str(i)).bytes())]) for i in range(3)]
    for i, img in enumerate(imgs):
        registry.client.push_image(f"conc/img{i}", img, tag="latest")
    proxy.add(re.escape(f"/blobs/{base.digest}"), "drip", times=None, chunk=64 << 10,
              delay=0.01)

    results = [None] * 3

    def pull(i):
        results[i] = skiff.run("pull", f"{proxy.hostport}/conc/img{i}")

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for r in results:
        assert r.returncode == 0, r.stderr
    assert len(proxy.blob_gets(base.digest)) == 1
    assert len(store.refs()) == 3
