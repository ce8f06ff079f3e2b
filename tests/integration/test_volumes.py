"""Volumes (issue 11, item 16): named and anonymous volumes (-v NAME:/path,
-v /path, the image's VOLUME entries), --mount, --volumes-from, `skiff volume
create/ls/inspect/rm/prune`, docker's copy of the image's content into a new
volume, which volumes rm -v / --rm / prune remove, the store's records, and
hostile images that try to make the copy write or chmod the host. Expected
words and shapes were taken from docker 28 (client 28.2.2) on this machine."""

import json
import os
import stat
import subprocess
import tarfile
import io
import time

import pytest

import runlib
import mkimage
from regkit.util import error_line

TAG = "test/vol:latest"
IMAGE_USER_ID = 1000


def load_image(skiff, tmp_path, entries=(), volumes=(), extra_layers=(), tag=TAG, **cfg_kw):
    """The busybox root plus entries (mkimage.Entry), extra layer tars on top,
    and VOLUME entries in the config; loaded into skiff's store."""
    layers = [mkimage.tar_bytes(mkimage.rootfs_entries() + list(entries))] + list(extra_layers)
    cfg = json.loads(mkimage.make_config(layers, **cfg_kw))
    if volumes:
        cfg["config"]["Volumes"] = {v: {} for v in volumes}
    archive = tmp_path / f"image-{len(os.listdir(tmp_path))}.tar"
    mkimage.write_docker_archive(str(archive),
                                 [mkimage.Image(json.dumps(cfg).encode(), layers, [tag])])
    skiff.ok("load", "-i", str(archive))
    return tag


