"""The commands docker users try early (issue 11, item 21): version, info,
create, top, stats, rename, pause/unpause, update, events, system prune and
system df -v. Expected outputs follow what docker 28 (CLI 28.2.2 against the
Debian dockerd on the development machine) printed for the same commands on
the same busybox image, side by side; where skiff differs on purpose the test
says so."""

import json
import os
import platform
import re
import signal
import subprocess
import sys
import time

import pytest

import runlib
from regkit import error_line
from seccomp_helpers import Cgroups

MiB = 1024 * 1024
ID = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


@pytest.fixture(scope="module")
def cg():
    return Cgroups()


@pytest.fixture(autouse=True)
def cleanup(skiff):
    yield
    cdir = os.path.join(skiff.root, "containers")
    if os.path.isdir(cdir):
        ids = [d for d in os.listdir(cdir) if ID.fullmatch(d)]
        if ids:
            skiff.run("unpause", *ids)
            skiff.run("rm", "-f", *ids)


def cid(skiff, name):
    return skiff.ok("inspect", "-f", "{{.Id}}", name).stdout.strip()


def state(skiff, name):
    with open(os.path.join(skiff.root, "containers", cid(skiff, name), "state.json")) as f:
        return json.load(f)


def config(skiff, name):
    with open(os.path.join(skiff.root, "containers", cid(skiff, name), "config.json")) as f:
        return json.load(f)


def sleeper(skiff, image, name, *flags, script="sleep 1000"):
    return skiff.ok("run", "-d", "--name", name, *flags, image, "sh", "-c", script).stdout.strip()


def events(skiff, *args):
    """The recorded events so far, docker's text lines."""
    return skiff.ok("events", "--since", "1h", "--until", "0s", *args).stdout.splitlines()


def actions(skiff, *args):
    return [line.split()[2] for line in events(skiff, *args)]


# --- version / info -----------------------------------------------------------

def test_version_has_docker_layout_and_templates(skiff):
    out = skiff.ok("version").stdout
    own = skiff.ok("--version").stdout.split()[-1]
    assert out.startswith("Client:\n Version:           " + own + "\n")
    assert "\nServer: skiff (no daemon)\n Engine:\n  Version:          " + own in out
    assert f"  Kernel:           {platform.release()}\n" in out
    assert skiff.ok("version", "--format", "{{.Server.Version}} {{.Client.Version}}").stdout \
        == f"{own} {own}\n"
    v = json.loads(skiff.ok("version", "--format", "json").stdout)
    assert v["Client"]["Os"] == "linux" and v["Server"]["KernelVersion"] == platform.release()
    assert [c["Name"] for c in v["Server"]["Components"]] == ["Engine", "skiff-init"]


def meminfo_total():
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1]) * 1024


def test_info_counts_containers_by_state_with_docker_keys(skiff, image):
    sleeper(skiff, image, "up")
    sleeper(skiff, image, "frozen")
    skiff.ok("pause", "frozen")
    skiff.ok("run", "--name", "done", image, "true")
    skiff.ok("create", image, "true")
    info = json.loads(skiff.ok("info", "--format", "{{json .}}").stdout)
    assert (info["Containers"], info["ContainersRunning"], info["ContainersPaused"],
            info["ContainersStopped"]) == (4, 1, 1, 2)
    assert info["Images"] == 1
    assert info["DockerRootDir"] == skiff.root
    assert info["Driver"] == "overlay" and info["CgroupDriver"] == "cgroupfs"
    assert info["CgroupVersion"] == ("2" if Cgroups().mode == "v2" else "1")
    assert info["KernelVersion"] == platform.release()
    assert info["NCPU"] == len(os.sched_getaffinity(0))
    assert info["MemTotal"] == meminfo_total()
    assert "name=seccomp,profile=builtin" in info["SecurityOptions"]
    assert dict(info["DriverStatus"])["Backing Filesystem"]
    text = skiff.ok("info").stdout
    assert "\nServer:\n Containers: 4\n  Running: 1\n  Paused: 1\n  Stopped: 2\n Images: 1\n" in text
    assert f"\n Docker Root Dir: {skiff.root}\n" in text
    assert "\n Security Options:\n  seccomp\n   Profile: builtin\n" in text
    assert skiff.ok("info", "--format", "{{.ContainersPaused}}").stdout == "1\n"


# --- create -----------------------------------------------------------------------

