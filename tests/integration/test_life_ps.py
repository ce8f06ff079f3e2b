"""skiff ps, rm and inspect of containers against real containers: docker's
columns, statuses and JSON keys, names and id prefixes, rm of a running
container refused and forced (nothing left behind: process, cgroup,
directory), and a container whose skiff was SIGKILLed shown as exited (255)
with the reason."""

import glob
import json
import os
import re
import signal
import subprocess
import time

import pytest

import runlib
from regkit import error_line

ID_RE = re.compile(r"^[0-9a-f]{64}$")
RFC3339NANO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
PS_HEADER = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def state_of(skiff, cid):
    try:
        with open(os.path.join(skiff.root, "containers", cid, "state.json")) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def full_id(skiff, ref):
    return skiff.ok("inspect", "--type", "container", "-f", "{{.Id}}", ref).stdout.strip()


def detached(skiff, image, name, *cmd):
    args = ["run", "-d"] + (["--name", name] if name else []) + [image] + list(cmd or
                                                                             ("sleep", "1000"))
    cid = skiff.ok(*args).stdout.strip()
    assert ID_RE.match(cid), cid
    return cid


class Foreground:
    """A container run in the foreground by `skiff run --name N` (its monitor
    is that skiff process), reaped at the end of the test."""

    def __init__(self, skiff, image, name, *cmd):
        self.skiff = skiff
        self.proc = skiff.popen("run", "--name", name, image, *(cmd or ("sleep", "1000")),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        link = os.path.join(skiff.root, "containers", "names", name)
        runlib.wait_for(lambda: os.path.islink(link) and
                        (state_of(skiff, os.path.basename(os.readlink(link))) or {})
                        .get("status") == "running", what=f"{name} running")
        self.id = os.path.basename(os.readlink(link))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def cleanup(skiff):
    """Foreground runs to reap and detached containers to remove at the end."""
    things = []
    yield things
    for t in things:
        if isinstance(t, Foreground):
            t.close()
    skiff.run("rm", "-f", *[t for t in things if isinstance(t, str)])


def ps_rows(output):
    """Rows of a ps table split on runs of 3+ spaces (docker's tabwriter
    padding), keyed by header."""
    lines = output.rstrip("\n").split("\n")
    header = lines[0]
    starts = [header.index(h) for h in PS_HEADER]
    rows = []
    for line in lines[1:]:
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(PS_HEADER, cells)))
    return lines[0], rows


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except FileNotFoundError:
        return False


def cgroup_dirs(cid):
    """The container's cgroup directories (v2, hybrid's unified, v1 controllers)."""
    return glob.glob(f"/sys/fs/cgroup/skiff/{cid}") + glob.glob(f"/sys/fs/cgroup/*/skiff/{cid}")


# --- ps ----------------------------------------------------------------------

def test_ps_shows_running_ones_and_ps_a_all_newest_first(skiff, image, cleanup):
    web = detached(skiff, image, "web")
    cleanup.append(web)
    time.sleep(1.1)  # so that "Up" has a second to show
    skiff.run("run", "--name", "done", image, "sh", "-c", "exit 3")
    cleanup.append("done")

    r = skiff.ok("ps")
    header, rows = ps_rows(r.stdout)
    assert re.split(r" {3,}", header) == PS_HEADER
    assert header.startswith("CONTAINER ID   IMAGE ")
    assert [row["NAMES"] for row in rows] == ["web"]
    row = rows[0]
    assert row["CONTAINER ID"] == web[:12]
    assert row["IMAGE"] == image
    assert row["COMMAND"] == '"sleep 1000"'
    assert re.match(r"^Up (\d+ seconds?|Less than a second)$", row["STATUS"]), row
    assert re.match(r"^(\d+ seconds?|Less than a second) ago$", row["CREATED"]), row

    _, rows = ps_rows(skiff.ok("ps", "-a").stdout)
    assert [row["NAMES"] for row in rows] == ["done", "web"]  # newest first
    assert re.match(r"^Exited \(3\) (\d+ seconds?|Less than a second) ago$", rows[0]["STATUS"])
    assert rows[0]["COMMAND"] == "\"sh -c 'exit 3'\""


