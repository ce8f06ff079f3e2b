"""Making and sharing images: `skiff tag`, `history`, `diff`, `commit`,
`save` (docker and OCI layouts), `export` and `import`.

What a user sees: the printed ids and lines, the images the store lists and
runs, the archives (their entries, and that `skiff load` and `docker load`
take them with the same image id), and for bad input one clear line with
docker's exit codes and no new image."""

import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest

import regkit
import runlib
from regkit import TarBuilder

TAG = runlib.TAG


def image(skiff, tmp_path, **kw):
    return runlib.install_image(skiff, tmp_path, **kw)


def second_store(tmp_path):
    return regkit.Skiff(os.environ["SKIFF_BIN"], tmp_path / "store2", tmp_path / "home2")


def store_config(skiff, image_id):
    with open(os.path.join(str(skiff.root), "blobs", "sha256", image_id.split(":")[1])) as f:
        return json.load(f)


def image_id(skiff, name):
    return skiff.ok("images", "--no-trunc", "--format", "{{.ID}}", name).stdout.split()[0]


def members(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return {m.name: (m, t.extractfile(m).read() if m.isfile() else None)
                for m in t.getmembers()}


def run_bytes(skiff, *args, **kw):
    """skiff with binary stdout (archives)."""
    r = subprocess.run(skiff.cmd(*args), env=skiff.env, capture_output=True, timeout=120, **kw)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def docker_available():
    try:
        return subprocess.run(["docker", "version"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# --- tag ---------------------------------------------------------------------

def test_tag_adds_a_name_and_rmi_of_one_name_only_untags(skiff, tmp_path):
    name = image(skiff, tmp_path)
    iid = image_id(skiff, name)

    assert skiff.ok("tag", name, "mine/app:v1").stdout == ""
    skiff.ok("tag", iid[7:19], "mine/app")  # by short id, :latest implied

    rows = skiff.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.split("\n")
    assert {"mine/app:v1 " + iid[7:19], "mine/app:latest " + iid[7:19]} <= set(rows)
    r = skiff.ok("rmi", "mine/app:v1")
    assert r.stdout == "Untagged: mine/app:v1\n"  # no "Deleted:": other names remain
    skiff.ok("run", "--rm", "mine/app", "true")


def test_tag_moves_a_name_and_keeps_the_old_image(skiff, tmp_path):
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c", "echo x > /x").stdout.strip()
    skiff.ok("wait", cid)
    new = skiff.ok("commit", cid, "moving:1").stdout.strip()
    skiff.ok("tag", name, "moving:1")

    assert image_id(skiff, "moving:1") == image_id(skiff, name)
    # the image that lost its only name is still there, untagged
    listed = skiff.ok("images", "-q", "--no-trunc").stdout.split()
    assert new in listed


def test_tag_errors(skiff, tmp_path):
    name = image(skiff, tmp_path)
    r = skiff.fails("tag", "no/such:image", "x:1", code=1)
    assert "no such image" in r.stderr.lower()
    r = skiff.fails("tag", name, "UPPER:1", code=1)
    assert "UPPER:1" in r.stderr
    skiff.fails("tag", name, "x@sha256:" + "a" * 64, code=1)
    skiff.fails("tag", name)


# --- diff ---------------------------------------------------------------------

def test_diff_lists_additions_changes_and_deletions(skiff, tmp_path):
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c",
                   "echo more >> /etc/passwd; busybox rm /etc/group; busybox mkdir -p /new/sub;"
                   " echo n > /new/sub/f; busybox rm -r /home; busybox mkdir /home;"
                   " echo y > /home/z").stdout.strip()
    skiff.ok("wait", cid)

    lines = skiff.ok("diff", cid).stdout.splitlines()

    assert lines == ["C /etc", "C /etc/passwd", "D /etc/group",
                     # /home was removed and made again: docker reports it deleted
                     "D /home", "A /home/z",
                     "A /new", "A /new/sub", "A /new/sub/f"] or \
        sorted(lines) == sorted(["C /etc", "C /etc/passwd", "D /etc/group", "D /home",
                                 "A /home/z", "A /new", "A /new/sub", "A /new/sub/f"]), lines
    assert skiff.fails("diff", "nosuchcontainer", code=1).stderr.startswith("skiff: ")


# --- commit -------------------------------------------------------------------

def test_commit_makes_an_image_with_the_changes_and_the_config(skiff, tmp_path):
    name = image(skiff, tmp_path)
    base = store_config(skiff, image_id(skiff, name))
    cid = skiff.ok("run", "-d", "-e", "FROMRUN=1", "-w", "/tmp", name, "sh", "-c",
                   "echo hello > /greeting; busybox rm /etc/group").stdout.strip()
    skiff.ok("wait", cid)

    out = skiff.ok("commit", "-a", "Ann <ann@example.com>", "-m", "first commit",
                   "-c", 'CMD ["cat", "/greeting"]', "-c", "ENV A=1 B=two",
                   "-c", "EXPOSE 8080 53/udp", "-c", "LABEL team=blue", "-c", "USER app",
                   "-c", "WORKDIR sub", cid, "made:1").stdout
    new_id = out.strip()
    assert new_id.startswith("sha256:") and len(new_id) == 71
    assert image_id(skiff, "made:1") == new_id

    cfg = store_config(skiff, new_id)
    c = cfg["config"]
    assert c["Cmd"] == ["cat", "/greeting"]
    assert "FROMRUN=1" in c["Env"] and "A=1" in c["Env"] and "B=two" in c["Env"]
    assert not any(e.startswith("HOSTNAME=") for e in c["Env"])
    assert set(c["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert c["Labels"] == {"team": "blue"} and c["User"] == "app"
    assert c["WorkingDir"] == "/tmp/sub"
    assert cfg["author"] == "Ann <ann@example.com>"
    assert cfg["container"] == skiff.ok("inspect", "--format", "{{.Id}}", cid).stdout.strip() \
        or cfg["container"].startswith(cid[:12])
    assert cfg["rootfs"]["diff_ids"][:-1] == base["rootfs"]["diff_ids"]
    assert len(cfg["rootfs"]["diff_ids"]) == len(base["rootfs"]["diff_ids"]) + 1
    h = cfg["history"][-1]
    assert h["comment"] == "first commit" and h["author"] == "Ann <ann@example.com>"
    assert "echo hello" in h["created_by"] and "empty_layer" not in h

    # the layer: the new file, and the deletion as a whiteout
    r = skiff.ok("run", "--rm", "-u", "root", "made:1")
    assert r.stdout == "hello\n"
    r = skiff.run("run", "--rm", "-u", "root", "made:1", "cat", "/etc/group")
    assert r.returncode != 0

    hist = skiff.ok("history", "made:1").stdout.splitlines()
    assert hist[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert hist[1].startswith(new_id[7:19]) and hist[1].rstrip().endswith("first commit")
    assert all(l.startswith("<missing>") for l in hist[2:])
    assert skiff.ok("history", "-q", "made:1").stdout.splitlines()[0] == new_id[7:19]
    rows = [json.loads(l) for l in
            skiff.ok("history", "--format", "{{json .}}", "made:1").stdout.splitlines()]
    assert rows[0]["Comment"] == "first commit" and rows[0]["ID"] == new_id[7:19]
    full = skiff.ok("history", "--no-trunc", "--human=false", "made:1").stdout.splitlines()
    assert full[1].startswith(new_id) and "CREATED AT" in full[0]


def test_commit_of_an_unchanged_container_adds_no_layer(skiff, tmp_path):
    name = image(skiff, tmp_path)
    base = store_config(skiff, image_id(skiff, name))
    cid = skiff.ok("run", "-d", name, "true").stdout.strip()
    skiff.ok("wait", cid)

    new_id = skiff.ok("commit", cid).stdout.strip()

    cfg = store_config(skiff, new_id)
    assert cfg["rootfs"]["diff_ids"] == base["rootfs"]["diff_ids"]
    assert cfg["history"][-1]["empty_layer"] is True
    assert cfg["config"]["Cmd"] == ["true"]
    # untagged, as docker's
    row = [l for l in skiff.ok("images").stdout.splitlines() if new_id[7:19] in l]
    assert row and row[0].startswith("<none>")


def test_commit_of_a_running_container(skiff, tmp_path):
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c",
                   "echo live > /live; while :; do sleep 1; done").stdout.strip()
    try:
        runlib.wait_for(lambda: "A /live" in skiff.ok("diff", cid).stdout, what="/live")
        skiff.ok("commit", "-p", cid, "live:1")
    finally:
        skiff.run("rm", "-f", cid)
    assert skiff.ok("run", "--rm", "live:1", "cat", "/live").stdout == "live\n"


def test_commit_bad_change_leaves_no_image(skiff, tmp_path):
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c", "echo x > /x").stdout.strip()
    skiff.ok("wait", cid)
    before = skiff.ok("images", "-q").stdout

    r = skiff.fails("commit", "-c", "FROM scratch", cid, "bad:1", code=1)
    assert r.stderr.count("\n") == 1 and "FROM" in r.stderr
    r = skiff.fails("commit", "-c", "EXPOSE notaport", cid, "bad:1", code=1)
    assert "EXPOSE" in r.stderr
    assert skiff.ok("images", "-q").stdout == before
    skiff.fails("commit", "nosuchcontainer", code=1)


def test_commit_of_a_hostile_container_takes_nothing_of_the_host(skiff, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("HOST-SECRET-CONTENT\n")
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c",
                   f"busybox ln -s {secret} /leak; busybox ln -s / /root-link;"
                   " busybox mkfifo /pipe; busybox ln /etc/passwd /hard").stdout.strip()
    skiff.ok("wait", cid)

    new_id = skiff.ok("commit", cid, "hostile:1").stdout.strip()
    saved = run_bytes(skiff, "save", "hostile:1")

    assert b"HOST-SECRET-CONTENT" not in saved
    layer = None
    for n, (m, data) in members(saved).items():
        if n.endswith("layer.tar") and b"leak" in data:
            layer = members(data)
    assert layer["leak"][0].issym() and layer["leak"][0].linkname == str(secret)
    assert layer["root-link"][0].linkname == "/"
    assert layer["pipe"][0].isfifo()
    assert layer["hard"][0].islnk() or layer["etc/passwd"][0].islnk()
    r = skiff.run("run", "--rm", "hostile:1", "cat", "/leak")
    assert "HOST-SECRET" not in r.stdout
    assert new_id


# --- save / load ------------------------------------------------------------------

def test_save_then_load_elsewhere_keeps_the_image_id(skiff, tmp_path):
    name = image(skiff, tmp_path, n_layers=3)
    cid = skiff.ok("run", "-d", name, "sh", "-c",
                   "echo saved > /s; busybox rm /layer-1").stdout.strip()
    skiff.ok("wait", cid)
    made = skiff.ok("commit", cid, "saved:1").stdout.strip()
    base = image_id(skiff, name)
    archive = tmp_path / "out.tar"

    skiff.ok("save", "-o", str(archive), "saved:1", name)

    with tarfile.open(archive) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))
        repos = json.load(t.extractfile("repositories"))
    assert [m["RepoTags"] for m in manifest] == [["saved:1"], ["test/busybox:latest"]]
    assert manifest[0]["Config"] == made[7:] + ".json" and made[7:] + ".json" in names
    assert all(l.endswith("/layer.tar") and l in names for m in manifest for l in m["Layers"])
    assert any(n.endswith("/VERSION") for n in names)
    assert repos["saved"]["1"] == manifest[0]["Layers"][-1].split("/")[0]

    other = second_store(tmp_path)
    r = other.ok("load", "-i", str(archive))
    assert r.stdout == "Loaded image: saved:1\nLoaded image: test/busybox:latest\n"
    assert image_id(other, "saved:1") == made and image_id(other, name) == base
    assert other.ok("run", "--rm", "saved:1", "cat", "/s").stdout == "saved\n"
    assert other.run("run", "--rm", "saved:1", "cat", "/layer-1").returncode != 0


def test_save_of_a_pulled_image_keeps_its_id(skiff, tmp_path, registry, busybox):
    """The layer blob is kept at pull: save gives the very bytes of the
    diff_id, whatever tar writer made them."""
    registry.client.push_image("keep/me", busybox, tag="v1")
    ref = f"{registry.hostport}/keep/me:v1"
    skiff.ok("pull", "-q", ref)

    data = run_bytes(skiff, "save", ref)
    other = second_store(tmp_path)
    subprocess.run(other.cmd("load"), env=other.env, input=data, check=True,
                   capture_output=True)

    assert image_id(other, ref) == busybox.config_digest
    # OCI layout: the blobs exactly as the registry had them
    oci = members(run_bytes(skiff, "save", "--format", "oci", ref))
    index = json.loads(oci["index.json"][1])
    ann = index["manifests"][0]["annotations"]
    assert ann["io.containerd.image.name"] == ref and ann["org.opencontainers.image.ref.name"] == "v1"
    for layer in busybox.layers:
        assert "blobs/sha256/" + layer.digest.split(":")[1] in oci
    assert "oci-layout" in oci


def test_save_oci_layout_loads_back(skiff, tmp_path):
    name = image(skiff, tmp_path, n_layers=2)
    iid = image_id(skiff, name)
    data = run_bytes(skiff, "save", "--format", "oci", name)
    other = second_store(tmp_path)
    subprocess.run(other.cmd("load"), env=other.env, input=data, check=True, capture_output=True)
    assert image_id(other, name) == iid
    other.ok("run", "--rm", name, "cat", "/layer-1")


def test_save_by_id_has_no_tags_and_errors_write_nothing(skiff, tmp_path):
    name = image(skiff, tmp_path)
    iid = image_id(skiff, name)
    m = members(run_bytes(skiff, "save", iid[7:19]))
    assert json.loads(m["manifest.json"][1])[0]["RepoTags"] is None
    assert "repositories" not in m

    out = tmp_path / "never.tar"
    r = skiff.fails("save", "-o", str(out), name, "no/such:img", code=1)
    assert "no such image" in r.stderr.lower() and not out.exists()
    assert not [p for p in os.listdir(tmp_path) if "skiff-save" in p]
    skiff.fails("save", "--format", "zip", name)


@pytest.mark.skipif(not docker_available(), reason="docker is not running here")
def test_docker_loads_and_runs_a_saved_image(skiff, tmp_path):
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c", "echo from-skiff > /mark").stdout.strip()
    skiff.ok("wait", cid)
    made = skiff.ok("commit", "-c", 'CMD ["cat", "/mark"]', cid,
                    "skiff-made/for-docker:1").stdout.strip()
    data = run_bytes(skiff, "save", "skiff-made/for-docker:1")
    try:
        r = subprocess.run(["docker", "load"], input=data, capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr
        got = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}",
                              "skiff-made/for-docker:1"], capture_output=True, text=True)
        assert got.stdout.strip() == made
        r = subprocess.run(["docker", "run", "--rm", "--network", "none",
                            "skiff-made/for-docker:1"], capture_output=True, text=True,
                           timeout=120)
        assert r.stdout == "from-skiff\n", r.stderr
    finally:
        subprocess.run(["docker", "rmi", "-f", "skiff-made/for-docker:1"], capture_output=True)


