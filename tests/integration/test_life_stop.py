"""skiff stop, kill and wait against real containers: the grace period and
SIGKILL after it, signals by name delivered to the container's first process,
docker's errors for containers that are not running, and the real exit code
that wait prints."""

import json
import os
import signal
import subprocess
import time

import pytest

import runlib


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def state_of(skiff, name):
    link = os.path.join(skiff.root, "containers", "names", name)
    try:
        cid = os.path.basename(os.readlink(link))
        with open(os.path.join(skiff.root, "containers", cid, "state.json")) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


class Running:
    """A container running in the foreground (skiff run --name N) whose
    skiff process is reaped at the end of the test."""

    def __init__(self, skiff, image, name, *cmd, stdout=subprocess.DEVNULL):
        self.skiff, self.name = skiff, name
        self.proc = skiff.popen("run", "--name", name, image, *cmd, stdout=stdout,
                                stderr=subprocess.PIPE, text=True)
        runlib.wait_for(self._running, what=f"container {name} running")

    def _running(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"skiff run exited {self.proc.returncode}: "
                                 f"{self.proc.stderr.read()}")
        st = state_of(self.skiff, self.name)
        return st is not None and st.get("status") == "running"

    def state(self):
        return state_of(self.skiff, self.name)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def containers():
    started = []
    yield started
    for c in started:
        c.close()


def start(containers, *args, **kw):
    c = Running(*args, **kw)
    containers.append(c)
    return c


# sh as PID 1 of a PID namespace gets no signal it has no handler for; these
# scripts install one (or explicitly ignore TERM) so the test says what it means.
TRAPS_TERM = "trap '' TERM; echo ready; while :; do sleep 0.1; done"
EXITS_ON_TERM = "trap 'exit 0' TERM; echo ready; sleep 1000 & wait"


def test_stop_kills_a_container_that_ignores_sigterm_after_the_timeout(skiff, image,
                                                                        containers):
    c = start(containers, skiff, image, "stubborn", "sh", "-c", TRAPS_TERM)
    t0 = time.monotonic()
    r = skiff.ok("stop", "-t", "1", "stubborn")
    took = time.monotonic() - t0
    assert r.stdout == "stubborn\n"
    assert 1.0 <= took < 3.0, took
    st = c.state()
    assert st["status"] == "exited"
    assert st["exit_code"] == 137
    assert st["stopped_by_user"] is True
    assert c.proc.wait(timeout=5) == 137


def test_stop_of_a_well_behaved_container_is_fast(skiff, image, containers):
    c = start(containers, skiff, image, "polite", "sh", "-c", EXITS_ON_TERM)
    t0 = time.monotonic()
    skiff.ok("stop", "polite")
    assert time.monotonic() - t0 < 2.0
    st = c.state()
    assert st["status"] == "exited"
    assert st["exit_code"] in (0, 143)
    assert st["stopped_by_user"] is True


def test_stop_of_pid1_without_handler_needs_the_kill(skiff, image, containers):
    """A bare `sleep` as PID 1 never sees SIGTERM (the kernel drops signals a
    namespace's init has no handler for), so stop must fall back to SIGKILL."""
    c = start(containers, skiff, image, "sleeper", "sleep", "1000")
    t0 = time.monotonic()
    skiff.ok("stop", "--time", "1", "sleeper")
    assert time.monotonic() - t0 >= 1.0
    assert c.state()["exit_code"] == 137


def test_stop_with_signal_option(skiff, image, containers):
    c = start(containers, skiff, image, "usr", "sh", "-c",
              "trap 'exit 3' USR2; trap '' TERM; sleep 1000 & wait")
    t0 = time.monotonic()
    skiff.ok("stop", "-s", "USR2", "-t", "5", "usr")
    assert time.monotonic() - t0 < 3.0
    assert c.state()["exit_code"] == 3


def test_stop_of_an_exited_container_is_a_no_op(skiff, image):
    skiff.ok("run", "--name", "done", image, "true")
    before = state_of(skiff, "done")
    r = skiff.ok("stop", "done")
    assert r.stdout == "done\n"
    assert state_of(skiff, "done") == before


def test_stop_of_an_unknown_container(skiff, image):
    r = skiff.run("stop", "nosuch")
    assert r.returncode == 1
    assert r.stderr == "skiff: No such container: nosuch\n"  # docker's words, skiff's prefix


