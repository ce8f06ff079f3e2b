"""skiff logs of containers (docker's json-file driver): each line on
the stream it was written to, -t timestamps, --tail, -f that follows new lines
and returns when the container exits, and rotation with max-size/max-file
that neither loses nor repeats the lines logs shows."""

import json
import os
import re
import subprocess
import time

import pytest

import runlib

TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$")


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def detached(skiff, image, name, script, *opts):
    r = skiff.ok("run", "-d", "--name", name, *opts, image, "sh", "-c", script)
    cid = r.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), r.stdout
    return cid


def wait_exit(skiff, name):
    return int(skiff.ok("wait", name, timeout=60).stdout)


def log_files(skiff, cid):
    d = os.path.join(skiff.root, "containers", cid)
    return sorted(f for f in os.listdir(d) if f.startswith("ctr.log"))


def test_lines_come_out_on_their_own_streams(skiff, image):
    detached(skiff, image, "s",
             "echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; printf 'no newline'")
    assert wait_exit(skiff, "s") == 0
    r = skiff.ok("logs", "s")
    assert r.stdout == "out1\nout2\nno newline"
    assert r.stderr == "err1\n"
    # Together on one pipe, in the order they were written.
    both = subprocess.run(skiff.cmd("logs", "s"), env=skiff.env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=30)
    assert both.stdout == "out1\nerr1\nout2\nno newline"


def test_the_file_is_docker_json_file(skiff, image):
    cid = detached(skiff, image, "j", "echo 'a \"quoted\" \\ <tag>'; echo oops >&2")
    wait_exit(skiff, "j")
    with open(os.path.join(skiff.root, "containers", cid, "ctr.log")) as f:
        lines = f.read().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["log"] == 'a "quoted" \\ <tag>\n'
    assert first["stream"] == "stdout"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", first["time"])
    assert "\\u003ctag\\u003e" in lines[0]  # docker's HTML-safe escaping
    assert json.loads(lines[1])["stream"] == "stderr"


def test_text_comes_back_byte_for_byte(skiff, image):
    detached(skiff, image, "b", r"""printf 'tab\there\r\nbell\007 q"b\\ bad\377 ok\n'""")
    wait_exit(skiff, "b")
    r = subprocess.run(skiff.cmd("logs", "b"), env=skiff.env, capture_output=True,
                       timeout=30)
    # invalid UTF-8 becomes U+FFFD, as in docker; everything else is kept
    assert r.stdout == b'tab\there\r\nbell\x07 q"b\\ bad\xef\xbf\xbd ok\n'


def test_long_line_is_reassembled(skiff, image):
    detached(skiff, image, "long", "head -c 40000 /dev/zero | tr '\\0' x; echo; echo after")
    wait_exit(skiff, "long")
    r = skiff.ok("logs", "long")
    assert r.stdout == "x" * 40000 + "\nafter\n"
    cid = os.path.basename(os.readlink(os.path.join(skiff.root, "containers", "names", "long")))
    with open(os.path.join(skiff.root, "containers", cid, "ctr.log")) as f:
        records = [json.loads(l) for l in f]
    # docker's 16 KiB pieces, only the last one ends the line
    assert [len(x["log"]) for x in records] == [16384, 16384, 40000 - 32768 + 1, 6]


def test_timestamps(skiff, image):
    detached(skiff, image, "t", "echo one; sleep 0.2; echo two")
    wait_exit(skiff, "t")
    lines = skiff.ok("logs", "-t", "t").stdout.splitlines()
    assert [TS.match(l).group(2) for l in lines] == ["one", "two"]
    stamps = [TS.match(l).group(1) for l in lines]
    assert stamps[0] < stamps[1]
    # --since the second line's time leaves only that line
    assert skiff.ok("logs", "--since", stamps[1], "t").stdout == "two\n"
    assert skiff.ok("logs", "--until", stamps[0], "t").stdout == "one\n"