def test_ps_quiet_and_no_trunc(skiff, image, cleanup):
    a = detached(skiff, image, "a")
    b = detached(skiff, image, "b")
    cleanup += [a, b]
    skiff.ok("run", "--name", "c", image, "true")
    cleanup.append("c")
    c = full_id(skiff, "c")
    assert skiff.ok("ps", "-q").stdout.split() == [b[:12], a[:12]]
    assert skiff.ok("ps", "-aq").stdout.split() == [c[:12], b[:12], a[:12]]
    assert skiff.ok("ps", "-aq", "--no-trunc").stdout.split() == [c, b, a]
    assert skiff.ok("ps", "-q", "-f", "status=exited").stdout.split() == [c[:12]]
    assert skiff.ok("ps", "-q", "-f", "name=a").stdout.split() == [a[:12]]
    assert skiff.ok("ps", "-q", "-n", "1").stdout.split() == [c[:12]]


def test_ps_truncates_long_commands_like_docker(skiff, image, cleanup):
    cid = detached(skiff, image, "loop", "sh", "-c", "while true; do sleep 1; done")
    cleanup.append(cid)
    _, rows = ps_rows(skiff.ok("ps").stdout)
    assert rows[0]["COMMAND"] == "\"sh -c 'while true; \u2026\""
    r = skiff.ok("ps", "--no-trunc")
    assert cid in r.stdout
    assert "\"sh -c 'while true; do sleep 1; done'\"" in r.stdout


def test_ps_format_json_has_dockers_keys(skiff, image, cleanup):
    cid = detached(skiff, image, "j")
    cleanup.append(cid)
    skiff.fails("run", "--name", "k", image, "sh", "-c", "exit 7", code=7)
    cleanup.append("k")
    lines = skiff.ok("ps", "-a", "--format", "json").stdout.splitlines()
    objs = [json.loads(l) for l in lines]
    assert [o["Names"] for o in objs] == ["k", "j"]
    j = objs[1]
    assert {"ID", "Image", "Command", "CreatedAt", "RunningFor", "State", "Status", "Names",
            "Ports", "Labels", "Mounts", "Networks", "Size", "LocalVolumes"} <= set(j)
    assert j["ID"] == cid[:12]
    assert j["Image"] == image
    assert j["Command"] == '"sleep 1000"'
    assert j["State"] == "running"
    assert j["Status"].startswith("Up ")
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$", j["CreatedAt"])
    assert objs[0]["State"] == "exited"
    assert objs[0]["Status"].startswith("Exited (7) ")


def test_ps_go_template_format(skiff, image, cleanup):
    cid = detached(skiff, image, "t")
    cleanup.append(cid)
    assert skiff.ok("ps", "--format", "{{.Names}}:{{.State}}").stdout == "t:running\n"
    r = skiff.run("ps", "--format", "{{.Nope}}")
    assert r.returncode != 0
    assert 'map has no entry for key "Nope"' in error_line(r)


def test_ps_shows_a_foreground_container(skiff, image, cleanup):
    fg = Foreground(skiff, image, "fg")
    cleanup.append(fg)
    _, rows = ps_rows(skiff.ok("ps").stdout)
    assert [(r["CONTAINER ID"], r["NAMES"]) for r in rows] == [(fg.id[:12], "fg")]


# --- a dead monitor ----------------------------------------------------------

def test_container_whose_skiff_was_killed_is_exited_255_with_a_reason(skiff, image, cleanup):
    fg = Foreground(skiff, image, "victim")
    cleanup.append(fg)
    pid = state_of(skiff, fg.id)["pid"]
    fg.proc.send_signal(signal.SIGKILL)
    fg.proc.wait(timeout=10)

    _, rows = ps_rows(skiff.ok("ps", "-a").stdout)
    assert len(rows) == 1 and rows[0]["NAMES"] == "victim"
    assert rows[0]["STATUS"].startswith("Exited (255) "), rows[0]
    assert skiff.ok("ps", "-q").stdout == ""  # not running
    st = json.loads(skiff.ok("inspect", "-f", "{{json .State}}", "victim").stdout)
    assert st["Status"] == "exited" and st["Running"] is False
    assert st["ExitCode"] == 255 and st["Pid"] == 0
    assert "monitor" in st["Error"] and "died" in st["Error"], st
    runlib.wait_for(lambda: not alive(pid), what="container process gone (PDEATHSIG)")
    # And it can be removed, cgroup included.
    assert skiff.ok("rm", "victim").stdout == "victim\n"
    assert not os.path.exists(os.path.join(skiff.root, "containers", fg.id))
    assert cgroup_dirs(fg.id) == []


