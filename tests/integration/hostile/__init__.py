"""Helpers of test_hostile.py (issue 9: nothing of the host reaches a
container): skiff as root or as an unprivileged user behind one interface,
the static probe and the LD_PRELOAD library compiled at test time, images
with entries mkimage's extra_files cannot express (symlinks, FIFOs), and
small /proc readers.

Nothing here writes outside the directories a test hands it."""

import contextlib
import io
import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "images"))

import mkimage  # noqa: E402

TAG = "hostile/busybox:latest"  # build_image's default
TIMEOUT = 60

# busybox applets the probes' shell scripts call by name, beyond mkimage's set
EXTRA_APPLETS = ("stat", "readlink", "chmod", "chown", "touch", "tty", "mkfifo", "ln", "rm",
                 "tr", "truncate", "find", "sed", "seq")


# --- probes ------------------------------------------------------------------

def compile_probes(out_dir):
    """Build probe.c (static) and preload.c (a shared object); returns
    {"probe": bytes, "preload": bytes}. Fails the test when gcc cannot."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if not gcc:
        raise AssertionError("no C compiler: apt-get install build-essential")
    out = {}
    for name, flags, src in (("probe", ["-static"], "probe.c"),
                             ("preload", ["-shared", "-fPIC"], "preload.c")):
        dst = os.path.join(out_dir, name)
        r = subprocess.run([gcc, *flags, "-O2", "-Wall", "-o", dst, os.path.join(HERE, src)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build {src}: {r.stderr}"
        with open(dst, "rb") as f:
            out[name] = f.read()
    return out


def dev_ino(path_or_fd):
    """'MAJ:MIN:INO' of a file (follows symlinks), as probe.c prints it."""
    st = os.stat(path_or_fd)
    return f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}:{st.st_ino}"


def busybox_dev_ino(path_or_fd):
    """'DEV:INO' as busybox `stat -c %d:%i` prints it (st_dev in decimal)."""
    st = os.stat(path_or_fd)
    return f"{st.st_dev}:{st.st_ino}"


# --- images ------------------------------------------------------------------

def _tar(entries):
    """A tar of (name, kind, payload, mode) with kind file|dir|symlink|fifo;
    payload is the data of a file and the target of a symlink."""
    buf = io.BytesIO()
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "fifo": tarfile.FIFOTYPE}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload, mode in entries:
            ti = tarfile.TarInfo(name)
            ti.type = types[kind]
            ti.mode = mode
            ti.mtime = mkimage.MTIME
            ti.uname = ti.gname = ""
            if kind == "symlink":
                ti.linkname = payload
            if kind == "file":
                data = payload.encode() if isinstance(payload, str) else payload
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
            else:
                tar.addfile(ti)
    return buf.getvalue()


def build_image(directory, files=None, special=(), tag=TAG, **config_kw):
    """A busybox image with the probes' applet links, extra files
    ({path: bytes|str|(data, mode)}, as mkimage's extra_files) in the base
    layer and a second layer of special entries [(name, kind, payload, mode)]
    (symlinks, FIFOs; they replace what the base has). Written as a docker
    archive of tag into directory; returns its path."""
    base = mkimage.rootfs_entries(files)
    base += [mkimage.Entry("bin/" + a, "symlink", target="busybox") for a in EXTRA_APPLETS]
    layers = [mkimage.tar_bytes(base)]
    if special:
        layers.append(_tar(list(special)))
    config = mkimage.make_config(layers, **config_kw)
    path = os.path.join(directory, f"image-{uuid.uuid4().hex[:8]}.tar")
    mkimage.write_docker_archive(path, [mkimage.Image(config, layers, [tag])])
    os.chmod(path, 0o644)
    return path


# --- skiff as root or as a user ----------------------------------------------

class Engine:
    """One way to run skiff: as root with a private store (--root), or as an
    unprivileged user with its default store under its home. `scratch` is a
    directory both the test and that skiff's user can write: the host files
    a test hands to the container live there."""

    def __init__(self, name, binary, store, env, scratch, uid=0, gid=0, cwd=None,
                 root_flag=True):
        self.name = name
        self.binary = binary
        self.store = store
        self.env = env
        self.scratch = scratch
        self.uid, self.gid = uid, gid
        self.cwd = cwd
        self.root_flag = root_flag
        os.makedirs(scratch, exist_ok=True)
        os.chown(scratch, uid, gid)

    @property
    def rootless(self):
        return self.uid != 0

    def argv(self, *args):
        head = [self.binary] + (["--root", self.store] if self.root_flag else [])
        return head + [str(a) for a in args]

    def _user_kw(self):
        if not self.rootless:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "cwd": self.cwd}

    def popen(self, *args, **kw):
        return subprocess.Popen(self.argv(*args), env=self.env, **self._user_kw(), **kw)

    def run(self, *args, timeout=TIMEOUT, **kw):
        """subprocess.run of skiff ARGS: text, stdin /dev/null and the output
        captured unless the caller passes its own stdin/stdout/stderr."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(self.argv(*args), env=self.env, timeout=timeout, text=True,
                              **self._user_kw(), **kw)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"[{self.name}] skiff {' '.join(map(str, args))} exited " \
                                  f"{r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        return r

    def image(self, files=None, special=(), **config_kw):
        """build_image into scratch, loaded into this engine's store under a
        tag of its own; returns the tag."""
        tag = f"hostile/{uuid.uuid4().hex[:10]}:latest"
        self.ok("load", "-q", "-i", build_image(self.scratch, files, special, tag, **config_kw))
        return tag

    def own(self, path, mode):
        """Make a host file the test created belong to this engine's user."""
        os.chown(path, self.uid, self.gid)
        os.chmod(path, mode)

    def container_id(self, name):
        link = os.path.join(self.store, "containers", "names", name)
        return os.path.basename(os.readlink(link).rstrip("/"))

    @contextlib.contextmanager
    def detached(self, image, *cmd, flags=()):
        """A container started with `run -d --name N FLAGS IMAGE CMD`,
        removed (rm -f) when the block ends; yields its name."""
        name = "h" + uuid.uuid4().hex[:10]
        self.ok("run", "-d", "--name", name, *flags, image, *cmd)
        try:
            yield name
        finally:
            self.run("rm", "-f", name)