def test_create_records_a_container_that_start_runs(skiff, image):
    r = skiff.ok("create", "--name", "c1", "-e", "WHO=there", image, "sh", "-c", "echo hi $WHO")
    assert ID.fullmatch(r.stdout.strip()), r.stdout
    assert r.stderr == ""
    ps = skiff.ok("ps", "-a", "--format", "{{.Names}} {{.Status}} {{.State}}").stdout
    assert ps == "c1 Created created\n"
    # not running: nothing to list without -a, no process
    assert skiff.ok("ps", "-q").stdout == ""
    assert state(skiff, "c1")["pid"] == 0
    assert skiff.ok("start", "c1").stdout == "c1\n"
    runlib.wait_for(lambda: state(skiff, "c1")["status"] == "exited", what="c1 to exit")
    assert skiff.ok("logs", "c1").stdout == "hi there\n"
    assert state(skiff, "c1")["exit_code"] == 0


def test_a_created_container_outlives_the_store_sweep(skiff, image):
    """A created container has no process: the sweep every run does (which
    removes set-ups whose maker died, after a minute) must keep it."""
    c = skiff.ok("create", "--name", "waiting", image, "true").stdout.strip()
    old = time.time() - 3600
    os.utime(os.path.join(skiff.root, "containers", c), (old, old))
    skiff.ok("run", "--rm", image, "true")  # sweeps the store
    assert skiff.ok("ps", "-a", "--format", "{{.Names}}").stdout == "waiting\n"
    skiff.ok("start", "waiting")


def test_create_takes_runs_options_and_limits_apply_at_start(skiff, image, cg):
    c = skiff.ok("create", "--name", "lim", "-m", "64m", "--rm", image, "sleep", "1000").stdout.strip()
    assert not os.path.exists(cg.path(c, "memory", "memory.limit_in_bytes", "memory.max"))
    skiff.ok("start", "lim")
    assert int(cg.read(c, "memory", "memory.limit_in_bytes", "memory.max")) == 64 * MiB
    skiff.ok("kill", "lim")
    # --rm: gone once it exited
    runlib.wait_for(lambda: skiff.run("inspect", "lim").returncode != 0, what="lim removed")


def test_a_created_container_on_a_network_answers_to_its_name(skiff, image):
    """Its name is given at create; the network's resolver must know that
    name when it starts, not a new one."""
    from test_net_user import Lab, a_of, gw_of
    lab = Lab(skiff, image)
    try:
        net = lab.network("pc-net", "--subnet", "10.214.91.0/24")
        c = skiff.ok("create", "--network", "pc-net", image, "sleep", "3600").stdout.strip()
        lab.containers.append(c)
        skiff.ok("start", c)
        name = skiff.ok("inspect", "-f", "{{.Name}}", c).stdout.strip().lstrip("/")
        asker = lab.run("pc-asker", "pc-net")
        assert a_of(asker, gw_of(net), name)["answers"] == [["A", lab.info(c).ip]]
    finally:
        lab.close()


def test_create_usage_errors_name_create(skiff, image):
    r = skiff.fails("create", "-d", image, "true")
    assert r.stderr == "skiff: unknown shorthand flag: 'd' in -d\nSee 'skiff create --help'.\n"
    r = skiff.fails("create", code=1)  # docker 28 here: 1 for a missing argument
    assert '"skiff create" requires at least 1 argument' in r.stderr
    assert "skiff run" not in r.stderr
    skiff.ok("create", "--name", "twice", image, "true")
    r = skiff.fails("create", "--name", "twice", image, "true", code=1)  # docker's: 1
    assert 'The container name "/twice" is already in use' in r.stderr
    assert skiff.ok("ps", "-aq").stdout.count("\n") == 1


# --- rename ---------------------------------------------------------------------------

def test_rename_moves_the_name(skiff, image):
    c = sleeper(skiff, image, "r1")
    assert skiff.ok("rename", "r1", "r2").stdout == ""
    assert cid(skiff, "r2") == c
    assert config(skiff, "r2")["name"] == "r2"
    r = skiff.run("inspect", "r1")
    assert r.returncode != 0 and "No such" in r.stderr
    # the old name is free again
    skiff.ok("create", "--name", "r1", image, "true")
    assert sorted(skiff.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()) == ["r1", "r2"]
    line = [l for l in events(skiff, "--filter", "event=rename")][-1]
    assert line.endswith(f"container rename {c} (image={image}, name=r2, oldName=/r1)")