# --- rm ----------------------------------------------------------------------

def test_rm_of_a_running_container_is_refused(skiff, image, cleanup):
    cid = detached(skiff, image, "busy")
    cleanup.append(cid)
    r = skiff.run("rm", "busy")
    assert r.returncode == 1
    assert error_line(r) == ('skiff: cannot remove container "/busy": container is running: '
                             'stop the container before removing or force remove')
    assert r.stdout == ""
    assert skiff.ok("inspect", "-f", "{{.State.Status}}", "busy").stdout == "running\n"


@pytest.mark.parametrize("how", ["detached", "foreground"])
def test_rm_f_kills_and_leaves_nothing_behind(skiff, image, cleanup, how):
    if how == "detached":
        cid = detached(skiff, image, "doomed")
        cleanup.append(cid)
    else:
        fg = Foreground(skiff, image, "doomed")
        cleanup.append(fg)
        cid = fg.id
    pid = state_of(skiff, cid)["pid"]
    assert alive(pid) and cgroup_dirs(cid)
    started = time.monotonic()
    r = skiff.ok("rm", "-f", "doomed")
    assert time.monotonic() - started < 5
    assert r.stdout == "doomed\n"
    assert not alive(pid)
    assert not os.path.exists(os.path.join(skiff.root, "containers", cid))
    assert not os.path.lexists(os.path.join(skiff.root, "containers", "names", "doomed"))
    assert cgroup_dirs(cid) == []
    if how == "foreground":
        assert fg.proc.wait(timeout=10) == 137
    # The name is free again.
    cleanup.append(detached(skiff, image, "doomed"))


def test_rm_goes_on_after_a_failure_and_exits_1(skiff, image):
    skiff.ok("run", "--name", "one", image, "true")
    skiff.ok("run", "--name", "two", image, "true")
    r = skiff.run("rm", "one", "nosuch", "two")
    assert r.returncode == 1
    assert r.stdout == "one\ntwo\n"
    assert error_line(r) == "skiff: No such container: nosuch"
    assert skiff.ok("ps", "-aq").stdout == ""
    # -f: a missing container is reported, not a failure (docker).
    r = skiff.run("rm", "-f", "nosuch")
    assert r.returncode == 0 and "No such container: nosuch" in r.stderr


def test_rm_and_inspect_by_id_and_unique_prefix(skiff, image):
    ids = []
    # Make two ids share a first hex digit (pigeonhole: 17 are enough).
    while True:
        skiff.ok("run", image, "true")
        ids = skiff.ok("ps", "-aq", "--no-trunc").stdout.split()
        firsts = [i[0] for i in ids]
        shared = [c for c in set(firsts) if firsts.count(c) > 1]
        if shared:
            break
    pair = [i for i in ids if i[0] == shared[0]][:2]
    common = os.path.commonprefix(pair)
    r = skiff.run("inspect", "--type", "container", common)
    assert r.returncode == 1 and "multiple containers match" in r.stderr, r.stderr
    unique = pair[0][:len(common) + 1]
    assert skiff.ok("inspect", "-f", "{{.Id}}", unique).stdout.strip() == pair[0]
    assert skiff.ok("rm", unique).stdout == unique + "\n"
    assert skiff.ok("rm", pair[1]).stdout == pair[1] + "\n"
    left = skiff.ok("ps", "-aq", "--no-trunc").stdout.split()
    assert pair[0] not in left and pair[1] not in left and len(left) == len(ids) - 2


# --- inspect -----------------------------------------------------------------

