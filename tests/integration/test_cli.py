"""The command line: help, version, usage errors with a hint, invalid
references as one-line errors, docker's exit statuses (125 for a flag error,
1 for a wrong number of arguments or a failed pull). None of this needs a
registry."""

import re

import pytest

import regkit

COMMANDS = ["pull", "images", "rmi", "inspect", "login", "logout"]


def test_help_lists_commands(skiff):
    r = skiff.ok("--help", root=False)
    assert r.stdout.startswith("Usage: skiff")
    for c in COMMANDS:
        assert re.search(rf"^\s+{c}\s", r.stdout, re.M), c
    assert r.stderr == ""


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(skiff, cmd):
    r = skiff.ok(cmd, "--help")
    assert r.stdout.startswith(f"Usage: skiff {cmd}")


def test_pull_help_documents_platform(skiff):
    out = skiff.ok("pull", "--help").stdout
    assert "--platform" in out and "NAME[:TAG|@DIGEST]" in out


def test_version(skiff):
    r = skiff.ok("--version", root=False)
    assert re.fullmatch(r"skiff version \d+\.\d+\.\d+\S*\n", r.stdout), r.stdout


def test_no_command_is_a_usage_error(skiff):
    r = skiff.fails(root=False)
    assert "Usage: skiff" in r.stderr


def test_unknown_command(skiff):
    r = skiff.fails("frobnicate", code=1)
    assert "'frobnicate' is not a skiff command" in regkit.error_line(r)
    assert "skiff --help" in r.stderr


def test_unknown_global_flag(skiff):
    r = skiff.fails("--frobnicate", "images", root=False)
    assert "--frobnicate" in regkit.error_line(r)
    assert "skiff --help" in r.stderr


def test_unknown_command_flag(skiff):
    r = skiff.fails("pull", "--frobnicate", "busybox")
    assert "--frobnicate" in regkit.error_line(r)
    assert "skiff pull --help" in r.stderr


def test_pull_needs_exactly_one_argument(skiff):
    r = skiff.fails("pull", code=1)
    assert "skiff pull --help" in r.stderr
    r = skiff.fails("pull", "a", "b", code=1)
    assert "skiff pull --help" in r.stderr


def test_flag_missing_its_argument(skiff):
    r = skiff.fails("pull", "--platform")
    assert "--platform" in regkit.error_line(r)


@pytest.mark.parametrize("ref,why", [
    ("BusyBox", "lowercase"),
    ("a//b", None),
    ("name:bad tag", None),
    ("name@sha256:short", "digest"),
    ("name:" + "t" * 200, "tag"),
    ("name:-tag", None),
    ("", None),
])
def test_invalid_reference_is_one_line_error(skiff, ref, why):
    r = skiff.fails("pull", ref, code=1)
    line = regkit.error_line(r)
    assert "invalid reference" in line or "invalid" in line, line
    assert len(r.stderr.strip().splitlines()) <= 2  # the error, maybe a hint
    if why:
        assert why in line.lower(), line


def test_invalid_reference_does_not_touch_network_or_store(skiff, store):
    skiff.fails("pull", "Bad/Name", code=1)
    assert not store.refs()


def test_store_option_and_env(skiff, tmp_path):
    """--root wins; SKIFF_ROOT is used without it."""
    other = tmp_path / "other-root"
    r = skiff.run("images", root=False, env={"SKIFF_ROOT": str(other)})
    assert r.returncode == 0, r.stderr
    assert other.is_dir()


def test_malformed_config_file_is_named(skiff, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = skiff.fails("images", env={"SKIFF_CONFIG": str(bad)}, code=1)
    assert str(bad) in regkit.error_line(r)


def test_invalid_mirror_url(skiff):
    r = skiff.fails("--registry-mirror", "ftp://x", "images")
    assert "ftp://x" in regkit.error_line(r)


def test_debug_env_variable_enables_tracing(skiff, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")
    r = skiff.ok("pull", f"{registry.hostport}/tools/busybox", env={"SKIFF_DEBUG": "1"})
    assert "/v2/" in r.stderr
    quiet = skiff.ok("pull", f"{registry.hostport}/tools/busybox")
    assert "/v2/" not in quiet.stderr


@pytest.mark.parametrize("args,flag", [
    (["run", "--priv", "--rm", "x", "true"], "--priv"),
    (["run", "--pid", "host", "--rm", "x", "true"], "--pid"),
    (["run", "--net=none", "--rm", "x", "true"], None),  # docker's own alias
    (["ps", "--al"], "--al"),
    (["images", "--dig"], "--dig"),
    (["--ro", "/tmp/x", "ps"], "--ro"),
])
def test_long_options_are_never_matched_by_prefix(skiff, args, flag):
    """getopt takes unambiguous prefixes; `run --priv` started a privileged
    container and `--pid host` set --pids-limit (issue 11)."""
    r = skiff.run(*args, root=False)
    if flag is None:
        assert "unknown flag" not in r.stderr
        return
    assert r.returncode in (1, 125)
    assert f"unknown flag: {flag}" in r.stderr or f"unknown flag '{flag}'" in r.stderr
