"""skiff load: docker-save tarballs (legacy <hex>/layer.tar, docker 25+ blobs/,
skopeo's <hex>.tar) and OCI image layouts, from a file or stdin, plain or gzip'ed.

What a user sees: the "Loaded image: ..." lines, `skiff images`, the records and
layers in the store; and for hostile or broken archives one clear error line,
exit 1 (as docker), and a store with no new image record and no leftovers."""

import gzip
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "images"))

import mkimage  # noqa: E402
import regkit  # noqa: E402

IS_AMD64 = platform.machine() in ("x86_64", "amd64")


def image(tags=("demo:1",), n_layers=1, **cfg):
    layers = mkimage.build_rootfs_layers(n_layers)
    config = mkimage.make_config(layers, **cfg)
    return mkimage.Image(config, layers, list(tags))


def diff_ids(img):
    return [mkimage.digest(l) for l in img.layers]


def config_id(img):
    return mkimage.digest(img.config)


def loaded_lines(result):
    return [l for l in result.stdout.splitlines() if l.startswith("Loaded image")]


def images_json(skiff):
    out = skiff.ok("images", "--no-trunc", "--format", "json").stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def spool_dirs(store):
    try:
        return [n for n in os.listdir(store.path("tmp")) if n.startswith("load-")]
    except FileNotFoundError:
        return []


def assert_clean(store):
    """No spool directory and no half-extracted layer left behind."""
    spools = spool_dirs(store)
    assert spools == [], f"spool dirs left: {spools}"
    assert store.tmp_layers() == [], f"tmp layers left: {store.tmp_layers()}"


def assert_image_loaded(store, img, ref):
    refs = store.refs()
    assert ref in refs, f"{ref} not in {refs}"
    assert refs[ref][1] == config_id(img)
    for d in diff_ids(img):
        assert d.split(":")[1] in store.layer_ids()
    base = diff_ids(img)[0].split(":")[1]
    diff = store.path("layers", base, "diff")
    assert os.path.isfile(os.path.join(diff, "bin", "busybox"))
    assert os.readlink(os.path.join(diff, "bin", "sh")) == "busybox"
    with open(os.path.join(diff, "etc", "passwd")) as f:
        assert "app:x:1000:1000" in f.read()
    # the record's manifest and config are in the store, and the manifest names the config
    with open(store.path("blobs", "sha256", refs[ref][0].split(":")[1]), "rb") as f:
        man = json.load(f)
    assert man["config"]["digest"] == config_id(img)
    assert len(man["layers"]) == len(img.layers)
    assert os.path.isfile(store.path("blobs", "sha256", config_id(img).split(":")[1]))


