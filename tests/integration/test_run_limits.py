"""skiff run resource limits (issue 4): one cgroup per container, --pids-limit
against a fork bomb, --memory and the OOM killer, --memory-swap, --cpus,
--cpu-shares, --cpuset-cpus, --ulimit, bad values, and the cgroup and every
process in it gone once the container ends. The cgroup files are read from
the host while the container runs; the layout is skiff's
<hierarchy>/skiff/<container-id> (v2, v1 or hybrid)."""

import os
import resource
import subprocess
import time

import pytest

import runlib
from regkit import error_line
from seccomp_helpers import (Cgroups, cmdline, container_id, container_state, find_key,
                             pids_in_container, running, store_containers, unique_name)

MiB = 1024 * 1024


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


@pytest.fixture(scope="module")
def cg():
    return Cgroups()


def run_sh(skiff, image, script, *flags):
    return skiff.ok("run", "--rm", *flags, image, "/bin/sh", "-c", script)


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def pids_events_max(cg, cid):
    for line in cg.read(cid, "pids", "pids.events").splitlines():
        key, value = line.split()
        if key == "max":
            return int(value)
    return 0


# --- pids ------------------------------------------------------------------

def test_fork_bomb_is_contained_and_the_host_stays_responsive(skiff, image, cg):
    name = unique_name("bomb")
    # The bomb waits for a line on stdin, so that it is released only once the
    # limit is seen in place: an unlimited bomb would take the host down.
    # It lives until the test kills it: a loaded host may need a while to
    # fill pids.max, and the measurement must happen while the bomb runs.
    script = "echo ready; read go; f() { f | f & }; f; exec sleep 60"
    proc = skiff.popen("run", "-i", "--name", name, "--pids-limit", "100", image,
                       "/bin/sh", "-c", script, stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        cid = container_id(skiff, name)
        assert cg.read(cid, "pids", "pids.max") == "100"
        assert pids_in_container(cid), "the container's shell is not in its cgroup"
        proc.stdin.write("go\n")
        proc.stdin.close()

        wait_until(lambda: pids_events_max(cg, cid) > 0, 20, "the bomb to hit pids.max")
        spawn_times, peak = [], 0
        for _ in range(10):
            t0 = time.monotonic()
            subprocess.run(["/bin/true"], check=True, timeout=10)
            spawn_times.append(time.monotonic() - t0)
            peak = max(peak, int(cg.read(cid, "pids", "pids.current")))
            time.sleep(0.05)
        assert proc.poll() is None, "the bomb ended before it was measured"
    finally:
        if proc.poll() is None:
            skiff.run("kill", name)
            proc.wait(timeout=30)
    assert max(spawn_times) < 1.0, f"host spawn of /bin/true took {spawn_times}"
    assert 0 < peak <= 100, peak
    assert cg.leftovers(cid) == []
    assert pids_in_container(cid) == []


# --- memory ----------------------------------------------------------------

def dd(size):
    """A process that allocates and touches `size` bytes (one dd buffer)."""
    return ["/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", f"bs={size}", "count=1"]


def test_memory_hog_is_oom_killed_with_137(skiff, image, cg):
    name = unique_name("hog")
    r = skiff.run("run", "--name", name, "--memory", "32m", image, *dd("128M"))
    assert r.returncode == 137, r.stderr
    cid = container_id(skiff, name)
    assert find_key(container_state(skiff, cid), "oom_killed") is True
    assert cg.leftovers(cid) == []


def test_process_within_the_memory_limit_is_not_killed(skiff, image):
    name = unique_name("fit")
    r = skiff.run("run", "--name", name, "-m", "32m", image, *dd("8M"))
    assert r.returncode == 0, r.stderr
    assert find_key(container_state(skiff, container_id(skiff, name)), "oom_killed") is False


@pytest.mark.parametrize("flags, memory, total", [
    (["--memory", "32m"], 32 * MiB, 64 * MiB),  # docker: swap up to the memory limit
    (["--memory", "32m", "--memory-swap", "48m"], 32 * MiB, 48 * MiB),
    (["-m", "32m", "--memory-swap", "32m"], 32 * MiB, 32 * MiB),  # no swap
    (["-m", "32m", "--memory-swap", "-1"], 32 * MiB, None),  # unlimited swap
])
def test_memory_swap_semantics(skiff, image, cg, flags, memory, total):
    with running(skiff, image, *flags) as c:
        assert int(cg.read(c.id, "memory", "memory.limit_in_bytes", "memory.max")) == memory
        path = cg.path(c.id, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max")
        if not os.path.exists(path):
            pytest.skip("swap accounting is off on this host")
        with open(path) as f:
            raw = f.read().strip()
        if cg.mode == "v2":
            got = None if raw == "max" else int(raw) + memory
        else:
            got = None if int(raw) >= 2**62 else int(raw)
        assert got == total, raw
        assert c.stop() == 0


# --- cpu -------------------------------------------------------------------

def busy_shares(cg, ids, seconds=2.0):
    """Share of one CPU each container used over the same `seconds`."""
    time.sleep(0.3)
    u0, t0 = [cg.cpu_usage_ns(i) for i in ids], time.monotonic()
    time.sleep(seconds)
    u1, t1 = [cg.cpu_usage_ns(i) for i in ids], time.monotonic()
    return [(b - a) / 1e9 / (t1 - t0) for a, b in zip(u0, u1)]


def test_cpus_quota_is_observed(skiff, image, cg):
    loop = "while :; do :; done &"
    # A limited and an unlimited busy loop side by side, measured over the
    # same window: the unlimited one says how much CPU this (shared, noisy,
    # 2-core) host would have given the limited one without its quota.
    with running(skiff, image, "--cpus", "0.5", before=loop) as lim, \
            running(skiff, image, before=loop) as free:
        if cg.mode == "v2":
            assert cg.read(lim.id, "cpu", "", "cpu.max") == "50000 100000"
        else:
            assert cg.read(lim.id, "cpu", "cpu.cfs_quota_us") == "50000"
            assert cg.read(lim.id, "cpu", "cpu.cfs_period_us") == "100000"
        limited, unlimited = busy_shares(cg, [lim.id, free.id])
        stat = dict(l.split() for l in cg.read(lim.id, "cpu", "cpu.stat").splitlines())
    assert limited <= 0.65, f"--cpus 0.5 got {limited:.2f} of a CPU"
    if unlimited < 0.7:
        pytest.skip(f"host too busy to observe a 0.5 CPU quota: an unlimited busy loop "
                    f"got {unlimited:.2f} of a CPU (the limited one {limited:.2f})")
    assert limited >= 0.3, f"--cpus 0.5 got {limited:.2f} of a CPU, unlimited {unlimited:.2f}"
    assert int(stat["nr_throttled"]) > 0, stat


def test_small_cpu_quota_is_observed_even_on_a_busy_host(skiff, image, cg):
    # 0.05 of a CPU is less than a busy host still leaves a container, so the
    # throttling shows when the 0.5 above cannot be told from starvation.
    loop = "while :; do :; done &"
    with running(skiff, image, "--cpus", "0.05", before=loop) as lim, \
            running(skiff, image, before=loop) as free:
        limited, unlimited = busy_shares(cg, [lim.id, free.id])
        stat = dict(l.split() for l in cg.read(lim.id, "cpu", "cpu.stat").splitlines())
    assert limited <= 0.08, f"--cpus 0.05 got {limited:.3f} of a CPU"
    if unlimited < 0.15:
        pytest.skip(f"host too busy: an unlimited busy loop got {unlimited:.2f} of a CPU")
    assert limited >= 0.02, f"--cpus 0.05 got {limited:.3f}, unlimited {unlimited:.2f}"
    assert int(stat["nr_throttled"]) > 0, stat


@pytest.mark.parametrize("flag, shares, weight", [
    ("--cpu-shares", 512, 20), ("-c", 2048, 79)])
def test_cpu_shares_are_written(skiff, image, cg, flag, shares, weight):
    with running(skiff, image, flag, str(shares)) as c:
        if cg.mode == "v2":
            assert cg.read(c.id, "cpu", "", "cpu.weight") == str(weight)
        else:
            assert cg.read(c.id, "cpu", "cpu.shares") == str(shares)


def test_cpuset_cpus_pins_the_container(skiff, image, cg):
    last = str(os.cpu_count() - 1)
    with running(skiff, image, "--cpuset-cpus", last) as c:
        assert cg.read(c.id, "cpuset", "cpuset.cpus") == last
        assert c.stop() == 0
    assert not os.path.exists(cg.path(c.id, "cpuset", ""))
    out = run_sh(skiff, image, "grep Cpus_allowed_list /proc/self/status; /bin/busybox nproc",
                 "--cpuset-cpus", last).stdout.split()
    assert out == ["Cpus_allowed_list:", last, "1"]


# --- ulimit ----------------------------------------------------------------

def limits_line(text, label):
    line = next(l for l in text.splitlines() if l.startswith(label))
    return line[len(label):].split()[:2]


def test_ulimit_nofile_soft_and_hard(skiff, image):
    out = run_sh(skiff, image, "ulimit -n; ulimit -Hn; cat /proc/self/limits",
                 "--ulimit", "nofile=1024:2048").stdout
    assert out.splitlines()[:2] == ["1024", "2048"]
    assert limits_line(out, "Max open files") == ["1024", "2048"]


def test_ulimit_single_value_sets_both(skiff, image):
    out = run_sh(skiff, image, "cat /proc/self/limits", "--ulimit", "nproc=500").stdout
    assert limits_line(out, "Max processes") == ["500", "500"]


def _has_cap_sys_resource():
    with open("/proc/self/status") as f:
        eff = next(l for l in f if l.startswith("CapEff:")).split()[1]
    return bool(int(eff, 16) & (1 << 24))


@pytest.mark.skipif(_has_cap_sys_resource(), reason="skiff could raise the hard limit here")
def test_ulimit_hard_limit_above_ours_is_clamped_with_a_warning(skiff, image):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files")
    r = run_sh(skiff, image, "ulimit -n; ulimit -Hn", "--ulimit", f"nofile=1024:{hard + 30000}")
    assert r.stdout.split() == ["1024", str(hard)]
    warnings = [l for l in r.stderr.splitlines() if l.startswith("skiff: warning:")]
    assert len(warnings) == 1, r.stderr


@pytest.mark.parametrize("value", ["nofile", "nofile=abc", "bogus=1:2", "nofile=2048:1024",
                                   "nofile=1:2:3", "=5"])
def test_ulimit_bad_syntax_is_a_usage_error(skiff, image, value):
    r = skiff.fails("run", "--rm", "--ulimit", value, image, "/bin/true")
    line = error_line(r)
    assert "unknown flag" not in line
    assert "--help" in r.stderr or "soft" in line, r.stderr
    assert store_containers(skiff) == []


# --- bad values ------------------------------------------------------------

def skiff_cgroups_made_between(t0, t1):
    """Container cgroup directories created between t0 and t1 (time.time())
    that hold no process. Other skiffs may run on this host at the same time,
    hence the time window."""
    out = []
    for base in (f"/sys/fs/cgroup/{c}/skiff" for c in
                 ("", "memory", "cpu", "cpuacct", "pids", "freezer", "cpuset", "unified")):
        if not os.path.isdir(base):
            continue
        for d in os.listdir(base):
            full = os.path.join(base, d)
            try:
                made = os.stat(full).st_ctime
                with open(full + "/cgroup.procs") as f:
                    busy = bool(f.read().strip())
            except OSError:
                continue
            if t0 - 0.05 <= made <= t1 + 0.05 and not busy:
                out.append(full)
    return out


@pytest.mark.parametrize("flags", [
    ["--memory", "abc"], ["--memory", "-5m"], ["--cpus", "-1"], ["--cpus", "abc"],
    ["--cap-add", "NOPE"], ["--cap-drop", "NOPE"],
    ["--memory", "32m", "--memory-swap", "16m"], ["--pids-limit", "x"],
    ["--cpu-shares", "abc"], ["--cpuset-cpus", "abc"], ["--security-opt", "bogus=1"],
    ["--security-opt", "no-new-privileges=maybe"],
])
def test_bad_values_fail_with_125_and_leave_nothing(skiff, image, flags):
    t0 = time.time()
    r = skiff.fails("run", *flags, image, "/bin/true")
    t1 = time.time()
    assert "unknown flag" not in error_line(r)
    assert r.stdout == ""
    assert store_containers(skiff) == []
    time.sleep(0.5)  # what another skiff is just making or removing is gone by now
    assert skiff_cgroups_made_between(t0, t1) == []


# --- the end of a container ------------------------------------------------

@pytest.mark.parametrize("rm", [False, True], ids=["kept", "rm"])
@pytest.mark.parametrize("flags", [[], ["--memory", "64m", "--pids-limit", "50", "--cpus", "1"]],
                         ids=["no-limits", "limits"])
def test_cgroup_exists_while_running_and_is_removed_after(skiff, image, cg, rm, flags):
    with running(skiff, image, *flags, rm=rm) as c:
        for d in cg.dirs(c.id):
            with open(d + "/cgroup.procs") as f:
                assert f.read().split(), f"{d} holds no process"
        assert c.stop() == 0
    assert cg.leftovers(c.id) == []
    assert pids_in_container(c.id) == []
    if rm:
        assert store_containers(skiff) == []


def test_background_processes_die_with_the_container(skiff, image, cg):
    with running(skiff, image, before="sleep 1000 & sleep 1001 & ") as c:
        def sleeps_started():  # forked before 'ready', but exec may come later
            found = [p for p in pids_in_container(c.id) if cmdline(p)[:1] == ["sleep"]]
            return found if len(found) == 2 else None
        sleeps = wait_until(sleeps_started, 5, "the two sleeps to start")
        assert c.stop() == 0
    for pid in sleeps:
        assert cmdline(pid)[:1] != ["sleep"], f"sleep (pid {pid}) survived its container"
    assert pids_in_container(c.id) == []
    assert cg.leftovers(c.id) == []
