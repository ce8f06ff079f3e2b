"""Attaching, as docker does (issue 11, item 12; item 23's `logs -f`):

- a foreground container keeps a json-file log (with and without -t), and a
  started one appends to it;
- `start -a` / `start -i` relay the container's stdio and exit with its status;
- `attach [--no-stdin] [--sig-proxy] [--detach-keys]` to a running container;
- the detach keys of -it (ctrl-p,ctrl-q, --detach-keys, "detachKeys" in
  skiff's config.json or docker's ~/.docker/config.json): `run -it` without -d
  detaches and leaves the container running under a monitor that `attach`
  reaches again;
- `logs -f` of a foreground container follows it and ends when it exits.

Each behaviour was compared with docker 28.2 (engine 20.10) on the same
busybox: the outputs, exit codes and messages asserted here are docker's.
Terminals are python ptys, as in test_run_stdio.py."""

import fcntl
import hashlib
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
import uuid

import pytest

import runlib

MiB = 1024 * 1024
CTRL_P_Q = b"\x10\x11"


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def name():
    return "att-" + uuid.uuid4().hex[:10]


@pytest.fixture
def names(skiff):
    """Container names for a test, removed at teardown."""
    made = []

    def new():
        made.append(name())
        return made[-1]
    yield new
    for n in made:
        skiff.run("rm", "-f", n)


def state(skiff, ref):
    return json.loads(skiff.ok("inspect", "--format", "{{json .State}}", ref).stdout)


def status_of(skiff, ref):
    return state(skiff, ref)["Status"]


def wait_status(skiff, ref, want, timeout=10):
    return runlib.wait_for(lambda: status_of(skiff, ref) == want, timeout,
                           f"{ref} {want}")


class Pty:
    """A skiff command on a terminal of its own (rows x cols)."""

    def __init__(self, skiff, *args, rows=40, cols=100):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(skiff.cmd(*args), env=skiff.env, stdin=slave,
                                     stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.seen = b""

    def expect(self, pattern, timeout=10):
        self.seen += runlib.read_until(self.master, pattern, timeout)
        return self.seen

    def send(self, data):
        os.write(self.master, data)

    def wait(self, timeout=10):
        """The exit status, and everything the terminal showed."""
        rc = self.proc.wait(timeout=timeout)
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def ptys():
    made = []

    def new(skiff, *args, **kw):
        made.append(Pty(skiff, *args, **kw))
        return made[-1]
    yield new
    for p in made:
        p.close()


def run_bytes(skiff, *args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 30)
    return subprocess.run(skiff.cmd(*args), env=skiff.env, **kw)


# -- the log of a foreground container ---------------------------------------

@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "tty"])
def test_foreground_container_keeps_a_log(skiff, image, names, tty):
    """docker's json-file driver records a foreground container too: `logs`
    gives back what `run` printed, each stream on its own (with -t one
    stream, the terminal's, CRLF)."""
    n = names()
    flags = ["-t"] if tty else []
    r = run_bytes(skiff, "run", "--name", n, *flags, image, "sh", "-c",
                  "echo hi; echo oops >&2; printf tail")
    assert r.returncode == 0, r.stderr
    logs = run_bytes(skiff, "logs", n)
    if tty:
        assert (logs.stdout, logs.stderr) == (b"hi\r\noops\r\ntail", b"")
    else:
        assert (r.stdout, r.stderr) == (b"hi\ntail", b"oops\n")
        assert (logs.stdout, logs.stderr) == (b"hi\ntail", b"oops\n")


def test_a_started_container_appends_to_its_log(skiff, image, names):
    """`run` then `start` twice: the log holds the three runs in order."""
    n = names()
    skiff.ok("run", "--name", n, image, "echo", "hi")
    for _ in range(2):
        assert skiff.ok("start", n).stdout == f"{n}\n"
        assert skiff.ok("wait", n).stdout == "0\n"
    assert skiff.ok("logs", n).stdout == "hi\nhi\nhi\n"


def test_a_silent_run_makes_no_log_file(skiff, image, names):
    """The log file is made with the first line: `run IMAGE true` (the hot
    path) costs no file, and `logs` of it is empty."""
    n = names()
    skiff.ok("run", "--name", n, image, "true")
    cid = skiff.ok("inspect", "--format", "{{.Id}}", n).stdout.strip()
    assert not os.path.exists(os.path.join(skiff.root, "containers", cid, "ctr.log"))
    assert skiff.ok("logs", n).stdout == ""


