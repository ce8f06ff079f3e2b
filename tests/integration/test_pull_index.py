"""Multi-platform images: manifest lists and OCI indexes with Docker Hub's
attestation entries; the host's platform by default, --platform to choose, a
clear error listing what exists; schema 1 refused."""

import json

import pytest

import regkit
from regkit import Image, Index, Layer, TarBuilder, busybox_tar

PLATFORMS = [("amd64", None), ("arm64", "v8"), ("arm", "v7")]


def platform_images(fmt="docker"):
    """One image per platform, each with a marker file naming its platform."""
    base = Layer(busybox_tar())
    out = {}
    for arch, variant in PLATFORMS:
        name = arch + (f"/{variant}" if variant else "")
        marker = Layer(TarBuilder().file("platform", name + "\n").bytes())
        out[name] = Image([base, marker], fmt=fmt, arch=arch, variant=variant)
    return out


def pulled_platform(store, ref):
    manifest_digest, config_digest = store.refs()[ref]
    with open(store.path("blobs", "sha256", config_digest.split(":")[1])) as f:
        cfg = json.load(f)
    return manifest_digest, cfg["architecture"]


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_index_picks_host_platform_and_skips_attestation(skiff, store, registry, fmt):
    imgs = platform_images("oci" if fmt == "oci" else "docker")
    index = Index(imgs.values(), fmt=fmt, attestations_first=True)
    registry.client.push_index("multi/app", index, tag="latest")
    ref = f"{registry.hostport}/multi/app:latest"

    r = skiff.ok("pull", ref)

    manifest_digest, arch = pulled_platform(store, ref)
    assert (manifest_digest, arch) == (imgs["amd64"].digest, "amd64")
    assert index.digest in r.stdout  # docker prints the index digest
    marker = imgs["amd64"].layers[1]
    with open(store.layer_diff(marker.diff_id) + "/platform") as f:
        assert f.read() == "amd64\n"
    # The attestation's in-toto blob was never fetched.
    for att in index.attestations:
        assert not registry.blob_gets(att.layers[0].digest)
        assert not registry.requests("GET", f"/manifests/{att.digest}")


def test_platform_flag_picks_arm64(skiff, store, registry):
    imgs = platform_images()
    registry.client.push_index("multi/app", Index(imgs.values()), tag="latest")
    ref = f"{registry.hostport}/multi/app:latest"

    skiff.ok("pull", "--platform", "linux/arm64", ref)

    assert pulled_platform(store, ref) == (imgs["arm64/v8"].digest, "arm64")
    assert not registry.blob_gets(imgs["amd64"].layers[1].digest)


def test_platform_flag_with_variant(skiff, store, registry):
    imgs = platform_images()
    registry.client.push_index("multi/app", Index(imgs.values()), tag="latest")
    ref = f"{registry.hostport}/multi/app:latest"

    skiff.ok("pull", "--platform", "linux/arm/v7", ref)

    assert pulled_platform(store, ref) == (imgs["arm/v7"].digest, "arm")


def test_missing_platform_lists_available_ones(skiff, store, registry):
    imgs = platform_images()
    registry.client.push_index("multi/app", Index(imgs.values()), tag="latest")

    r = skiff.fails("pull", "--platform", "linux/s390x", f"{registry.hostport}/multi/app", code=1)

    line = regkit.error_line(r)
    assert "linux/s390x" in line
    for p in ("linux/amd64", "linux/arm64", "linux/arm/v7"):
        assert p in line, line
    assert "unknown/unknown" not in line
    assert not store.refs()


def test_invalid_platform_flag(skiff):
    r = skiff.fails("pull", "--platform", "not-a-platform", "127.0.0.1:1/x", code=1)
    assert "platform" in regkit.error_line(r)


def test_pull_index_by_digest(skiff, store, registry):
    imgs = platform_images()
    index = Index(imgs.values())
    registry.client.push_index("multi/app", index)
    ref = f"{registry.hostport}/multi/app@{index.digest}"

    skiff.ok("pull", ref)

    assert store.refs()[ref][0] == imgs["amd64"].digest


def test_schema1_manifest_is_refused(skiff, store, registry, proxy, busybox):
    registry.client.push_image("old/app", busybox, tag="latest")
    schema1 = json.dumps({"schemaVersion": 1, "name": "old/app", "tag": "latest",
                          "architecture": "amd64", "fsLayers": [], "history": [],
                          "signatures": []}).encode()
    proxy.add(r"/manifests/latest$", "status", times=None, status=200, body=schema1,
              content_type=regkit.DOCKER_SCHEMA1)

    r = skiff.fails("pull", f"{proxy.hostport}/old/app", code=1)

    line = regkit.error_line(r).lower()
    assert "schema 1" in line or "schema1" in line or "schemaversion 1" in line, line
    assert not store.refs()


def test_manifest_with_wrong_docker_content_digest_is_refused(skiff, store, registry, proxy,
                                                             busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")
    proxy.add(r"/manifests/latest$", "digest", times=None)

    r = skiff.fails("pull", f"{proxy.hostport}/tools/busybox", code=1)

    assert "digest" in regkit.error_line(r).lower()
    assert not store.refs()


def test_manifest_body_not_matching_requested_digest_is_refused(skiff, store, registry, proxy,
                                                                busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")
    proxy.add(r"/manifests/sha256:", "corrupt", times=None, offset=10)

    r = skiff.fails("pull", f"{proxy.hostport}/tools/busybox@{busybox.digest}", code=1)

    line = regkit.error_line(r)
    assert busybox.digest in line
    assert not store.refs()
