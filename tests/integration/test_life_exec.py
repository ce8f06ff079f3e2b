"""skiff exec: a new process inside a running container. It must see the
container's namespaces (pid, uts, mount, ...), sit in its cgroups, get its
environment, working directory, user, capabilities and seccomp filter, and
exit with the command's status; -it through a real pseudo-terminal, -d."""

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import time

import pytest

import runlib

DOCKER_DEFAULT_CAPS = 0x00000000a80425fb


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path, env=["FROM_IMAGE=img", "SHARED=image"],
                                workdir="/srv")


def container_id(skiff, name):
    return os.readlink(os.path.join(skiff.root, "containers", "names", name))


def container_state(skiff, cid):
    try:
        with open(os.path.join(skiff.root, "containers", cid, "state.json")) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


class Container:
    """A running container: `run -d` when it exists, else a foreground run."""

    def __init__(self, skiff, image, name, *run_flags, cmd=("sleep", "1000")):
        self.skiff = skiff
        self.name = name
        self.proc = None
        r = skiff.run("run", "-d", "--name", name, *run_flags, image, *cmd)
        if r.returncode != 0:
            assert "-d" in r.stderr or "detach" in r.stderr or "unknown flag" in r.stderr, \
                r.stderr
            self.proc = skiff.popen("run", "--name", name, *run_flags, image, *cmd,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
        self.id = runlib.wait_for(lambda: self._id() or self._died(), what="the container's name")
        st = runlib.wait_for(lambda: self._running() or self._died(), what="the container to run")
        self.pid = st["pid"]

    def _running(self):
        st = container_state(self.skiff, self.id)
        return st if st.get("status") == "running" else None

    def _died(self):
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(f"skiff run exited {self.proc.returncode}: "
                                 f"{self.proc.stderr.read()}")
        return None

    def _id(self):
        try:
            return container_id(self.skiff, self.name)
        except FileNotFoundError:
            return None

    def stop(self):
        if self.proc:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        else:
            self.skiff.run("kill", self.name)
            self.skiff.run("wait", self.name)
        runlib.wait_for(lambda: container_state(self.skiff, self.id).get("status") == "exited",
                        what="the container to exit")

    def exec(self, *args, **kw):
        return self.skiff.run("exec", *args, **kw)


@pytest.fixture
def ctr(skiff, image):
    c = Container(skiff, image, "x", "--hostname", "exechost")
    yield c
    c.stop()


def out(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r.stdout


def status_field(text, field):
    m = re.search(rf"^{field}:\s*(\S+)", text, re.M)
    assert m, f"no {field} in\n{text}"
    return m.group(1)


def test_exec_sees_the_container_pid_namespace(ctr):
    ps = out(ctr.exec("x", "ps", "-o", "pid,comm"))
    rows = [l.split() for l in ps.splitlines()[1:]]
    assert ["1", "sleep"] in rows
    assert any(r[1] == "ps" for r in rows)
    # Only the container's processes: sleep and ps itself.
    assert len(rows) == 2, ps
    pids = out(ctr.exec("x", "sh", "-c", "echo $$; ls /proc | grep -E '^[0-9]+$'")).split()
    assert pids[0] != "1" and "1" in pids[1:]


def test_exec_sees_hostname_and_files_of_the_container(ctr):
    assert out(ctr.exec("x", "hostname")).strip() == "exechost"
    assert out(ctr.exec("x", "cat", "/etc/hostname")).strip() == "exechost"
    out(ctr.exec("x", "sh", "-c", "echo made-by-exec > /tmp/a"))
    assert out(ctr.exec("x", "cat", "/tmp/a")) == "made-by-exec\n"
    # ... and it is the container's file system, not the host's.
    assert not os.path.exists("/tmp/a") or open("/tmp/a").read() != "made-by-exec\n"


def test_exec_namespaces_are_the_container_s(ctr):
    for ns in ("mnt", "pid", "uts", "ipc", "net", "cgroup"):
        theirs = os.readlink(f"/proc/{ctr.pid}/ns/{ns}")
        inside = out(ctr.exec("x", "busybox", "readlink", f"/proc/self/ns/{ns}")).strip()
        assert inside == theirs, ns


def test_exec_env_workdir_and_overrides(ctr, tmp_path):
    env = out(ctr.exec("x", "env")).splitlines()
    assert "FROM_IMAGE=img" in env
    assert "HOSTNAME=exechost" in env
    assert any(l.startswith("PATH=") for l in env)
    assert "HOME=/root" in env
    assert out(ctr.exec("x", "sh", "-c", "pwd")) == "/srv\n"

    envfile = tmp_path / "env.list"
    envfile.write_text("# comment\nFROM_FILE=file\nSHARED=file\n")
    env = out(ctr.exec("--env-file", envfile, "-e", "SHARED=flag", "-e", "NEW=1", "x",
                       "env")).splitlines()
    assert "FROM_FILE=file" in env and "NEW=1" in env and "FROM_IMAGE=img" in env
    assert "SHARED=flag" in env and "SHARED=file" not in env
    assert out(ctr.exec("-w", "/etc", "x", "sh", "-c", "pwd")) == "/etc\n"


def test_exec_user(ctr):
    assert out(ctr.exec("x", "id", "-u")) == "0\n"
    assert out(ctr.exec("-u", "nobody", "x", "id", "-u")) == "65534\n"
    assert out(ctr.exec("-u", "nobody", "x", "id", "-g")) == "65534\n"
    assert out(ctr.exec("-u", "1234:5678", "x", "id")).startswith("uid=1234 gid=5678")
    env = out(ctr.exec("-u", "nobody", "x", "env")).splitlines()
    assert "HOME=/nonexistent" in env
    r = ctr.exec("-u", "nosuchuser", "x", "true")
    assert r.returncode == 126, r.stderr
    assert "nosuchuser" in r.stderr


def test_exec_capabilities_match_the_container(ctr):
    pid1 = out(ctr.exec("x", "cat", "/proc/1/status"))
    mine = out(ctr.exec("x", "cat", "/proc/self/status"))
    assert status_field(mine, "CapBnd") == status_field(pid1, "CapBnd")
    assert status_field(mine, "CapEff") == status_field(pid1, "CapEff")
    assert status_field(mine, "NoNewPrivs") == status_field(pid1, "NoNewPrivs")
    # skiff run gives docker's 14 capabilities.
    assert int(status_field(mine, "CapBnd"), 16) == DOCKER_DEFAULT_CAPS
    assert int(status_field(mine, "CapEff"), 16) == DOCKER_DEFAULT_CAPS

    nobody = out(ctr.exec("-u", "nobody", "x", "cat", "/proc/self/status"))
    assert int(status_field(nobody, "CapEff"), 16) == 0
    assert int(status_field(nobody, "CapPrm"), 16) == 0
    assert status_field(nobody, "CapBnd") == status_field(pid1, "CapBnd")

    priv = out(ctr.exec("--privileged", "x", "cat", "/proc/self/status"))
    with open("/proc/self/status") as f:
        host_bnd = int(status_field(f.read(), "CapBnd"), 16)
    assert int(status_field(priv, "CapEff"), 16) == host_bnd


def test_exec_seccomp_is_on(ctr):
    pid1 = out(ctr.exec("x", "cat", "/proc/1/status"))
    mine = out(ctr.exec("x", "cat", "/proc/self/status"))
    assert status_field(mine, "Seccomp") == "2"
    assert status_field(mine, "Seccomp") == status_field(pid1, "Seccomp")
    # docker's profile refuses unshare without CAP_SYS_ADMIN.
    r = ctr.exec("x", "busybox", "unshare", "-U", "true")
    assert r.returncode != 0


def test_exec_unconfined_container(skiff, image):
    c = Container(skiff, image, "u", "--security-opt", "seccomp=unconfined")
    try:
        mine = out(skiff.run("exec", "u", "cat", "/proc/self/status"))
        assert status_field(mine, "Seccomp") == "0"
    finally:
        c.stop()


def test_exec_joins_the_container_cgroup(ctr):
    theirs = out(ctr.exec("x", "cat", "/proc/1/cgroup"))
    mine = out(ctr.exec("x", "cat", "/proc/self/cgroup"))
    assert mine == theirs
    # Seen from the host: the exec'd process is in the same cgroups as pid 1.
    p = subprocess.Popen(ctr.skiff.cmd("exec", "x", "sleep", "30"), env=ctr.skiff.env)
    try:
        def exec_sleep():
            for pid in runlib.children_of(p.pid):
                return pid
            return None
        child = runlib.wait_for(exec_sleep, what="the exec'd sleep")
        with open(f"/proc/{ctr.pid}/cgroup") as f:
            want = f.read()
        runlib.wait_for(lambda: open(f"/proc/{child}/cgroup").read() == want,
                        what="the exec'd process in the container's cgroups")
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 128 + signal.SIGTERM


def test_exec_exit_codes(skiff, ctr):
    assert ctr.exec("x", "sh", "-c", "exit 3").returncode == 3
    r = ctr.exec("x", "no-such-command")
    assert r.returncode == 127
    assert 'exec: "no-such-command": executable file not found in $PATH' in r.stderr
    r = ctr.exec("x", "/etc/passwd")
    assert r.returncode == 126
    assert "permission denied" in r.stderr
    r = ctr.exec("-w", "/no/such/dir", "x", "true")
    assert r.returncode == 126 and "/no/such/dir" in r.stderr
    r = ctr.exec("-w", "relative", "x", "true")
    assert r.returncode == 125 and "needs to be an absolute path" in r.stderr
    r = skiff.run("exec", "nosuchcontainer", "true")
    assert r.returncode == 1 and "No such container: nosuchcontainer" in r.stderr
    r = skiff.run("exec", "x")
    assert r.returncode == 125 and "requires at least 2 arguments" in r.stderr


def test_exec_signal_is_forwarded(ctr):
    runlib.assert_usr1_forwarded(ctr.skiff.cmd("exec", "x", "sh", "-c", runlib.USR1_TRAP),
                                 ctr.skiff.env)


def test_exec_stopped_container(skiff, image):
    c = Container(skiff, image, "s")
    c.stop()
    r = skiff.run("exec", "s", "true")
    assert r.returncode == 1
    assert f"Container {c.id} is not running" in r.stderr


def test_exec_stdin(ctr):
    r = ctr.exec("-i", "x", "cat", input="through stdin\n")
    assert out(r) == "through stdin\n"
    # Without -i the process reads /dev/null.
    r = ctr.exec("x", "cat", input="ignored\n")
    assert out(r) == ""


def test_exec_detached_returns_at_once(ctr):
    t0 = time.monotonic()
    r = ctr.exec("-d", "x", "sh", "-c", "sleep 1; echo done > /tmp/detached")
    assert time.monotonic() - t0 < 1.0
    assert out(r) == ""
    assert ctr.exec("x", "test", "-e", "/tmp/detached").returncode == 1
    runlib.wait_for(lambda: ctr.exec("x", "cat", "/tmp/detached").stdout == "done\n",
                    timeout=10, what="the detached process to finish")


def test_exec_when_container_exits_meanwhile(skiff, image):
    c = Container(skiff, image, "short", cmd=("sleep", "2"))
    try:
        t0 = time.monotonic()
        r = skiff.run("exec", "short", "sleep", "100", timeout=30)
        assert time.monotonic() - t0 < 15
        # Killed with the container's pid namespace.
        assert r.returncode == 128 + signal.SIGKILL, r.stderr
    finally:
        c.stop()




def spawn_in_pty(argv, env, rows=33, cols=101):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def wait_exit(pid, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            return os.waitstatus_to_exitcode(st)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("skiff exec -it did not exit")


def test_exec_it_through_a_real_pty(ctr):
    pid, fd = spawn_in_pty(ctr.skiff.cmd("exec", "-it", "x", "sh"), ctr.skiff.env)
    try:
        os.write(fd, b"busybox tty; busybox stty size; echo $TERM; echo E''ND\n")
        buf = runlib.read_until(fd, rb"\nEND\r?\n")
        assert re.search(rb"\n/dev/pts/\d+\r?\n33 101\r?\nxterm\r?\nEND", buf), buf
        os.write(fd, b"echo hi$((40+2)); exit 7\n")
        runlib.read_until(fd, rb"\nhi42")
        assert wait_exit(pid) == 7
    finally:
        os.close(fd)


def test_exec_it_follows_window_size(ctr):
    pid, fd = spawn_in_pty(ctr.skiff.cmd("exec", "-it", "x", "sh"), ctr.skiff.env)
    try:
        os.write(fd, b"busybox stty size\n")
        runlib.read_until(fd, rb"\n33 101")
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        time.sleep(0.2)
        os.write(fd, b"busybox stty size\n")
        runlib.read_until(fd, rb"\n50 120")
        os.write(fd, b"exit\n")
        assert wait_exit(pid) == 0
    finally:
        os.close(fd)


def test_exec_it_pty_is_the_container_s(ctr):
    """The pty comes from the container's devpts: the host's /dev/pts has no
    new entry, and the container sees its own /dev/pts/N."""
    pid, fd = spawn_in_pty(ctr.skiff.cmd("exec", "-it", "x", "sh"), ctr.skiff.env)
    try:
        os.write(fd, b"ls /dev/pts; echo E''ND\n")
        buf = runlib.read_until(fd, rb"\nEND\r?\n")
        # Only the container's own terminal (its devpts instance starts at 0).
        listed = buf.split(b"E''ND\r\n")[-1].split()
        assert listed[:2] == [b"0", b"ptmx"], buf
        os.write(fd, b"exit\n")
        assert wait_exit(pid) == 0
    finally:
        os.close(fd)


def test_exec_host_network_container_keeps_the_host_net_ns(skiff, image):
    c = Container(skiff, image, "h", "--network", "host")
    try:
        inside = out(skiff.run("exec", "h", "busybox", "readlink", "/proc/self/ns/net")).strip()
        assert inside == os.readlink("/proc/self/ns/net")
        # ... while the other namespaces are still the container's.
        inside = out(skiff.run("exec", "h", "busybox", "readlink", "/proc/self/ns/pid")).strip()
        assert inside == os.readlink(f"/proc/{c.pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    finally:
        c.stop()


def test_exec_gets_the_container_ulimits(skiff, image):
    c = Container(skiff, image, "l", "--ulimit", "nofile=1000:2000")
    try:
        assert out(skiff.run("exec", "l", "sh", "-c", "ulimit -n; ulimit -Hn")) == "1000\n2000\n"
    finally:
        c.stop()


def test_exec_t_without_i(ctr):
    """-t alone: a terminal for the process's output, stdin not attached."""
    r = ctr.exec("-t", "x", "busybox", "tty", input="ignored\n")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"/dev/pts/\d+\n", r.stdout), r.stdout


def test_exec_t_returns_when_the_process_exits_despite_a_background_child(ctr):
    """A background process still holding the terminal must not keep skiff
    exec waiting (or spinning) after the command itself exited."""
    t0 = time.monotonic()
    r = ctr.exec("-t", "x", "sh", "-c", "sleep 100 & echo started; exit 5", timeout=20)
    assert r.returncode == 5, r.stderr
    assert "started" in r.stdout
    assert time.monotonic() - t0 < 10