def tar_of(members):
    """An outer archive from (name, bytes) files and (name, None, linktarget) symlinks."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m in members:
            ti = tarfile.TarInfo(m[0])
            if len(m) == 3:
                ti.type, ti.linkname = tarfile.SYMTYPE, m[2]
                t.addfile(ti)
            else:
                ti.size = len(m[1])
                t.addfile(ti, io.BytesIO(m[1]))
    return buf.getvalue()


def legacy_members(img, layer_files=None, config_name=None):
    """The files of a legacy docker-save archive, to be tampered with."""
    names, members = [], []
    for i, layer in enumerate(img.layers):
        d = "%064x" % (i + 1)
        data = layer_files[i] if layer_files else layer
        members.append((d + "/layer.tar", data))
        names.append(d + "/layer.tar")
    cfg = config_name or mkimage.sha256_hex(img.config) + ".json"
    members.append((cfg, img.config))
    manifest = [{"Config": cfg, "RepoTags": img.tags, "Layers": names}]
    members.append(("manifest.json", json.dumps(manifest).encode()))
    return members


# --- formats ----------------------------------------------------------------

@pytest.mark.parametrize("layout", ["legacy", "blobs"])
def test_docker_archive(skiff, store, tmp_path, layout):
    img = image(["demo:1"], n_layers=3)
    path = tmp_path / "demo.tar"
    mkimage.write_docker_archive(str(path), [img], layout=layout)
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image: demo:1"]
    assert_image_loaded(store, img, "docker.io/library/demo:1")
    rows = [(i["Repository"], i["Tag"], i["ID"]) for i in images_json(skiff)]
    assert rows == [("demo", "1", config_id(img))]
    assert_clean(store)


def test_docker_archive_gzip_layers(skiff, store, tmp_path):
    img = image(["zipped:1"], n_layers=2)
    path = tmp_path / "z.tar"
    mkimage.write_docker_archive(str(path), [img], gzip_layers=True)
    skiff.ok("load", "-i", str(path))
    assert_image_loaded(store, img, "docker.io/library/zipped:1")
    man_digest = store.refs()["docker.io/library/zipped:1"][0]
    with open(store.path("blobs", "sha256", man_digest.split(":")[1])) as f:
        man = json.load(f)
    # the manifest describes the gzip blobs as they were in the archive
    assert all(l["mediaType"].endswith("tar.gzip") for l in man["layers"])
    assert man["layers"][0]["digest"] == mkimage.digest(mkimage.compress(img.layers[0], "gzip"))


@pytest.mark.parametrize("compression", ["gzip", "none", "zstd"])
def test_oci_archive(skiff, store, tmp_path, compression):
    if compression == "zstd" and not shutil.which("zstd"):
        pytest.skip("zstd CLI not installed")
    img = image(["ocidemo:2"], n_layers=2)
    path = tmp_path / "oci.tar"
    mkimage.write_oci_archive(str(path), img, compression=compression)
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image: ocidemo:2"]
    assert_image_loaded(store, img, "docker.io/library/ocidemo:2")
    # the record points at the manifest blob of the layout, byte for byte
    with tarfile.open(path) as t:
        index = json.load(t.extractfile("index.json"))
    assert store.refs()["docker.io/library/ocidemo:2"][0] == index["manifests"][0]["digest"]
    assert_clean(store)


@pytest.mark.skipif(not IS_AMD64, reason="the nested index offers linux/amd64")
def test_oci_nested_index_picks_host_platform(skiff, store, tmp_path):
    """The arm64 entry's blobs are absent: loading must not need them."""
    img = image(["multi:1"])
    path = tmp_path / "multi.tar"
    mkimage.write_oci_archive(str(path), img, nested_index=True)
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image: multi:1"]
    assert_image_loaded(store, img, "docker.io/library/multi:1")


def test_oci_bare_tag_ref_name_is_untagged(skiff, store, tmp_path):
    img = image([])
    path = tmp_path / "bare.tar"
    mkimage.write_oci_archive(str(path), img, ref_name="latest")
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image ID: " + config_id(img)]
    assert "docker.io/library/latest:latest" not in store.refs()
    assert [i["ID"] for i in images_json(skiff)] == [config_id(img)]


def test_gzip_compressed_archive(skiff, store, tmp_path):
    img = image(["gz:1"], n_layers=2)
    path = tmp_path / "img.tar.gz"
    mkimage.write_docker_archive(str(path), [img], gzip_outer=True)
    with open(path, "rb") as f:
        assert f.read(2) == b"\x1f\x8b"
    skiff.ok("load", "-i", str(path))
    assert_image_loaded(store, img, "docker.io/library/gz:1")


def test_stdin(skiff, store, tmp_path):
    img = image(["piped:1"])
    data = mkimage.write_docker_archive(str(tmp_path / "p.tar"), [img])
    r = subprocess.run(skiff.cmd("load"), input=data, env=skiff.env, capture_output=True,
                       timeout=regkit.DEFAULT_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ["Loaded image: piped:1"]
    assert_image_loaded(store, img, "docker.io/library/piped:1")


def test_quiet_still_names_images(skiff, tmp_path):
    img = image(["quiet:1", "quiet:2"])
    path = tmp_path / "q.tar"
    mkimage.write_docker_archive(str(path), [img])
    r = skiff.ok("load", "-q", "-i", str(path))
    assert r.stdout.splitlines() == ["Loaded image: quiet:1", "Loaded image: quiet:2"]


def test_untagged_docker_archive(skiff, store, tmp_path):
    img = image([])
    path = tmp_path / "u.tar"
    mkimage.write_docker_archive(str(path), [img])
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image ID: " + config_id(img)]
    rows = images_json(skiff)
    assert [(i["Repository"], i["ID"]) for i in rows] == [("<none>", config_id(img))]


def test_several_images_and_tags_in_one_archive(skiff, store, tmp_path):
    a = image(["one:a", "registry.example:5000/team/one:b"])
    b = image(["two:1"], n_layers=2, cmd=["/bin/echo", "two"])
    path = tmp_path / "two.tar"
    mkimage.write_docker_archive(str(path), [a, b])
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image: one:a",
                               "Loaded image: registry.example:5000/team/one:b",
                               "Loaded image: two:1"]
    assert_image_loaded(store, a, "registry.example:5000/team/one:b")
    assert_image_loaded(store, b, "docker.io/library/two:1")