def test_rename_errors_change_nothing(skiff, image):
    c = sleeper(skiff, image, "a")
    other = skiff.ok("create", "--name", "b", image, "true").stdout.strip()
    r = skiff.fails("rename", "a", "b", code=1)
    assert error_line(r) == (f'skiff: Conflict. The container name "/b" is already in use by '
                             f'container "{other}". You have to remove (or rename) that '
                             f'container to be able to reuse that name.')
    r = skiff.fails("rename", "a", "a", code=1)
    assert error_line(r) == "skiff: Renaming a container with the same name as its current name"
    r = skiff.fails("rename", "a", "bad/name", code=1)
    assert "invalid container name" in r.stderr.lower()
    r = skiff.fails("rename", "nosuch", "x", code=1)
    assert error_line(r) == "skiff: No such container: nosuch"
    assert cid(skiff, "a") == c and config(skiff, "a")["name"] == "a"
    skiff.fails("rename", "a")


# --- pause / unpause ----------------------------------------------------------------------

def frozen(cg, c):
    if cg.mode == "v2":
        with open(f"/sys/fs/cgroup/skiff/{c}/cgroup.events") as f:
            return "frozen 1" in f.read()
    return cg.read(c, "freezer", "freezer.state") == "FROZEN"


def test_pause_freezes_and_shows_paused(skiff, image, cg):
    c = sleeper(skiff, image, "p")
    assert skiff.ok("pause", "p").stdout == "p\n"
    assert frozen(cg, c)
    status = skiff.ok("ps", "--format", "{{.Status}}|{{.State}}").stdout
    assert re.fullmatch(r"Up .* \(Paused\)\|paused\n", status), status
    assert skiff.ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}",
                    "p").stdout == "paused true true\n"
    assert skiff.ok("ps", "-q", "--filter", "status=paused").stdout.strip() == c[:12]
    assert skiff.ok("ps", "-q", "--filter", "status=running").stdout == ""
    r = skiff.fails("pause", "p", code=1)
    assert error_line(r) == f"skiff: Container {c} is already paused"
    r = skiff.run("exec", "p", "true")
    assert r.returncode != 0 and "is paused, unpause the container before exec" in r.stderr
    assert skiff.ok("unpause", "p").stdout == "p\n"
    assert not frozen(cg, c)
    assert re.fullmatch(r"Up [^(]*\n", skiff.ok("ps", "--format", "{{.Status}}").stdout)
    r = skiff.fails("unpause", "p", code=1)
    assert error_line(r) == f"skiff: Container {c} is not paused"
    skiff.ok("exec", "p", "true")


def test_pause_of_a_stopped_container_fails(skiff, image):
    skiff.ok("run", "--name", "gone", image, "true")
    c = cid(skiff, "gone")
    r = skiff.fails("pause", "gone", "nosuch", code=1)
    assert r.stderr.splitlines() == [f"skiff: Container {c} is not running",
                                     "skiff: No such container: nosuch"]


def test_stop_of_a_paused_container_thaws_it_as_docker(skiff, image):
    """docker: kill (signal 15), unpause, then after the grace period kill 9,
    die 137, stop. busybox sh as pid 1 ignores SIGTERM."""
    c = sleeper(skiff, image, "ps1")
    skiff.ok("pause", "ps1")
    skiff.ok("stop", "-t", "1", "ps1")
    st = state(skiff, "ps1")
    assert st["status"] == "exited" and st["exit_code"] == 137 and not st["paused"]
    seq = [(l.split()[2], l) for l in events(skiff, "--filter", "container=ps1")]
    assert [a for a, _ in seq] == ["create", "start", "pause", "kill", "unpause", "kill", "die",
                                   "stop"]
    assert seq[3][1].endswith("signal=15)") and seq[5][1].endswith("signal=9)")
    assert seq[6][1].endswith(f"container die {c} (exitCode=137, image={image}, name=ps1)")


def test_kill_and_rm_f_of_a_paused_container(skiff, image):
    sleeper(skiff, image, "k")
    skiff.ok("pause", "k")
    skiff.ok("kill", "k")
    runlib.wait_for(lambda: state(skiff, "k")["status"] == "exited", what="k to exit")
    sleeper(skiff, image, "k2")
    skiff.ok("pause", "k2")
    t0 = time.monotonic()
    skiff.ok("rm", "-f", "k2")
    assert time.monotonic() - t0 < 5
    assert skiff.run("inspect", "k2").returncode != 0


# --- top --------------------------------------------------------------------------------

TOP_HEADER = ("UID                 PID                 PPID                C                   "
              "STIME               TTY                 TIME                CMD")


