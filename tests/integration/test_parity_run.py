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


def test_exec_without_no_new_privs_is_filtered_too(skiff, suid_image):
    """exec's process loads the filter before it drops its capabilities."""
    skiff.ok("run", "-d", "--name", "nnp", suid_image, "sleep", "30")
    try:
        for user in ("0", "1000"):
            r = skiff.ok("exec", "-u", user, "nnp", "grep", "-E", "^(NoNewPrivs|Seccomp):",
                         "/proc/self/status")
            assert r.stdout.split() == ["NoNewPrivs:", "0", "Seccomp:", "2"], (user, r.stdout)
        r = skiff.run("exec", "-u", "1000", "nnp", "/opt/suid/busybox", "su", "-c", "id -u", "root")
        assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr
    finally:
        skiff.run("rm", "-f", "nnp")


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

def host_is_v2():
    with open("/proc/self/mounts") as f:
        return any(l.split()[1:3] == ["/sys/fs/cgroup", "cgroup2"] for l in f)


def host_v1_hierarchies():
    """What docker shows on this host: a directory per v1 hierarchy of
    /proc/self/cgroup ("name=systemd" as "systemd"), symlinks for co-mounted
    controllers, no "unified"; nothing of v1 on a v2 host."""
    names = set()
    if host_is_v2():
        return names
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


def test_a_bind_on_sys_fs_cgroup_replaces_the_view(skiff, image):
    """-v /sys/fs/cgroup:/sys/fs/cgroup (systemd in a container): the host's
    tree, as docker gives it, and no view mounted under it."""
    out = sh(skiff, image, "ls /sys/fs/cgroup; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo",
             "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro")
    *listing, count = out.split()
    assert set(listing) == set(os.listdir("/sys/fs/cgroup"))
    with open("/proc/self/mountinfo") as f:
        host = sum(1 for l in f if l.split()[4].startswith("/sys/fs/cgroup"))
    assert int(count) == host


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


# --- --label, --shm-size, --platform (item 21) ------------------------------

def test_labels_are_recorded_merged_and_filterable(skiff, tmp_path):
    img = install(skiff, tmp_path, labels={"from": "image", "over": "image"})
    skiff.ok("run", "--name", "l1", "-l", "a=1", "--label", "b", "-l", "c=x=y",
             "-l", "over=flag", img, "true")
    skiff.ok("run", "--name", "l2", "-l", "a=2", img, "true")
    labels = json.loads(skiff.ok("inspect", "-f", "{{json .Config.Labels}}", "l1").stdout)
    assert labels == {"a": "1", "b": "", "c": "x=y", "from": "image", "over": "flag"}

    def names(*filters):
        argv = ["ps", "-a", "--format", "{{.Names}}"]
        for f in filters:
            argv += ["--filter", "label=" + f]
        return sorted(skiff.ok(*argv).stdout.split())

    assert names("a=1") == ["l1"]
    assert names("a") == ["l1", "l2"]
    assert names("b") == ["l1"]
    assert names("over=flag") == ["l1"]
    assert names("over=image") == ["l2"]  # the image's, where -l did not replace it
    assert names("c=x=y") == ["l1"]
    assert names("a", "b") == ["l1"]  # label filters are ANDed
    assert names("nope") == []


@pytest.mark.parametrize("label", ["=x", " =x"])
def test_label_with_an_empty_name_is_refused(skiff, image, label):
    r = skiff.fails("run", "--rm", "-l", label, image, "true", code=125)
    assert error_line(r) == (f"skiff: invalid argument \"{label}\" for \"-l, --label\" flag: "
                             f"invalid label '{label}': empty name")


@pytest.mark.parametrize("flags, want_kib", [
    ([], 65536),  # docker's default
    (["--shm-size", "128m"], 131072),
    (["--shm-size", "1000"], 4),  # bytes, rounded up to a page by the kernel
    (["--shm-size", "0"], 65536),  # docker: 0 is the default
])
def test_shm_size(skiff, image, flags, want_kib):
    out = sh(skiff, image, "grep ' /dev/shm ' /proc/mounts", *flags)
    assert f"size={want_kib}k" in out.split()[3].split(","), out


def test_shm_size_is_shown_by_inspect(skiff, image):
    skiff.ok("run", "--name", "s1", "--shm-size", "96m", image, "true")
    skiff.ok("run", "--name", "s2", image, "true")
    fmt = "{{.HostConfig.ShmSize}}"
    assert skiff.ok("inspect", "-f", fmt, "s1").stdout == "100663296\n"
    assert skiff.ok("inspect", "-f", fmt, "s2").stdout == "67108864\n"


@pytest.mark.parametrize("size", ["foo", "-1", "12q"])
def test_bad_shm_size_is_docker_s_error(skiff, image, size):
    r = skiff.fails("run", "--rm", "--shm-size", size, image, "true", code=125)
    assert error_line(r) == (f"skiff: invalid argument \"{size}\" for \"--shm-size\" flag: "
                             f"invalid size: '{size}'")


