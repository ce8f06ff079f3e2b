"""The store commands: `skiff images` (table, -q, --format json, filter),
`skiff inspect` (JSON with the config digest as Id), `skiff rmi` (removes the
record, frees layers no other image uses, keeps shared ones)."""

import json
import os
import re

import regkit
from regkit import Image, Layer, TarBuilder


def two_images_sharing_base(registry, busybox):
    a = Image(busybox.layers + [Layer(TarBuilder().file("a", "a").bytes())])
    b = Image(busybox.layers + [Layer(TarBuilder().file("b", "b").bytes())])
    registry.client.push_image("store/a", a, tag="latest")
    registry.client.push_image("store/b", b, tag="v2")
    return a, b


def test_images_on_empty_store_prints_header_only(skiff):
    out = skiff.ok("images").stdout.splitlines()
    assert len(out) == 1 and out[0].split()[:2] == ["REPOSITORY", "TAG"]


def test_images_quiet_and_json(skiff, registry, busybox):
    a, b = two_images_sharing_base(registry, busybox)
    skiff.ok("pull", f"{registry.hostport}/store/a")
    skiff.ok("pull", f"{registry.hostport}/store/b:v2")

    quiet = skiff.ok("images", "-q").stdout.split()
    assert sorted(quiet) == sorted([a.config_digest[7:19], b.config_digest[7:19]])

    rows = [json.loads(l) for l in skiff.ok("images", "--no-trunc", "--format", "json").stdout.splitlines()]
    by_repo = {r["Repository"]: r for r in rows}
    assert by_repo[f"{registry.hostport}/store/b"]["Tag"] == "v2"
    assert b.config_digest.endswith(by_repo[f"{registry.hostport}/store/b"]["ID"].split(":")[-1])


def test_images_filter_by_repository(skiff, registry, busybox):
    two_images_sharing_base(registry, busybox)
    skiff.ok("pull", f"{registry.hostport}/store/a")
    skiff.ok("pull", f"{registry.hostport}/store/b:v2")

    rows = skiff.ok("images", f"{registry.hostport}/store/b").stdout.splitlines()[1:]

    assert len(rows) == 1 and rows[0].startswith(f"{registry.hostport}/store/b ")


def test_images_size_and_created(skiff, registry, busybox):
    registry.client.push_image("store/a", busybox, tag="latest")
    skiff.ok("pull", f"{registry.hostport}/store/a")

    row = skiff.ok("images").stdout.splitlines()[1]

    assert re.search(r"\bago\b", row), row  # created 2024-01-02: "N years ago"
    size = re.search(r"([\d.]+)\s*([kMG]?B)\s*$", row)
    assert size, row
    mb = float(size.group(1)) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[size.group(2)]
    assert 1 < mb < 10, row  # busybox-static is ~2 MB


def test_inspect_prints_json_with_config_digest_as_id(skiff, registry, busybox):
    registry.client.push_image("store/a", busybox, tag="latest")
    ref = f"{registry.hostport}/store/a"
    skiff.ok("pull", ref)

    doc = json.loads(skiff.ok("inspect", ref).stdout)

    if isinstance(doc, list):
        assert len(doc) == 1
        doc = doc[0]
    assert doc["Id"] == busybox.config_digest
    assert f"{ref}:latest" in doc["RepoTags"]
    assert doc["Architecture"] == "amd64" and doc["Os"] == "linux"
    assert doc["RootFS"]["Layers"] == [busybox.layers[0].diff_id]
    assert doc["Config"]["Cmd"] == ["/bin/sh"]


def test_inspect_by_short_id_and_format(skiff, registry, busybox):
    registry.client.push_image("store/a", busybox, tag="latest")
    skiff.ok("pull", f"{registry.hostport}/store/a")

    out = skiff.ok("inspect", "-f", "{{.Id}}", busybox.config_digest[7:19]).stdout

    assert out.strip() == busybox.config_digest


def test_inspect_unknown_image(skiff):
    r = skiff.run("inspect", "nosuch:image")
    assert r.returncode != 0
    assert "nosuch" in regkit.error_line(r)


def test_rmi_frees_layers_but_keeps_shared_ones(skiff, store, registry, busybox):
    a, b = two_images_sharing_base(registry, busybox)
    skiff.ok("pull", f"{registry.hostport}/store/a")
    skiff.ok("pull", f"{registry.hostport}/store/b:v2")
    base, own_a, own_b = busybox.layers[0], a.layers[1], b.layers[1]

    r = skiff.ok("rmi", f"{registry.hostport}/store/a")

    assert "Untagged" in r.stdout and "Deleted" in r.stdout
    assert f"{registry.hostport}/store/a:latest" not in store.refs()
    assert not os.path.exists(store.path("layers", own_a.diff_hex))
    assert os.path.isdir(store.layer_diff(base.diff_id)), "shared layer was freed"
    assert os.path.isdir(store.layer_diff(own_b.diff_id))
    assert "store/a" not in skiff.ok("images").stdout

    skiff.ok("rmi", b.config_digest[7:19])

    assert not store.refs()
    assert not os.path.exists(store.path("layers", base.diff_hex))
    assert not os.path.exists(store.path("layers", own_b.diff_hex))


def test_rmi_of_one_tag_keeps_the_image(skiff, store, registry, busybox):
    registry.client.push_image("store/a", busybox, tag="one")
    registry.client.push_image("store/a", busybox, tag="two")
    skiff.ok("pull", f"{registry.hostport}/store/a:one")
    skiff.ok("pull", f"{registry.hostport}/store/a:two")

    r = skiff.ok("rmi", f"{registry.hostport}/store/a:one")

    assert "Untagged" in r.stdout and "Deleted" not in r.stdout
    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))
    assert f"{registry.hostport}/store/a:two" in store.refs()


def test_rmi_unknown_image_fails(skiff):
    r = skiff.run("rmi", "nosuch:image")

    assert r.returncode != 0
    assert "nosuch" in regkit.error_line(r)


def test_pull_after_rmi_fetches_again(skiff, store, registry, busybox):
    registry.client.push_image("store/a", busybox, tag="latest")
    ref = f"{registry.hostport}/store/a"
    skiff.ok("pull", ref)
    skiff.ok("rmi", ref)

    skiff.ok("pull", ref)

    assert len(registry.blob_gets(busybox.layers[0].digest)) == 2
    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))
