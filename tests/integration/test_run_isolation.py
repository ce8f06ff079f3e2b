"""skiff run isolation: pids, hostname, /proc/sys, the old root, /dev, and the
options that shape the container (-e, --env-file, -w, -u, --read-only, -v,
--tmpfs)."""

import os

import pytest

import runlib


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def run_sh(skiff, image, script, *flags):
    return skiff.ok("run", "--rm", *flags, image, "/bin/sh", "-c", script).stdout


def test_host_pids_are_invisible(skiff, image):
    # sh is pid 1; ls and grep are its two children: nothing else exists
    pids = run_sh(skiff, image, "ls /proc | grep '^[0-9]*$'").split()
    assert sorted(pids, key=int) == ["1", "2", "3"]


def test_hostname_differs_and_defaults_to_short_id(skiff, image):
    name = run_sh(skiff, image, "hostname").strip()
    assert name != os.uname().nodename
    assert len(name) == 12 and all(c in "0123456789abcdef" for c in name)
    assert run_sh(skiff, image, "hostname; cat /etc/hostname", "-h", "box") == "box\nbox\n"


def test_proc_sys_is_read_only(skiff, image):
    out = run_sh(skiff, image, "echo x > /proc/sys/kernel/hostname 2>/dev/null; echo $?")
    assert out == "1\n"


def test_old_root_is_absent(skiff, image, tmp_path):
    info = run_sh(skiff, image, "cat /proc/self/mountinfo")
    points = [l.split()[4] for l in info.splitlines()]
    assert points.count("/") == 1
    assert all(p.startswith(("/proc", "/dev", "/sys", "/etc/")) or p == "/" for p in points), \
        points
    # the store (a path on the host) is never spelled out by the overlay
    assert str(tmp_path) not in [l for l in info.splitlines() if l.split()[4] == "/"][0]


def test_dev_has_docker_devices(skiff, image):
    out = run_sh(skiff, image, "ls /dev; stat -c '%a %U' /dev 2>/dev/null; "
                 "echo hi > /dev/null && head -c 4 /dev/zero | wc -c")
    names = out.split()
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm",
                "mqueue", "fd", "stdin", "stdout", "stderr"):
        assert dev in names, out
    assert out.rstrip().endswith("4")


def test_masked_paths(skiff, image):
    out = run_sh(skiff, image, "cat /proc/keys | wc -c; ls /sys/firmware | wc -l")
    assert out.split() == ["0", "0"]


def test_env_flags_and_env_file(skiff, image, tmp_path):
    envf = tmp_path / "env"
    envf.write_text("# comment\nFROM_FILE=1\nBOTH=file\n\n")
    out = run_sh(skiff, image, "echo $FROM_FILE $BOTH $E $HOME $HOSTNAME_SET",
                 "--env-file", str(envf), "-e", "BOTH=flag", "-e", "E=e")
    assert out == "1 flag e /root\n"


def test_workdir_is_created(skiff, image):
    assert run_sh(skiff, image, "pwd", "-w", "/new/dir") == "/new/dir\n"


def test_user_by_name_uid_and_group(skiff, image):
    assert run_sh(skiff, image, "id -u; id -g; echo $HOME", "-u", "app") == \
        "1000\n1000\n/home/app\n"
    assert run_sh(skiff, image, "id -u; id -g", "-u", "1234:65534") == "1234\n65534\n"
    assert run_sh(skiff, image, "id -u; id -g", "-u", "nobody:app") == "65534\n1000\n"


def test_unknown_user_fails(skiff, image):
    r = skiff.fails("run", "--rm", "-u", "ghost", image, "true", code=125)
    assert "unable to find user ghost" in r.stderr


def test_read_only_root(skiff, image):
    out = run_sh(skiff, image, "touch /x 2>/dev/null; echo $?; echo ok > /dev/shm/y && cat "
                 "/dev/shm/y", "--read-only")
    assert out == "1\nok\n"