def xattr_layer(path, data, xattrs):
    """A layer with one file of /data carrying extended attributes (pax
    SCHILY.xattr); /data itself as data_entries() has it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        ti = tarfile.TarInfo("data")
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o750
        ti.uid = ti.gid = IMAGE_USER_ID
        ti.mtime = mkimage.MTIME
        tar.addfile(ti)
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        ti.mode = 0o640
        ti.mtime = mkimage.MTIME
        ti.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in xattrs.items()}
        tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def data_entries():
    """/data as an application image has it: owned by 1000, mode 0750, a hard
    link, a symlink, a setuid file, a nested directory."""
    E = mkimage.Entry
    u = IMAGE_USER_ID
    return [E("data", "dir", mode=0o750, uid=u, gid=u),
            E("data/f", data="hello\n", uid=u, gid=u),
            E("data/hl", "hardlink", target="data/f"),
            E("data/sl", "symlink", target="f"),
            E("data/suid", data="#!/bin/sh\n", mode=0o4755),
            E("data/sub", "dir", mode=0o700, uid=u, gid=u),
            E("data/sub/g", data="deep\n", uid=u, gid=u)]


def volume_dir(skiff, name):
    return os.path.join(skiff.root, "volumes", name, "_data")


def volume_names(skiff, *flags):
    return skiff.ok("volume", "ls", "-q", *flags).stdout.split()


def anonymous_volumes(skiff):
    return [n for n in volume_names(skiff) if len(n) == 64]


def sh(skiff, *args):
    *flags, script = args
    return skiff.ok("run", "--rm", *flags, "/bin/sh", "-c", script).stdout


@pytest.fixture
def image(skiff, tmp_path):
    return load_image(skiff, tmp_path, data_entries(),
                      extra_layers=[xattr_layer("data/x", b"x", {"user.note": "kept"})])


@pytest.fixture
def vimage(skiff, tmp_path):
    """The same content with VOLUME /data."""
    return load_image(skiff, tmp_path, data_entries(), volumes=["/data"],
                      extra_layers=[xattr_layer("data/x", b"x", {"user.note": "kept"})])


# --- named and anonymous volumes ------------------------------------------------

def test_named_volume_is_made_shared_and_kept(skiff, image):
    sh(skiff, "-v", "nv:/n", image, "echo one > /n/f")
    assert sh(skiff, "-v", "nv:/m", image, "cat /m/f") == "one\n"
    assert volume_names(skiff) == ["nv"]
    with open(os.path.join(volume_dir(skiff, "nv"), "f")) as f:
        assert f.read() == "one\n"
    info = json.loads(skiff.ok("volume", "inspect", "nv").stdout)
    assert list(info[0]) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options",
                             "Scope"]
    assert info[0]["Mountpoint"] == volume_dir(skiff, "nv")
    assert (info[0]["Driver"], info[0]["Labels"], info[0]["Options"], info[0]["Scope"]) == \
        ("local", None, None, "local")
    assert skiff.ok("inspect", "-f", "{{.Name}} {{.Driver}}", "nv").stdout == "nv local\n"


def test_image_volume_gets_the_images_content_as_docker_copies_it(skiff, vimage):
    out = sh(skiff, vimage, "stat -c '%n %u:%g %a %h' /data /data/f /data/hl /data/suid "
             "/data/sub /data/sub/g; readlink /data/sl; grep ' /data ' /proc/mounts | wc -l")
    assert out.splitlines() == ["/data 1000:1000 750 3", "/data/f 1000:1000 644 2",
                                "/data/hl 1000:1000 644 2", "/data/suid 0:0 4755 1",
                                "/data/sub 1000:1000 700 2", "/data/sub/g 1000:1000 644 1",
                                "f", "1"]
    # --rm took the anonymous volume with it; a kept container keeps it
    assert anonymous_volumes(skiff) == []
    skiff.ok("run", "--name", "keep", vimage, "true")
    [name] = anonymous_volumes(skiff)
    d = volume_dir(skiff, name)
    st = os.lstat(d)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (IMAGE_USER_ID, IMAGE_USER_ID,
                                                                 0o750)
    assert os.lstat(f"{d}/f").st_ino == os.lstat(f"{d}/hl").st_ino
    assert os.lstat(f"{d}/f").st_mtime == mkimage.MTIME
    assert os.readlink(f"{d}/sl") == "f"
    assert os.getxattr(f"{d}/x", "user.note") == b"kept"
    assert stat.S_IMODE(os.lstat(f"{d}/suid").st_mode) == 0o4755
    mounts = json.loads(skiff.ok("inspect", "-f", "{{json .Mounts}}", "keep").stdout)
    assert mounts == [{"Type": "volume", "Name": name, "Source": d, "Destination": "/data",
                       "Driver": "local", "Mode": "", "RW": True, "Propagation": ""}]
    assert skiff.ok("inspect", "-f", "{{json .Config.Volumes}}", "keep").stdout == \
        '{"/data":{}}\n'
    skiff.ok("rm", "keep")
    assert anonymous_volumes(skiff) == [name]  # rm without -v leaves it, as docker


def test_copy_only_into_an_empty_volume_and_only_at_create(skiff, image):
    """docker fills a volume when a container using it is created and the
    volume is empty: not at a restart, again for a new container."""
    skiff.ok("run", "--name", "a", "-v", "ev:/data", image, "/bin/sh", "-c",
             "ls /data | wc -l; rm -rf /data/*")
    skiff.ok("start", "a")
    runlib.wait_for(lambda: "Exited" in skiff.ok("ps", "-a", "--format", "{{.Status}}").stdout,
                    what="the restarted container's exit")
    assert os.listdir(volume_dir(skiff, "ev")) == []
    assert sh(skiff, "-v", "ev:/data", image, "ls /data") == "f\nhl\nsl\nsub\nsuid\nx\n"
    # a volume with content is never overwritten
    assert sh(skiff, "-v", "ev:/etc", image, "ls /etc") == "f\nhl\nsl\nsub\nsuid\nx\n"
    # nocopy: an empty volume stays empty
    assert sh(skiff, "-v", "nc:/data:nocopy", image, "ls /data") == ""
    assert sh(skiff, "--mount", "src=nc2,dst=/data,volume-nocopy", image, "ls /data") == ""
    skiff.ok("rm", "a")


def test_rm_v_and_run_rm_remove_anonymous_volumes_named_ones_stay(skiff, vimage):
    sh(skiff, "-v", "named:/n", "-v", "/anon", vimage, "true")
    assert volume_names(skiff) == ["named"]
    skiff.ok("run", "--name", "c", "-v", "named:/n", "-v", "/anon", vimage, "true")
    assert len(anonymous_volumes(skiff)) == 2
    skiff.ok("rm", "-v", "c")
    assert volume_names(skiff) == ["named"]
    # detached --rm: the monitor removes them
    skiff.ok("run", "-d", "--rm", "--name", "d", vimage, "true")
    runlib.wait_for(lambda: "d" not in skiff.ok("ps", "-a", "--format", "{{.Names}}").stdout
                    .split() and not anonymous_volumes(skiff), what="--rm's removal")


def test_a_volume_in_use_cannot_be_removed(skiff, image):
    skiff.ok("run", "--name", "user", "-v", "busy:/b", image, "true")
    cid = skiff.ok("inspect", "-f", "{{.Id}}", "user").stdout.strip()
    for flags in ([], ["-f"]):
        r = skiff.fails("volume", "rm", *flags, "busy", code=1)
        assert error_line(r) == f"skiff: remove busy: volume is in use - [{cid}]"
    assert volume_names(skiff, "-f", "dangling=false") == ["busy"]
    assert volume_names(skiff, "-f", "dangling=true") == []
    skiff.ok("rm", "user")
    assert volume_names(skiff, "-f", "dangling=true") == ["busy"]
    assert skiff.ok("volume", "rm", "busy").stdout == "busy\n"
    assert not os.path.exists(os.path.join(skiff.root, "volumes", "busy"))


def test_restart_keeps_its_volumes(skiff, vimage):
    skiff.ok("run", "-d", "--name", "r", "-v", "/extra", vimage, "sleep", "60")
    try:
        before = skiff.ok("inspect", "-f", "{{json .Mounts}}", "r").stdout
        skiff.ok("exec", "r", "/bin/sh", "-c", "echo kept > /data/new")
        skiff.ok("restart", "-t", "0", "r")
        assert skiff.ok("inspect", "-f", "{{json .Mounts}}", "r").stdout == before
        assert skiff.ok("exec", "r", "cat", "/data/new").stdout == "kept\n"
        assert len(anonymous_volumes(skiff)) == 2
    finally:
        skiff.run("rm", "-f", "-v", "r")
    assert anonymous_volumes(skiff) == []


def test_mounts_are_made_parents_first(skiff, image, tmp_path):
    (tmp_path / "outer").mkdir()
    out = sh(skiff, "-v", "inner:/o/in", "-v", f"{tmp_path}/outer:/o", image,
             "echo x > /o/in/f; ls /o")
    assert out == "in\n"
    assert os.listdir(volume_dir(skiff, "inner")) == ["f"]


# --- --mount -------------------------------------------------------------------

def test_mount_flag_bind_volume_tmpfs(skiff, image, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "h").write_text("host\n")
    out = sh(skiff, "--mount", f"type=bind,source={src},target=/b,readonly",
             "--mount", "type=volume,src=mv,dst=/data,volume-label=k=v",
             "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
             "--mount", "destination=/anon", image,
             "cat /b/h; touch /b/x 2>/dev/null || echo ro; ls /data | wc -l; "
             "stat -c %a /t; grep ' /t ' /proc/mounts")
    lines = out.splitlines()
    assert lines[:4] == ["host", "ro", "6", "1770"]
    assert "size=1024k" in lines[4] and "noexec" in lines[4]
    info = json.loads(skiff.ok("volume", "inspect", "mv").stdout)[0]
    assert info["Labels"] == {"k": "v"}
    assert anonymous_volumes(skiff) == []  # --rm removed the anonymous one


def test_mount_flag_errors_are_dockers(skiff, image):
    cases = [
        ("type=bind,src=/tmp", 'invalid argument "type=bind,src=/tmp" for "--mount" flag: '
                               "target is required\nSee 'skiff run --help'."),
        ("type=volume,dst=/x,foo=bar", 'invalid argument "type=volume,dst=/x,foo=bar" for '
                                       "\"--mount\" flag: unexpected key 'foo' in 'foo=bar'\n"
                                       "See 'skiff run --help'."),
        ('type=bind,"src=/tmp"x,dst=/x', 'invalid argument "type=bind,\\"src=/tmp\\"x,dst=/x" '
                                         'for "--mount" flag: parse error on line 1, column 20: '
                                         'extraneous or missing " in quoted-field\n'
                                         "See 'skiff run --help'."),
        ("type=bind,src=/nonexistent-skiff-src,dst=/x",
         'invalid mount config for type "bind": bind source path does not exist: '
         "/nonexistent-skiff-src"),
        ("type=volume,dst=/x,readonly", 'invalid mount config for type "volume": must not set '
                                        "ReadOnly mode when using anonymous volumes"),
        ("type=tmpfs,src=a,dst=/x", 'invalid mount config for type "tmpfs": field Source must '
                                    "not be specified"),
    ]
    for arg, want in cases:
        r = skiff.fails("run", "--rm", "--mount", arg, image, "true", code=125)
        assert r.stderr.strip() == f"skiff: {want}", arg
    assert volume_names(skiff) == []


def test_v_errors_are_dockers(skiff, image):
    cases = [
        (":/x", "invalid spec: :/x: empty section between colons\nSee 'skiff run --help'."),
        ("/x:ro", "invalid volume specification: '/x:ro'"),
        ("nv:/x:bogus", "invalid mode: bogus"),
        ("nv:x", "invalid volume specification: 'nv:x': invalid mount config for type "
                 "\"volume\": invalid mount path: 'x' mount path must be absolute"),
        ("a/b:/x", 'create a/b: "a/b" includes invalid characters for a local volume name, '
                   'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a '
                   "host directory, use absolute path"),
        ("a:/x", "create a: volume name is too short, names should be at least two "
                 "alphanumeric characters"),
    ]
    for arg, want in cases:
        r = skiff.fails("run", "--rm", "-v", arg, image, "true", code=125)
        assert r.stderr.strip() == f"skiff: {want}", arg
    r = skiff.fails("run", "--rm", "-v", "/a:/x", "-v", "nv:/x", image, "true", code=125)
    assert error_line(r) == "skiff: Duplicate mount point: /x"
    assert volume_names(skiff) == []


def test_inspect_shows_what_docker_shows(skiff, vimage, tmp_path):
    """The shapes docker 28 printed for the same run (store paths apart)."""
    (tmp_path / "h").mkdir()
    skiff.ok("run", "--name", "c2", "-v", "nv:/data", "-v", f"{tmp_path}/h:/h:ro", "-v", "/anon",
             "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m",
             "--mount", "type=volume,src=mv,dst=/m,volume-nocopy", vimage, "true")
    fmt = ("{{json .Mounts}}\n{{json .Config.Volumes}}\n{{json .HostConfig.Binds}}\n"
           "{{json .HostConfig.Mounts}}\n{{json .HostConfig.VolumesFrom}}")
    mounts, vols, binds, host_mounts, vfrom = \
        skiff.ok("inspect", "-f", fmt, "c2").stdout.splitlines()
    [anon] = anonymous_volumes(skiff)
    by_dest = {m["Destination"]: m for m in json.loads(mounts)}
    assert by_dest == {
        "/data": {"Type": "volume", "Name": "nv", "Source": volume_dir(skiff, "nv"),
                  "Destination": "/data", "Driver": "local", "Mode": "z", "RW": True,
                  "Propagation": ""},
        "/h": {"Type": "bind", "Source": f"{tmp_path}/h", "Destination": "/h", "Mode": "ro",
               "RW": False, "Propagation": "rprivate"},
        "/t": {"Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "", "RW": True,
               "Propagation": ""},
        "/m": {"Type": "volume", "Name": "mv", "Source": volume_dir(skiff, "mv"),
               "Destination": "/m", "Driver": "local", "Mode": "z", "RW": True,
               "Propagation": ""},
        "/anon": {"Type": "volume", "Name": anon, "Source": volume_dir(skiff, anon),
                  "Destination": "/anon", "Driver": "local", "Mode": "", "RW": True,
                  "Propagation": ""},
    }
    assert vols == '{"/anon":{},"/data":{}}'
    assert json.loads(binds) == ["nv:/data", f"{tmp_path}/h:/h:ro"]
    assert json.loads(host_mounts) == [
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576}},
        {"Type": "volume", "Source": "mv", "Target": "/m",
         "VolumeOptions": {"NoCopy": True, "DriverConfig": {}}}]
    assert vfrom == "null"
    skiff.ok("rm", "-v", "c2")


def test_volumes_from(skiff, vimage):
    skiff.ok("run", "--name", "src", "-v", "shared:/s", vimage, "sh", "-c",
             "echo from-src > /s/f")
    out = sh(skiff, "--volumes-from", "src:ro", vimage,
             "cat /s/f; ls /data | wc -l; touch /s/g 2>/dev/null || echo ro")
    assert out == "from-src\n6\nro\n"
    assert sh(skiff, "--volumes-from", "src", vimage, "touch /s/g && echo rw") == "rw\n"
    # the other container's anonymous volume is shared, and stays while it is used
    assert len(anonymous_volumes(skiff)) == 1
    skiff.ok("run", "--name", "second", "--volumes-from", "src", vimage, "true")
    assert skiff.ok("inspect", "-f", "{{json .HostConfig.VolumesFrom}}", "second").stdout == \
        '["src"]\n'
    skiff.ok("rm", "-v", "src")
    assert len(anonymous_volumes(skiff)) == 1  # second uses it
    skiff.ok("rm", "-v", "second")
    assert anonymous_volumes(skiff) == []
    r = skiff.fails("run", "--rm", "--volumes-from", "nosuch", vimage, "true", code=125)
    assert error_line(r) == "skiff: No such container: nosuch"
    r = skiff.fails("run", "--rm", "--volumes-from", "x:nocopy", vimage, "true", code=125)
    assert error_line(r) == "skiff: invalid mode: nocopy"


# --- skiff volume ----------------------------------------------------------------

def test_volume_create_ls_inspect(skiff):
    assert skiff.ok("volume", "create", "--label", "a=b", "--label", "c", "v10").stdout == "v10\n"
    assert skiff.ok("volume", "create", "v10").stdout == "v10\n"  # idempotent, as docker
    skiff.ok("volume", "create", "v2")
    anon = skiff.ok("volume", "create").stdout.strip()
    assert len(anon) == 64
    assert volume_names(skiff) == [anon, "v2", "v10"]  # docker's natural order
    assert skiff.ok("volume", "ls").stdout.splitlines() == [
        "DRIVER    VOLUME NAME", f"local     {anon}", "local     v2", "local     v10"]
    assert volume_names(skiff, "--filter", "label=a=b") == ["v10"]
    assert volume_names(skiff, "--filter", "label=c") == ["v10"]
    assert volume_names(skiff, "--filter", "name=^v1") == ["v10"]
    assert volume_names(skiff, "--filter", f"label=com.docker.volume.anonymous") == [anon]
    rows = skiff.ok("volume", "ls", "--format", "json", "-f", "name=v10").stdout.splitlines()
    assert json.loads(rows[0]) == {
        "Availability": "N/A", "Driver": "local", "Group": "N/A", "Labels": "a=b,c=",
        "Links": "N/A", "Mountpoint": volume_dir(skiff, "v10"), "Name": "v10",
        "Scope": "local", "Size": "N/A", "Status": "N/A"}
    assert skiff.ok("volume", "ls", "--format", "{{.Name}}:{{.Labels}}", "-f",
                    "name=v").stdout == "v2:\nv10:a=b,c=\n"
    info = json.loads(skiff.ok("volume", "inspect", "v10").stdout)[0]
    assert info["Labels"] == {"a": "b", "c": ""}
    assert skiff.ok("volume", "inspect", "-f", "{{.Mountpoint}}", "v2").stdout == \
        volume_dir(skiff, "v2") + "\n"
    r = skiff.fails("volume", "inspect", "nope", "v2", code=1)
    assert error_line(r) == "skiff: get nope: no such volume"
    assert json.loads(r.stdout)[0]["Name"] == "v2"
    r = skiff.fails("volume", "ls", "-f", "dangling=maybe", code=1)
    assert error_line(r) == "skiff: invalid filter 'dangling=[maybe]'"
    r = skiff.fails("volume", "ls", "-f", "foo=bar", code=1)
    assert error_line(r) == "skiff: invalid filter 'foo'"


def test_volume_create_errors_are_dockers(skiff):
    cases = [
        (["a"], "create a: volume name is too short, names should be at least two "
                "alphanumeric characters"),
        (["../../etc"], 'create ../../etc: "../../etc" includes invalid characters for a local '
                        'volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you '
                        "intended to pass a host directory, use absolute path"),
        (["--opt", "foo=bar", "x1"], 'create x1: invalid option: "foo"'),
        (["--opt", "type=tmpfs", "x2"], 'create x2: missing required option: "device"'),
        (["-d", "other", "x3"], 'create x3: error looking up volume plugin other: plugin '
                                '"other" not found'),
    ]
    for args, want in cases:
        r = skiff.fails("volume", "create", *args, code=1)
        assert error_line(r) == f"skiff: {want}", args
    assert volume_names(skiff) == []
    assert os.listdir(os.path.join(skiff.root, "volumes")) == [".lock"]


def test_volume_rm(skiff):
    skiff.ok("volume", "create", "one")
    r = skiff.fails("volume", "rm", "one", "nope", code=1)
    assert r.stdout == "one\n" and error_line(r) == "skiff: get nope: no such volume"
    assert skiff.ok("volume", "rm", "-f", "nope").stdout == "nope\n"
    # a name that is a path names no volume: nothing outside volumes/ is touched
    os.makedirs(os.path.join(skiff.root, "victim", "_data"))
    r = skiff.fails("volume", "rm", "../victim", code=1)
    assert error_line(r) == "skiff: get ../victim: no such volume"
    assert os.path.isdir(os.path.join(skiff.root, "victim", "_data"))


def test_volume_prune_takes_anonymous_ones_unless_all(skiff, image):
    anon = skiff.ok("volume", "create").stdout.strip()
    skiff.ok("volume", "create", "named")
    skiff.ok("volume", "create", "--label", "keep=1", "kept")
    skiff.ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "mounted")
    skiff.ok("run", "--name", "user", "-v", "/used", image, "true")
    used = [n for n in anonymous_volumes(skiff) if n != anon]
    with open(os.path.join(volume_dir(skiff, anon), "f"), "w") as f:
        f.write("x" * 2000)
    r = skiff.ok("volume", "prune", "-f")
    assert r.stdout == f"Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 2kB\n"
    assert volume_names(skiff) == used + ["kept", "mounted", "named"]
    r = skiff.ok("volume", "prune", "-f", "--all", "--filter", "label!=keep=1")
    assert r.stdout == "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n"
    assert skiff.ok("volume", "prune", "-f").stdout == "Total reclaimed space: 0B\n"
    # not confirmed: nothing goes
    r = skiff.ok("volume", "prune", "-a", input="n\n")
    assert "all local volumes not used by at least one container" in r.stdout
    assert "kept" in volume_names(skiff)
    skiff.ok("rm", "-v", "user")


def test_local_driver_options_tmpfs_and_bind(skiff, image, tmp_path):
    host = tmp_path / "hostdir"
    host.mkdir()
    (host / "h").write_text("from host\n")
    skiff.ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
             "--opt", "o=size=2m,uid=1000", "tv")
    skiff.ok("volume", "create", "--opt", "type=none", "--opt", f"device={host}",
             "--opt", "o=bind", "bv")
    out = sh(skiff, "-v", "tv:/t", "-v", "bv:/b:ro", image,
             "grep ' /t ' /proc/mounts; stat -c %u /t; cat /b/h; touch /b/x 2>/dev/null || "
             "echo ro")
    lines = out.splitlines()
    assert lines[0].startswith("tmpfs /t tmpfs ") and "size=2048k" in lines[0]
    assert lines[1:] == ["1000", "from host", "ro"]
    info = json.loads(skiff.ok("volume", "inspect", "tv").stdout)[0]
    assert info["Options"] == {"device": "tmpfs", "o": "size=2m,uid=1000", "type": "tmpfs"}


def test_system_df_counts_volumes(skiff, image):
    skiff.ok("run", "--name", "u", "-v", "big:/b", image, "sh", "-c",
             "head -c 3000 /dev/zero > /b/f")
    skiff.ok("volume", "create", "idle")
    out = skiff.ok("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}} "
                   "{{.Size}} {{.Reclaimable}}").stdout
    assert "Local Volumes 2 1 3kB 0B (0%)" in out.splitlines()
    skiff.ok("rm", "u")
    out = skiff.ok("system", "df", "--format", "{{.Type}} {{.Reclaimable}}").stdout
    assert "Local Volumes 3kB (100%)" in out.splitlines()


def test_store_leftovers_of_a_killed_create_or_rm_are_ignored_then_swept(skiff, image):
    skiff.ok("volume", "create", "ok")
    vols = os.path.join(skiff.root, "volumes")
    for left in (".tmp-1234", ".rm-5678"):
        os.makedirs(os.path.join(vols, left, "_data"))
    assert volume_names(skiff) == ["ok"]
    assert sh(skiff, "-v", "ok:/o", image, "echo fine") == "fine\n"
    skiff.ok("volume", "create", "next")
    assert sorted(os.listdir(vols)) == [".lock", "next", "ok"]


def test_killed_create_leaves_nothing_that_breaks_ls(skiff, image):
    """A run killed while it makes its volumes: whatever it left, ls and the
    next run work."""
    vols = os.path.join(skiff.root, "volumes")
    for delay in (0.001, 0.005, 0.02, 0.05):
        p = skiff.popen("run", "--rm", "-v", "k1:/a", "-v", "k2:/b", "-v", "/c", image, "true",
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        names = volume_names(skiff)
        for n in names:  # whatever is listed is whole
            assert os.path.isdir(volume_dir(skiff, n))
            skiff.ok("volume", "inspect", n)
        if os.path.isdir(vols):
            assert all(e in names or e == ".lock" or e.startswith((".tmp-", ".rm-"))
                       for e in os.listdir(vols))
    assert sh(skiff, "-v", "k1:/a", image, "echo ok") == "ok\n"


# --- hostile images ----------------------------------------------------------------

@pytest.fixture
def victim(tmp_path):
    """A host directory with a file a hostile image aims at."""
    d = tmp_path / "victim"
    d.mkdir(mode=0o755)
    (d / "file").write_text("host data\n")
    os.chmod(d / "file", 0o644)
    before = {p: (os.lstat(d / p).st_mode, os.lstat(d / p).st_uid, os.lstat(d / p).st_mtime)
              for p in ("", "file")}
    return d, before


def assert_untouched(victim):
    d, before = victim
    assert sorted(os.listdir(d)) == ["file"]
    assert (d / "file").read_text() == "host data\n"
    for p, want in before.items():
        st = os.lstat(d / p)
        assert (st.st_mode, st.st_uid, st.st_mtime) == want, p


def image_dirs(path, file_name, content):
    """Entries making the absolute directory path (and a file in it) inside an image."""
    parts = str(path).strip("/").split("/")
    es = [mkimage.Entry("/".join(parts[:i]), "dir") for i in range(1, len(parts) + 1)
          if "/".join(parts[:i]) not in ("tmp",)]
    return es + [mkimage.Entry(f"{str(path).strip('/')}/{file_name}", data=content)]


def test_hostile_volume_path_is_a_symlink_to_a_host_directory(skiff, tmp_path, victim):
    """VOLUME /data with /data -> <a path that is a directory on the host and
    in the image>: resolved in the container's root, never on the host; the
    volume gets the image's decoy, never the host's file."""
    E = mkimage.Entry
    img = load_image(skiff, tmp_path, [E("data", "symlink", target=str(victim[0]))] +
                     image_dirs(victim[0], "decoy", "from the image\n"),
                     volumes=["/data", "/up/../data/sub"])
    out = sh(skiff, "-v", "nv:/data", img, f"echo in > /data/f; ls {victim[0]}")
    assert out.split() == ["decoy", "f", "sub"]
    assert_untouched(victim)
    assert sorted(os.listdir(volume_dir(skiff, "nv"))) == ["decoy", "f", "sub"]


def test_hostile_dangling_symlinks_at_and_above_the_volume_path(skiff, tmp_path, victim):
    """The same paths missing in the image: a clean refusal, nothing made on
    the host (docker makes them inside the root; skiff refuses to go through
    a dangling symlink)."""
    E = mkimage.Entry
    img = load_image(skiff, tmp_path, [E("data", "symlink", target=str(victim[0])),
                                       E("p", "symlink", target=str(victim[0]) + "/sub")],
                     volumes=["/data"])
    r = skiff.fails("run", "--rm", img, "true", code=125)
    assert error_line(r) == "skiff: cannot open mount point '/data' in the container: " \
                            "No such file or directory"
    r = skiff.fails("run", "--rm", "-v", "pv:/p/x", img, "true", code=125)
    assert "No such file or directory" in error_line(r)
    assert_untouched(victim)


def test_hostile_parent_directory_is_a_symlink(skiff, tmp_path, victim):
    E = mkimage.Entry
    img = load_image(skiff, tmp_path, [E("p", "symlink", target=str(victim[0])),
                                       E("rel", "symlink", target="../../../../" +
                                         str(victim[0]).lstrip("/"))] +
                     image_dirs(victim[0], "decoy", "image\n"),
                     volumes=["/p/sub", "/rel/sub2"])
    assert sh(skiff, img, f"ls {victim[0]}") == "decoy\nsub\nsub2\n"
    assert_untouched(victim)


def test_hostile_entries_inside_the_volume(skiff, tmp_path, victim):
    """Symlinks to host files (with an owner to give), a device node whose
    content is endless, a fifo, a hard link to a file of the image outside
    the volume: copied as what they are, never followed or read."""
    E = mkimage.Entry
    img = load_image(skiff, tmp_path, [
        E("data", "dir"),
        E("data/evil", "symlink", target=str(victim[0] / "file"), uid=4242, gid=4242),
        E("data/evildir", "symlink", target=str(victim[0]), uid=4242),
        E("data/random", "chardev", target="1:8", mode=0o666),
        E("aaa", data="a file of the image\n"),
        E("data/passwd", "hardlink", target="aaa"),
    ], volumes=["/data"])
    skiff.ok("run", "--name", "h", img, "true", timeout=60)
    [name] = anonymous_volumes(skiff)
    d = volume_dir(skiff, name)
    assert os.readlink(f"{d}/evil") == str(victim[0] / "file")
    assert os.lstat(f"{d}/evil").st_uid == 4242
    st = os.lstat(f"{d}/random")
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 8
    # a copy, not the store's layer file: the container cannot write the image
    st = os.lstat(f"{d}/passwd")
    assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1
    layer_files = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(skiff.root, "layers"))
                   for f in fs if f == "aaa"]
    assert layer_files and all(os.lstat(p).st_ino != st.st_ino for p in layer_files)
    assert_untouched(victim)
    skiff.ok("rm", "-v", "h")


def test_hostile_fifo_in_the_volume_does_not_hang_the_copy(skiff, tmp_path):
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind in (("data", tarfile.DIRTYPE), ("data/fifo", tarfile.FIFOTYPE)):
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.mode = 0o644
            tar.addfile(ti)
    img = load_image(skiff, tmp_path, volumes=["/data"], extra_layers=[layer.getvalue()])
    assert skiff.ok("run", "--name", "f", img, "/bin/sh", "-c", "stat -c %F /data/fifo",
                    timeout=60).stdout == "fifo\n"
    [name] = anonymous_volumes(skiff)
    assert stat.S_ISFIFO(os.lstat(os.path.join(volume_dir(skiff, name), "fifo")).st_mode)
    skiff.ok("rm", "-v", "f")


def test_hostile_volume_over_a_file(skiff, tmp_path):
    img = load_image(skiff, tmp_path, [mkimage.Entry("data", data="a file\n")],
                     volumes=["/data"])
    r = skiff.fails("run", "--rm", img, "true", code=125)
    assert error_line(r) == "skiff: cannot mount volume over existing file, file exists /data"
    assert anonymous_volumes(skiff) == []


def test_hostile_subpath_symlink_stays_in_the_volume(skiff, image, victim):
    """A container plants sub -> <host dir> in a volume; a later mount of that
    subpath resolves it inside the volume."""
    sh(skiff, "-v", "sp:/v", image, f"mkdir /v/real; echo inside > /v/real/f; "
                                    f"ln -s {victim[0]} /v/esc; ln -s / /v/root")
    out = sh(skiff, "--mount", "src=sp,dst=/m,volume-subpath=real", image, "cat /m/f")
    assert out == "inside\n"
    out = sh(skiff, "--mount", "src=sp,dst=/m,volume-subpath=root", image, "ls /m")
    assert out.split() == ["esc", "real", "root"]
    r = skiff.fails("run", "--rm", "--mount", "src=sp,dst=/m,volume-subpath=esc", image,
                    "/bin/sh", "-c", "ls /m; touch /m/planted", code=125)
    assert error_line(r) == "skiff: cannot mount the volume's subpath 'esc': No such file or " \
                            "directory"
    assert_untouched(victim)


def test_hostile_image_volume_names_never_leave_the_store(skiff, tmp_path):
    img = load_image(skiff, tmp_path, volumes=["../../../../tmp", "/"])
    r = skiff.fails("run", "--rm", img, "true", code=125)
    assert "destination can't be '/'" in error_line(r)
    img = load_image(skiff, tmp_path, volumes=["../../../../skiff-vol-escape"], tag="t/esc:1")
    assert sh(skiff, img, "ls -d /skiff-vol-escape") == "/skiff-vol-escape\n"
    assert not os.path.exists("/skiff-vol-escape")


# --- rootless ------------------------------------------------------------------------

@pytest.mark.parametrize("subids", [True, False], ids=["subids", "single-id"])
def test_rootless_volumes_live_in_the_users_store(subids, tmp_path):
    import shutil
    from test_rootless import User
    if not shutil.which("newuidmap"):
        pytest.fail("newuidmap missing (apt-get install uidmap)")
    u = User(subids)
    try:
        layer = mkimage.tar_bytes(mkimage.rootfs_entries() + data_entries())
        cfg = json.loads(mkimage.make_config([layer]))
        cfg["config"]["Volumes"] = {"/data": {}}
        archive = os.path.join(u.dir, "img.tar")
        mkimage.write_docker_archive(archive, [mkimage.Image(json.dumps(cfg).encode(), [layer],
                                                              [TAG])])
        os.chmod(archive, 0o644)
        u.ok("load", "-i", archive)
        out = u.ok("run", "--name", "c", "-v", "nv:/n", TAG, "/bin/sh", "-c",
                   "stat -c '%u %a' /data /data/f; echo w > /n/f; cat /data/sub/g").stdout
        want_uid = IMAGE_USER_ID if subids else 0  # single id: everything is root's
        assert out.splitlines() == [f"{want_uid} 750", f"{want_uid} 644", "deep"]
        vols = os.path.join(u.store, "volumes")
        st = os.lstat(os.path.join(vols, "nv", "_data", "f"))
        assert st.st_uid == u.uid  # the user namespace's root is the user
        assert os.lstat(vols).st_uid == u.uid
        [anon] = [n for n in os.listdir(vols) if len(n) == 64]
        st = os.lstat(os.path.join(vols, anon, "_data"))
        assert st.st_uid == (u.uid if not subids else st.st_uid)
        if subids:
            assert st.st_uid != u.uid and st.st_uid != 0  # a subordinate id
        u.ok("rm", "-v", "c")
        assert u.ok("volume", "ls", "-q").stdout.split() == ["nv"]
        u.ok("volume", "rm", "nv")
        assert sorted(os.listdir(vols)) == [".lock"]
    finally:
        u.close()


def test_volume_command_exit_codes_are_dockers(skiff):
    """docker: usage on stdout and 0 without a subcommand; a wrong argument
    count or subcommand exits 1; an unknown flag 125."""
    r = skiff.ok("volume")
    assert "Manage volumes" in r.stdout and r.stderr == ""
    skiff.fails("volume", "bogus", code=1)
    r = skiff.fails("volume", "rm", code=1)
    assert error_line(r) == 'skiff: "skiff volume rm" requires at least 1 argument'
    skiff.fails("volume", "create", "a1", "b1", code=1)
    skiff.fails("volume", "ls", "--bogus", code=125)
    skiff.fails("volume", "ls", "--quie", code=125)  # never a prefix of --quiet
    assert volume_names(skiff) == []