def root_engine(skiff, tmp_path):
    return Engine("root", skiff.binary, skiff.root, dict(skiff.env), str(tmp_path / "scratch"))


def rootless_engine(user):
    env = {"HOME": user.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "USER": user.name}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return Engine(f"rootless-{'subids' if user.subids else 'single-id'}", user.binary,
                  user.store, env, os.path.join(user.dir, "scratch"), uid=user.uid,
                  gid=user.gid, cwd=user.dir, root_flag=False)


# --- /proc ---------------------------------------------------------------------

def all_cmdlines():
    """{pid: cmdline bytes} of every process the test can see."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    out[int(entry)] = f.read()
            except OSError:
                pass
    return out


def ppid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise AssertionError(f"no PPid for {pid}")


def files_named(top, name):
    """Every path under top (not following symlinks) whose last part is name."""
    found = []
    for d, dirs, files in os.walk(top):
        found += [os.path.join(d, n) for n in dirs + files if n == name]
    return found


def live_processes_of(uid):
    """Pids whose real uid is uid, zombies left out."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            out.append(int(entry))
    return out


def wait_for_exit(uid, timeout=10):
    """Wait until the user uid has no live process left (monitors of
    removed containers, the background removal of `run --rm`) before its
    files and the user itself are deleted."""
    end = time.monotonic() + timeout
    while live_processes_of(uid) and time.monotonic() < end:
        time.sleep(0.05)


def delete_user_later_if_left(name, timeout=5):
    """userdel refuses a user while zombies of it exist; this VM's pid 1
    reaps orphans only every few seconds. Retry for a while."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return
        if subprocess.run(["userdel", name], capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
