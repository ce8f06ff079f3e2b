"""Layers are hostile input. Each case below is a layer someone crafted to
write outside the layer, forge overlayfs metadata or confuse whiteouts. skiff
either refuses it with one error line naming the image, the layer digest and
the entry, leaving the store as it was, or (for ".." and absolute names, as
docker does) confines it to the layer. The host is never touched."""

import os

import pytest

import regkit
from regkit import Image, Layer, busybox_tar, hostile


def find_inside(root, rel):
    """rel must exist (lexically, without following links) somewhere below root."""
    return os.path.lexists(os.path.join(root, rel))


@pytest.mark.parametrize("make_case", hostile.ALL, ids=lambda f: f.__name__)
def test_hostile_layer(skiff, store, registry, busybox, make_case):
    case = make_case()
    evil = Layer(case.tar)
    img = Image([busybox.layers[0], evil])
    registry.client.push_image("hostile/image", img, tag=case.name)
    ref = f"{registry.hostport}/hostile/image:{case.name}"
    before = store.snapshot()

    r = skiff.run("pull", ref)

    for p in case.host_paths:
        assert not os.path.lexists(p), f"{case.name}: escaped to the host: {p}"
    assert not store.tmp_layers(), "tmp dirs left behind"
    if r.returncode != 0:
        assert case.expect in ("refuse", "refuse_or_confine"), \
            f"{case.name} should have been confined, but: {r.stderr}"
        assert r.returncode == 1
        line = regkit.error_line(r)
        assert "hostile/image" in line, line
        assert evil.digest in line or evil.hex[:12] in line, line
        assert case.entry in line, line
        after = store.snapshot()
        assert after["refs"] == before["refs"]
        assert evil.diff_hex not in after["layers"]
    else:
        assert case.expect in ("confine", "refuse_or_confine"), \
            f"{case.name} should have been refused:\n{r.stdout}{r.stderr}"
        diff = store.layer_diff(evil.diff_id)
        assert case.inside and find_inside(diff, case.inside), \
            f"{case.name}: {case.inside} not confined to the layer: {os.listdir(diff)}"


def test_hostile_layer_does_not_spoil_other_layers(skiff, store, registry, busybox):
    """A refused layer is discarded; a good layer of the same pull may stay
    (it is valid content), but no image is recorded."""
    evil = Layer(hostile.hardlink_outside().tar)
    img = Image([busybox.layers[0], evil])
    registry.client.push_image("hostile/image", img, tag="x")

    skiff.fails("pull", f"{registry.hostport}/hostile/image:x", code=1)

    assert not store.refs()
    assert evil.diff_hex not in store.layer_ids()
    assert "hostile/image" not in skiff.ok("images").stdout


def test_host_passwd_not_linked(skiff, store, registry, busybox):
    """The classic: a hard link to ../../../etc/passwd must not give the layer
    a second name for the host's file."""
    st_before = os.stat("/etc/passwd")
    evil = Layer(hostile.hardlink_outside().tar)
    registry.client.push_image("hostile/image", Image([evil]), tag="x")

    r = skiff.fails("pull", f"{registry.hostport}/hostile/image:x", code=1)

    assert "etc/passwd" in regkit.error_line(r)
    assert os.stat("/etc/passwd").st_nlink == st_before.st_nlink


def test_tar_that_is_not_a_tar(skiff, store, registry):
    garbage = Layer(os.urandom(4096))
    registry.client.push_image("hostile/garbage", Image([garbage]), tag="x")

    r = skiff.fails("pull", f"{registry.hostport}/hostile/garbage:x", code=1)

    line = regkit.error_line(r)
    assert garbage.digest in line or garbage.hex[:12] in line
    assert not store.refs() and not store.tmp_layers()


def test_diff_id_mismatch_is_refused(skiff, store, registry):
    """The config promises one uncompressed tar, the layer holds another."""
    real = Layer(busybox_tar())
    img = Image([real])
    lie = Layer(busybox_tar(lambda t: t.file("extra", "x")))
    img_bad = Image([lie], config_extra={"rootfs": {"type": "layers",
                                                    "diff_ids": [real.diff_id]}})
    registry.client.push_image("hostile/diffid", img_bad, tag="x")

    r = skiff.fails("pull", f"{registry.hostport}/hostile/diffid:x", code=1)

    line = regkit.error_line(r)
    assert real.diff_id in line and lie.diff_id in line, line
    assert real.diff_hex not in store.layer_ids() and lie.diff_hex not in store.layer_ids()
    assert not store.refs()
    del img