def test_many_layers(skiff, store, tmp_path):
    img = image(["tall:1"], n_layers=20)
    path = tmp_path / "tall.tar"
    mkimage.write_docker_archive(str(path), [img])
    skiff.ok("load", "-i", str(path))
    assert_image_loaded(store, img, "docker.io/library/tall:1")
    top = diff_ids(img)[19].split(":")[1]
    with open(store.path("layers", top, "diff", "layer-19")) as f:
        assert f.read() == "layer 19\n"


def test_duplicate_layer_symlink(skiff, store, tmp_path):
    """docker save writes a repeated layer once and links the others to it."""
    layers = mkimage.build_rootfs_layers(2)
    layers.append(layers[1])
    img = mkimage.Image(mkimage.make_config(layers), layers, ["dup:1"])
    path = tmp_path / "dup.tar"
    mkimage.write_docker_archive(str(path), [img])
    with tarfile.open(path) as t:
        assert any(m.issym() for m in t.getmembers())
    skiff.ok("load", "-i", str(path))
    assert_image_loaded(store, img, "docker.io/library/dup:1")


def test_skopeo_docker_archive(skiff, store, tmp_path):
    """skopeo and podman name layers <hex>.tar and link the legacy names to them."""
    if not shutil.which("skopeo"):
        pytest.skip("skopeo not installed")
    img = image(["viaskopeo:1"], n_layers=2)
    oci = tmp_path / "o.tar"
    mkimage.write_oci_archive(str(oci), img)
    out = tmp_path / "skopeo.tar"
    subprocess.run(["skopeo", "copy", "-q", f"oci-archive:{oci}",
                    f"docker-archive:{out}:viaskopeo:1"], check=True, timeout=120)
    r = skiff.ok("load", "-i", str(out))
    assert loaded_lines(r) == ["Loaded image: viaskopeo:1"]
    assert_image_loaded(store, img, "docker.io/library/viaskopeo:1")


def test_shared_layers_are_not_extracted_again(skiff, store, tmp_path):
    first = image(["first:1"], n_layers=2)
    second = image(["second:1"], n_layers=3)  # same base and layer-1, one more layer
    p1, p2 = tmp_path / "1.tar", tmp_path / "2.tar"
    mkimage.write_docker_archive(str(p1), [first])
    mkimage.write_docker_archive(str(p2), [second])
    skiff.ok("load", "-i", str(p1))
    shared = [d.split(":")[1] for d in diff_ids(first)]
    inodes = {h: os.stat(store.path("layers", h)).st_ino for h in shared}
    r = skiff.ok("load", "-i", str(p2), env={"SKIFF_DEBUG": "1"})
    extracted = [l for l in r.stderr.splitlines() if "load: layer sha256:" in l]
    assert len(extracted) == 1 and diff_ids(second)[2] in extracted[0], r.stderr
    assert {h: os.stat(store.path("layers", h)).st_ino for h in shared} == inodes
    assert store.layer_ids() == {d.split(":")[1] for d in diff_ids(second)}
    assert_image_loaded(store, first, "docker.io/library/first:1")
    assert_image_loaded(store, second, "docker.io/library/second:1")


def test_loading_twice_is_idempotent(skiff, store, tmp_path):
    img = image(["again:1"])
    path = tmp_path / "a.tar"
    mkimage.write_docker_archive(str(path), [img])
    skiff.ok("load", "-i", str(path))
    before = store.refs()
    r = skiff.ok("load", "-i", str(path))
    assert loaded_lines(r) == ["Loaded image: again:1"]
    assert store.refs() == before


# --- hostile and broken archives --------------------------------------------

def test_unknown_names_are_ignored(skiff, store, tmp_path):
    img = image(["safe:1"])
    members = legacy_members(img) + [
        ("../../escaped", b"x"),
        ("/abs-escaped", b"x"),
        ("blobs/sha256/../../../../escaped2", b"x"),
        ("blobs/sha256/" + "0" * 64 + "/../../x", b"x"),
    ]
    path = tmp_path / "hostile.tar"
    path.write_bytes(tar_of(members))
    skiff.ok("load", "-i", str(path))
    assert_image_loaded(store, img, "docker.io/library/safe:1")
    for p in (store.path("escaped"), store.path("escaped2"), store.path("tmp", "escaped"),
              "/abs-escaped", str(tmp_path / "escaped")):
        assert not os.path.exists(p), p
    assert_clean(store)


