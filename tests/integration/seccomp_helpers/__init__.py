"""Shared helpers of the issue-4 tests (limits and security of `skiff run`):
a container kept running under the test's control, its id and state.json,
where its cgroup files are on this host (v2, v1 or hybrid), the processes it
still has, and the static probe binary (probe.c) that calls the system calls
docker's seccomp profile denies."""

import contextlib
import json
import os
import shutil
import subprocess
import threading
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CG = "/sys/fs/cgroup"


def unique_name(prefix="t"):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def container_id(skiff, name):
    link = os.path.join(skiff.root, "containers", "names", name)
    return os.path.basename(os.readlink(link).rstrip("/"))


def container_state(skiff, cid):
    with open(os.path.join(skiff.root, "containers", cid, "state.json")) as f:
        return json.load(f)


def find_key(obj, key):
    """The value of `key` anywhere in a JSON document (None when absent)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            found = find_key(v, key)
            if found is not None:
                return found
    return None


def store_containers(skiff):
    """Container directories and name links left in the store."""
    base = os.path.join(skiff.root, "containers")
    if not os.path.isdir(base):
        return []
    left = [e for e in os.listdir(base) if e not in ("names", "live")]
    for sub in ("names", "live"):  # name links and the live index (docs/STORE.md)
        d = os.path.join(base, sub)
        if os.path.isdir(d):
            left += [sub + "/" + n for n in os.listdir(d)]
    return left


def _fstype(mount_point):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == mount_point:
                return fields[fields.index("-") + 1]
    return None


class Cgroups:
    """Where a container's cgroup files live on this host. skiff puts a
    container at <hierarchy>/skiff/<id> in every hierarchy it uses."""

    V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")

    def __init__(self):
        if _fstype(CG) == "cgroup2":
            self.mode = "v2"
        elif _fstype(CG + "/unified") == "cgroup2":
            self.mode = "hybrid"
        else:
            self.mode = "v1"

    def dirs(self, cid):
        """Every directory the container's cgroup has on the host."""
        if self.mode == "v2":
            return [f"{CG}/skiff/{cid}"]
        out = [f"{CG}/{c}/skiff/{cid}" for c in self.V1_CONTROLLERS]
        if self.mode == "hybrid":
            out.append(f"{CG}/unified/skiff/{cid}")
        return out

    def path(self, cid, controller, v1_file, v2_file=None):
        if self.mode == "v2":
            return f"{CG}/skiff/{cid}/{v2_file or v1_file}"
        return f"{CG}/{controller}/skiff/{cid}/{v1_file}"

    def read(self, cid, controller, v1_file, v2_file=None):
        with open(self.path(cid, controller, v1_file, v2_file)) as f:
            return f.read().strip()

    def cpu_usage_ns(self, cid):
        """CPU time used by the container so far."""
        if self.mode != "v2":
            return int(self.read(cid, "cpuacct", "cpuacct.usage"))
        with open(f"{CG}/skiff/{cid}/cpu.stat") as f:
            stat = dict(line.split() for line in f)
        return int(stat["usage_usec"]) * 1000

    def leftovers(self, cid):
        return [d for d in self.dirs(cid) if os.path.exists(d)]


def pids_in_container(cid):
    """Host pids whose /proc/PID/cgroup names the container's cgroup."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                text = f.read()
        except OSError:
            continue
        if any(line.endswith(f"/skiff/{cid}") for line in text.splitlines()):
            out.append(int(entry))
    return out


def cmdline(pid):
    """argv of pid ([] when it is gone). Not comm: busybox's shell runs its
    applets without exec, so a sleep is called "sh" there."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode() for a in f.read().split(b"\0") if a]
    except OSError:
        return []


class Running:
    """A container started with -i whose shell prints 'ready' and then waits
    for a line on stdin; stop() sends the line and returns the exit status."""

    def __init__(self, proc, name, cid):
        self.proc, self.name, self.id = proc, name, cid

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"container {self.name} did not end within {timeout} s")
        return self.proc.returncode


@contextlib.contextmanager
def running(skiff, image, *flags, before="", rm=False):
    """Run `sh -c '<before> echo ready; read x'` in a container named for the
    test, kept until the block ends (or stop() is called)."""
    name = unique_name()
    argv = ["run", "-i", "--name", name] + (["--rm"] if rm else []) + list(flags) + \
        [image, "/bin/sh", "-c", f"{before} echo ready; read x"]
    proc = skiff.popen(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        line = proc.stdout.readline()
        watchdog.cancel()
        if line != "ready\n":
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(f"skiff {' '.join(argv)}: no 'ready' (got {line!r}), "
                                 f"exit {proc.returncode}, stderr: {err}")
        ctr = Running(proc, name, container_id(skiff, name))
        yield ctr
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            Running(proc, name, None).stop()


def build_probe(tmp_path):
    """Compile probe.c statically; None when no C compiler can do it."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    out = tmp_path / "probe"
    r = subprocess.run([cc, "-static", "-O2", "-o", str(out), os.path.join(HERE, "probe.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return out.read_bytes()


def parse_probe(stdout):
    return {name: int(errno) for name, errno in (l.split() for l in stdout.splitlines())}
