"""Garbage collection with real containers: container prune, image prune
(dangling, -a), system df, rmi refusing images containers use (docker's
conflicts) and -f, and a GC SIGKILLed at many points leaving a store that
lists, runs and prunes again."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import runlib
from regkit import error_line

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images"))
import mkimage  # noqa: E402


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def load(skiff, tmp_path, tag, layers, cmd=None):
    """Load an image made of these layer tars under tag; returns its id."""
    config = mkimage.make_config(layers, cmd=cmd)
    archive = tmp_path / f"img-{len(os.listdir(tmp_path))}.tar"
    mkimage.write_docker_archive(str(archive), [mkimage.Image(config, layers, [tag])])
    skiff.ok("load", "-i", str(archive))
    return mkimage.digest(config)


def base_layer(extra=None):
    return mkimage.tar_bytes(mkimage.rootfs_entries(extra))


def many_files_layers(n_layers, files_per_layer, tag):
    """Layers that only this image has, each with many files (slow to delete)."""
    return [mkimage.tar_bytes([mkimage.Entry(f"{tag}-{i}/f{j}", data=f"{tag} {i} {j}\n")
                               for j in range(files_per_layer)])
            for i in range(n_layers)]


def layer_dirs(skiff):
    return sorted(os.listdir(os.path.join(skiff.root, "layers")))


def image_ids(skiff):
    return skiff.ok("images", "-q", "--no-trunc").stdout.split()


def images_size(skiff, repo):
    for line in skiff.ok("images").stdout.splitlines()[1:]:
        if line.split()[0] == repo:
            return line.split()[-1]
    raise AssertionError(f"{repo} not in skiff images")


def df(skiff):
    return {o["Type"]: o for o in
            map(json.loads, skiff.ok("system", "df", "--format", "json").stdout.splitlines())}


# --- container prune -------------------------------------------------------------

def test_container_prune_removes_only_stopped_containers(skiff, image):
    running = skiff.ok("run", "-d", "--name", "up", image, "sleep", "1000").stdout.strip()
    try:
        skiff.fails("run", "--name", "ex1", image, "sh", "-c", "exit 2", code=2)
        skiff.ok("run", "--name", "ex2", image, "sh", "-c", "echo data > /file")
        stopped = sorted(skiff.ok("ps", "-aq", "--no-trunc", "-f", "status=exited").stdout.split())
        assert len(stopped) == 2

        # The prompt: anything but y keeps everything.
        r = skiff.ok("container", "prune", input="n\n")
        assert "WARNING! This will remove all stopped containers." in r.stdout
        assert "Deleted" not in r.stdout
        assert len(skiff.ok("ps", "-aq").stdout.split()) == 3

        r = skiff.ok("container", "prune", input="y\n")
        lines = r.stdout.split("[y/N] ", 1)[1].splitlines()
        assert lines[0] == "Deleted Containers:"
        assert sorted(lines[1:3]) == stopped
        assert lines[3] == ""
        assert re.match(r"^Total reclaimed space: \d+(\.\d+)?[kM]?B$", lines[4]), lines
        assert lines[4] != "Total reclaimed space: 0B"  # ex2 wrote a file
        assert skiff.ok("ps", "-aq", "--no-trunc").stdout.split() == [running]
        for cid in stopped:
            assert not os.path.exists(os.path.join(skiff.root, "containers", cid))
        # The names are free again.
        assert skiff.ok("container", "prune", "-f").stdout == "Total reclaimed space: 0B\n"
        skiff.ok("run", "--name", "ex1", image, "true")
    finally:
        skiff.run("rm", "-f", running)


# --- image prune ----------------------------------------------------------------

def test_image_prune_removes_dangling_images_only(skiff, tmp_path):
    old = load(skiff, tmp_path, "app:1", [base_layer({"v": "1"})])
    layers_before = layer_dirs(skiff)
    new = load(skiff, tmp_path, "app:1", [base_layer({"v": "2"})])  # old is now dangling
    keep = load(skiff, tmp_path, "other:1", [base_layer({"v": "3"})])
    assert sorted(image_ids(skiff)) == sorted([old, new, keep])

    r = skiff.ok("image", "prune", "-f")
    assert r.stdout.splitlines()[:2] == ["Deleted Images:", f"deleted: {old}"]
    assert re.search(r"\nTotal reclaimed space: [1-9][0-9.]*[kM]?B\n$", r.stdout), r.stdout
    assert sorted(image_ids(skiff)) == sorted([new, keep])
    assert layers_before[0] not in layer_dirs(skiff)
    assert len(layer_dirs(skiff)) == 2
    # Nothing dangling is left.
    assert skiff.ok("image", "prune", "-f").stdout == "Total reclaimed space: 0B\n"


def test_image_prune_keeps_dangling_images_containers_use(skiff, tmp_path):
    old = load(skiff, tmp_path, "app:1", [base_layer({"v": "1"})])
    skiff.ok("run", "--name", "user", "app:1", "true")
    load(skiff, tmp_path, "app:1", [base_layer({"v": "2"})])
    r = skiff.ok("image", "prune", "-f")
    assert r.stdout == "Total reclaimed space: 0B\n"
    assert old in image_ids(skiff)
    skiff.ok("rm", "user")
    r = skiff.ok("image", "prune", "-f")
    assert f"deleted: {old}" in r.stdout
    assert old not in image_ids(skiff)


def test_image_prune_all_removes_every_image_no_container_uses(skiff, tmp_path):
    used = load(skiff, tmp_path, "used:1", [base_layer({"v": "1"})])
    unused = load(skiff, tmp_path, "unused:1", [base_layer({"v": "2"})] +
                  many_files_layers(2, 3, "u"))
    skiff.ok("run", "--name", "c", "used:1", "true")  # exited: still uses it
    r = skiff.ok("image", "prune", "-a", input="y\n")
    assert "WARNING! This will remove all images without at least one container " \
           "associated to them." in r.stdout
    assert "untagged: unused:1" in r.stdout and f"deleted: {unused}" in r.stdout
    assert "used:1" not in r.stdout.replace("unused:1", "")
    assert image_ids(skiff) == [used]
    assert len(layer_dirs(skiff)) == 1
    blobs = os.listdir(os.path.join(skiff.root, "blobs", "sha256"))
    assert unused[7:] not in blobs and used[7:] in blobs
    skiff.ok("run", "--rm", "used:1", "true")


# --- system df --------------------------------------------------------------------

def test_system_df_numbers(skiff, image):
    r = skiff.ok("system", "df")
    lines = r.stdout.splitlines()
    assert re.split(r" {3,}", lines[0]) == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [re.split(r" {3,}", l)[0] for l in lines[1:]] == \
        ["Images", "Containers", "Local Volumes", "Build Cache"]
    d = df(skiff)
    size = images_size(skiff, image.split(":")[0])
    assert d["Images"]["TotalCount"] == "1" and d["Images"]["Active"] == "0"
    assert d["Images"]["Size"] == size
    assert d["Images"]["Reclaimable"] == f"{size} (100%)"
    assert d["Containers"] == {"Type": "Containers", "TotalCount": "0", "Active": "0",
                               "Size": "0B", "Reclaimable": "0B"}
    assert d["Local Volumes"]["TotalCount"] == "0" and d["Build Cache"]["Size"] == "0B"

    cid = skiff.ok("run", "-d", image, "sh", "-c",
                   "head -c 300000 /dev/zero > /big; sleep 1000").stdout.strip()
    try:
        skiff.ok("run", "--name", "stopped", image, "true")
        runlib.wait_for(lambda: df(skiff)["Containers"]["Size"] != "0B"
                        and float(re.match(r"[\d.]+", df(skiff)["Containers"]["Size"]).group())
                        >= 300 and df(skiff)["Containers"]["Size"].endswith("kB"),
                        what="the container's write to show")
        d = df(skiff)
        assert d["Images"]["Active"] == "1"
        assert d["Images"]["Reclaimable"] == "0B (0%)"
        assert d["Containers"]["TotalCount"] == "2" and d["Containers"]["Active"] == "1"
        # The running container's 300 kB are not reclaimable, the stopped one's few are.
        rec = d["Containers"]["Reclaimable"]
        assert re.match(r"^\d+(\.\d+)?k?B \(\d%\)$", rec), rec
        row = [l for l in skiff.ok("system", "df").stdout.splitlines()
               if l.startswith("Containers")][0]
        assert re.split(r" {3,}", row)[1:3] == ["2", "1"]
    finally:
        skiff.run("rm", "-f", cid)


def test_system_df_counts_shared_layers_once(skiff, tmp_path):
    base = base_layer()
    load(skiff, tmp_path, "a:1", [base])
    load(skiff, tmp_path, "b:1", [base, many_files_layers(1, 1, "b")[0]])
    d = df(skiff)
    assert d["Images"]["TotalCount"] == "2"
    # Both images are about the size of the shared busybox layer; the total is
    # not twice it.
    assert d["Images"]["Size"] == images_size(skiff, "b")


# --- rmi and containers -----------------------------------------------------------

def test_rmi_refuses_an_image_a_stopped_container_uses(skiff, image):
    skiff.ok("run", "--name", "user", image, "true")
    cid = skiff.ok("ps", "-aq").stdout.strip()
    img_id = skiff.ok("inspect", "-f", "{{.Id}}", image).stdout.strip()
    layers = layer_dirs(skiff)

    r = skiff.run("rmi", image)
    assert r.returncode == 1
    assert error_line(r) == (f'skiff: conflict: unable to remove repository reference "{image}" '
                             f'(must force) - container {cid} is using its referenced image '
                             f'{img_id[7:19]}')
    r = skiff.run("rmi", img_id[7:19])
    assert r.returncode == 1
    assert error_line(r) == (f"skiff: conflict: unable to delete {img_id[7:19]} (must be forced) "
                             f"- image is being used by stopped container {cid}")
    assert image_ids(skiff) == [img_id]

    r = skiff.ok("rmi", "-f", image)
    assert r.stdout == f"Untagged: {image}\nDeleted: {img_id}\n"
    assert image_ids(skiff) == []
    # The container still holds the layers, and shows the image by id now.
    assert layer_dirs(skiff) == layers
    assert skiff.ok("ps", "-a", "--format", "{{.Image}}").stdout == img_id[7:19] + "\n"
    skiff.ok("rm", "user")
    r = skiff.ok("image", "prune", "-f")
    assert r.stdout != "Total reclaimed space: 0B\n"
    assert layer_dirs(skiff) == []


def test_rmi_of_an_image_a_running_container_uses(skiff, image):
    cid = skiff.ok("run", "-d", image, "sleep", "1000").stdout.strip()
    try:
        img_id = skiff.ok("inspect", "-f", "{{.Id}}", image).stdout.strip()
        r = skiff.run("rmi", "-f", img_id[7:19])
        assert r.returncode == 1
        assert error_line(r) == (f"skiff: conflict: unable to delete {img_id[7:19]} (cannot be "
                                 f"forced) - image is being used by running container {cid[:12]}")
        # By name with -f the name goes; the image stays, dangling (docker).
        r = skiff.ok("rmi", "-f", image)
        assert r.stdout == f"Untagged: {image}\n"
        assert image_ids(skiff) == [img_id]
        assert skiff.ok("images").stdout.splitlines()[1].split()[:2] == ["<none>", "<none>"]
    finally:
        skiff.run("rm", "-f", cid)


# --- an interrupted GC ---------------------------------------------------------------

def kill_after(skiff, delay, *args):
    p = skiff.popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    return p.wait(timeout=30)


def assert_store_usable(skiff, kept):
    """skiff images works and lists kept; kept runs; no layer of a listed
    image is missing."""
    r = skiff.ok("images")
    assert "kept" in r.stdout
    for img in skiff.ok("images", "-q", "--no-trunc").stdout.split():
        layers = json.loads(skiff.ok("inspect", "-f", "{{json .RootFS.Layers}}", img).stdout)
        for diff_id in layers:
            assert os.path.isdir(os.path.join(skiff.root, "layers", diff_id[7:], "diff")), \
                f"image {img} lost layer {diff_id}"
    assert skiff.ok("run", "--rm", kept, "cat", "/marker").stdout == "kept\n"


@pytest.mark.parametrize("command", [["image", "prune", "-a", "-f"], ["rmi", "doomed:1"]])
def test_gc_killed_midway_leaves_a_valid_store(skiff, tmp_path, command):
    kept = "kept:1"
    load(skiff, tmp_path, kept, [base_layer({"marker": "kept\n"})])
    skiff.ok("run", "--name", "pin", kept, "true")  # keeps "kept" from prune -a
    doomed_layers = [base_layer({"marker": "doomed\n"})] + many_files_layers(40, 150, "d")
    archive = tmp_path / "doomed.tar"
    config = mkimage.make_config(doomed_layers)
    mkimage.write_docker_archive(str(archive),
                                 [mkimage.Image(config, doomed_layers, ["doomed:1"])])

    interrupted = 0
    for delay in (0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2):
        skiff.ok("load", "-i", str(archive))
        if kill_after(skiff, delay, *command) == -signal.SIGKILL:
            interrupted += 1
        assert_store_usable(skiff, kept)
    assert interrupted >= 2, "the GC always finished before the kill: nothing was tested"

    # A later GC finishes the job: only kept's layer and blobs remain.
    skiff.run("rmi", "doomed:1")
    r = skiff.ok("image", "prune", "-a", "-f")
    assert r.stdout.endswith("\n") and "Total reclaimed space:" in r.stdout
    assert image_ids(skiff) == [skiff.ok("inspect", "-f", "{{.Id}}", kept).stdout.strip()]
    assert len(layer_dirs(skiff)) == 1, layer_dirs(skiff)
    # config, manifest, and the layer as it was loaded (kept for save and push)
    assert len(os.listdir(os.path.join(skiff.root, "blobs", "sha256"))) == 3
    assert_store_usable(skiff, kept)
    # And the doomed image can come back whole.
    skiff.ok("load", "-i", str(archive))
    assert skiff.ok("run", "--rm", "doomed:1", "cat", "/marker", "/d-39/f149").stdout == \
        "doomed\nd 39 149\n"


def test_image_prune_removes_everything_it_should_in_one_call(skiff, tmp_path):
    """It stopped after the first removal (issue 11, item 3)."""
    d1 = load(skiff, tmp_path, "app:1", [base_layer({"v": "1"})])
    d2 = load(skiff, tmp_path, "app:1", [base_layer({"v": "2"})])
    load(skiff, tmp_path, "app:1", [base_layer({"v": "3"})])  # d1, d2 dangling now
    r = skiff.ok("image", "prune", "-f")
    assert f"deleted: {d1}" in r.stdout and f"deleted: {d2}" in r.stdout
    u1 = load(skiff, tmp_path, "u1:1", [base_layer({"v": "4"})])
    u2 = load(skiff, tmp_path, "u2:1", [base_layer({"v": "5"})])
    r = skiff.ok("image", "prune", "-a", "-f")
    assert f"deleted: {u1}" in r.stdout and f"deleted: {u2}" in r.stdout
    assert image_ids(skiff) == []


def test_rmi_force_keeps_what_a_stopped_container_needs(skiff, tmp_path):
    """rmi -f of an image only stopped containers use must not leave them
    unable to start (issue 11, item 4): the record goes, config and layers
    stay while a container records the image, as docker."""
    img = load(skiff, tmp_path, "keep:1", [base_layer({"v": "1"})], cmd=["echo", "again"])
    skiff.ok("run", "--name", "stopped", "keep:1")
    skiff.ok("rmi", "-f", "keep:1")
    assert "keep:1" not in skiff.ok("images").stdout
    skiff.ok("start", "stopped")
    runlib.wait_for(lambda: "again" in skiff.ok("logs", "stopped").stdout, what="the restart")
    # its output is there before its monitor has recorded the exit
    runlib.wait_for(lambda: skiff.ok("inspect", "-f", "{{.State.Status}}", "stopped").stdout
                    .strip() == "exited", what="the exit")
    blob = os.path.join(skiff.root, "blobs", "sha256", img.split(":")[1])
    assert os.path.exists(blob)
    skiff.ok("rm", "stopped")
    skiff.ok("image", "prune", "-a", "-f")  # the container gone, so is the image
    assert not os.path.exists(blob)
