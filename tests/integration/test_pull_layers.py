"""What a pulled layer looks like on disk: compression and media types, and
every kind of tar entry kept faithfully in overlayfs's format (whiteouts as
0:0 character devices, opaque directories as trusted.overlay.opaque=y)."""

import os
import stat
import struct

import pytest

from regkit import MTIME_FIXED, Image, Layer, TarBuilder, busybox_tar


def pull_layers(skiff, registry, layers, fmt="docker", repo="layers/test"):
    img = Image(layers, fmt=fmt)
    registry.client.push_image(repo, img, tag="latest")
    skiff.ok("pull", f"{registry.hostport}/{repo}")
    return img


@pytest.mark.parametrize("fmt,compression", [
    ("docker", "gzip"), ("docker", "none"), ("oci", "gzip"), ("oci", "zstd"), ("oci", "none"),
])
def test_compression_and_media_types(skiff, store, registry, fmt, compression):
    layer = Layer(busybox_tar(), compression)

    pull_layers(skiff, registry, [layer], fmt=fmt)

    diff = store.layer_diff(layer.diff_id)
    assert os.path.getsize(os.path.join(diff, "bin/busybox")) == os.path.getsize("/bin/busybox")
    with open(os.path.join(store.path("layers", layer.diff_hex), "size")) as f:
        assert int(f.read().strip()) > 0


def test_whiteout_becomes_char_device_0_0(skiff, store, registry):
    base = Layer(busybox_tar())
    upper = Layer(TarBuilder().dir("etc").file("etc/.wh.group").bytes())

    pull_layers(skiff, registry, [base, upper])

    st = os.lstat(os.path.join(store.layer_diff(upper.diff_id), "etc/group"))
    assert stat.S_ISCHR(st.st_mode)
    assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (0, 0)
    assert not os.path.lexists(os.path.join(store.layer_diff(upper.diff_id), "etc/.wh.group"))
    # The lower layer is untouched.
    assert os.path.isfile(os.path.join(store.layer_diff(base.diff_id), "etc/group"))


def test_opaque_directory_gets_overlay_xattr(skiff, store, registry):
    base = Layer(TarBuilder().dir("srv").file("srv/old", "old").bytes())
    upper = Layer(TarBuilder().dir("srv").file("srv/.wh..wh..opq").file("srv/new", "new")
                  .bytes())

    pull_layers(skiff, registry, [base, upper])

    srv = os.path.join(store.layer_diff(upper.diff_id), "srv")
    assert os.getxattr(srv, "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(srv)) == ["new"]


def test_hard_links_share_an_inode(skiff, store, registry):
    layer = Layer(TarBuilder().dir("bin").file("bin/tool", "#!/bin/sh\n", mode=0o755)
                  .hardlink("bin/tool-alias", "bin/tool").bytes())

    pull_layers(skiff, registry, [layer])

    diff = store.layer_diff(layer.diff_id)
    a, b = os.lstat(os.path.join(diff, "bin/tool")), os.lstat(os.path.join(diff, "bin/tool-alias"))
    assert (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)
    assert a.st_nlink == 2


def test_symlinks_are_kept_verbatim(skiff, store, registry):
    layer = Layer(TarBuilder().dir("etc").symlink("etc/abs", "/usr/share/zoneinfo/UTC")
                  .symlink("etc/rel", "../bin/busybox").symlink("dangling", "nowhere").bytes())

    pull_layers(skiff, registry, [layer])

    diff = store.layer_diff(layer.diff_id)
    assert os.readlink(os.path.join(diff, "etc/abs")) == "/usr/share/zoneinfo/UTC"
    assert os.readlink(os.path.join(diff, "etc/rel")) == "../bin/busybox"
    assert os.readlink(os.path.join(diff, "dangling")) == "nowhere"


def test_modes_owners_and_mtimes_are_kept(skiff, store, registry):
    layer = Layer(TarBuilder()
                  .dir("usr", mtime=MTIME_FIXED - 100)
                  .file("usr/suid", "x", mode=0o4755, mtime=MTIME_FIXED - 5)
                  .file("usr/sgid", "x", mode=0o2755)
                  .dir("usr/sticky", mode=0o1777)
                  .file("usr/owned", "x", mode=0o640, uid=1000, gid=2000)
                  .bytes())

    pull_layers(skiff, registry, [layer])

    diff = store.layer_diff(layer.diff_id)
    st = os.lstat(os.path.join(diff, "usr/suid"))
    assert stat.S_IMODE(st.st_mode) == 0o4755
    assert int(st.st_mtime) == MTIME_FIXED - 5
    assert stat.S_IMODE(os.lstat(os.path.join(diff, "usr/sgid")).st_mode) == 0o2755
    assert stat.S_IMODE(os.lstat(os.path.join(diff, "usr/sticky")).st_mode) == 0o1777
    owned = os.lstat(os.path.join(diff, "usr/owned"))
    assert (owned.st_uid, owned.st_gid, stat.S_IMODE(owned.st_mode)) == (1000, 2000, 0o640)
    # Directory times are set after their contents are written.
    assert int(os.lstat(os.path.join(diff, "usr")).st_mtime) == MTIME_FIXED - 100


def test_devices_and_fifos(skiff, store, registry):
    layer = Layer(TarBuilder().dir("dev").device("dev/null", 1, 3, mode=0o666)
                  .device("dev/loop9", 7, 9, block=True).fifo("dev/pipe").bytes())

    pull_layers(skiff, registry, [layer])

    diff = store.layer_diff(layer.diff_id)
    null = os.lstat(os.path.join(diff, "dev/null"))
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    loop = os.lstat(os.path.join(diff, "dev/loop9"))
    assert stat.S_ISBLK(loop.st_mode) and os.minor(loop.st_rdev) == 9
    assert stat.S_ISFIFO(os.lstat(os.path.join(diff, "dev/pipe")).st_mode)


def test_file_capabilities_are_kept(skiff, store, registry):
    # VFS_CAP_REVISION_2 with CAP_NET_BIND_SERVICE (10) permitted and effective.
    cap = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)
    layer = Layer(TarBuilder().file("ping", "x", mode=0o755,
                                    pax={"SCHILY.xattr.security.capability":
                                         cap.decode("latin-1")}).bytes())
    if cap not in layer.tar:
        pytest.skip("python's tarfile did not store the binary xattr verbatim")

    pull_layers(skiff, registry, [layer])

    assert os.getxattr(os.path.join(store.layer_diff(layer.diff_id), "ping"),
                       "security.capability") == cap


def test_long_names_and_deep_paths(skiff, store, registry):
    long_dir = "/".join(["d" * 60] * 5)
    layer = Layer(TarBuilder().dir("deep").file(f"deep/{long_dir}/{'f' * 200}", "deep").bytes())

    pull_layers(skiff, registry, [layer])

    with open(os.path.join(store.layer_diff(layer.diff_id), f"deep/{long_dir}/{'f' * 200}")) as f:
        assert f.read() == "deep"


def test_files_replaced_within_one_layer(skiff, store, registry):
    """A later entry with the same name wins, as with tar -x."""
    layer = Layer(TarBuilder().file("conf", "first").file("conf", "second").bytes())

    pull_layers(skiff, registry, [layer])

    with open(os.path.join(store.layer_diff(layer.diff_id), "conf")) as f:
        assert f.read() == "second"