def test_layer_symlink_out_of_the_archive_is_refused(skiff, store, tmp_path):
    img = image(["evil:1"])
    members = legacy_members(img)
    name = members[0][0]
    members[0] = (name, None, "../../../../../../etc/passwd")
    path = tmp_path / "evil.tar"
    path.write_bytes(tar_of(members))
    r = skiff.fails("load", "-i", str(path), code=1)
    line = regkit.error_line(r)
    assert "missing from the archive" in line and name in line, line
    assert store.refs() == {}
    assert_clean(store)


def test_diff_id_mismatch_records_nothing(skiff, store, tmp_path):
    img = image(["liar:1"], n_layers=2)
    wrong = mkimage.tar_bytes([mkimage.Entry("layer-1", data="not what the config says\n")])
    members = legacy_members(img, layer_files=[img.layers[0], wrong])
    path = tmp_path / "liar.tar"
    path.write_bytes(tar_of(members))
    r = skiff.fails("load", "-i", str(path), code=1)
    line = regkit.error_line(r)
    assert "diff_id mismatch" in line and "layer 2" in line and "liar:1" in line, line
    assert diff_ids(img)[1] in line and mkimage.digest(wrong) in line
    assert store.refs() == {}
    assert mkimage.sha256_hex(wrong) not in store.layer_ids()
    assert diff_ids(img)[1].split(":")[1] not in store.layer_ids()
    assert not os.path.exists(store.path("blobs", "sha256", mkimage.sha256_hex(img.config)))
    assert_clean(store)


def test_config_digest_mismatch(skiff, store, tmp_path):
    img = image(["badcfg:1"])
    members = legacy_members(img, config_name="ab" * 32 + ".json")
    path = tmp_path / "badcfg.tar"
    path.write_bytes(tar_of(members))
    r = skiff.fails("load", "-i", str(path), code=1)
    assert "digest mismatch" in regkit.error_line(r)
    assert store.refs() == {}