@pytest.fixture
def multi(registry):
    """An index of amd64 and arm64/v8 busybox images (each with /platform
    naming it) and a single-platform amd64 image."""
    from regkit import Image, Index, Layer, TarBuilder, busybox_tar
    base = Layer(busybox_tar())

    def image(arch, variant=None):
        name = arch + (f"/{variant}" if variant else "")
        return Image([base, Layer(TarBuilder().file("platform", name + "\n").bytes())],
                     arch=arch, variant=variant)

    registry.client.push_index("multi/app", Index([image("amd64"), image("arm64", "v8")],
                                                  attestations=False), tag="latest")
    registry.client.push_image("single/amd", image("amd64"), tag="latest")
    return f"{registry.hostport}/multi/app:latest", f"{registry.hostport}/single/amd:latest"


def run_platform(skiff, ref, *flags):
    return skiff.run("run", "--rm", "--network", "none", *flags, ref, "cat", "/platform")


def test_platform_of_another_image_in_the_store_is_pulled(skiff, multi):
    ref, _ = multi
    skiff.ok("pull", "-q", ref)
    assert run_platform(skiff, ref).stdout == "amd64\n"
    r = run_platform(skiff, ref, "--platform", "linux/arm64")
    assert (r.returncode, r.stdout) == (0, "arm64/v8\n"), r.stderr
    assert r.stderr.startswith(f"Unable to find image '{ref}' locally\n")
    # the tag moved to it, as docker's does; asked again, nothing is pulled
    r = run_platform(skiff, ref, "--platform", "linux/arm64/v8", "--pull", "never")
    assert (r.returncode, r.stdout, r.stderr) == (0, "arm64/v8\n", "")
    assert run_platform(skiff, ref).stdout == "arm64/v8\n"


def test_platform_mismatch_with_pull_never_is_docker_s_error(skiff, multi):
    ref, _ = multi
    skiff.ok("pull", "-q", "--platform", "linux/arm64", ref)
    r = run_platform(skiff, ref, "--platform", "linux/amd64", "--pull", "never")
    assert r.returncode == 125 and r.stdout == ""
    assert error_line(r) == (f"skiff: image with reference {ref} was found but does not match "
                             "the specified platform: wanted linux/amd64, actual: linux/arm64/v8")


def test_platform_a_single_platform_image_lacks_is_refused(skiff, multi):
    _, single = multi
    r = run_platform(skiff, single, "--platform", "linux/arm64")
    assert r.returncode == 125 and r.stdout == ""
    # docker too warns at the pull, then refuses
    assert "skiff: warning: image platform (linux/amd64) does not match" in r.stderr
    assert r.stderr.splitlines()[-1] == (
        f"skiff: image with reference {single} was found but does not match the specified "
        "platform: wanted linux/arm64, actual: linux/amd64")


def test_platform_an_index_lacks_is_refused(skiff, multi):
    ref, _ = multi
    r = run_platform(skiff, ref, "--platform", "linux/s390x")
    assert r.returncode == 125
    assert "no matching manifest for linux/s390x in the manifest list entries" in error_line(r)


def test_bad_platform_is_refused(skiff, multi):
    ref, _ = multi
    r = run_platform(skiff, ref, "--platform", "bogus")
    assert r.returncode == 125
    assert error_line(r).startswith('skiff: error parsing specified platform: "bogus": ')


@pytest.fixture
def rootless_user():
    from test_rootless import User  # its user, subordinate ids and clean-up
    u = User(subids=True)
    yield u
    u.close()


@pytest.mark.parametrize("flags", [[], ["--cgroupns", "host"]])
def test_rootless_view(rootless_user, flags):
    """Without a delegated cgroup (this host) the container has none of its
    own: its view is the cgroup skiff runs in, read-only, as every v1
    hierarchy mounts in a user namespace that owns the cgroup namespace."""
    from test_rootless import image_archive
    img = image_archive(rootless_user)
    rootless_user.ok("load", "-i", os.path.join(rootless_user.dir, "img.tar"))
    r = rootless_user.ok("run", "--rm", *flags, img, "/bin/sh", "-c",
                         "ls /sys/fs/cgroup; echo --; cat /proc/self/cgroup; echo --;"
                         " mkdir /sys/fs/cgroup/x 2>&1 || true")
    listing, own, mkdir = r.stdout.split("--\n")
    if V1:
        assert set(listing.split()) == host_v1_hierarchies()
    else:
        assert "cgroup.procs" in listing.split()
    with open("/proc/self/cgroup") as f:
        host = f.read()
    if flags:  # the host's namespace: skiff's own paths, as the host sees them
        assert own == host
    else:
        assert all(line.endswith(":/") for line in own.split())
    assert "Read-only file system" in mkdir