def test_top_lists_the_containers_processes_with_host_pids(skiff, image):
    sleeper(skiff, image, "t", script="sleep 1000; true")
    pid = state(skiff, "t")["pid"]
    runlib.wait_for(lambda: runlib.children_of(pid), what="the shell's child")
    child = runlib.children_of(pid)[0]
    lines = skiff.ok("top", "t").stdout.splitlines()
    assert lines[0] == TOP_HEADER
    rows = [l.split(None, 7) for l in lines[1:]]
    assert [(r[0], int(r[1]), r[7]) for r in rows] == [("root", pid, "sh -c sleep 1000; true"),
                                                       ("root", child, "sleep 1000")]
    assert int(rows[1][2]) == pid
    for r in rows:
        assert r[5] == "?" and re.fullmatch(r"\d\d:\d\d", r[4]) and r[6] == "00:00:00"
    # columns at docker's tabwriter stops (20 wide)
    assert lines[1].index(str(pid)) == 20
    # other ps options: the host's ps, its lines for the container only
    out = skiff.ok("top", "t", "-o", "pid,comm").stdout.splitlines()
    assert out[0].split() == ["PID", "COMMAND"]
    assert sorted(int(l.split()[0]) for l in out[1:]) == sorted([pid, child])
    assert "top" in actions(skiff, "--filter", "container=t")


def test_top_of_a_stopped_container_fails(skiff, image):
    skiff.ok("create", "--name", "idle", image, "true")
    r = skiff.fails("top", "idle", code=1)
    assert re.fullmatch(r"skiff: Container [0-9a-f]{64} is not running", error_line(r))


# --- stats --------------------------------------------------------------------------------

STATS_TITLES = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                "BLOCK I/O", "PIDS"]


def test_stats_no_stream_has_docker_columns_and_real_figures(skiff, image):
    """20 MB held by the shell and a busy loop: the figures are the
    container's, not placeholders."""
    c = sleeper(skiff, image, "st", "-m", "64m", "--network", "none",
                script='x=$(head -c 20000000 /dev/zero | tr "\\0" a); echo ready; '
                       'while :; do :; done')
    runlib.wait_for(lambda: "ready" in skiff.ok("logs", "st").stdout, what="20 MB held")
    out = skiff.ok("stats", "--no-stream").stdout.splitlines()
    assert out[0].startswith("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %")
    row = json.loads(skiff.ok("stats", "--no-stream", "--format", "{{json .}}").stdout)
    assert sorted(row) == ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name",
                           "NetIO", "PIDs"]
    assert row["ID"] == c[:12] and row["Container"] == c[:12] and row["Name"] == "st"
    used, limit = row["MemUsage"].split(" / ")
    assert limit == "64MiB"
    assert used.endswith("MiB") and 19 <= float(used[:-3]) <= 64, used
    assert float(row["CPUPerc"][:-1]) > 10, row  # a busy loop (the host is shared)
    assert float(row["MemPerc"][:-1]) > 25
    assert row["NetIO"] == "0B / 0B"  # --network none: lo only
    assert row["PIDs"] == "1"


def test_stats_names_all_and_errors(skiff, image):
    c = sleeper(skiff, image, "on")
    idle = skiff.ok("create", "--name", "off", image, "true").stdout.strip()
    out = skiff.ok("stats", "--no-stream", "--no-trunc", "on").stdout.splitlines()
    assert out[0].startswith("CONTAINER ID" + " " * 55 + "NAME")
    assert out[1].startswith(c + "   on ")
    assert skiff.ok("stats", "--no-stream", "--format", "{{.Name}}").stdout == "on\n"
    rows = skiff.ok("stats", "--no-stream", "-a", "--format",
                    "{{.Container}} {{.Name}} {{.MemUsage}} {{.PIDs}}").stdout.splitlines()
    assert f"{idle[:12]} off 0B / 0B 0" in rows and len(rows) == 2
    tbl = skiff.ok("stats", "--no-stream", "--format", "table {{.Container}}\t{{.Name}}",
                   "on").stdout
    assert tbl == "CONTAINER   NAME\non          on\n"
    r = skiff.fails("stats", "--no-stream", "nosuch", code=1)
    assert error_line(r) == "skiff: No such container: nosuch"


