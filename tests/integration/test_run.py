"""skiff run: the original challenge's behaviour (output, exit status, PID 1,
isolation from the host) and docker's error codes."""

import json
import os
import re

import pytest

import runlib
from regkit import error_line


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def test_stdout_and_stderr_come_out_exactly(skiff, image):
    r = skiff.run("run", "--rm", image, "/bin/sh", "-c", "echo out; echo err >&2; printf x")
    assert r.returncode == 0
    assert r.stdout == "out\nx"
    assert r.stderr == "err\n"


@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_exit_status_is_relayed(skiff, image, code):
    r = skiff.run("run", "--rm", image, "/bin/sh", "-c", f"exit {code}")
    assert r.returncode == code
    assert r.stdout == "" and r.stderr == ""


def test_command_is_pid_1(skiff, image):
    assert skiff.ok("run", "--rm", image, "/bin/sh", "-c", "echo $$").stdout == "1\n"


def test_ls_root_prints_exactly_the_images_top_level_dirs(skiff, image):
    r = skiff.ok("run", "--rm", image, "/bin/sh", "-c", "/bin/ls /")
    assert r.stdout.split() == ["bin", "dev", "etc", "home", "proc", "root", "sys", "tmp"]


def test_host_directory_is_not_visible(skiff, image, tmp_path):
    marker = tmp_path / "host-only"
    marker.mkdir()
    r = skiff.run("run", "--rm", image, "/bin/ls", str(marker))
    assert r.returncode != 0
    assert "No such file or directory" in r.stderr


def test_image_cmd_runs_without_command(skiff, tmp_path):
    img = runlib.install_image(skiff, tmp_path, cmd=["/bin/echo", "from-cmd"])
    assert skiff.ok("run", "--rm", img).stdout == "from-cmd\n"
    assert skiff.ok("run", "--rm", img, "echo", "args").stdout == "args\n"


def test_entrypoint_and_cmd_merge_as_docker(skiff, tmp_path):
    img = runlib.install_image(skiff, tmp_path, entrypoint=["/bin/echo", "ep"], cmd=["c1"])
    assert skiff.ok("run", "--rm", img).stdout == "ep c1\n"
    assert skiff.ok("run", "--rm", img, "u1").stdout == "ep u1\n"
    # --entrypoint drops the image's Cmd
    assert skiff.ok("run", "--rm", "--entrypoint", "/bin/echo", img).stdout == "\n"


def test_missing_command_is_127(skiff, image):
    r = skiff.fails("run", "--rm", image, "nosuchcmd", code=127)
    assert error_line(r) == 'skiff: exec: "nosuchcmd": executable file not found in $PATH'
    assert r.stdout == ""
    r = skiff.fails("run", "--rm", image, "/no/such", code=127)
    assert "no such file or directory" in error_line(r)


def test_non_executable_file_is_126(skiff, image):
    r = skiff.fails("run", "--rm", image, "/etc/passwd", code=126)
    assert error_line(r) == 'skiff: exec: "/etc/passwd": permission denied'


def test_bad_flag_is_125_with_usage_hint(skiff, image):
    r = skiff.fails("run", "--no-such-flag", image, "true", code=125)
    assert "unknown flag: --no-such-flag" in r.stderr
    assert "See 'skiff run --help'." in r.stderr


def test_missing_image_argument_is_1_as_docker(skiff):
    # docker 28 here: `docker run` with no image exits 1 (a flag error is 125)
    r = skiff.fails("run", code=1)
    assert "requires at least 1 argument" in r.stderr


def test_bind_source_that_cannot_be_made_is_a_clear_error(skiff, image, tmp_path):
    # docker's -v creates a missing directory; one under a file cannot be
    f = tmp_path / "file"
    f.write_text("x")
    r = skiff.fails("run", "--rm", "-v", f"{f}/sub:/x", image, "true", code=125)
    assert error_line(r) == f"skiff: cannot bind '{f}/sub': Not a directory"


def test_pull_never_with_missing_image_fails(skiff):
    r = skiff.fails("run", "--pull", "never", "nothere/img", "true", code=125)
    assert "No such image" in error_line(r)


def test_rm_removes_the_container_dir(skiff, image):
    skiff.ok("run", "--rm", image, "true")
    cdir = os.path.join(skiff.root, "containers")
    assert [d for d in os.listdir(cdir) if re.fullmatch(r"[0-9a-f]{64}", d)] == []


def test_rm_leaves_no_removal_behind(skiff, image):
    # the files of a --rm container go in the background: soon, and for good
    for _ in range(3):
        skiff.ok("run", "--rm", image, "true")
    tmp = os.path.join(skiff.root, "tmp")
    runlib.wait_for(lambda: not [e for e in os.listdir(tmp) if e.startswith("rm-")],
                    what="background removal")
    # one whose remover was killed (no lock held) is finished by the next run
    left = os.path.join(tmp, "rm-" + "ab" * 32)
    os.makedirs(os.path.join(left, "upper", "deep"))
    skiff.ok("run", "--rm", image, "true")
    assert not os.path.exists(left)