def test_kill_delivers_the_named_signal(skiff, image, containers):
    c = start(containers, skiff, image, "trapper", "sh", "-c",
              "trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done",
              stdout=subprocess.PIPE)
    assert c.proc.stdout.readline() == "ready\n"
    r = skiff.ok("kill", "-s", "USR1", "trapper")
    assert r.stdout == "trapper\n"
    assert c.proc.stdout.readline() == "got-usr1\n"
    assert c.state()["status"] == "running"
    assert c.state()["stopped_by_user"] is False
    skiff.ok("kill", "-s", "SIGUSR1", "trapper")
    assert c.proc.stdout.readline() == "got-usr1\n"
    skiff.ok("kill", "--signal", str(int(signal.SIGUSR1)), "trapper")
    assert c.proc.stdout.readline() == "got-usr1\n"


def test_kill_defaults_to_sigkill_and_marks_stopped(skiff, image, containers):
    c = start(containers, skiff, image, "victim", "sleep", "1000")
    skiff.ok("kill", "victim")
    assert c.proc.wait(timeout=5) == 137
    st = runlib.wait_for(lambda: (c.state() or {}).get("status") == "exited" and c.state(),
                         what="exit recorded")
    assert st["exit_code"] == 137
    assert st["stopped_by_user"] is True


def test_kill_of_a_stopped_container_fails(skiff, image):
    skiff.ok("run", "--name", "gone", image, "true")
    r = skiff.run("kill", "gone")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.startswith("skiff: Cannot kill container: gone: container ")
    assert "is not running" in r.stderr


def test_kill_rejects_an_unknown_signal(skiff, image, containers):
    start(containers, skiff, image, "k", "sleep", "1000")
    r = skiff.run("kill", "-s", "SIGNOPE", "k")
    assert r.returncode == 1  # docker's status for a bad signal
    assert r.stderr == "skiff: Invalid signal: SIGNOPE\n"


def test_wait_prints_the_exit_code(skiff, image, containers):
    start(containers, skiff, image, "seven", "sh", "-c", "sleep 0.5; exit 7")
    start(containers, skiff, image, "zero", "sh", "-c", "sleep 0.2")
    t0 = time.monotonic()
    r = skiff.ok("wait", "seven", "zero")
    assert r.stdout == "7\n0\n"
    assert time.monotonic() - t0 >= 0.3


def test_wait_on_an_exited_container_returns_at_once(skiff, image):
    r = skiff.run("run", "--name", "e", image, "sh", "-c", "exit 7")
    assert r.returncode == 7
    assert skiff.ok("wait", "e").stdout == "7\n"


def test_wait_returns_when_the_container_is_killed(skiff, image, containers):
    start(containers, skiff, image, "w", "sleep", "1000")
    waiter = skiff.popen("wait", "w", stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    assert waiter.poll() is None
    skiff.ok("kill", "w")
    out, _ = waiter.communicate(timeout=10)
    assert out == "137\n"
    assert waiter.returncode == 0


# --- detached containers (their monitor records the exit) -------------------

def run_d(skiff, image, name, script, *opts):
    r = skiff.ok("run", "-d", "--name", name, *opts, image, "sh", "-c", script)
    runlib.wait_for(lambda: (state_of(skiff, name) or {}).get("status") == "running",
                    what=f"{name} running")
    return r.stdout.strip()


def test_stop_detached_container_ignoring_sigterm(skiff, image):
    run_d(skiff, image, "dstub", TRAPS_TERM)
    t0 = time.monotonic()
    assert skiff.ok("stop", "-t", "1", "dstub").stdout == "dstub\n"
    took = time.monotonic() - t0
    assert 1.0 <= took < 3.0, took
    st = state_of(skiff, "dstub")
    assert (st["status"], st["exit_code"], st["stopped_by_user"]) == ("exited", 137, True)
    assert skiff.ok("wait", "dstub").stdout == "137\n"


def test_stopped_container_is_not_restarted(skiff, image):
    run_d(skiff, image, "always", EXITS_ON_TERM, "--restart", "always")
    skiff.ok("stop", "always")
    time.sleep(1.5)
    st = state_of(skiff, "always")
    assert st["status"] == "exited"
    assert st["restart_count"] == 0


def test_stop_of_a_restarting_container(skiff, image):
    skiff.ok("run", "-d", "--name", "flap", "--restart", "always", image, "sh", "-c",
             "sleep 0.1; exit 1")
    runlib.wait_for(lambda: (state_of(skiff, "flap") or {}).get("restart_count", 0) >= 1,
                    what="a restart")
    skiff.ok("stop", "-t", "1", "flap")
    st = state_of(skiff, "flap")
    assert st["status"] == "exited"
    count = st["restart_count"]
    time.sleep(1.5)
    st = state_of(skiff, "flap")
    assert (st["status"], st["restart_count"]) == ("exited", count)


def test_wait_on_a_detached_container(skiff, image):
    run_d(skiff, image, "dw", "sleep 0.5; exit 42")
    assert skiff.ok("wait", "dw").stdout == "42\n"