def test_oci_layer_blob_tampered(skiff, store, tmp_path):
    img = image(["tamper:1"], n_layers=2)
    path = tmp_path / "t.tar"
    mkimage.write_oci_archive(str(path), img)
    blob = mkimage.compress(img.layers[1], "gzip")
    evil = mkimage.compress(mkimage.tar_bytes([mkimage.Entry("pwned", data="x")]), "gzip")
    with tarfile.open(path) as t:
        members = [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
    members = [(n, evil if n.endswith(mkimage.sha256_hex(blob)) else d) for n, d in members]
    path.write_bytes(tar_of(members))
    r = skiff.fails("load", "-i", str(path), code=1)
    line = regkit.error_line(r)
    assert "digest mismatch" in line and mkimage.digest(blob) in line, line
    assert store.refs() == {}
    assert diff_ids(img)[1].split(":")[1] not in store.layer_ids()


def test_missing_layer_file(skiff, store, tmp_path):
    img = image(["holes:1"], n_layers=2)
    members = legacy_members(img)
    del members[1]
    path = tmp_path / "holes.tar"
    path.write_bytes(tar_of(members))
    r = skiff.fails("load", "-i", str(path), code=1)
    line = regkit.error_line(r)
    assert "%064x/layer.tar' is missing from the archive" % 2 in line, line
    assert store.refs() == {}


def test_invalid_repo_tag(skiff, store, tmp_path):
    img = image(["Bad:1"])
    path = tmp_path / "badtag.tar"
    mkimage.write_docker_archive(str(path), [img])
    r = skiff.fails("load", "-i", str(path), code=1)
    assert "Bad:1" in regkit.error_line(r)
    assert store.refs() == {}


@pytest.mark.parametrize("content", [b"this is not an archive\n" * 100, b"",
                                     gzip.compress(b"gzip but not a tar"),
                                     tar_of([("hello.txt", b"hi")])])
def test_not_an_archive(skiff, store, tmp_path, content):
    path = tmp_path / "garbage.tar"
    path.write_bytes(content)
    r = skiff.fails("load", "-i", str(path), code=1)
    assert regkit.error_line(r) == \
        f"skiff: load: '{path}' is not a docker-save or OCI archive"
    assert r.stdout == ""
    assert store.refs() == {}
    assert_clean(store)


def test_truncated_archive(skiff, store, tmp_path):
    img = image(["cut:1"])
    data = mkimage.write_docker_archive(str(tmp_path / "full.tar"), [img])
    path = tmp_path / "cut.tar"
    path.write_bytes(data[:len(data) // 2])
    r = skiff.fails("load", "-i", str(path), code=1)
    assert "cut.tar" in regkit.error_line(r)
    assert store.refs() == {}
    assert_clean(store)


def test_missing_input_file(skiff, tmp_path):
    r = skiff.fails("load", "-i", str(tmp_path / "nope.tar"), code=1)
    line = regkit.error_line(r)
    assert "nope.tar" in line and "No such file" in line


def test_usage_errors(skiff):
    r = skiff.fails("load", "extra-arg", code=1)
    assert "load" in r.stderr
    r = skiff.ok("load", "--help")
    assert "Usage: skiff load" in r.stdout


@pytest.mark.parametrize("field,value,message", [
    ("Config", "../../../../etc/passwd", "invalid Config"),
    ("Config", "%064x/layer.tar" % 1, "invalid Config"),
    ("Layers", ["/etc/passwd"], "invalid file name"),
    ("Layers", ["../" * 8 + "etc/shadow"], "invalid file name"),
])
def test_manifest_json_names_outside_the_archive(skiff, store, tmp_path, field, value, message):
    img = image(["names:1"])
    members = legacy_members(img)
    manifest = json.loads(members[-1][1])
    manifest[0][field] = value
    members[-1] = ("manifest.json", json.dumps(manifest).encode())
    path = tmp_path / "names.tar"
    path.write_bytes(tar_of(members))
    r = skiff.fails("load", "-i", str(path), code=1)
    assert message in regkit.error_line(r)
    assert store.refs() == {}
    assert_clean(store)


def test_concurrent_loads(skiff, store, tmp_path):
    img = image(["together:1"], n_layers=10)
    path = tmp_path / "t.tar"
    mkimage.write_docker_archive(str(path), [img])
    procs = [skiff.popen("load", "-i", str(path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        out, errout = p.communicate(timeout=regkit.DEFAULT_TIMEOUT)
        assert p.returncode == 0, errout
        assert out.decode().splitlines() == ["Loaded image: together:1"]
    assert list(store.refs()) == ["docker.io/library/together:1"]
    assert_image_loaded(store, img, "docker.io/library/together:1")
    assert_clean(store)


def test_concurrent_loads_never_lose_their_spool(skiff, tmp_path):
    # each load sweeps stale spools of dead loads (unlocked load-* dirs): one
    # made by a live load but not locked yet must not count as stale
    img = image(["race:1"], n_layers=3)
    path = tmp_path / "r.tar"
    mkimage.write_docker_archive(str(path), [img])
    for round in range(8):
        root = tmp_path / f"store-{round}"
        procs = [subprocess.Popen(skiff.cmd("load", "-q", "-i", str(path))[:1] +
                                  ["--root", str(root), "load", "-q", "-i", str(path)],
                                  env=skiff.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(6)]
        for p in procs:
            out, errout = p.communicate(timeout=regkit.DEFAULT_TIMEOUT)
            assert p.returncode == 0, errout


def test_killed_load_leaves_nothing_and_is_swept(skiff, store, tmp_path):
    img = image(["killed:1"], n_layers=2)
    data = mkimage.write_docker_archive(str(tmp_path / "k.tar"), [img])
    p = skiff.popen("load", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    p.stdin.write(data[:len(data) // 2])
    p.stdin.flush()
    deadline = time.monotonic() + 30
    while not any(n.startswith("load-") for n in spool_dirs(store)):
        assert time.monotonic() < deadline, "no spool dir appeared"
        time.sleep(0.02)
    p.kill()
    p.wait(timeout=30)
    p.stdin.close()
    assert store.refs() == {}
    # the next load sweeps the dead one's spool dir and succeeds
    r = subprocess.run(skiff.cmd("load"), input=data, env=skiff.env, capture_output=True,
                       timeout=regkit.DEFAULT_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert_image_loaded(store, img, "docker.io/library/killed:1")
    assert_clean(store)
