"""Small docker-parity details found by tests/compare/docker_vs_skiff.py,
each checked against docker 20.10 on these machines (the expected values
below are what docker printed)."""

import pytest

import runlib


@pytest.fixture
def image(skiff, tmp_path):
    # /etc/group of the test image: root, app (1000, no members), nogroup;
    # wheel and staff list app as a member.
    return runlib.install_image(skiff, tmp_path, extra_files={
        "etc/group": b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"
                     b"wheel:x:10:app\nstaff:x:50:app,root\n"})


@pytest.mark.parametrize("user, groups", [
    (None, "0 50"),           # root: its primary group and staff
    ("1000", "1000 10 50"),   # app: member groups and the primary one
    ("app", "1000 10 50"),
    ("app:staff", "50"),      # an explicit group: only that one
    ("1000:4242", "4242"),
    ("4242", "0"),            # unknown to passwd: gid 0, docker's default
])
def test_the_primary_group_is_a_supplementary_group_too(skiff, image, user, groups):
    args = ["run", "--rm", "--network", "none"] + (["-u", user] if user else [])
    # the kernel's list (`id -G` would print the gid even without it)
    line = skiff.ok(*args, image, "grep", "^Groups:", "/proc/self/status").stdout
    assert sorted(line.split()[1:], key=int) == sorted(groups.split(), key=int)


def test_dev_has_docker_entries_and_no_kcore_link(skiff, image):
    out = skiff.ok("run", "--rm", "--network", "none", image, "ls", "/dev").stdout.split()
    assert "core" not in out
    for name in ("fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm",
                 "stderr", "stdin", "stdout", "tty", "urandom", "zero"):
        assert name in out


def test_start_keeps_the_environment_the_container_was_created_with(skiff, image, tmp_path):
    """docker records the environment at create time: a later `start` reads
    no --env-file again and takes no `-e K` from the starting shell."""
    env_file = tmp_path / "env"
    env_file.write_text("FROM_FILE=one\n")
    cid = skiff.ok("run", "-d", "--network", "none", "--env-file", str(env_file),
                   "-e", "FROM_SHELL", image, "sh", "-c",
                   "echo $FROM_FILE $FROM_SHELL; sleep 300",
                   env={"FROM_SHELL": "first"}).stdout.strip()
    try:
        runlib.wait_for(lambda: "one first" in skiff.ok("logs", cid).stdout, what="first output")
        skiff.ok("stop", "-t", "0", cid)
        env_file.write_text("FROM_FILE=two\n")
        skiff.ok("start", cid, env={"FROM_SHELL": "second"})
        runlib.wait_for(lambda: skiff.ok("logs", cid).stdout.count("\n") >= 2,
                        what="second output")
        assert skiff.ok("logs", cid).stdout.splitlines() == ["one first", "one first"]
    finally:
        skiff.run("rm", "-f", cid)