def test_tail(skiff, image):
    detached(skiff, image, "tl", "for i in 1 2 3 4 5; do echo l$i; done; echo e >&2")
    wait_exit(skiff, "tl")
    r = skiff.ok("logs", "--tail", "2", "tl")
    assert (r.stdout, r.stderr) == ("l5\n", "e\n")
    r = skiff.ok("logs", "-n", "3", "tl")
    assert (r.stdout, r.stderr) == ("l4\nl5\n", "e\n")
    assert skiff.ok("logs", "--tail", "0", "tl").stdout == ""
    assert skiff.ok("logs", "--tail", "all", "tl").stdout == "l1\nl2\nl3\nl4\nl5\n"
    assert skiff.ok("logs", "--tail", "100", "tl").stdout == "l1\nl2\nl3\nl4\nl5\n"


def test_follow_prints_new_lines_and_returns_at_exit(skiff, image):
    detached(skiff, image, "f",
             "echo first; sleep 1.5; for i in 1 2 3; do echo tick$i; sleep 0.2; done; exit 3")
    f = skiff.popen("logs", "-f", "f", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
    try:
        t0 = time.monotonic()
        assert f.stdout.readline() == "first\n"
        assert time.monotonic() - t0 < 1.2  # printed before the container went on
        assert f.poll() is None  # still following while it runs
        out, err = f.communicate(timeout=20)
    finally:
        f.kill()
    assert out == "tick1\ntick2\ntick3\n"
    assert f.returncode == 0
    assert wait_exit(skiff, "f") == 3


def test_follow_of_an_exited_container_returns(skiff, image):
    detached(skiff, image, "fe", "echo bye")
    wait_exit(skiff, "fe")
    r = skiff.run("logs", "-f", "fe", timeout=10)
    assert (r.returncode, r.stdout) == (0, "bye\n")


def test_logs_survive_rotation(skiff, image):
    cid = detached(skiff, image, "chatty",
                   "i=1; while [ $i -le 400 ]; do echo \"line $i of the chatty one\"; "
                   "i=$((i+1)); done",
                   "--log-opt", "max-size=1k", "--log-opt", "max-file=3")
    assert wait_exit(skiff, "chatty") == 0
    files = log_files(skiff, cid)
    assert files == ["ctr.log", "ctr.log.1", "ctr.log.2"]
    for name in files:
        assert os.path.getsize(os.path.join(skiff.root, "containers", cid, name)) <= 1024
    lines = skiff.ok("logs", "chatty").stdout.splitlines()
    nums = [int(re.fullmatch(r"line (\d+) of the chatty one", l).group(1)) for l in lines]
    # the newest lines, in order, none twice, ending with the last one
    assert nums == list(range(nums[0], 401))
    assert 15 <= len(nums) < 400
    assert skiff.ok("logs", "--tail", "5", "chatty").stdout.splitlines() == lines[-5:]


def test_follow_survives_rotation(skiff, image):
    detached(skiff, image, "rot",
             "sleep 0.5; i=1; while [ $i -le 150 ]; do echo \"row $i\"; "
             "i=$((i+1)); sleep 0.02; done",
             "--log-opt", "max-size=1k", "--log-opt", "max-file=5")
    f = skiff.popen("logs", "-f", "rot", stdout=subprocess.PIPE, text=True)
    try:
        out, _ = f.communicate(timeout=60)
    finally:
        f.kill()
    assert out == "".join(f"row {i}\n" for i in range(1, 151))
    assert f.returncode == 0


def test_foreground_container_logs_too(skiff, image):
    """As docker's json-file: what went to the terminal is in the log too
    (issue 11 item 12; test_parity_attach.py has the details)."""
    r = skiff.run("run", "--name", "fg", image, "echo", "to the terminal")
    assert r.stdout == "to the terminal\n"
    r = skiff.ok("logs", "fg")
    assert (r.stdout, r.stderr) == ("to the terminal\n", "")
    assert skiff.ok("logs", "-f", "fg", timeout=10).stdout == "to the terminal\n"


def test_logs_of_an_unknown_container(skiff, image):
    r = skiff.run("logs", "nosuch")
    assert r.returncode == 1
    assert "No such container: nosuch" in r.stderr
