"""skiff pull from a plain-HTTP registry on 127.0.0.1: by tag, by digest, a
re-pushed tag, and what lands in the store and in `skiff images`."""

import os
import re

import regkit
from regkit import busybox_image, Layer, TarBuilder, Image, busybox_tar


def test_pull_by_tag_extracts_layers_and_lists_image(skiff, store, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="1.36")
    ref = f"{registry.hostport}/tools/busybox:1.36"

    r = skiff.ok("pull", ref)

    assert busybox.digest in r.stdout or busybox.digest in r.stderr
    diff = store.layer_diff(busybox.layers[0].diff_id)
    assert os.path.isfile(os.path.join(diff, "bin/busybox"))
    assert os.readlink(os.path.join(diff, "bin/sh")) == "busybox"
    with open("/bin/busybox", "rb") as a, open(os.path.join(diff, "bin/busybox"), "rb") as b:
        assert a.read() == b.read()
    assert store.has_blob(busybox.config_digest)
    assert store.refs()[ref] == (busybox.digest, busybox.config_digest)

    images = skiff.ok("images").stdout.splitlines()
    assert re.split(r"\s{2,}", images[0].strip()) == ["REPOSITORY", "TAG", "IMAGE ID",
                                                     "CREATED", "SIZE"]
    row = [l for l in images[1:] if l.startswith(f"{registry.hostport}/tools/busybox ")]
    assert len(row) == 1, images
    assert row[0].split()[1] == "1.36"
    assert row[0].split()[2] == busybox.config_digest.split(":")[1][:12]


def test_pull_twice_is_up_to_date_and_fetches_nothing(skiff, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")
    ref = f"{registry.hostport}/tools/busybox"
    skiff.ok("pull", ref)
    before = len(registry.blob_gets(busybox.layers[0].digest))

    r = skiff.ok("pull", ref)

    assert "up to date" in r.stdout.lower()
    assert len(registry.blob_gets(busybox.layers[0].digest)) == before


def test_pull_by_digest_records_digest_ref(skiff, store, registry, busybox):
    registry.client.push_image("tools/busybox", busybox)  # no tag at all
    ref = f"{registry.hostport}/tools/busybox@{busybox.digest}"

    skiff.ok("pull", ref)

    assert store.refs()[ref][0] == busybox.digest
    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))


def test_pull_by_digest_that_does_not_exist_fails(skiff, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")
    missing = "sha256:" + "ab" * 32

    r = skiff.fails("pull", f"{registry.hostport}/tools/busybox@{missing}", code=1)

    line = regkit.error_line(r)
    assert "manifest unknown" in line and missing in line


def test_repushed_tag_pulls_new_image_and_keeps_shared_layer(skiff, store, registry, busybox):
    repo, ref = "tools/app", f"{registry.hostport}/tools/app:stable"
    registry.client.push_image(repo, busybox, tag="stable")
    skiff.ok("pull", ref)
    extra = Layer(TarBuilder().dir("srv").file("srv/version", "2\n").bytes())
    v2 = Image(busybox.layers + [extra])
    registry.client.push_image(repo, v2, tag="stable")
    base_gets = len(registry.blob_gets(busybox.layers[0].digest))

    skiff.ok("pull", ref)

    assert store.refs()[ref] == (v2.digest, v2.config_digest)
    with open(os.path.join(store.layer_diff(extra.diff_id), "srv/version")) as f:
        assert f.read() == "2\n"
    # The busybox layer was already in the store: not fetched again.
    assert len(registry.blob_gets(busybox.layers[0].digest)) == base_gets
    # The old image stays, untagged, as in docker.
    listed = skiff.ok("images", "--no-trunc", "--format", "json").stdout
    assert busybox.config_digest in listed and v2.config_digest in listed


def test_quiet_pull_prints_only_the_reference(skiff, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="q")
    ref = f"{registry.hostport}/tools/busybox:q"

    r = skiff.ok("pull", "-q", ref)

    assert r.stdout.strip() == ref


def test_layer_shared_by_two_images_is_downloaded_once(skiff, store, registry, proxy, busybox):
    a = Image(busybox.layers + [Layer(TarBuilder().file("a", "a").bytes())])
    b = Image(busybox.layers + [Layer(TarBuilder().file("b", "b").bytes())])
    registry.client.push_image("shared/a", a, tag="latest")
    registry.client.push_image("shared/b", b, tag="latest")

    skiff.ok("pull", f"{proxy.hostport}/shared/a")
    skiff.ok("pull", f"{proxy.hostport}/shared/b")

    assert len(proxy.blob_gets(busybox.layers[0].digest)) == 1
    assert len(proxy.blob_gets(b.layers[1].digest)) == 1
    assert {a.layers[1].diff_hex, b.layers[1].diff_hex, busybox.layers[0].diff_hex} <= \
        store.layer_ids()


def test_debug_traces_requests(skiff, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")

    r = skiff.ok("--debug", "pull", f"{registry.hostport}/tools/busybox")

    assert re.search(r"GET \S*/v2/tools/busybox/manifests/latest", r.stderr), r.stderr
    assert re.search(r"\b200\b", r.stderr)