def test_volume_rw_and_ro(skiff, image, tmp_path):
    src = tmp_path / "vol"
    src.mkdir()
    (src / "in").write_text("hello\n")
    assert run_sh(skiff, image, "cat /v/in; echo w > /v/out", "-v", f"{src}:/v") == "hello\n"
    assert (src / "out").read_text() == "w\n"
    out = run_sh(skiff, image, "touch /v/nope 2>/dev/null; echo $?", "-v", f"{src}:/v:ro")
    assert out == "1\n"
    assert not (src / "nope").exists()


def test_tmpfs(skiff, image):
    out = run_sh(skiff, image, "grep ' /scratch ' /proc/mounts; echo x > /scratch/f && cat "
                 "/scratch/f", "--tmpfs", "/scratch:size=1m")
    assert out.startswith("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec")
    assert out.endswith("x\n")


def test_network_none_has_only_loopback(skiff, image):
    out = skiff.ok("run", "--rm", "--network", "none", image, "ls", "/sys/class/net").stdout
    assert out.split() == ["lo"]


def test_default_network_is_the_bridge_as_root(skiff, image):
    out = run_sh(skiff, image, "ls /sys/class/net")
    assert out.split() == ["eth0", "lo"]


def test_device_nodes_can_be_made_but_not_opened(skiff, image):
    # CAP_MKNOD is one of docker's capabilities; the device cgroup is what
    # keeps root in the container from opening e.g. the host's memory or disk
    script = ("mknod /dev/m c 1 1 && echo made; head -c 1 /dev/m; "
              "mknod /dev/loopx b 7 0 && head -c 1 /dev/loopx; "
              "echo ok > /dev/null && echo null-ok")
    r = skiff.run("run", "--rm", image, "/bin/sh", "-c", script)
    assert r.stdout == "made\nnull-ok\n", r
    assert r.stderr.count("Operation not permitted") == 2, r.stderr
    # --privileged lifts it (the open fails for another reason or works)
    r = skiff.run("run", "--rm", "--privileged", image, "/bin/sh", "-c", script)
    assert "Operation not permitted" not in r.stderr, r.stderr


def test_read_only_makes_the_etc_files_read_only_too(skiff, image):
    """docker mounts /etc/hosts, hostname and resolv.conf read-only under
    --read-only (issue 11, item 6); without it they stay writable."""
    script = ("for f in hosts hostname resolv.conf; do "
              "(echo x >> /etc/$f) 2>/dev/null && echo $f:rw || echo $f:ro; done")
    assert run_sh(skiff, image, script, "--read-only").split() == \
        ["hosts:ro", "hostname:ro", "resolv.conf:ro"]
    assert run_sh(skiff, image, script).split() == ["hosts:rw", "hostname:rw", "resolv.conf:rw"]


def test_host_network_has_the_hosts_hostname(skiff, image):
    """docker: --network host gives the host's name (issue 11, item 17)."""
    import socket
    assert run_sh(skiff, image, "hostname", "--network", "host").strip() == socket.gethostname()
    assert run_sh(skiff, image, "hostname", "--network", "host", "-h", "mine").strip() == "mine"


def test_volume_relative_and_missing_sources_as_docker(skiff, image, tmp_path):
    """-v ./dir:/d takes a path relative to the current directory, and a
    missing host directory is created (issue 11, item 16)."""
    import subprocess
    r = subprocess.run(skiff.cmd("run", "--rm", "-v", "./rel:/r", "-v",
                                 f"{tmp_path}/made/deep:/m", image, "/bin/sh", "-c",
                                 "echo a > /r/f; echo b > /m/g"),
                       cwd=tmp_path, env=skiff.env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "rel" / "f").read_text() == "a\n"
    assert (tmp_path / "made" / "deep" / "g").read_text() == "b\n"
    # a source without "/" or "." is a volume's name (test_volumes.py)
    r = skiff.run("run", "--rm", "-v", "rel/dir:/x", image, "true")
    assert r.returncode == 125 and "includes invalid characters for a local volume" in r.stderr