def test_stats_streams_and_redraws_every_second(skiff, image):
    sleeper(skiff, image, "live")
    p = skiff.popen("stats", "live", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3.5)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=10)
    frames = out.decode().split("\033[H")
    assert out.startswith(b"\033[2J\033[H")
    assert len(frames) >= 3, out  # at least two frames in 3.5 s
    for f in frames[1:]:
        assert re.split(r"  +", f.split("\033[K")[0]) == STATS_TITLES
        assert "   live   " in f


# --- update -------------------------------------------------------------------------------

def test_update_is_applied_live_and_kept_by_a_restart(skiff, image, cg):
    c = sleeper(skiff, image, "u", "-m", "64m")
    r = skiff.ok("update", "-m", "100m", "--memory-swap", "300m", "--cpus", "0.5",
                 "--pids-limit", "50", "--cpu-shares", "512", "u")
    assert r.stdout == "u\n"

    def check():
        assert int(cg.read(c, "memory", "memory.limit_in_bytes", "memory.max")) == 100 * MiB
        assert cg.read(c, "pids", "pids.max") == "50"
        if cg.mode == "v2":
            assert cg.read(c, "cpu", "", "cpu.max") == "50000 100000"
            assert int(cg.read(c, "memory", "", "memory.swap.max")) == 200 * MiB
        else:
            assert cg.read(c, "cpu", "cpu.cfs_quota_us") == "50000"
            assert cg.read(c, "cpu", "cpu.shares") == "512"
            memsw = "/sys/fs/cgroup/memory/skiff/%s/memory.memsw.limit_in_bytes" % c
            if os.path.exists(memsw):
                with open(memsw) as f:
                    assert int(f.read()) == 300 * MiB

    check()
    hc = json.loads(skiff.ok("inspect", "-f", "{{json .HostConfig}}", "u").stdout)
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["PidsLimit"], hc["CpuShares"]) \
        == (100 * MiB, 300 * MiB, 500000000, 50, 512)
    skiff.ok("restart", "-t", "0", "u")
    assert state(skiff, "u")["restart_count"] == 0
    check()
    # updated again: the later value replaces the earlier, nothing piles up
    skiff.ok("update", "-m", "120m", "u")
    argv = config(skiff, "u")["run_argv"]
    assert [a for a in argv if "memory" in a or a == "-m"] == ["--memory-swap=300m",
                                                                 "--memory=120m"]


def test_update_of_a_stopped_container_applies_at_its_start(skiff, image, cg):
    c = skiff.ok("create", "--name", "later", image, "sleep", "1000").stdout.strip()
    skiff.ok("update", "--pids-limit", "77", "later")
    skiff.ok("start", "later")
    assert cg.read(c, "pids", "pids.max") == "77"


def test_update_restart_policy_reaches_the_running_monitor(skiff, image):
    sleeper(skiff, image, "rp", script="sleep 2; exit 3")
    skiff.ok("update", "--restart", "on-failure:1", "rp")
    assert config(skiff, "rp")["restart"] == "on-failure"
    runlib.wait_for(lambda: state(skiff, "rp")["restart_count"] == 1, timeout=15,
                    what="the monitor to apply the new policy")


def test_update_errors_in_dockers_words(skiff, image):
    sleeper(skiff, image, "ue", "-m", "64m", "--memory-swap", "128m", "--cpus", "0.5")
    c = cid(skiff, "ue")
    r = skiff.fails("update", "ue", code=1)
    assert error_line(r) == "skiff: you must provide one or more flags when using this command"
    r = skiff.fails("update", "-m", "200m", "ue", code=1)
    assert error_line(r) == (f"skiff: Cannot update container {c}: Memory limit should be "
                             "smaller than already set memoryswap limit, update the memoryswap "
                             "at the same time")
    r = skiff.fails("update", "--cpu-quota", "20000", "ue", code=1)
    assert "Conflicting options: Nano CPUs and CPU Quota cannot both be set" in r.stderr
    skiff.ok("run", "-d", "--rm", "--name", "auto", image, "sleep", "1000")
    r = skiff.fails("update", "--restart", "always", "auto", code=1)
    assert "Restart policy cannot be updated because AutoRemove is enabled" in r.stderr
    skiff.ok("update", "--restart", "no", "auto")  # docker allows "no"
    r = skiff.fails("update", "--memory", "lots", "ue")
    assert 'invalid argument "lots" for "-m, --memory" flag' in r.stderr
    r = skiff.fails("update", "-m", "100m", "nosuch", code=1)
    assert error_line(r) == "skiff: No such container: nosuch"
    # nothing recorded by the failures
    assert "--cpu-quota=20000" not in config(skiff, "ue")["run_argv"]


