"""Helpers for the `skiff run` tests: put a busybox image built by
tests/images/mkimage.py into a test's private store, and small process tools
(children of a pid, mounts of the host)."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "images"))

import mkimage  # noqa: E402
import regkit  # noqa: E402

TAG = "test/busybox:latest"


def _push_and_pull(skiff, tmp_path, config, layers):
    """Until `skiff load` exists: the same image through a private registry."""
    repo = "test/busybox"
    with regkit.Registry(tmp_path / "run-registry") as reg:
        client = regkit.RegistryClient(reg.url)
        for layer in layers:
            client.push_blob(repo, layer)
        client.push_blob(repo, config)
        manifest = mkimage.make_manifest(config, layers,
                                         layer_type=mkimage.OCI_LAYER_TYPES["none"])
        client.push_manifest(repo, "latest", manifest, mkimage.MT_OCI_MANIFEST)
        ref = f"{reg.hostport}/{repo}:latest"
        skiff.ok("pull", "-q", ref)
    return ref


def install_image(skiff, tmp_path, n_layers=1, extra_files=None, **config_kw):
    """Build a busybox image and make it available in skiff's store; returns
    the name to give `skiff run`."""
    layers = mkimage.build_rootfs_layers(n_layers=n_layers, extra_files=extra_files)
    config = mkimage.make_config(layers, **config_kw)
    archive = tmp_path / "image.tar"
    mkimage.write_docker_archive(str(archive), [mkimage.Image(config, layers, [TAG])])
    r = skiff.run("load", "-i", str(archive))
    if r.returncode == 0:
        return TAG
    assert "not implemented" in r.stderr, r.stderr
    return _push_and_pull(skiff, tmp_path, config, layers)


def children_of(pid):
    """Direct children of pid (from /proc/PID/task/*/children)."""
    out = []
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        try:
            with open(f"{task_dir}/{tid}/children") as f:
                out += [int(p) for p in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def wait_for(pred, timeout=10.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def host_mount_lines_mentioning(path):
    with open("/proc/self/mountinfo") as f:
        return [l for l in f if path in l]


# A shell that exits 42 on SIGUSR1: the command to run (after argv) when
# checking that a signal sent to skiff reaches the process in the container.
USR1_TRAP = 'trap "exit 42" USR1; echo ready; while :; do sleep 0.05; done'


def assert_usr1_forwarded(argv, env):
    """Start argv (a skiff command ending in `/bin/sh -c USR1_TRAP`), send
    skiff SIGUSR1 once the shell is ready: skiff must exit with its 42."""
    import signal
    import subprocess
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(timeout=10) == 42
    finally:
        proc.kill()


def read_until(fd, pattern, timeout=10.0):
    """Read fd (a pty master) until the bytes so far match pattern and return
    them all; an AssertionError naming what came if they never do."""
    import re
    import select
    buf = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        if re.search(pattern, buf):
            return buf
    raise AssertionError(f"no {pattern!r} in {buf!r}")