# --- export / import ------------------------------------------------------------

def test_export_then_import_gives_the_container_filesystem(skiff, tmp_path):
    name = image(skiff, tmp_path)
    cid = skiff.ok("run", "-d", name, "sh", "-c",
                   "echo exported > /e; busybox rm /etc/group").stdout.strip()
    skiff.ok("wait", cid)

    data = run_bytes(skiff, "export", cid)
    m = members(data)
    assert m["e"][1] == b"exported\n" and "etc/group" not in m and "bin/busybox" in m
    assert not any(".wh." in n for n in m)
    out = tmp_path / "fs.tar"
    skiff.ok("export", "-o", str(out), cid)
    assert out.read_bytes() == data  # the same tree gives the same bytes

    new_id = skiff.ok("import", "-m", "from export", "-c", 'CMD ["cat", "/e"]', str(out),
                      "imported:1").stdout.strip()
    assert skiff.ok("run", "--rm", "imported:1").stdout == "exported\n"
    cfg = store_config(skiff, new_id)
    assert len(cfg["rootfs"]["diff_ids"]) == 1 and cfg["history"][0]["comment"] == "from export"
    assert cfg["os"] == "linux" and cfg["architecture"]


def test_import_from_stdin_gzip(skiff, tmp_path):
    tar = TarBuilder().dir("bin").file("bin/busybox", open("/bin/busybox", "rb").read(),
                                        mode=0o755).symlink("bin/sh", "busybox") \
        .file("hello", "gz\n").bytes()
    r = subprocess.run(skiff.cmd("import", "-", "fromstdin:1"), env=skiff.env,
                       input=gzip.compress(tar), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    new_id = r.stdout.decode().strip()
    cfg = store_config(skiff, new_id)
    assert cfg["history"][0]["comment"] == "Imported from -"
    assert skiff.ok("run", "--rm", "fromstdin:1", "/bin/sh", "-c", "busybox cat /hello").stdout \
        == "gz\n"
    # the input is the layer's blob: save gives the same id elsewhere
    other = second_store(tmp_path)
    subprocess.run(other.cmd("load"), env=other.env, input=run_bytes(skiff, "save", "fromstdin:1"),
                   check=True, capture_output=True)
    assert image_id(other, "fromstdin:1") == new_id


def test_import_of_a_hostile_tar_stays_in_its_layer(skiff, tmp_path):
    escape = tmp_path / "escaped"
    evil = TarBuilder().symlink("x", str(tmp_path)).file("x/escaped", "no") \
        .file("../../../../" + str(escape).lstrip("/") + "2", "no").bytes()
    path = tmp_path / "evil.tar"
    path.write_bytes(evil)
    before = skiff.ok("images", "-q").stdout

    r = skiff.fails("import", str(path), "evil:1", code=1)

    assert "entry 'x/escaped'" in r.stderr and r.stderr.count("\n") == 1
    assert not escape.exists() and not (tmp_path / "escaped2").exists()
    assert skiff.ok("images", "-q").stdout == before
    assert not [n for n in os.listdir(os.path.join(str(skiff.root), "tmp"))
                if n.startswith("import-")]


def test_save_to_a_device_writes_through_it(skiff, tmp_path):
    """-o names a device or fifo: written in place. A temporary file renamed
    over it would replace the node (it once replaced the host's /dev/null)."""
    name = image(skiff, tmp_path)
    null = tmp_path / "null"
    os.mknod(null, 0o666 | 0o020000, os.makedev(1, 3))

    skiff.ok("save", "-o", str(null), name)

    st = os.stat(null)
    assert (st.st_mode & 0o170000) == 0o020000 and os.major(st.st_rdev) == 1
    assert not [p for p in os.listdir(tmp_path) if "skiff-save" in p]