# --- events -------------------------------------------------------------------------------

EVENT_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) (\w+) (\w+) "
                        r"(\S*)(?: \((.*)\))?")


def test_events_records_a_runs_lifecycle(skiff, image):
    skiff.ok("run", "--rm", "--name", "e1", image, "true")
    skiff.run("run", "--name", "e2", image, "sh", "-c", "exit 3")
    lines = events(skiff, "--filter", "type=container")
    parsed = [EVENT_LINE.fullmatch(l) for l in lines]
    assert all(parsed), lines
    e1 = [(m[3], m[5]) for m in parsed if "name=e1" in m[5]]
    assert e1 == [("create", f"image={image}, name=e1"), ("start", f"image={image}, name=e1"),
                  ("die", f"exitCode=0, image={image}, name=e1"),
                  ("destroy", f"image={image}, name=e1")]
    assert [m[3] for m in parsed if "name=e2" in m[5]] == ["create", "start", "die"]
    assert any("exitCode=3" in m[5] for m in parsed if m[3] == "die")
    ids = {m[4] for m in parsed}
    assert all(ID.fullmatch(i) for i in ids) and len(ids) == 2


def test_events_json_is_dockers_message(skiff, image):
    skiff.ok("run", "--name", "j", image, "true")
    c = cid(skiff, "j")
    out = skiff.ok("events", "--since", "1h", "--until", "0s", "--filter", "event=die",
                   "--format", "{{json .}}").stdout
    msg = json.loads(out)
    assert list(msg) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time",
                         "timeNano"]
    assert msg["status"] == msg["Action"] == "die" and msg["id"] == msg["Actor"]["ID"] == c
    assert msg["Actor"]["Attributes"] == {"exitCode": "0", "image": image, "name": "j"}
    assert msg["from"] == image and msg["scope"] == "local"
    assert msg["time"] == msg["timeNano"] // 10**9
    assert abs(msg["timeNano"] / 1e9 - time.time()) < 60
    tmpl = skiff.ok("events", "--since", "1h", "--until", "0s", "--filter", "event=die",
                    "--format", "{{.Type}}|{{.Status}}|{{.ID}}|{{.From}}|{{.Scope}}|"
                    "{{.Actor.Attributes.exitCode}}").stdout
    assert tmpl == f"container|die|{c}|{image}|local|0\n"


def test_events_filters_combine_as_dockers(skiff, image):
    skiff.ok("run", "--name", "fa", image, "true")
    skiff.ok("run", "--name", "fb", image, "true")
    fa = cid(skiff, "fa")
    assert actions(skiff, "--filter", "container=fa") == ["create", "start", "die"]
    # values of one key: OR; keys: AND; ids by prefix
    assert len(events(skiff, "--filter", "container=fa", "--filter", "container=fb")) == 6
    assert actions(skiff, "--filter", f"container={fa[:8]}", "--filter", "event=die") == ["die"]
    assert len(events(skiff, "--filter", f"image={image}", "--filter", "event=start")) == 2
    assert len(events(skiff, "--filter", "image=busybox:nosuch")) == 0
    assert events(skiff, "--filter", "type=image") == [] or \
        all(" image " in l for l in events(skiff, "--filter", "type=image"))
    r = skiff.fails("events", "--filter", "bogus=1", code=1)
    assert error_line(r) == "skiff: invalid filter 'bogus'"
    r = skiff.fails("events", "--since", "xyz", code=1)
    assert error_line(r) == 'skiff: failed to parse value as time or duration: "xyz"'


def test_events_until_and_since_bound_the_history(skiff, image):
    skiff.ok("run", "--name", "old", image, "true")
    time.sleep(1.1)
    mark = time.time()
    time.sleep(0.1)
    skiff.ok("run", "--name", "new", image, "true")
    names = {l.split("name=")[-1].rstrip(")") for l in events(skiff, "--filter", "type=container")}
    assert names == {"old", "new"}
    since = skiff.ok("events", "--since", f"{mark:.3f}", "--until", "0s").stdout
    assert "name=new" in since and "name=old" not in since
    until = skiff.ok("events", "--until", f"{mark:.3f}").stdout
    assert "name=old" in until and "name=new" not in until


