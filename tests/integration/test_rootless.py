"""Rootless skiff: an unprivileged user that the suite creates pulls, loads and
runs containers with a store under ~/.local/share/skiff, in a user namespace
of its own, both with subordinate ids (newuidmap/newgidmap from /etc/subuid)
and without (a single-id mapping); limits it cannot apply give a warning."""

import itertools
import os
import time
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "images"))

import mkimage  # noqa: E402
import regkit  # noqa: E402
import runlib  # noqa: E402

SUBID_START = 400000
SUBID_COUNT = 65536


def _useradd(name, home):
    subprocess.run(["useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh",
                    name], check=True, capture_output=True)


class User:
    """An unprivileged user with its own home, running a copy of skiff that it
    can execute (the build tree may sit under root's private home)."""

    made = itertools.count()

    def __init__(self, subids):
        # A name of its own each time: a previous user whose last processes
        # the host's init has not reaped yet cannot be deleted at once.
        self.name = f"skrl{os.getpid() % 100000}x{next(User.made)}{'s' if subids else 'n'}"
        # useradd may allocate subordinate ids itself: the files are ours
        self._saved = {f: (open(f).read() if os.path.exists(f) else None)
                       for f in ("/etc/subuid", "/etc/subgid")}
        self.dir = tempfile.mkdtemp(prefix="skiff-rootless-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home)
        _useradd(self.name, self.home)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chown(self.home, self.uid, self.gid)
        self.binary = os.path.join(self.dir, "skiff")
        shutil.copy(os.environ["SKIFF_BIN"], self.binary)
        os.chmod(self.binary, 0o755)
        self.subids = subids
        for f, content in self._saved.items():
            with open(f, "w") as out:
                out.write(content or "")
                if subids:
                    out.write(f"{self.name}:{SUBID_START}:{SUBID_COUNT}\n")

    @property
    def store(self):
        return os.path.join(self.home, ".local", "share", "skiff")

    def run(self, *args, timeout=120, env=None):
        extra = env or {}
        env = {"HOME": self.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "USER": self.name, **extra}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return subprocess.run([self.binary, *map(str, args)], env=env, cwd=self.dir,
                              user=self.uid, group=self.gid, extra_groups=[],
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"skiff {' '.join(map(str, args))} exited " \
                                  f"{r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        return r

    def close(self):
        # containers left by a failed test die with their monitors
        for _ in range(50):
            subprocess.run(["pkill", "-KILL", "-u", self.name], capture_output=True)
            if subprocess.run(["userdel", self.name], capture_output=True).returncode in (0, 6):
                break  # 6: no such user
            time.sleep(0.1)
        for f, content in self._saved.items():
            if content is None:
                if os.path.exists(f):
                    os.unlink(f)
            else:
                with open(f, "w") as out:
                    out.write(content)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=[True, False], ids=["subids", "single-id"])
def user(request):
    if not shutil.which("newuidmap"):
        pytest.fail("newuidmap missing (apt-get install uidmap)")
    u = User(subids=request.param)
    yield u
    u.close()


def image_archive(user):
    """busybox root with /srv/old, then a layer that makes /srv opaque and
    deletes /etc/group: rootless overlays must honour both."""
    base = mkimage.tar_bytes(mkimage.rootfs_entries({"srv/old": "old\n"}))
    upper = mkimage.tar_bytes([mkimage.Entry("srv", "dir"),
                               mkimage.Entry("srv/.wh..wh..opq"),
                               mkimage.Entry("srv/new", data="new\n"),
                               mkimage.Entry("etc", "dir"),
                               mkimage.Entry("etc/.wh.group")])
    layers = [base, upper]
    config = mkimage.make_config(layers)
    path = os.path.join(user.dir, "img.tar")
    mkimage.write_docker_archive(path, [mkimage.Image(config, layers, ["rl/busybox:1"])])
    os.chmod(path, 0o644)
    return "rl/busybox:1"


def test_rootless_load_and_run(user):
    img = image_archive(user)
    r = user.ok("load", "-i", os.path.join(user.dir, "img.tar"))
    if not user.subids:
        # home/app belongs to 1000, which a single-id namespace cannot map
        assert "has no mapping in this user namespace" in r.stderr
    r = user.ok("run", "--rm", img, "/bin/sh", "-c",
                "id -u; cat /proc/self/uid_map; ls /srv; test -e /etc/group || echo no-group; "
                "echo hi > /written && cat /written")
    lines = r.stdout.splitlines()
    assert lines[0] == "0"
    maps = [l.split() for l in lines if re.fullmatch(r"\s*\d+\s+\d+\s+\d+\s*", l)]
    assert maps[0] == ["0", str(user.uid), "1"]
    if user.subids:
        assert maps[1] == ["1", str(SUBID_START), str(SUBID_COUNT)]
    else:
        assert len(maps) == 1
    assert "new" in lines and "old" not in lines  # the opaque directory hides /srv/old
    assert "no-group" in lines and lines[-1] == "hi"
    # the store is the user's, and root's default store was not touched
    assert os.stat(user.store).st_uid == user.uid
    assert os.path.isdir(os.path.join(user.store, "layers"))


def test_rootless_exit_codes_and_isolation(user):
    img = image_archive(user)
    user.ok("load", "-q", "-i", os.path.join(user.dir, "img.tar"))
    r = user.run("run", "--rm", img, "/bin/sh", "-c", "exit 7")
    assert r.returncode == 7
    r = user.run("run", "--rm", img, "nosuchcmd")
    assert r.returncode == 127 and "executable file not found" in r.stderr
    out = user.ok("run", "--rm", img, "/bin/sh", "-c",
                  "ls /proc | grep -c '^[0-9]*$'; hostname; "
                  "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status").stdout
    lines = out.splitlines()
    # sh, ls and grep at most (grep may not have started when ls reads
    # /proc): the host's processes are invisible
    assert 1 <= int(lines[0]) <= 3
    assert lines[1] != os.uname().nodename
    assert "CapEff:\t00000000a80425fb" in lines and "Seccomp:\t2" in lines


def test_rootless_user_switch_needs_subids(user):
    img = image_archive(user)
    user.ok("load", "-q", "-i", os.path.join(user.dir, "img.tar"))
    r = user.run("run", "--rm", "-u", "1000", img, "id", "-u")
    if user.subids:
        assert r.returncode == 0 and r.stdout == "1000\n"
        # outside, the file the container's uid 1000 owns is a subordinate id
        owners = {os.stat(os.path.join(root, "home", "app")).st_uid
                  for root in (os.path.join(user.store, "layers", d, "diff")
                               for d in os.listdir(os.path.join(user.store, "layers")))
                  if os.path.isdir(os.path.join(root, "home", "app"))}
        assert owners == {SUBID_START + 999}
    else:
        assert r.returncode == 125
        assert "has no mapping in the rootless user namespace" in r.stderr, r.stderr


def test_rootless_limits_warn_and_run(user):
    img = image_archive(user)
    user.ok("load", "-q", "-i", os.path.join(user.dir, "img.tar"))
    r = user.run("run", "--rm", "--memory", "64m", "--pids-limit", "50", img, "echo", "ran")
    assert r.returncode == 0 and r.stdout == "ran\n"
    warnings = [l for l in r.stderr.splitlines() if l.startswith("skiff: warning:")]
    assert len(warnings) == 1 and "rootless: resource limits not applied" in warnings[0]


def test_rootless_detached_exec_and_rm(user):
    img = image_archive(user)
    user.ok("load", "-q", "-i", os.path.join(user.dir, "img.tar"))
    user.ok("run", "-d", "--name", "svc", img, "sleep", "60")
    assert "svc" in user.ok("ps").stdout
    r = user.ok("exec", "svc", "/bin/sh", "-c", "id -u; cat /proc/1/cmdline | tr '\\0' ' '")
    assert r.stdout.splitlines() == ["0", "sleep 60 "]
    user.ok("rm", "-f", "svc")
    assert user.ok("ps", "-aq").stdout == ""
    # the container's files (some owned by subordinate ids) went with it
    cdir = os.path.join(user.store, "containers")
    assert set(os.listdir(cdir)) <= {"names", "live"}  # live: the index of live containers
    assert not os.path.isdir(os.path.join(cdir, "live")) or os.listdir(os.path.join(cdir, "live")) == []


def test_rootless_pull_from_a_registry(user, registry):
    layer = regkit.Layer(regkit.busybox_tar())
    registry.client.push_image("library/rootless", regkit.Image([layer]), tag="latest")
    ref = f"{registry.hostport}/library/rootless"
    user.ok("pull", ref)
    assert "rootless" in user.ok("images").stdout
    assert user.ok("run", "--rm", ref, "echo", "pulled").stdout == "pulled\n"


def test_rootless_copy_fallback_honours_whiteouts(user):
    # the fallback for kernels without overlayfs in a user namespace: the
    # layers copied, with the rootless store's user.overlay.opaque markers
    img = image_archive(user)
    user.ok("load", "-q", "-i", os.path.join(user.dir, "img.tar"))
    r = user.run("run", "--rm", img, "/bin/sh", "-c",
                 "ls /srv; test -e /etc/group || echo no-group; "
                 "grep -c ' / / .* - overlay ' /proc/self/mountinfo; true",
                 env={"SKIFF_STORAGE_DRIVER": "vfs"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["new", "no-group", "0"]


def test_vfs_copy_keeps_links_times_owners_and_modes(skiff, tmp_path):
    """The vfs driver's copy broke hard links and reset mtimes (issue 11,
    item 9): it must keep what the layer has."""
    import mkimage
    extra = mkimage.tar_bytes([
        mkimage.Entry("data", "dir", mode=0o750, uid=12, gid=34),
        mkimage.Entry("data/a", data="x\n", mode=0o640, uid=12, gid=34),
        mkimage.Entry("data/b", "hardlink", target="data/a"),
    ])
    layers = mkimage.build_rootfs_layers() + [extra]
    config = mkimage.make_config(layers)
    path = tmp_path / "vfs.tar"
    mkimage.write_docker_archive(str(path), [mkimage.Image(config, layers, ["vfs:1"])])
    skiff.ok("load", "-q", "-i", str(path))
    out = skiff.ok("run", "--rm", "vfs:1", "/bin/sh", "-c",
                   "stat -c '%i %h %a %u:%g %Y' /data/a /data/b /data",
                   env={"SKIFF_STORAGE_DRIVER": "vfs"}).stdout.split("\n")
    a, b, d = (line.split() for line in out[:3])
    assert a[0] == b[0] and a[1] == "2"  # one inode, two names
    assert a[2:4] == ["640", "12:34"] and d[2:4] == ["750", "12:34"]
    assert a[4] == d[4] == str(mkimage.MTIME)


def test_rootless_load_skips_device_nodes_with_one_warning(user):
    """Rootless pulls failed on any layer with a device node, such as
    Debian's /dev/console (issue 11, item 8); rootless podman skips them."""
    import mkimage
    dev = mkimage.tar_bytes([mkimage.Entry("dev", "dir"),
                             mkimage.Entry("dev/console", "chardev", mode=0o600, target="5:1"),
                             mkimage.Entry("dev/null2", "chardev", mode=0o666, target="1:3"),
                             mkimage.Entry("kept", data="yes\n")])
    layers = mkimage.build_rootfs_layers() + [dev]
    path = os.path.join(user.dir, "dev.tar")
    mkimage.write_docker_archive(path, [mkimage.Image(mkimage.make_config(layers), layers,
                                                      ["devs:1"])])
    os.chmod(path, 0o644)
    r = user.ok("load", "-i", path)
    assert r.stderr.count("device nodes cannot be created here (rootless)") == 1
    assert user.ok("run", "--rm", "devs:1", "cat", "/kept").stdout == "yes\n"