def test_log_driver_none_keeps_no_log(skiff, image, names):
    n = names()
    assert skiff.ok("run", "--name", n, "--log-driver", "none", image, "echo", "x").stdout == "x\n"
    assert skiff.ok("logs", n).stdout == ""


def test_logs_f_follows_a_foreground_container_and_ends_at_its_exit(skiff, image, names):
    """`logs -f` of a container running in another terminal prints its lines
    as they come and returns when it exits (before, it printed nothing and
    returned at once)."""
    n = names()
    fg = skiff.popen("run", "--name", n, image, "sh", "-c",
                     "echo one; sleep 1.5; echo two; sleep 0.5; exit 2",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fg.stdout.readline() == b"one\n"
        f = skiff.popen("logs", "-f", n, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert f.stdout.readline() == b"one\n"
        assert f.poll() is None
        out, _ = f.communicate(timeout=20)
        assert out == b"two\n" and f.returncode == 0
        assert fg.wait(timeout=10) == 2
    finally:
        fg.kill()
        fg.wait()


# -- start -a / -i -----------------------------------------------------------

def test_start_a_relays_output_and_exits_with_the_status(skiff, image, names):
    """docker start -a: the container's output on the right streams, its
    status as start's, no name printed."""
    n = names()
    skiff.run("run", "--name", n, image, "sh", "-c", "echo out; echo err >&2; exit 3")
    r = run_bytes(skiff, "start", "-a", n)
    assert (r.returncode, r.stdout, r.stderr) == (3, b"out\n", b"err\n")
    assert skiff.ok("logs", n).stdout == "out\nout\n"


def test_start_a_with_a_terminal(skiff, image, names):
    n = names()
    skiff.run("run", "-t", "--name", n, image, "sh", "-c", "echo hi; exit 3")
    r = run_bytes(skiff, "start", "-a", n)
    assert (r.returncode, r.stdout, r.stderr) == (3, b"hi\r\n", b"")


def test_start_ai_feeds_stdin_and_closes_it_at_its_end(skiff, image, names):
    """A container made with -i (docker's StdinOnce): start -ai gives it
    skiff's stdin, and its end is the container's end of file."""
    n = names()
    script = "while read l; do echo got:$l; done; echo eof; exit 3"
    r = run_bytes(skiff, "run", "-i", "--name", n, image, "sh", "-c", script, input=b"x\ny\n")
    assert (r.returncode, r.stdout) == (3, b"got:x\ngot:y\neof\n")
    r = run_bytes(skiff, "start", "-ai", n, input=b"a\nb\n")
    assert (r.returncode, r.stdout) == (3, b"got:a\ngot:b\neof\n")
    assert skiff.ok("logs", n).stdout == "got:x\ngot:y\neof\ngot:a\ngot:b\neof\n"


def test_start_ai_moves_20_mib_each_way(skiff, image, names, tmp_path):
    """Input and output through the monitor arrive whole (back-pressure, no
    loss): sha256 of 20 MiB in, 20 MiB of output back."""
    n = names()
    run_bytes(skiff, "run", "-i", "--name", n, image, "sh", "-c",
              "sha256sum >&2; head -c 20971520 /dev/zero | tr '\\0' x", input=b"")
    data = os.urandom(20 * MiB)
    r = run_bytes(skiff, "start", "-ai", n, input=data, timeout=60)
    assert r.returncode == 0, r.stderr[-300:]
    assert r.stderr.split()[0].decode() == hashlib.sha256(data).hexdigest()
    assert r.stdout == b"x" * (20 * MiB)


def test_start_a_of_a_running_container_attaches(skiff, image, names):
    """docker's: start -a of a running container attaches to it and exits
    with its status."""
    n = names()
    skiff.ok("run", "-d", "--name", n, image, "sh", "-c", "sleep 1.5; echo late; exit 4")
    r = run_bytes(skiff, "start", "-a", n)
    assert (r.returncode, r.stdout) == (4, b"late\n")


def test_start_a_of_several_containers_is_refused(skiff, image, names):
    a, b = names(), names()
    for n in (a, b):
        skiff.ok("run", "--name", n, image, "true")
    r = skiff.run("start", "-a", a, b)
    assert r.returncode == 1
    assert "you cannot start and attach multiple containers at once" in r.stderr


def test_start_a_of_a_command_that_cannot_run(skiff, image, names):
    """Its command removed meanwhile: the start fails, start exits 1 with
    the reason (docker's status for start's failures)."""
    n = names()
    skiff.ok("run", "--name", n, "--entrypoint", "/bin/sh", image, "-c", "rm /bin/sh")
    r = skiff.run("start", "-a", n)
    assert r.returncode == 1 and "/bin/sh" in r.stderr


# -- attach ------------------------------------------------------------------

TICKS = ('trap "echo got-INT; exit 5" INT; i=0; while [ $i -lt 200 ]; do echo tick$i; '
         'echo etick$i >&2; i=$((i+1)); sleep 0.1; done')


def test_attach_relays_from_now_on_and_proxies_signals(skiff, image, names):
    """docker attach: no past output, stdout and stderr apart, SIGINT to
    attach reaches the container (sig-proxy), whose status attach takes."""
    n = names()
    skiff.ok("run", "-d", "--name", n, image, "sh", "-c", TICKS)
    time.sleep(1)
    a = skiff.popen("attach", n, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    first = a.stdout.readline()
    a.send_signal(signal.SIGINT)
    out, err = a.communicate(timeout=10)
    assert a.returncode == 5
    assert first != b"tick0\n" and first.startswith(b"tick")
    lines = (first + out).splitlines()
    assert lines[-1] == b"got-INT" and all(l.startswith(b"tick") for l in lines[:-1])
    assert all(l.startswith(b"etick") for l in err.splitlines())
    assert status_of(skiff, n) == "exited"


def test_attach_without_sig_proxy_leaves_the_container_alone(skiff, image, names):
    n = names()
    skiff.ok("run", "-d", "--name", n, image, "sh", "-c", TICKS)
    a = skiff.popen("attach", "--sig-proxy=false", n, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    a.stdout.readline()
    a.send_signal(signal.SIGINT)
    assert a.wait(timeout=10) == -signal.SIGINT
    assert status_of(skiff, n) == "running"


def test_two_attached_clients_see_the_same_output(skiff, image, names):
    n = names()
    skiff.ok("run", "-d", "--name", n, image, "sh", "-c",
             'trap "echo bye; exit 6" USR1; sleep 1.5; echo shared; '
             'while :; do sleep 0.1; done')
    clients = [skiff.popen("attach", "--no-stdin", n, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE) for _ in range(2)]
    for c in clients:
        assert c.stdout.readline() == b"shared\n"
    skiff.ok("kill", "-s", "USR1", n)
    for c in clients:
        out, _ = c.communicate(timeout=10)
        assert (c.returncode, out) == (6, b"bye\n")


def test_attach_di_gives_stdin_and_keeps_it_open(skiff, image, names):
    """run -di keeps stdin open (not StdinOnce): what attach sends arrives,
    and attach's end of input does not end the container's."""
    n = names()
    skiff.ok("run", "-di", "--name", n, image, "sh", "-c",
             "while read l; do echo got:$l; done; echo eof")
    a = skiff.popen("attach", n, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        a.stdin.write(b"a\nb\n")
        a.stdin.close()
        assert a.stdout.readline() == b"got:a\n"
        assert a.stdout.readline() == b"got:b\n"
        time.sleep(0.5)
        assert a.poll() is None and status_of(skiff, n) == "running"
    finally:
        a.kill()
        a.wait()
    assert status_of(skiff, n) == "running"
    skiff.ok("stop", "-t", "1", n)
    assert skiff.ok("logs", n).stdout == "got:a\ngot:b\n"


def test_attach_ends_with_the_run_under_a_restart_policy(skiff, image, names):
    n = names()
    skiff.ok("run", "-d", "--name", n, "--restart", "on-failure:1", image, "sh", "-c",
             "sleep 1; echo bye; exit 2")
    r = run_bytes(skiff, "attach", n, stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout) == (2, b"bye\n")


def test_attach_to_a_detached_terminal_without_stdin(skiff, image, names):
    """run -dt (no -i): attach --no-stdin gets the terminal's output (CRLF,
    stderr included) and the status; nothing is read from skiff's stdin."""
    n = names()
    skiff.ok("run", "-dt", "--name", n, image, "sh", "-c",
             "sleep 1; echo hi; echo err >&2; exit 2")
    r = run_bytes(skiff, "attach", "--no-stdin", n, input=b"unread\n")
    assert (r.returncode, r.stdout, r.stderr) == (2, b"hi\r\nerr\r\n", b"")


def test_attach_refusals(skiff, image, names):
    n = names()
    skiff.ok("run", "--name", n, image, "true")
    r = skiff.run("attach", n, input="")
    assert r.returncode == 1
    assert r.stderr == "skiff: You cannot attach to a stopped container, start it first\n"
    r = skiff.run("attach", "nosuch")
    assert r.returncode == 1 and "No such container: nosuch" in r.stderr
    r = skiff.run("attach")
    assert r.returncode == 1 and "requires exactly 1 argument" in r.stderr
    t = names()
    skiff.ok("run", "-dit", "--name", t, image, "sh")
    r = skiff.run("attach", t, input="")
    assert (r.returncode, r.stderr) == (1, "skiff: the input device is not a TTY\n")
    r = skiff.run("attach", "--detach-keys=foo", "--no-stdin", t, timeout=10)
    assert r.returncode == 1 and "Invalid detach keys (foo) provided" in r.stderr


def test_attach_to_a_foreground_container_says_why_not(skiff, image, names):
    """A container whose parent is a foreground `skiff run` has no monitor
    to attach to (skiff's difference from docker, see DOCKER-DIFFERENCES)."""
    n = names()
    fg = skiff.popen("run", "--name", n, image, "sh", "-c", "echo up; sleep 20",
                     stdout=subprocess.PIPE)
    try:
        assert fg.stdout.readline() == b"up\n"
        r = skiff.run("attach", "--no-stdin", n)
        assert r.returncode == 1
        assert "runs in the foreground of the `skiff run` that started it" in r.stderr
    finally:
        fg.kill()
        fg.wait()


def test_attach_stdio_of_the_container_are_its_own(skiff, image, names):
    """Under a monitor the container's stdio are its own pipes (or pty),
    never a descriptor of the attached client."""
    n = names()
    skiff.ok("run", "-di", "--name", n, image, "sh", "-c",
             "read x; for f in 0 1 2; do readlink /proc/self/fd/$f; done")
    r = run_bytes(skiff, "attach", n, input=b"go\n", timeout=10)
    assert r.returncode == 0
    links = r.stdout.decode().split()
    assert len(links) == 3 and all(l.startswith("pipe:[") for l in links), links


# -- terminals: run -it, detach keys, reattach --------------------------------

def test_run_it_detaches_and_attach_reaches_it_again(skiff, image, names, ptys):
    """docker run -it, ctrl-p ctrl-q: skiff returns 0 quietly and the
    container runs on; attach shows the prompt again (docker's resize
    nudge), detaches with "read escape sequence" and 1, and at last
    returns the container's status."""
    n = names()
    t = ptys(skiff, "run", "-it", "--name", n, image, "sh")
    t.expect(rb"/ # ")
    t.send(b"echo foo\n")
    t.expect(rb"foo\r\n")
    t.send(CTRL_P_Q)
    assert t.wait() == 0
    assert b"read escape sequence" not in t.seen
    assert status_of(skiff, n) == "running"

    t = ptys(skiff, "attach", n)
    t.expect(rb"/ # ")  # redrawn without a key typed
    t.send(b"echo bar\n")
    t.expect(rb"bar\r\n")
    t.send(CTRL_P_Q)
    assert t.wait() == 1
    assert t.seen.endswith(b"read escape sequence\r\n")
    assert status_of(skiff, n) == "running"

    t = ptys(skiff, "attach", n)
    t.expect(rb"/ # ")
    t.send(b"exit 7\n")
    assert t.wait() == 7
    assert state(skiff, n)["ExitCode"] == 7
    # the whole session is in the log, as docker's
    assert b"echo foo\r\nfoo\r\n" in run_bytes(skiff, "logs", n).stdout


def test_run_it_rm_is_gone_when_run_returns(skiff, image, ptys):
    n = name()
    t = ptys(skiff, "run", "-it", "--rm", "--name", n, image, "sh")
    t.expect(rb"/ # ")
    t.send(b"exit 3\n")
    assert t.wait() == 3
    assert skiff.run("inspect", n).returncode != 0


def test_run_it_gets_the_terminal_size_and_follows_it(skiff, image, names, ptys):
    n = names()
    t = ptys(skiff, "run", "-it", "--name", n, image, "sh", rows=30, cols=90)
    t.expect(rb"/ # ")
    t.send(b"stty size\n")
    t.expect(rb"30 90\r\n")
    fcntl.ioctl(t.master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 77, 0, 0))
    os.killpg(t.proc.pid, signal.SIGWINCH)
    time.sleep(0.3)
    t.send(b"stty size\n")
    t.expect(rb"33 77\r\n")
    t.send(b"exit\n")
    assert t.wait() == 0


def test_start_ai_detach_and_attach_from_another_size(skiff, image, names, ptys):
    n = names()
    skiff.ok("run", "-dit", "--name", n, image, "sh")
    t = ptys(skiff, "start", "-ai", n)  # running already: attaches
    t.send(b"echo x\n")
    # the shell's answer, not the terminal's echo before skiff made it raw
    t.expect(rb"\r\nx\r\n")
    t.send(CTRL_P_Q)
    assert t.wait() == 0
    t = ptys(skiff, "attach", n, rows=20, cols=60)
    t.expect(rb"/ # ")
    t.send(b"stty size; exit 4\n")
    t.expect(rb"20 60\r\n")
    assert t.wait() == 4


def test_killed_run_it_leaves_the_container_running(skiff, image, names, ptys):
    """A `run -it` whose terminal goes (SIGHUP) or that is killed: docker's
    container runs on, under its monitor, and can be attached."""
    n = names()
    t = ptys(skiff, "run", "-it", "--name", n, image, "sh")
    t.expect(rb"/ # ")
    t.proc.send_signal(signal.SIGKILL)
    t.wait()
    assert status_of(skiff, n) == "running"
    t = ptys(skiff, "attach", n)
    t.expect(rb"/ # ")
    t.proc.send_signal(signal.SIGHUP)
    assert t.wait() == -signal.SIGHUP
    assert status_of(skiff, n) == "running"


@pytest.mark.parametrize("where", ["flag", "docker-config", "skiff-config"])
def test_detach_keys_can_be_changed(skiff, image, names, ptys, where):
    """--detach-keys, else "detachKeys" in skiff's config.json, else in
    docker's config.json. The default keys then are plain input, and a
    partial match is given back when the next key does not match."""
    n = names()
    args = ["run", "-it", "--name", n]
    if where == "flag":
        args.append("--detach-keys=ctrl-x,y")
    else:
        path = (os.path.join(skiff.docker_config, "config.json") if where == "docker-config"
                else os.path.join(skiff.home, ".config", "skiff", "config.json"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump({"detachKeys": "ctrl-x,y"}, f)
    t = ptys(skiff, *args, image, "sh")
    t.expect(rb"/ # ")
    t.send(CTRL_P_Q)  # busybox's line editor ignores both
    t.send(b"\x18")
    time.sleep(0.2)
    t.send(b"a\n")  # ^X then a: ^X goes to the shell, a is typed
    t.expect(rb"sh: \S*a: not found")
    assert t.proc.poll() is None
    t.send(b"\x18y")
    assert t.wait() == 0
    assert status_of(skiff, n) == "running"


def test_invalid_detach_keys_are_refused_before_run(skiff, image):
    n = name()
    r = skiff.run("run", "-it", "--detach-keys=ctrl-foo", "--name", n, image, "sh")
    assert r.returncode == 125
    assert "Invalid detach keys (ctrl-foo) provided" in r.stderr
    assert skiff.run("inspect", n).returncode != 0


def test_without_t_the_detach_keys_are_data(skiff, image):
    """docker only looks for the keys on a terminal: with -i alone they
    reach the container as bytes."""
    r = run_bytes(skiff, "run", "--rm", "-i", image, "busybox", "od", "-An", "-c",
                  input=CTRL_P_Q + b"z")
    assert r.returncode == 0
    assert r.stdout.split() == [b"020", b"021", b"z"]