def test_inspect_container_has_dockers_layout(skiff, image, cleanup):
    cid = detached(skiff, image, "insp")
    cleanup.append(cid)
    out = json.loads(skiff.ok("inspect", "insp").stdout)
    assert isinstance(out, list) and len(out) == 1
    c = out[0]
    assert c["Id"] == cid
    assert RFC3339NANO_RE.match(c["Created"]), c["Created"]
    assert c["Path"] == "sleep" and c["Args"] == ["1000"]
    assert c["Name"] == "/insp"
    assert c["Image"].startswith("sha256:")
    assert c["Image"] == skiff.ok("inspect", "-f", "{{.Id}}", image).stdout.strip()
    assert c["RestartCount"] == 0
    st = c["State"]
    assert set(st) >= {"Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                       "ExitCode", "Error", "StartedAt", "FinishedAt"}
    assert st["Status"] == "running" and st["Running"] is True and st["Restarting"] is False
    assert st["Pid"] == state_of(skiff, cid)["pid"] and alive(st["Pid"])
    assert RFC3339NANO_RE.match(st["StartedAt"]) and st["FinishedAt"] == "0001-01-01T00:00:00Z"
    hc = c["HostConfig"]
    assert hc["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert hc["AutoRemove"] is False and hc["Privileged"] is False
    assert hc["LogConfig"]["Type"] == "json-file"
    cfg = c["Config"]
    assert cfg["Cmd"] == ["sleep", "1000"] and cfg["Image"] == image
    assert any(e.startswith("PATH=") for e in cfg["Env"])
    # docker's WorkingDir is "" when neither -w nor the image sets one
    assert cfg["Tty"] is False and cfg["OpenStdin"] is False and cfg["WorkingDir"] == ""
    assert cfg["Hostname"] == cid[:12]


def test_inspect_exited_container_and_restart_policy(skiff, image):
    skiff.run("run", "--name", "ex", "--restart", "on-failure:3", "-d", image, "sh", "-c",
              "exit 0")
    runlib.wait_for(lambda: skiff.ok("inspect", "-f", "{{.State.Status}}", "ex").stdout
                    == "exited\n", what="ex exited")
    c = json.loads(skiff.ok("inspect", "ex").stdout)[0]
    assert c["State"]["ExitCode"] == 0 and c["State"]["Running"] is False
    assert c["State"]["Pid"] == 0
    assert RFC3339NANO_RE.match(c["State"]["FinishedAt"])
    assert c["State"]["FinishedAt"] != "0001-01-01T00:00:00Z"
    assert c["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}


def test_inspect_templates(skiff, image, cleanup):
    cid = detached(skiff, image, "tpl")
    cleanup.append(cid)
    assert skiff.ok("inspect", "-f", "{{.State.Status}}", "tpl").stdout == "running\n"
    assert skiff.ok("inspect", "--format", "{{.Name}} {{.Config.Cmd}}",
                    "tpl").stdout == "/tpl [sleep 1000]\n"
    assert json.loads(skiff.ok("inspect", "-f", "{{json .HostConfig.RestartPolicy}}",
                               "tpl").stdout) == {"Name": "no", "MaximumRetryCount": 0}
    assert skiff.ok("inspect", "-f", "{{index .Config.Cmd 1}}", "tpl").stdout == "1000\n"
    r = skiff.run("inspect", "-f", "{{.State.Health.Status}}", "tpl")
    assert r.returncode == 1 and 'map has no entry for key "Health"' in error_line(r)
    assert skiff.ok("inspect", "-f", "{{range .Args}}{{.}}{{end}}", "tpl").stdout == "1000\n"
    r = skiff.run("inspect", "-f", '{{template "x"}}', "tpl")
    assert r.returncode == 1 and "not supported" in error_line(r)


def test_inspect_finds_containers_first_then_images(skiff, image, cleanup):
    cid = detached(skiff, image, "both")
    cleanup.append(cid)
    img = json.loads(skiff.ok("inspect", image).stdout)[0]
    assert "RepoTags" in img and image in img["RepoTags"]
    r = skiff.run("inspect", "--type", "container", image)
    assert r.returncode == 1 and error_line(r) == f"skiff: No such container: {image}"
    assert r.stdout == "[]\n"
    r = skiff.run("inspect", "--type", "image", "both")
    assert r.returncode == 1 and "No such image: both" in error_line(r)
    r = skiff.run("inspect", "both", "nosuch")
    assert r.returncode == 1 and error_line(r) == "skiff: No such object: nosuch"
    assert [o["Id"] for o in json.loads(r.stdout)] == [cid]
    assert skiff.ok("container", "inspect", "-f", "{{.Name}}", "both").stdout == "/both\n"
    assert skiff.ok("container", "ls", "-q").stdout.split() == [cid[:12]]
