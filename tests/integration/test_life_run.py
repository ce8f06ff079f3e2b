"""skiff run -d and the per-container monitor: detaching, start failures
reported by the CLI, the json-file log, restart policies with docker's
back-off, start/restart of existing containers, a killed monitor, and many
detached containers started at once."""

import glob
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import runlib


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


@pytest.fixture(autouse=True)
def cleanup(skiff):
    yield
    # no detached container of a test may outlive it
    cdir = os.path.join(skiff.root, "containers")
    if os.path.isdir(cdir):
        ids = [d for d in os.listdir(cdir) if re.fullmatch(r"[0-9a-f]{64}", d)]
        if ids:
            skiff.run("rm", "-f", *ids)


def cid_of(skiff, name_or_id):
    link = os.path.join(skiff.root, "containers", "names", name_or_id)
    if os.path.islink(link):
        return os.readlink(link)
    return name_or_id


def state(skiff, name):
    with open(os.path.join(skiff.root, "containers", cid_of(skiff, name), "state.json")) as f:
        return json.load(f)


def log_records(skiff, name):
    path = os.path.join(skiff.root, "containers", cid_of(skiff, name), "ctr.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def wait_state(skiff, name, pred, what, timeout=10):
    runlib.wait_for(lambda: pred(state(skiff, name)), what=what, timeout=timeout)
    return state(skiff, name)


def alive(pid):
    """pid exists and is not a zombie (the init of these VMs reaps lazily)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_detach_prints_the_id_and_returns_while_it_runs(skiff, image):
    t0 = time.monotonic()
    r = skiff.ok("run", "-d", "--name", "bg", image, "sleep", "30")
    assert time.monotonic() - t0 < 5
    cid = r.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), r.stdout
    assert r.stderr == ""
    st = state(skiff, "bg")
    assert st["status"] == "running" and alive(st["pid"])
    # the monitor is the container's parent and is not the (gone) CLI
    with open(f"/proc/{st['pid']}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    assert ppid == st["monitor_pid"]
    # detached from the caller's session: its own session
    assert os.getsid(st["monitor_pid"]) == st["monitor_pid"]


def test_monitor_outlives_the_shell_that_started_it(skiff, image):
    # a shell that starts the container and exits at once
    subprocess.run(["/bin/sh", "-c", " ".join([skiff.binary, "--root", str(skiff.root),
                                               "run", "-d", "--name", "orphan", image,
                                               "sleep", "30", ">/dev/null"])],
                   check=True, env=skiff.env, timeout=30)
    time.sleep(0.3)
    st = state(skiff, "orphan")
    assert st["status"] == "running" and alive(st["monitor_pid"]) and alive(st["pid"])


def test_monitor_holds_no_descriptor_of_the_caller(skiff, image, tmp_path):
    held = open(tmp_path / "held", "w")
    r = subprocess.run([skiff.binary, "--root", str(skiff.root), "run", "-d", "--name", "fds",
                        image, "sleep", "30"], pass_fds=(held.fileno(),), env=skiff.env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    mon = state(skiff, "fds")["monitor_pid"]
    targets = []
    for fd in os.listdir(f"/proc/{mon}/fd"):
        try:  # the monitor still opens and closes its own (signalfd, pipes)
            targets.append(os.readlink(f"/proc/{mon}/fd/{fd}"))
        except FileNotFoundError:
            pass
    assert str(tmp_path / "held") not in targets
    held.close()


def test_output_goes_to_the_json_log(skiff, image):
    skiff.ok("run", "-d", "--name", "chatty", image, "/bin/sh", "-c",
             "echo out; echo err >&2; printf partial")
    wait_state(skiff, "chatty", lambda s: s["status"] == "exited", "exit")
    recs = log_records(skiff, "chatty")
    assert [(r["log"], r["stream"]) for r in recs] == [
        ("out\n", "stdout"), ("err\n", "stderr"), ("partial", "stdout")]
    for r in recs:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", r["time"]), r


def test_log_driver_none_writes_no_log(skiff, image):
    skiff.ok("run", "-d", "--name", "quiet", "--log-driver", "none", image, "echo", "hi")
    wait_state(skiff, "quiet", lambda s: s["status"] == "exited", "exit")
    assert log_records(skiff, "quiet") == []


def test_start_failure_is_reported_by_run_d(skiff, image):
    r = skiff.fails("run", "-d", "--name", "bad", image, "/no/such/cmd", code=127)
    assert r.stdout == ""
    assert r.stderr.strip().splitlines()[-1].startswith("skiff: exec: \"/no/such/cmd\"")
    st = state(skiff, "bad")
    assert st["status"] == "exited" and st["exit_code"] == 127 and "no/such/cmd" in st["error"]


def test_detached_rm_removes_after_exit(skiff, image):
    cid = skiff.ok("run", "-d", "--rm", image, "/bin/sh", "-c", "sleep 0.2").stdout.strip()
    cdir = os.path.join(skiff.root, "containers", cid)
    runlib.wait_for(lambda: not os.path.exists(cdir), what="removal", timeout=10)


def test_restart_and_rm_conflict(skiff, image):
    r = skiff.fails("run", "-d", "--rm", "--restart", "always", image, "true", code=125)
    assert "Conflicting options: --restart and --rm" in r.stderr


@pytest.mark.parametrize("policy", ["sometimes", "always:3", "on-failure:x"])
def test_bad_restart_policy(skiff, image, policy):
    r = skiff.fails("run", "-d", "--restart", policy, image, "true", code=125)
    assert policy in r.stderr and "See 'skiff run --help'" in r.stderr
    assert not os.path.exists(os.path.join(skiff.root, "containers", "names"))


def test_on_failure_restarts_n_times_with_backoff(skiff, image):
    skiff.ok("run", "-d", "--name", "flaky", "--restart", "on-failure:3", image,
             "/bin/sh", "-c", "echo try; exit 3")
    st = wait_state(skiff, "flaky", lambda s: s["status"] == "exited", "final exit", timeout=15)
    assert st["exit_code"] == 3 and st["restart_count"] == 3
    recs = log_records(skiff, "flaky")
    assert [r["log"] for r in recs] == ["try\n"] * 4
    # docker's back-off: 100 ms, 200 ms, 400 ms between the runs
    times = [r["time"] for r in recs]
    secs = [int(t[17:19]) * 1.0 + int(t[20:29]) / 1e9 + int(t[14:16]) * 60 for t in times]
    gaps = [b - a for a, b in zip(secs, secs[1:])]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39, gaps


def test_on_failure_does_not_restart_a_success(skiff, image):
    skiff.ok("run", "-d", "--name", "fine", "--restart", "on-failure", image, "true")
    st = wait_state(skiff, "fine", lambda s: s["status"] == "exited", "exit")
    time.sleep(0.3)
    st = state(skiff, "fine")
    assert st["status"] == "exited" and st["exit_code"] == 0 and st["restart_count"] == 0


def test_always_restarts_until_stopped(skiff, image):
    skiff.ok("run", "-d", "--name", "loop", "--restart", "always", image,
             "/bin/sh", "-c", "echo up; sleep 0.1")
    wait_state(skiff, "loop", lambda s: s["restart_count"] >= 2, "two restarts")
    skiff.ok("stop", "-t", "1", "loop")
    st = state(skiff, "loop")
    assert st["status"] == "exited" and st["stopped_by_user"]
    count = st["restart_count"]
    time.sleep(1.0)
    st = state(skiff, "loop")
    assert st["status"] == "exited" and st["restart_count"] == count
    runlib.wait_for(lambda: not alive(st["monitor_pid"]), what="the monitor's exit")


def test_policy_no_and_unless_stopped(skiff, image):
    skiff.ok("run", "-d", "--name", "once", image, "/bin/sh", "-c", "exit 1")
    skiff.ok("run", "-d", "--name", "us", "--restart", "unless-stopped", image,
             "/bin/sh", "-c", "exit 1")
    wait_state(skiff, "us", lambda s: s["restart_count"] >= 1, "a restart")
    st = wait_state(skiff, "once", lambda s: s["status"] == "exited", "exit")
    assert st["restart_count"] == 0 and st["exit_code"] == 1


def test_oom_in_a_detached_container_is_recorded(skiff, image):
    skiff.ok("run", "-d", "--name", "hog", "-m", "16m", "--memory-swap", "16m", image,
             "/bin/sh", "-c", "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo $x")
    st = wait_state(skiff, "hog", lambda s: s["status"] == "exited", "exit")
    assert st["exit_code"] == 137 and st["oom_killed"] is True


def test_start_runs_an_exited_container_again_with_its_options(skiff, image):
    r = skiff.run("run", "--name", "again", "-e", "GREETING=hello", image,
                  "/bin/sh", "-c", "echo $GREETING; echo run >> /counter; wc -l < /counter")
    assert r.stdout == "hello\n1\n"
    first = state(skiff, "again")
    assert skiff.ok("start", "again").stdout == "again\n"
    st = wait_state(skiff, "again", lambda s: s["status"] == "exited" and
                    s["started_at"] > first["started_at"], "second exit")
    assert st["exit_code"] == 0
    # same options, and the container's file system kept its changes; the
    # log has the foreground run's lines first (docker's json-file too)
    assert [r["log"] for r in log_records(skiff, "again")] == ["hello\n", "1\n", "hello\n",
                                                              "2\n"]


def test_start_of_a_running_container_is_a_no_op(skiff, image):
    skiff.ok("run", "-d", "--name", "busy", image, "sleep", "30")
    before = state(skiff, "busy")
    assert skiff.ok("start", "busy").stdout == "busy\n"
    after = state(skiff, "busy")
    assert after["pid"] == before["pid"] and after["monitor_pid"] == before["monitor_pid"]


def test_start_unknown_container(skiff, image):
    r = skiff.run("start", "nope")
    assert r.returncode == 1 and "No such container: nope" in r.stderr


def test_restart_gives_a_new_process(skiff, image):
    skiff.ok("run", "-d", "--name", "svc", image, "/bin/sh", "-c",
             "trap 'exit 0' TERM; echo started; while :; do sleep 0.1; done")
    before = state(skiff, "svc")
    t0 = time.monotonic()
    assert skiff.ok("restart", "-t", "5", "svc").stdout == "svc\n"
    assert time.monotonic() - t0 < 4  # it honoured SIGTERM
    after = wait_state(skiff, "svc", lambda s: s["status"] == "running", "running again")
    assert after["pid"] != before["pid"] and alive(after["pid"]) and not alive(before["pid"])
    runlib.wait_for(lambda: [r["log"] for r in log_records(skiff, "svc")].count("started\n") == 2,
                    what="second start in the log")


def test_kill_9_of_the_monitor(skiff, image):
    skiff.ok("run", "-d", "--name", "orphaned", image, "sleep", "60")
    st = state(skiff, "orphaned")
    os.kill(st["monitor_pid"], signal.SIGKILL)
    # the container dies with its monitor (parent-death signal) ...
    runlib.wait_for(lambda: not alive(st["pid"]), what="container death")
    # ... and is reported as exited with the reason, not as running
    r = skiff.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}")
    assert re.search(r"^orphaned Exited \(255\)", r.stdout, re.M), r.stdout
    st = state(skiff, "orphaned")
    assert st["status"] == "exited" and "died" in st["error"]
    # and nothing of it is left in the cgroup tree (the monitor could not
    # remove it: the first skiff to notice the death does)
    cid = cid_of(skiff, "orphaned")
    assert skiff.run("ps", "-q").stdout == ""
    assert glob.glob(f"/sys/fs/cgroup/*/skiff/{cid}") == []
    skiff.ok("rm", "orphaned")
    assert not os.path.exists(os.path.join(skiff.root, "containers", cid))


def test_fifty_concurrent_detached_runs(skiff, image):
    results = [None] * 50

    def start(i):
        results[i] = skiff.run("run", "-d", "--name", f"c{i}", image, "sleep", "30")

    threads = [threading.Thread(target=start, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [(i, r.returncode, r.stderr) for i, r in enumerate(results) if r.returncode != 0]
    assert failed == []
    ids = {r.stdout.strip() for r in results}
    assert len(ids) == 50
    running = skiff.ok("ps", "-q", "--no-trunc").stdout.split()
    assert sorted(running) == sorted(ids)
    for i in range(50):
        assert state(skiff, f"c{i}")["status"] == "running"
    # a name stays unique under concurrency
    r = skiff.run("run", "-d", "--name", "c7", image, "true")
    assert r.returncode == 125 and "already in use" in r.stderr


def test_stop_uses_the_images_stop_signal(skiff, tmp_path):
    img = runlib.install_image(skiff, tmp_path, stop_signal="SIGUSR1")
    skiff.ok("run", "-d", "--name", "sig", img, "/bin/sh", "-c",
             "trap 'exit 42' USR1; trap '' TERM; echo ready; while :; do sleep 0.1; done")
    # run -d returns once the shell runs, not once it has set its traps
    runlib.wait_for(lambda: log_records(skiff, "sig"), what="the traps")
    t0 = time.monotonic()
    skiff.ok("stop", "-t", "5", "sig")
    assert time.monotonic() - t0 < 3  # not the grace period: USR1 ended it
    assert state(skiff, "sig")["exit_code"] == 42


def test_unnamed_containers_get_docker_style_names(skiff, image):
    for _ in range(3):
        skiff.ok("run", "-d", image, "sleep", "30")
    names = skiff.ok("ps", "--format", "{{.Names}}").stdout.split()
    assert len(names) == 3 and len(set(names)) == 3
    assert all(re.fullmatch(r"[a-z]+_[a-z]+\d*", n) for n in names), names
    # and they work like given names
    skiff.ok("rm", "-f", names[0])
    assert names[0] not in skiff.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()
