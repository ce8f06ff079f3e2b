"""skiff run as a process: signals (proxy, --init, 128+N), zombies, a real
pseudo-terminal for -t, and clean-up after skiff itself is killed."""

import glob
import json
import os
import re
import signal
import subprocess

import pytest

import runlib


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def container_pid1(proc):
    """The container's first process as the host sees it (skiff's child)."""
    return runlib.wait_for(lambda: (runlib.children_of(proc.pid) or [None])[0],
                           what="the container to start")


def wait_running(proc, comm):
    """Until a process named comm runs under the container."""
    def found():
        todo = list(runlib.children_of(proc.pid))
        while todo:
            p = todo.pop()
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() == comm:
                        return p
                todo += runlib.children_of(p)
            except FileNotFoundError:
                pass
        return None
    return runlib.wait_for(found, what=f"{comm} to run")


def test_exit_after_signal_is_128_plus_n(skiff, image):
    proc = skiff.popen("run", "--rm", image, "sleep", "100")
    try:
        wait_running(proc, "sleep")
        os.kill(container_pid1(proc), signal.SIGKILL)
        assert proc.wait(timeout=10) == 128 + signal.SIGKILL
    finally:
        proc.kill()


def test_sig_proxy_forwards_to_pid_1(skiff, image):
    runlib.assert_usr1_forwarded(skiff.cmd("run", "--rm", image, "/bin/sh", "-c",
                                           runlib.USR1_TRAP), skiff.env)


def test_init_forwards_sigterm_and_exits_with_childs_status(skiff, image):
    proc = skiff.popen("run", "--rm", "--init", image, "sleep", "100")
    try:
        wait_running(proc, "sleep")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    finally:
        proc.kill()


def test_init_is_pid_1_and_reaps_zombies(skiff, image):
    # the inner sh leaves an orphan that re-parents to pid 1 and exits there
    r = skiff.ok("run", "--rm", "--init", image, "/bin/sh", "-c",
                 'echo $$; sh -c "sleep 0.1 &"; sleep 0.5; ps -o pid,stat,comm')
    lines = r.stdout.splitlines()
    assert lines[0] == "2"
    stats = [l.split()[1] for l in lines[2:]]
    assert "Z" not in "".join(stats), r.stdout


def test_init_relays_exit_code(skiff, image):
    assert skiff.run("run", "--rm", "--init", image, "/bin/sh", "-c", "exit 9").returncode == 9
    r = skiff.fails("run", "--rm", "--init", image, "nosuchcmd", code=127)
    assert "executable file not found" in r.stderr


def test_stdin_is_null_without_i_and_open_with_i(skiff, image):
    assert skiff.ok("run", "--rm", image, "cat", input="data").stdout == ""
    assert skiff.ok("run", "--rm", "-i", image, "cat", input="data").stdout == "data"




def test_tty_through_a_real_pseudo_terminal(skiff, image):
    master, slave = os.openpty()
    proc = subprocess.Popen(skiff.cmd("run", "--rm", "-it", image, "sh"), env=skiff.env,
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        os.write(master, b"tty; echo $((6*7))\n")
        out = runlib.read_until(master, rb"\n42\r?\n")
        assert b"/dev/pts/0" in out, out
        assert re.search(rb"\n42\r?\n", out), out
        os.write(master, b"exit 5\n")
        assert proc.wait(timeout=10) == 5
    finally:
        proc.kill()
        os.close(master)


@pytest.mark.parametrize("rm", [True, False])
def test_kill_9_of_skiff_leaves_nothing_mounted_and_next_run_cleans(skiff, image, rm):
    proc = skiff.popen("run", *(["--rm"] if rm else []), image, "sleep", "100")
    sleeper = wait_running(proc, "sleep")
    assert runlib.host_mount_lines_mentioning(skiff.root) == []
    proc.kill()
    proc.wait()
    # the container dies with its skiff (parent-death signal)
    runlib.wait_for(lambda: not os.path.exists(f"/proc/{sleeper}"), what="container exit")
    assert runlib.host_mount_lines_mentioning(skiff.root) == []
    cdir = os.path.join(skiff.root, "containers")
    ids = lambda: [d for d in os.listdir(cdir) if re.fullmatch(r"[0-9a-f]{64}", d)]
    assert len(ids()) == 1
    left = ids()
    skiff.ok("run", "--rm", image, "true")
    # the next skiff also removed the cgroup the killed one could not
    assert glob.glob(f"/sys/fs/cgroup/*/skiff/{left[0]}") == []
    if rm:
        assert ids() == []
    else:
        # kept, as docker keeps stopped containers, and recorded as dead
        assert ids() == left
        with open(os.path.join(cdir, left[0], "state.json")) as f:
            state = json.load(f)
        assert state["status"] == "exited" and state["exit_code"] == 255
        assert "died" in state["error"]
