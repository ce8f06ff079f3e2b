"""skiff cp: between a container (running or stopped) and the host, or a tar
stream on stdin/stdout, with docker's rules for what the destination
becomes; and a container is hostile: the symlinks it plants (to "/", to a
host path, swapped in while cp runs) never lead cp to a file of the host,
neither for reading nor for writing."""

import io
import os
import subprocess
import tarfile
import time

import pytest

import runlib
from regkit import TarBuilder


@pytest.fixture
def img(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def stopped(skiff, img, script):
    cid = skiff.ok("run", "-d", img, "sh", "-c", script).stdout.strip()
    skiff.ok("wait", cid)
    return cid


def running(skiff, img, script="while :; do sleep 1; done"):
    return skiff.ok("run", "-d", img, "sh", "-c", script).stdout.strip()


def cat_in(skiff, cid, path):
    """A file of the container, read through a tar stream."""
    r = subprocess.run(skiff.cmd("cp", f"{cid}:{path}", "-"), env=skiff.env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as t:
        m = t.getmembers()[0]
        return t.extractfile(m).read() if m.isfile() else m


def tar_names(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getnames()


# --- docker's rules ----------------------------------------------------------

def test_cp_out_follows_dockers_destination_rules(skiff, img, tmp_path):
    cid = stopped(skiff, img, "busybox mkdir -p /d/e; echo g > /d/e/g; echo f > /f")
    out = tmp_path / "out"
    out.mkdir()

    skiff.ok("cp", f"{cid}:/f", str(out / "renamed"))          # new name
    skiff.ok("cp", f"{cid}:/f", str(out))                      # into a directory
    skiff.ok("cp", f"{cid}:d", str(out / "d-copy"))            # dir -> new dir (relative SRC)
    skiff.ok("cp", f"{cid}:/d", str(out))                      # dir into dir
    (out / "contents").mkdir()
    skiff.ok("cp", f"{cid}:/d/.", str(out / "contents"))       # what is inside

    assert (out / "renamed").read_text() == "f\n" and (out / "f").read_text() == "f\n"
    assert (out / "d-copy" / "e" / "g").read_text() == "g\n"
    assert (out / "d" / "e" / "g").read_text() == "g\n"
    assert (out / "contents" / "e" / "g").read_text() == "g\n"

    r = skiff.fails("cp", f"{cid}:/nonexistent", str(out), code=1)
    assert "could not find" in r.stderr.lower() and r.stderr.count("\n") == 1
    skiff.fails("cp", f"{cid}:/f", str(out / "nodir") + "/", code=1)
    skiff.fails("cp", f"{cid}:/d", str(out / "renamed"), code=1)
    skiff.fails("cp", f"{cid}:/f/", str(out), code=1)          # a file named as a dir
    skiff.fails("cp", "nosuchcontainer:/f", str(out), code=1)
    skiff.fails("cp", str(out), str(out))                     # no container
    skiff.fails("cp", f"{cid}:/f", f"{cid}:/g")               # two containers


def test_cp_in_follows_dockers_destination_rules(skiff, img, tmp_path):
    cid = stopped(skiff, img, "busybox mkdir /dst")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "x").write_text("x\n")
    (src / "file").write_text("file\n")
    os.chmod(src / "file", 0o640)
    os.chown(src / "file", 1234, 5678)
    os.symlink("file", src / "link")

    skiff.ok("cp", str(src / "file"), f"{cid}:/dst")
    skiff.ok("cp", str(src / "file"), f"{cid}:/dst/renamed")
    skiff.ok("cp", str(src), f"{cid}:/newdir")
    skiff.ok("cp", str(src / "link"), f"{cid}:/dst/")          # the link itself
    skiff.ok("cp", "-L", str(src / "link"), f"{cid}:/dst/followed")

    assert cat_in(skiff, cid, "/dst/file") == b"file\n"
    assert cat_in(skiff, cid, "/dst/renamed") == b"file\n"
    assert cat_in(skiff, cid, "/newdir/sub/x") == b"x\n"
    assert cat_in(skiff, cid, "/dst/link").issym()
    assert cat_in(skiff, cid, "/dst/followed") == b"file\n"
    # owners and modes come along, as with docker 20.10
    data = subprocess.run(skiff.cmd("cp", f"{cid}:/dst/file", "-"), env=skiff.env,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        m = t.getmembers()[0]
        assert (m.uid, m.gid, m.mode) == (1234, 5678, 0o640)
    skiff.fails("cp", str(src / "file"), f"{cid}:/missing/dir/", code=1)
    skiff.fails("cp", str(src), f"{cid}:/dst/file", code=1)   # a dir onto a file
    assert sorted(skiff.ok("diff", cid).stdout.splitlines()) == sorted(
        ["A /dst", "A /dst/file", "A /dst/renamed", "A /dst/link", "A /dst/followed",
         "A /newdir", "A /newdir/file", "A /newdir/link", "A /newdir/sub", "A /newdir/sub/x"])


def test_cp_tar_streams_both_ways(skiff, img, tmp_path):
    cid = running(skiff, img)
    try:
        out = subprocess.run(skiff.cmd("cp", f"{cid}:/etc", "-"), env=skiff.env,
                             capture_output=True, timeout=60)
        assert out.returncode == 0 and "etc/passwd" in tar_names(out.stdout)
        assert "etc/" in [n + "/" for n in tar_names(out.stdout)] or "etc" in tar_names(out.stdout)

        tar = TarBuilder().dir("in").file("in/a", "streamed\n").symlink("in/l", "a").bytes()
        r = subprocess.run(skiff.cmd("cp", "-", f"{cid}:/tmp"), env=skiff.env, input=tar,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert skiff.ok("exec", cid, "cat", "/tmp/in/l").stdout == "streamed\n"
        r = subprocess.run(skiff.cmd("cp", "-", f"{cid}:/etc/passwd"), env=skiff.env,
                           input=tar, capture_output=True, timeout=60)
        assert r.returncode == 1 and b"directory" in r.stderr
    finally:
        skiff.run("rm", "-f", cid)


def test_cp_into_and_out_of_a_running_container(skiff, img, tmp_path):
    cid = running(skiff, img)
    try:
        f = tmp_path / "live"
        f.write_text("live\n")
        skiff.ok("cp", str(f), f"{cid}:/tmp/")
        assert skiff.ok("exec", cid, "cat", "/tmp/live").stdout == "live\n"
        skiff.ok("exec", cid, "sh", "-c", "echo made-inside > /tmp/inside")
        skiff.ok("cp", f"{cid}:/tmp/inside", str(tmp_path / "got"))
        assert (tmp_path / "got").read_text() == "made-inside\n"
        r = skiff.fails("cp", f"{cid}:/proc/1/status", str(tmp_path / "p"), code=1)
        assert "kernel file system" in r.stderr
        skiff.fails("cp", str(f), f"{cid}:/proc/", code=1)
    finally:
        skiff.run("rm", "-f", cid)


# --- a hostile container -----------------------------------------------------

def test_symlinks_planted_in_the_container_never_reach_the_host(skiff, img, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("HOST-SECRET\n")
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    cid = stopped(skiff, img,
                  f"busybox ln -s {secret} /leak; busybox ln -s / /rootlink;"
                  f" busybox ln -s {hostdir} /hostdir; busybox ln -s ../../../../.. /up;"
                  " echo container-passwd > /etc/shadow")
    out = tmp_path / "out"
    out.mkdir()

    # reading: links resolve inside the container, or are copied as links
    skiff.ok("cp", f"{cid}:/rootlink/etc/shadow", str(out / "shadow"))
    assert (out / "shadow").read_text() == "container-passwd\n"
    skiff.ok("cp", f"{cid}:/up/etc/shadow", str(out / "shadow2"))
    assert (out / "shadow2").read_text() == "container-passwd\n"
    skiff.ok("cp", f"{cid}:/leak", str(out))
    assert os.path.islink(out / "leak")              # the link, not its target
    skiff.fails("cp", "-L", f"{cid}:/leak", str(out / "followed"), code=1)
    assert not (out / "followed").exists()
    data = subprocess.run(skiff.cmd("cp", f"{cid}:/", "-"), env=skiff.env,
                          capture_output=True, timeout=120).stdout
    assert b"HOST-SECRET" not in data

    # writing: nothing lands in the host directory the link names
    f = tmp_path / "payload"
    f.write_text("payload\n")
    skiff.run("cp", str(f), f"{cid}:/hostdir/")
    skiff.run("cp", str(f), f"{cid}:/hostdir/payload")
    skiff.run("cp", str(f), f"{cid}:/rootlink{hostdir}/")
    tar = TarBuilder().symlink("esc", str(hostdir)).file("esc/through-tar", "x") \
        .file("../../../../../" + str(hostdir).lstrip("/") + "/dotdot", "x").bytes()
    subprocess.run(skiff.cmd("cp", "-", f"{cid}:/tmp"), env=skiff.env, input=tar,
                   capture_output=True, timeout=60)
    assert os.listdir(hostdir) == []
    assert secret.read_text() == "HOST-SECRET\n"


def test_copying_out_to_the_host_never_follows_the_containers_links(skiff, img, tmp_path):
    """A container's directory holding a link to a host directory, and a file
    below a same-named path: extracted on the host, the link stays a link
    and nothing is written through it."""
    hostdir = tmp_path / "victim"
    hostdir.mkdir()
    cid = stopped(skiff, img, f"busybox mkdir /x; busybox ln -s {hostdir} /x/a")
    out = tmp_path / "out"
    out.mkdir()
    skiff.ok("cp", f"{cid}:/x", str(out))
    assert os.path.islink(out / "x" / "a")
    # and a hostile tar stream cannot do better when it goes into a container
    assert os.listdir(hostdir) == []


def test_swapping_a_directory_and_a_symlink_during_cp(skiff, img, tmp_path):
    """The container swaps /x between a directory and a symlink to a host
    directory (and /y/f between a file and a symlink to a host file) as fast
    as it can while cp runs again and again in both directions."""
    hostdir = tmp_path / "victim"
    hostdir.mkdir()
    secret = tmp_path / "secret"
    secret.write_text("RACE-SECRET-0123456789\n")
    script = (f"busybox mkdir /x /y; echo harmless-harmless-harm > /y/f.real;"
              f" busybox ln -s {secret} /y/f.link;"
              f" while :; do busybox mv /x /x.d; busybox ln -s {hostdir} /x; busybox rm /x;"
              f" busybox mv /x.d /x; busybox mv /y/f.real /y/f; busybox mv /y/f /y/f.real;"
              f" busybox mv /y/f.link /y/f; busybox mv /y/f /y/f.link; done")
    cid = running(skiff, img, script)
    payload = tmp_path / "payload"
    payload.write_text("payload\n")
    try:
        leaked = False
        deadline = time.time() + 20
        n = copied_in = copied_out = 0
        while n < 40 and time.time() < deadline:
            copied_in += skiff.run("cp", str(payload), f"{cid}:/x/").returncode == 0
            r = subprocess.run(skiff.cmd("cp", f"{cid}:/y", "-"), env=skiff.env,
                               capture_output=True, timeout=60)
            copied_out += r.returncode == 0
            leaked |= b"RACE-SECRET" in r.stdout
            n += 1
        assert os.listdir(hostdir) == []
        assert not leaked
        # positive controls: the copies did run, into /x while it was a directory
        assert n >= 10 and copied_out >= n // 2 and copied_in > 0, (n, copied_in, copied_out)
    finally:
        skiff.run("rm", "-f", cid)


# --- rootless -------------------------------------------------------------------

@pytest.mark.parametrize("subids", [True, False], ids=["subids", "single-id"])
def test_rootless_cp_commit_save_export(subids):
    """A user's own store: its containers' changes (whiteouts and opaque
    directories in user.overlay.* form) commit and copy as root's do; a
    running container is read through its layers, and writing into it is
    refused with one line (its user namespace is not ours to enter)."""
    import shutil
    from test_rootless import User, image_archive
    if not shutil.which("newuidmap"):
        pytest.fail("newuidmap missing (apt-get install uidmap)")
    u = User(subids=subids)
    try:
        img = image_archive(u)
        u.ok("load", "-i", os.path.join(u.dir, "img.tar"))
        u.ok("run", "--name", "c1", img, "sh", "-c",
             "echo hi > /made; busybox rm /srv/new; busybox mkdir -p /srv/x")
        assert u.ok("diff", "c1").stdout.splitlines() == ["A /made", "C /srv", "D /srv/new",
                                                          "A /srv/x"]
        u.ok("commit", "c1", "rl/made:1")
        assert u.ok("run", "--rm", "rl/made:1", "sh", "-c", "cat /made; ls /srv").stdout == \
            "hi\nx\n"
        u.ok("save", "-o", os.path.join(u.home, "s.tar"), "rl/made:1")
        u.ok("cp", "c1:/made", os.path.join(u.home, "made-out"))
        with open(os.path.join(u.home, "made-out")) as f:
            assert f.read() == "hi\n"
        u.ok("run", "-d", "--name", "c2", img, "sh", "-c", "echo r > /r; sleep 100")
        runlib.wait_for(lambda: u.run("cp", "c2:/r", os.path.join(u.home, "r")).returncode == 0,
                        what="cp from a running rootless container")
        r = u.run("cp", os.path.join(u.home, "r"), "c2:/tmp/")
        assert r.returncode == 1 and "user namespace" in r.stderr
        u.run("rm", "-f", "c2")
    finally:
        u.close()
