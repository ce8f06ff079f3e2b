"""Exit codes and messages as docker 28's (issue 11, item 20), each checked
against docker 28 on this machine:

- 125 is run's status for a failure of the engine itself (docker exec: 126);
  pull, login, load, rmi, kill and the others exit 1; flag errors exit 125
  everywhere, a wrong number of arguments 1;
- a refused connection or a name that does not resolve is said at once, not
  after seconds of retries;
- one wording, "skiff: " then docker's words, never "Error response from
  daemon"; no strerror tail after a message that already says it;
- `rmi -f` of a missing image says so and exits 0;
- -i -t with stdin not a terminal is docker's "the input device is not a TTY".
"""

import json
import os
import subprocess
import time

import pytest

import regkit
import runlib


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


@pytest.fixture
def detached(skiff, image):
    """A running detached container named `bg`, removed at the end."""
    skiff.ok("run", "-d", "--name", "bg", image, "sleep", "1000")
    yield "bg"
    skiff.run("rm", "-f", "bg")


def one_line(r):
    """The whole of stderr is one 'skiff:' line."""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skiff: "), r.stderr
    assert "Error response from daemon" not in r.stderr
    return lines[0]


# ---- registries: status 1, at once -----------------------------------------


def test_refused_connection_is_reported_at_once(skiff, store):
    port = regkit.free_port()

    t0 = time.monotonic()
    r = skiff.fails("pull", f"127.0.0.1:{port}/x/y", code=1)
    took = time.monotonic() - t0

    line = one_line(r)
    assert f"127.0.0.1:{port}" in line and "Connection refused" in line, line
    assert took < 1.0, f"took {took:.2f}s: a refused connection was retried"
    assert not store.refs()


def test_unknown_host_is_reported_at_once(skiff):
    t0 = time.monotonic()
    r = skiff.fails("pull", "no-such-host.invalid/x/y", code=1)

    assert "Could not resolve host: no-such-host.invalid" in one_line(r)
    assert time.monotonic() - t0 < 2.0


def test_login_to_a_refused_port_is_status_1_at_once(skiff):
    port = regkit.free_port()

    t0 = time.monotonic()
    r = skiff.fails("login", "-u", "a", "--password-stdin", f"127.0.0.1:{port}", input="pw",
                    code=1)

    assert "Connection refused" in one_line(r)
    assert time.monotonic() - t0 < 1.0


def test_pull_of_a_missing_image_is_status_1(skiff, registry):
    r = skiff.fails("pull", f"{registry.hostport}/no/such", code=1)
    assert "manifest unknown" in one_line(r)


def test_load_of_a_missing_file_is_status_1(skiff, tmp_path):
    r = skiff.fails("load", "-i", str(tmp_path / "nope.tar"), code=1)
    assert "nope.tar" in one_line(r)


# ---- usage: flags 125, arguments 1 ------------------------------------------


@pytest.mark.parametrize("args,code", [
    (["pull", "--bogus", "x"], 125),
    (["kill", "--bogus", "x"], 125),
    (["--bogus", "ps"], 125),
    (["pull"], 1),
    (["pull", "a", "b"], 1),
    (["kill"], 1),
    (["rmi"], 1),
    (["load", "extra"], 1),
    (["login", "a", "b"], 1),
    (["logout", "a", "b"], 1),
    (["frobnicate"], 1),
])
def test_flag_errors_are_125_argument_errors_1(skiff, args, code):
    r = skiff.run(*args)
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith("skiff: ")


@pytest.mark.parametrize("args,words", [
    (["login", "--password-stdin", "h:1"],
     "the --password-stdin option requires --username to be set"),
    (["login", "-u", "a", "-p", "x", "--password-stdin", "h:1"],
     "conflicting options: cannot specify both --password and --password-stdin"),
    (["login", "h:1"], "Cannot perform an interactive login from a non TTY device"),
])
def test_login_refusals_are_docker_words_and_status_1(skiff, args, words):
    r = skiff.run(*args, input="")
    assert r.returncode == 1
    assert one_line(r) == f"skiff: {words}"


