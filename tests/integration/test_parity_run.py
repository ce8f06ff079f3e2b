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


# --- the container's cgroups at /sys/fs/cgroup (item 10) ---------------------

def host_v1_hierarchies():
    """What docker shows on this host: a directory per v1 hierarchy of
    /proc/self/cgroup ("name=systemd" as "systemd"), symlinks for co-mounted
    controllers, no "unified"; nothing of v1 on a v2 host."""
    names = set()
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrls, _ = line.rstrip("\n").split(":", 2)
            if hid == "0" or not ctrls:
                continue
            names.add(ctrls.replace("name=", ""))
            if "," in ctrls:
                names.update(c for c in ctrls.split(",") if not c.startswith("name="))
    return names


V1 = bool(host_v1_hierarchies())
MEMORY_LIMIT = "memory/memory.limit_in_bytes" if V1 else "memory.max"


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def sh(skiff, image, script, *flags):
    return skiff.ok("run", "--rm", *flags, image, "/bin/sh", "-c", script).stdout


def mountinfo_lines(text, mount_point):
    fields = [l.split() for l in text.splitlines()]
    return [f for f in fields if len(f) > 9 and f[4].startswith(mount_point)]


def test_cgroup_view_lists_what_docker_lists(skiff, image):
    out = sh(skiff, image, "ls /sys/fs/cgroup")
    if V1:
        assert set(out.split()) == host_v1_hierarchies()
    else:
        assert "cgroup.procs" in out.split() and "cgroup.controllers" in out.split()


def test_cgroup_view_is_the_containers_own_cgroup(skiff, image):
    """Rooted at the container's own cgroup in every hierarchy: its processes
    are listed there (a view of the host's root would list none of them,
    being in other pid namespaces) and no other cgroup shows below it."""
    hier = "pids/" if V1 else ""
    out = sh(skiff, image, f"cat /proc/self/cgroup; echo --; cat /sys/fs/cgroup/{hier}cgroup.procs;"
                           " echo --; find /sys/fs/cgroup/ -mindepth 2 -type d")
    own, procs, subdirs = out.split("--\n")
    assert all(line.endswith(":/") for line in own.split()), own
    assert "1" in procs.split()
    assert subdirs == ""


@pytest.mark.parametrize("flags, files, want", [
    (["-m", "64m"], [MEMORY_LIMIT], ["67108864"]),
    (["--cpus", "1.5"],
     ["cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us"] if V1 else ["cpu.max"],
     ["150000", "100000"]),
])
def test_limits_readable_from_inside(skiff, image, flags, files, want):
    """What the JVM, Go's automaxprocs and .NET read."""
    out = sh(skiff, image, "cat " + " ".join("/sys/fs/cgroup/" + f for f in files), *flags)
    assert out.split() == want


def test_cgroup_view_is_read_only(skiff, image):
    target = "/sys/fs/cgroup/" + MEMORY_LIMIT
    script = (f"echo 1g > {target} || echo limit-refused; mkdir /sys/fs/cgroup/x || "
              "echo mkdir-refused; mkdir /sys/fs/cgroup/" + ("memory/" if V1 else "") +
              "sub || echo sub-refused; grep ' /sys/fs/cgroup' /proc/self/mountinfo")
    r = skiff.run("run", "--rm", "-m", "64m", image, "/bin/sh", "-c", script)
    assert r.stdout.count("-refused") == 3, r.stdout + r.stderr
    mounts = mountinfo_lines(r.stdout, "/sys/fs/cgroup")
    assert mounts and all("ro" in m[5].split(",") for m in mounts), mounts


def test_privileged_view_is_writable_and_its_sub_cgroups_go_with_it(skiff, image):
    sub = ("memory/" if V1 else "") + "made-inside"
    r = skiff.ok("run", "--privileged", image, "/bin/sh", "-c",
                 f"mkdir -p /sys/fs/cgroup/{sub}/deeper && echo made")
    assert r.stdout == "made\n" and r.stderr == ""
    # the container's cgroup, sub-cgroups and all, went with it
    (cid,) = [c for c in os.listdir(os.path.join(skiff.root, "containers")) if len(c) == 64]
    left = [p for p in (os.path.join("/sys/fs/cgroup", h, "skiff", cid)
                        for h in (host_v1_hierarchies() or {""}))
            if os.path.exists(p)]
    assert left == []


def test_cgroupns_host_shows_the_host_paths_and_the_own_cgroup(skiff, image):
    out = sh(skiff, image, "cat /proc/self/cgroup; echo --; cat /sys/fs/cgroup/" + MEMORY_LIMIT +
             "; grep ' /sys/fs/cgroup' /proc/self/mountinfo", "--cgroupns", "host", "-m", "32m")
    own, rest = out.split("--\n")
    paths = {line.split(":", 2)[2] for line in own.split()}
    assert len(paths) == 1 and paths.pop().startswith("/skiff/"), own
    limit, *mounts = rest.splitlines()
    assert limit == "33554432"
    roots = {m[3] for m in mountinfo_lines("\n".join(mounts), "/sys/fs/cgroup/")} if V1 else \
        {m[3] for m in mountinfo_lines("\n".join(mounts), "/sys/fs/cgroup")}
    assert len(roots) == 1 and roots.pop().startswith("/skiff/"), mounts


def test_cgroupns_default_from_daemon_json(skiff, image):
    set_daemon_json(skiff, {"default-cgroupns-mode": "host"})
    assert ":/skiff/" in sh(skiff, image, "head -1 /proc/self/cgroup")
    assert sh(skiff, image, "head -1 /proc/self/cgroup", "--cgroupns", "private").endswith(":/\n")
    set_daemon_json(skiff, {"default-cgroupns-mode": "shared"})
    assert "default-cgroupns-mode" in error_line(skiff.fails("run", "--rm", image, "true"))


def test_cgroupns_bad_mode_is_docker_s_error(skiff, image):
    r = skiff.fails("run", "--rm", "--cgroupns", "bad", image, "true", code=125)
    assert r.stderr.startswith("skiff: --cgroupns: invalid CGROUP mode\n")


def test_exec_sees_the_same_view(skiff, image):
    skiff.ok("run", "-d", "--name", "cgv", "-m", "48m", image, "sleep", "30")
    try:
        out = skiff.ok("exec", "cgv", "cat", "/sys/fs/cgroup/" + MEMORY_LIMIT).stdout
        assert out == "50331648\n"
    finally:
        skiff.run("rm", "-f", "cgv")
