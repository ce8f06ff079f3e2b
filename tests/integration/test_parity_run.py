"""Docker parity of `skiff run` (issue 11, items 10, 11 and part of 21): the
container's own cgroup view at /sys/fs/cgroup, no_new_privs off by default
(setuid binaries work for a non-root USER) unless asked for, --label,
--shm-size and --platform. Expectations were checked against docker 28 (CLI)
with dockerd 20.10 and runc on this hybrid cgroup host."""

import json
import os

import pytest

import runlib  # first: it puts tests/images on the path
import mkimage  # noqa: E402
from regkit import error_line

# --- no_new_privs (item 11) -------------------------------------------------

# root's password field is empty, so busybox su asks for none: what stops a
# non-root user from becoming root is only whether the setuid bit works.
SU_PASSWD = ("root::0:0:root:/root:/bin/sh\n"
             "app:x:1000:1000:app:/home/app:/bin/sh\n")


def install(skiff, tmp_path, extra_files=None, top_files=None, tag=runlib.TAG, **config_kw):
    """runlib's busybox image, with a second layer of top_files ({path: data})
    over the base layer's files."""
    layers = mkimage.build_rootfs_layers(extra_files=extra_files)
    if top_files:
        layers.append(mkimage.tar_bytes([mkimage.Entry(p, data=d) for p, d in top_files.items()]))
    config = mkimage.make_config(layers, **config_kw)
    archive = tmp_path / "image.tar"
    mkimage.write_docker_archive(str(archive), [mkimage.Image(config, layers, [tag])])
    skiff.ok("load", "-i", str(archive))
    return tag


@pytest.fixture
def suid_image(skiff, tmp_path):
    """busybox plus a setuid-root copy of it, which runs its su applet."""
    with open(mkimage.BUSYBOX, "rb") as f:
        box = f.read()
    return install(skiff, tmp_path, extra_files={"opt/suid/busybox": (box, 0o4755)},
                   top_files={"etc/passwd": SU_PASSWD})


def su_as_app(skiff, image, *flags, env=None):
    return skiff.run("run", "--rm", "-u", "1000", *flags, image,
                     "/opt/suid/busybox", "su", "-c", "id -u", "root", env=env)


def set_daemon_json(skiff, body):
    with open(skiff.env["SKIFF_CONFIG"], "w") as f:
        json.dump(body, f)


def test_setuid_binary_raises_a_non_root_user_by_default(skiff, suid_image):
    r = su_as_app(skiff, suid_image)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0\n"


@pytest.mark.parametrize("opt", ["no-new-privileges", "no-new-privileges=true",
                                 "no-new-privileges:true"])
def test_no_new_privileges_option_keeps_setuid_inert(skiff, suid_image, opt):
    r = su_as_app(skiff, suid_image, "--security-opt", opt)
    assert r.returncode != 0
    assert "must be suid" in r.stderr
    assert r.stdout == ""


def test_daemon_json_no_new_privileges(skiff, suid_image):
    set_daemon_json(skiff, {"no-new-privileges": True})
    r = su_as_app(skiff, suid_image)
    assert r.returncode != 0 and "must be suid" in r.stderr, r.stderr
    # the flag wins over daemon.json, both ways
    r = su_as_app(skiff, suid_image, "--security-opt", "no-new-privileges=false")
    assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr


def test_daemon_json_no_new_privileges_must_be_a_boolean(skiff, suid_image):
    set_daemon_json(skiff, {"no-new-privileges": "yes"})
    r = skiff.fails("run", "--rm", suid_image, "true", code=125)
    assert "no-new-privileges" in error_line(r)


@pytest.mark.parametrize("flags, want", [
    ([], "0"),
    (["--security-opt", "no-new-privileges"], "1"),
    (["--security-opt", "no-new-privileges=false"], "0"),
])
def test_no_new_privs_flag_and_seccomp_filter_together(skiff, suid_image, flags, want):
    """Without no_new_privs the filter is still loaded (it is installed while
    the child holds CAP_SYS_ADMIN), for root and for a non-root user."""
    for user in ("0", "1000"):
        r = skiff.ok("run", "--rm", "-u", user, *flags, suid_image,
                     "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status")
        assert r.stdout.split() == ["NoNewPrivs:", want, "Seccomp:", "2"], (user, r.stdout)