def test_events_follows_what_other_processes_do(skiff, image):
    p = skiff.popen("events", "--filter", "container=fol", stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        skiff.ok("run", "--name", "other", image, "true")
        t0 = time.monotonic()
        skiff.ok("run", "--rm", "--name", "fol", image, "true")
        got = []
        while len(got) < 4:
            line = p.stdout.readline()
            assert line, p.stderr.read()
            got.append(line.split()[2])
        assert time.monotonic() - t0 < 5
        assert got == ["create", "start", "die", "destroy"]
    finally:
        p.kill()
        p.wait()


def test_events_follow_stops_at_until(skiff, image):
    t0 = time.monotonic()
    r = skiff.ok("events", "--until", "1s", timeout=10)
    assert r.stdout == "" or all(EVENT_LINE.fullmatch(l) for l in r.stdout.splitlines())
    assert time.monotonic() - t0 < 3


def test_events_survive_the_log_rotation(skiff, image):
    """Past its size the log moves to events.1; the history reads both."""
    skiff.ok("run", "--name", "before", image, "true")
    path = os.path.join(skiff.root, "events")
    pad = json.dumps({"Type": "container", "Action": "pad", "Actor": {"ID": "x", "Attributes": {}},
                      "scope": "local", "time": 1, "timeNano": 10**9}) + "\n"
    with open(path, "a") as f:
        f.write(pad * (4 * MiB // len(pad) + 10))
    skiff.ok("run", "--name", "after", image, "true")
    skiff.ok("run", "--name", "after2", image, "true")
    assert os.path.exists(path + ".1")
    assert os.path.getsize(path) < MiB
    names = [l.split("name=")[-1].rstrip(")") for l in events(skiff, "--filter", "event=create")]
    assert names == ["before", "after", "after2"]


def test_pull_event_names_the_reference(skiff, tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images"))
    import mkimage
    layers = mkimage.build_rootfs_layers()
    ref = runlib._push_and_pull(skiff, tmp_path, mkimage.make_config(layers), layers)
    name = ref.rsplit(":", 1)[0]
    assert events(skiff, "--filter", "event=pull")[-1].split(None, 1)[1] == \
        f"image pull {ref} (name={name})"


def test_pull_load_and_rmi_events(skiff, tmp_path, image):
    img_id = skiff.ok("inspect", "-f", "{{.Id}}", image).stdout.strip()
    lines = events(skiff, "--filter", "type=image")
    assert any(l.split()[2] in ("load", "pull") for l in lines), lines
    skiff.ok("rmi", image)
    lines = events(skiff, "--filter", "type=image", "--filter", "event=untag",
                   "--filter", "event=delete")
    assert [l.split(None, 3)[1:] for l in lines] == [
        ["image", "untag", f"{img_id} (name={img_id})"],
        ["image", "delete", f"{img_id} (name={img_id})"]]


# --- system prune / df -v ---------------------------------------------------------------------

PRUNE_WARNING = ("WARNING! This will remove:\n"
                 "  - all stopped containers\n"
                 "  - all networks not used by at least one container\n"
                 "  - all dangling images\n"
                 "  - unused build cache\n\n"
                 "Are you sure you want to continue? [y/N] ")


def test_system_prune_asks_first(skiff, image):
    skiff.ok("run", "--name", "stopped", image, "true")
    r = skiff.ok("system", "prune", input="n\n")
    assert r.stdout == PRUNE_WARNING
    assert skiff.ok("ps", "-aq").stdout != ""
    r = skiff.ok("system", "prune", "-a", "--volumes", "--filter", "until=1h", input="\n")
    assert r.stdout == ("WARNING! This will remove:\n"
                        "  - all stopped containers\n"
                        "  - all networks not used by at least one container\n"
                        "  - all anonymous volumes not used by at least one container\n"
                        "  - all images without at least one container associated to them\n"
                        "  - all build cache\n\n"
                        "  Items to be pruned will be filtered with:\n"
                        "  - until=1h\n\n"
                        "Are you sure you want to continue? [y/N] ")


def test_system_prune_removes_what_docker_would(skiff, image):
    keep = sleeper(skiff, image, "keep")
    skiff.ok("run", "--name", "stopped", image, "true")
    gone = cid(skiff, "stopped")
    created = skiff.ok("create", image, "true").stdout.strip()
    net = skiff.run("network", "create", "prunenet")
    out = skiff.ok("system", "prune", "-f").stdout
    sections = out.split("\n\n")
    assert sections[0].startswith("Deleted Containers:\n")
    assert sorted(sections[0].splitlines()[1:]) == sorted([gone, created])
    if net.returncode == 0:
        assert sections[1] == "Deleted Networks:\nprunenet"
    assert out.endswith("Total reclaimed space: 0B\n")
    assert skiff.ok("ps", "-aq", "--no-trunc").stdout == keep + "\n"
    # the image a container uses stays, even with -a
    skiff.ok("system", "prune", "-a", "-f")
    assert image.split(":")[0] in skiff.ok("images").stdout
    skiff.ok("rm", "-f", "keep")
    out = skiff.ok("system", "prune", "-a", "-f").stdout
    assert re.fullmatch(r"Deleted Images:\nuntagged: test/busybox:latest\ndeleted: sha256:[0-9a-f]{64}"
                        r"\n\nTotal reclaimed space: \d+(\.\d+)?[kM]B\n", out), out
    assert skiff.ok("images", "-q").stdout == ""


def test_system_prune_until_keeps_recent_things_and_rejects_bad_filters(skiff, image):
    skiff.ok("run", "--name", "recent", image, "true")
    out = skiff.ok("system", "prune", "-f", "--filter", "until=1h").stdout
    assert out == "Total reclaimed space: 0B\n"
    assert skiff.ok("ps", "-a", "--format", "{{.Names}}").stdout == "recent\n"
    r = skiff.fails("system", "prune", "-f", "--filter", "foo=1", code=1)
    assert error_line(r) == "skiff: Invalid filter 'foo'"


def test_system_df_verbose(skiff, image):
    sleeper(skiff, image, "dfv")
    skiff.ok("create", "--name", "dfc", image, "echo", "a", "long", "command", "line")
    lines = skiff.ok("system", "df", "-v").stdout.split("\n")
    assert lines[0:2] == ["Images space usage:", ""]
    assert re.split(r"  +", lines[2].strip()) == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED",
                                                 "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                                                 "CONTAINERS"]
    row = lines[3].split()
    img_id = skiff.ok("inspect", "-f", "{{.Id}}", image).stdout.strip()
    assert row[0] == image.split(":")[0] and row[1] == "latest" and row[2] == img_id[7:19]
    assert row[-1] == "2" and row[-3] == "0B"
    i = lines.index("Containers space usage:")
    assert re.split(r"  +", lines[i + 2].strip()) == ["CONTAINER ID", "IMAGE", "COMMAND",
                                                     "LOCAL VOLUMES", "SIZE", "CREATED",
                                                     "STATUS", "NAMES"]
    rows = lines[i + 3:i + 5]
    assert '"echo a long command…"' in rows[0] and rows[0].rstrip().endswith("dfc")
    assert rows[1].rstrip().endswith("dfv")
    assert "Local Volumes space usage:" in lines and "Build cache usage: 0B" in lines


def test_system_prune_volumes_and_df_verbose_volumes(skiff, image):
    """--volumes: the anonymous volumes no container uses (docker 23+);
    named ones and used ones stay. df -v counts a container's volumes."""
    skiff.ok("create", "--name", "named", "-v", "keepme:/data", image, "true")
    skiff.ok("run", "-d", "--name", "user", "-v", "/inuse", image, "sleep", "1000")
    skiff.ok("run", "--name", "gone", "-v", "/unused", image, "true")
    anon = [l.split()[1] for l in skiff.ok("volume", "ls").stdout.splitlines()[1:]
            if l.split()[1] != "keepme"]
    assert len(anon) == 2
    lines = skiff.ok("system", "df", "-v").stdout.split("\n")
    i = lines.index("Local Volumes space usage:")
    assert re.split(r"  +", lines[i + 2].strip()) == ["VOLUME NAME", "LINKS", "SIZE"]
    rows = {l.split()[0]: l.split()[1:] for l in lines[i + 3:] if l.strip() and
            not l.startswith("Build")}
    assert rows["keepme"] == ["1", "0B"]
    j = lines.index("Containers space usage:")
    by_name = {l.split()[-1]: l for l in lines[j + 3:i] if l.strip()}
    assert re.search(r'"sleep 1000"\s+1\s+', by_name["user"])
    out = skiff.ok("system", "prune", "-f", "--volumes").stdout
    sections = out.split("\n\n")
    assert sections[0].startswith("Deleted Containers:\n")
    vol = [s for s in sections if s.startswith("Deleted Volumes:\n")]
    assert len(vol) == 1 and len(vol[0].splitlines()) == 2
    left = [l.split()[1] for l in skiff.ok("volume", "ls").stdout.splitlines()[1:]]
    assert "keepme" in left and len(left) == 2  # keepme and the one "user" uses