def test_without_rm_the_container_dir_stays_exited(skiff, image):
    skiff.run("run", image, "/bin/sh", "-c", "exit 4")
    cdir = os.path.join(skiff.root, "containers")
    ids = [d for d in os.listdir(cdir) if re.fullmatch(r"[0-9a-f]{64}", d)]
    assert len(ids) == 1
    with open(os.path.join(cdir, ids[0], "state.json")) as f:
        state = json.load(f)
    assert state["status"] == "exited" and state["exit_code"] == 4
    assert state["finished_at"] >= state["started_at"] > 0


def test_name_conflict(skiff, image):
    skiff.ok("run", "--name", "web", image, "true")
    r = skiff.fails("run", "--name", "web", image, "true", code=125)
    assert 'container name "/web" is already in use' in r.stderr


def test_many_layers(skiff, tmp_path):
    img = runlib.install_image(skiff, tmp_path, n_layers=120)
    r = skiff.ok("run", "--rm", img, "/bin/sh", "-c", "cat /layer-1 /layer-119")
    assert r.stdout == "layer 1\nlayer 119\n"


def test_your_docker_sh(skiff, image):
    script = os.path.join(os.path.dirname(__file__), "..", "..", "your_docker.sh")
    if not os.path.exists(script):
        pytest.skip("your_docker.sh not in the tree yet")
    import subprocess
    env = dict(skiff.env, SKIFF_ROOT=skiff.root)
    r = subprocess.run([script, "run", image, "/bin/sh", "-c", "/bin/ls /; exit 7"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 7, r.stderr
    assert r.stdout.split() == ["bin", "dev", "etc", "home", "proc", "root", "sys", "tmp"]


def test_vfs_storage_driver_copies_the_layers(skiff, tmp_path):
    # the fallback when overlayfs cannot be used, chosen as docker's
    # "storage-driver": whiteouts and opaque directories still apply
    import mkimage
    base = mkimage.tar_bytes(mkimage.rootfs_entries({"srv/old": "old\n", "etc/gone": "x"}))
    upper = mkimage.tar_bytes([mkimage.Entry("srv", "dir"), mkimage.Entry("srv/.wh..wh..opq"),
                               mkimage.Entry("srv/new", data="new\n"), mkimage.Entry("etc", "dir"),
                               mkimage.Entry("etc/.wh.gone")])
    config = mkimage.make_config([base, upper])
    archive = tmp_path / "vfs.tar"
    mkimage.write_docker_archive(str(archive), [mkimage.Image(config, [base, upper], ["v/fs:1"])])
    skiff.ok("load", "-q", "-i", archive)
    script = "ls /srv; test -e /etc/gone || echo gone; grep -c ' / / .* - overlay ' " \
             "/proc/self/mountinfo; echo w > /new && cat /new"
    r = skiff.run("run", "--rm", "v/fs:1", "/bin/sh", "-c", script,
                  env={"SKIFF_STORAGE_DRIVER": "vfs"})
    assert r.returncode == 0 and r.stdout == "new\ngone\n0\nw\n", r
    assert r.stderr == ""  # asked for: no warning
    # the same through the config file, and overlay by default
    with open(skiff.env["SKIFF_CONFIG"], "w") as f:
        f.write('{"storage-driver": "vfs"}')
    assert skiff.ok("run", "--rm", "v/fs:1", "/bin/sh", "-c", script).stdout == "new\ngone\n0\nw\n"
    os.unlink(skiff.env["SKIFF_CONFIG"])
    assert skiff.ok("run", "--rm", "v/fs:1", "/bin/sh", "-c", script).stdout == "new\ngone\n1\nw\n"


def test_an_image_listing_a_layer_twice_runs(skiff, tmp_path):
    """Real images list a layer twice; a repeated overlay lowerdir is ELOOP
    (issue 11, item 2). Its topmost place decides: /a is A's again."""
    layers = runlib.mkimage.build_rootfs_layers()
    a = runlib.mkimage.tar_bytes([runlib.mkimage.Entry("a", data="A\n")])
    b = runlib.mkimage.tar_bytes([runlib.mkimage.Entry("a", data="B\n"),
                                  runlib.mkimage.Entry("b", data="b\n")])
    layers += [a, b, a]
    config = runlib.mkimage.make_config(layers)
    path = tmp_path / "dup.tar"
    runlib.mkimage.write_docker_archive(str(path), [runlib.mkimage.Image(config, layers,
                                                                         ["dup:1"])])
    skiff.ok("load", "-q", "-i", str(path))
    assert skiff.ok("run", "--rm", "dup:1", "cat", "/a", "/b").stdout == "A\nb\n"