# ---- containers: "No such container", never "Error response from daemon" ----


@pytest.mark.parametrize("cmd", [
    ["stop"], ["wait"], ["logs"], ["rm"], ["start"], ["restart"], ["exec", "-", "true"],
])
def test_no_such_container_is_one_wording(skiff, cmd):
    args = [a if a != "-" else "nosuch" for a in cmd]
    if "nosuch" not in args:
        args.append("nosuch")

    r = skiff.run(*args)

    assert r.returncode == 1, r.stderr
    assert one_line(r) == "skiff: No such container: nosuch"


def test_kill_of_a_missing_container_is_docker_s_words(skiff):
    r = skiff.run("kill", "nosuch")
    assert r.returncode == 1
    assert one_line(r) == "skiff: Cannot kill container: nosuch: No such container: nosuch"


@pytest.mark.parametrize("sig", ["BAD", "SIGNOPE", "0"])
def test_kill_with_a_bad_signal_is_status_1(skiff, sig):
    r = skiff.run("kill", "-s", sig, "nosuch")
    assert r.returncode == 1
    assert one_line(r) == f"skiff: Invalid signal: {sig}"


def test_kill_of_a_stopped_container(skiff, image):
    skiff.ok("run", "--name", "gone", image, "true")
    r = skiff.run("kill", "gone")
    assert r.returncode == 1 and r.stdout == ""
    line = one_line(r)
    assert line.startswith("skiff: Cannot kill container: gone: ") and "is not running" in line


# ---- images -------------------------------------------------------------------


def test_rmi_force_of_a_missing_image_says_so_and_succeeds(skiff):
    r = skiff.run("rmi", "-f", "nosuchimage")
    assert r.returncode == 0
    assert one_line(r) == "skiff: No such image: nosuchimage:latest"


def test_rmi_of_a_missing_image_fails_without_a_strerror_tail(skiff, image):
    r = skiff.run("rmi", "nosuchimage", "localhost:5000/x:1")
    assert r.returncode == 1
    assert r.stderr.splitlines() == ["skiff: No such image: nosuchimage:latest",
                                     "skiff: No such image: localhost:5000/x:1"]
    assert "No such file or directory" not in r.stderr


def test_rmi_force_goes_on_after_a_missing_image(skiff, image):
    r = skiff.run("rmi", "-f", "nosuchimage", image)
    assert r.returncode == 0, r.stderr
    assert "Untagged: " in r.stdout
    assert not json.loads(skiff.ok("images", "--format", "json").stdout or "null")


# ---- run: 125 for the engine, the TTY check -----------------------------------


def test_run_keeps_125_for_its_own_failures(skiff):
    r = skiff.run("run", "--pull", "never", "nothere/img", "true")
    assert r.returncode == 125
    assert "No such image" in one_line(r)


def test_run_it_without_a_terminal_is_docker_s_error(skiff, image):
    r = skiff.run("run", "--rm", "-it", image, "true", input="")
    assert r.returncode == 1
    assert one_line(r) == "skiff: the input device is not a TTY"
    assert skiff.ok("ps", "-aq").stdout == ""  # refused before anything was made


def test_run_t_or_detached_it_without_a_terminal_still_runs(skiff, image):
    skiff.ok("run", "--rm", "-t", image, "true", input="")
    r = skiff.ok("run", "-dit", "--name", "dit", image, "sleep", "1000", input="")
    try:
        assert r.stdout.strip()
    finally:
        skiff.run("rm", "-f", "dit")


def test_exec_it_without_a_terminal_is_docker_s_error(skiff, detached):
    r = skiff.run("exec", "-it", detached, "true", input="")
    assert r.returncode == 1
    assert one_line(r) == "skiff: the input device is not a TTY"
    skiff.ok("exec", "-i", detached, "true", input="")
