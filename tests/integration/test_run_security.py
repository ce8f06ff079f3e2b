"""skiff run least privilege (issue 4): docker's default capabilities,
--cap-add/--cap-drop, a non-root --user, --privileged, no_new_privs, the
default seccomp profile (mount, new user namespaces, kexec, keyctl, bpf...),
seccomp=unconfined and docker JSON profiles. Every expectation is read inside
the container (/proc/self/status, the errno a system call returns) and is
compared with the host's own bounding set, since these machines withhold some
capabilities even from root (CAP_SYS_RESOURCE)."""

import errno
import json
import os

import pytest

import runlib
from regkit import error_line
from seccomp_helpers import build_probe, parse_probe, store_containers

DOCKER_DEFAULT_CAPS = 0x00000000a80425fb
CAP_CHOWN, CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_RESOURCE = 0, 12, 13, 24


def own_status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1]
    raise KeyError(field)


HOST_BOUNDING = int(own_status("CapBnd"), 16)


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


def run_sh(skiff, image, script, *flags):
    return skiff.ok("run", "--rm", *flags, image, "/bin/sh", "-c", script)


def status(skiff, image, *flags):
    """The container's /proc/self/status as a dict."""
    out = run_sh(skiff, image, "cat /proc/self/status", *flags).stdout
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def caps(st):
    return {k: int(st[k].strip(), 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


# --- capabilities ----------------------------------------------------------

@pytest.mark.parametrize("flags, want", [
    ([], DOCKER_DEFAULT_CAPS),
    (["--cap-drop", "ALL"], 0),
    (["--cap-add", "NET_ADMIN"], DOCKER_DEFAULT_CAPS | 1 << CAP_NET_ADMIN),
    (["--cap-drop", "chown"], DOCKER_DEFAULT_CAPS & ~(1 << CAP_CHOWN)),
    (["--cap-add", "cap_net_admin", "--cap-drop", "CAP_NET_RAW"],
     (DOCKER_DEFAULT_CAPS | 1 << CAP_NET_ADMIN) & ~(1 << CAP_NET_RAW)),
    (["--cap-drop", "ALL", "--cap-add", "CHOWN"], 1 << CAP_CHOWN),
    (["--privileged"], HOST_BOUNDING),
    (["--cap-add", "ALL", "--cap-drop", "NET_RAW"], HOST_BOUNDING & ~(1 << CAP_NET_RAW)),
], ids=["default", "drop-all", "add-net-admin", "drop-chown", "names-any-case", "only-chown",
        "privileged", "add-all-drop-one"])
def test_root_capabilities(skiff, image, flags, want):
    got = caps(status(skiff, image, *flags))
    assert got == {"CapInh": 0, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": 0}, \
        {k: hex(v) for k, v in got.items()}


def test_dropped_capability_is_really_gone(skiff, image):
    script = "echo x > /tmp/f; /bin/busybox chown 1000 /tmp/f && echo chowned"
    assert run_sh(skiff, image, script).stdout == "chowned\n"
    r = skiff.run("run", "--rm", "--cap-drop", "CHOWN", image, "/bin/sh", "-c", script)
    assert r.returncode != 0 and "chowned" not in r.stdout
    assert "Operation not permitted" in r.stderr


@pytest.mark.parametrize("flags", [[], ["--cap-add", "NET_ADMIN"]])
def test_non_root_user_has_no_effective_capabilities(skiff, image, flags):
    got = caps(status(skiff, image, "--user", "1000", *flags))
    bounding = DOCKER_DEFAULT_CAPS | (1 << CAP_NET_ADMIN if flags else 0)
    assert got == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": bounding, "CapAmb": 0}, \
        {k: hex(v) for k, v in got.items()}


@pytest.mark.skipif(HOST_BOUNDING & (1 << CAP_SYS_RESOURCE),
                    reason="the host grants CAP_SYS_RESOURCE")
def test_capability_the_host_lacks_is_left_out_with_a_warning(skiff, image):
    r = skiff.run("run", "--rm", "--cap-add", "SYS_RESOURCE", image, "/bin/sh", "-c",
                  "grep CapEff /proc/self/status")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[1], 16) == DOCKER_DEFAULT_CAPS
    assert [l for l in r.stderr.splitlines() if l.startswith("skiff: warning:")], r.stderr


# --- no_new_privs ----------------------------------------------------------

@pytest.mark.parametrize("flags, want", [
    ([], "0"),  # off by default, as docker (docs/SECURITY.md)
    (["--security-opt", "no-new-privileges"], "1"),
    (["--security-opt", "no-new-privileges=true"], "1"),
    (["--security-opt", "no-new-privileges=false"], "0"),
    (["--privileged"], "0"),
    (["--privileged", "--security-opt", "no-new-privileges"], "1"),  # as asked
])
def test_no_new_privs(skiff, image, flags, want):
    assert status(skiff, image, *flags)["NoNewPrivs"].strip() == want


# --- seccomp: the default profile -------------------------------------------

@pytest.mark.parametrize("flags, want", [
    ([], "2"), (["--cap-add", "SYS_ADMIN"], "2"), (["--privileged"], "0"),
    (["--security-opt", "seccomp=unconfined"], "0"),
])
def test_seccomp_mode(skiff, image, flags, want):
    assert status(skiff, image, *flags)["Seccomp"].strip() == want


MOUNT = "mount -t tmpfs none /tmp && grep -c '^none /tmp tmpfs' /proc/mounts"


def test_mount_is_denied_by_default(skiff, image):
    r = skiff.run("run", "--rm", image, "/bin/sh", "-c", MOUNT)
    assert r.returncode != 0 and r.stdout == "", r.stdout


@pytest.mark.parametrize("flags", [["--privileged"], ["--cap-add", "SYS_ADMIN"]])
def test_mount_is_allowed_with_privileged_or_sys_admin(skiff, image, flags):
    assert run_sh(skiff, image, MOUNT, *flags).stdout == "1\n"


UNSHARE_USER = "/bin/busybox unshare -U /bin/sh -c 'echo in-userns'"


def test_new_user_namespace_is_denied_by_default(skiff, image):
    r = skiff.run("run", "--rm", image, "/bin/sh", "-c", UNSHARE_USER)
    assert r.returncode != 0 and "in-userns" not in r.stdout
    assert "Operation not permitted" in r.stderr, r.stderr


@pytest.mark.parametrize("flags", [["--privileged"], ["--security-opt", "seccomp=unconfined"]])
def test_new_user_namespace_is_allowed_without_the_filter(skiff, image, flags):
    # a user namespace needs no capability: only seccomp stood in the way
    assert run_sh(skiff, image, UNSHARE_USER, *flags).stdout == "in-userns\n"


@pytest.fixture
def probe_image(skiff, tmp_path):
    probe = build_probe(tmp_path)
    if probe is None:
        pytest.skip("no C compiler able to link statically (cc -static)")
    return runlib.install_image(skiff, tmp_path, extra_files={"bin/probe": (probe, 0o755)})


def run_probe(skiff, image, *flags):
    return parse_probe(skiff.ok("run", "--rm", *flags, image, "/bin/probe").stdout)


def test_dangerous_syscalls_get_eperm_by_default(skiff, probe_image):
    got = run_probe(skiff, probe_image)
    assert got == {k: errno.EPERM for k in ("kexec_load", "keyctl", "add_key", "request_key",
                                            "bpf", "perf_event_open", "unshare_user")}


def test_kexec_stays_denied_with_cap_sys_boot(skiff, probe_image):
    # docker's profile never allows kexec_load, whatever the capabilities
    assert run_probe(skiff, probe_image, "--cap-add", "SYS_BOOT")["kexec_load"] == errno.EPERM


def test_privileged_container_reaches_the_kernel(skiff, probe_image):
    got = run_probe(skiff, probe_image, "--privileged")
    assert got["keyctl"] == 0
    assert got["add_key"] == errno.ENODEV  # the kernel looked at the key type
    assert got["unshare_user"] == 0
    for name in ("kexec_load", "request_key", "bpf", "perf_event_open"):
        assert got[name] != errno.EPERM, (name, got)


def test_unconfined_keeps_capabilities_but_drops_the_filter(skiff, probe_image):
    got = run_probe(skiff, probe_image, "--security-opt", "seccomp=unconfined")
    assert got["keyctl"] == 0 and got["add_key"] == errno.ENODEV and got["unshare_user"] == 0
    # kexec without CAP_SYS_BOOT: now the kernel refuses (or has no kexec at all)
    assert got["kexec_load"] in (errno.EPERM, errno.ENOSYS)


# --- privileged: masked paths and devices -----------------------------------

def proc_mounts_inside(skiff, image, *flags):
    info = run_sh(skiff, image, "cat /proc/self/mountinfo", *flags).stdout
    return [l.split()[4] for l in info.splitlines() if l.split()[4].startswith("/proc/")]


def test_privileged_has_no_masked_paths(skiff, image):
    assert "/proc/keys" in proc_mounts_inside(skiff, image)
    assert proc_mounts_inside(skiff, image, "--privileged") == []


def test_privileged_sees_the_hosts_devices(skiff, image):
    host_only = next((d for d in ("kmsg", "loop-control", "mem", "kvm", "fuse")
                      if os.path.exists("/dev/" + d)), None)
    if host_only is None:
        pytest.skip("no device outside docker's default set on this host")
    assert host_only not in run_sh(skiff, image, "ls /dev").stdout.split()
    assert host_only in run_sh(skiff, image, "ls /dev", "--privileged").stdout.split()


# --- seccomp: docker JSON profiles ------------------------------------------

MKDIR = "/bin/busybox mkdir /tmp/d && echo made"


def profile(tmp_path, body, name="profile.json"):
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return str(path)


def deny_mkdir(extra=None):
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
    rule.update(extra or {})
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [rule]}


def test_profile_file_is_applied(skiff, image, tmp_path):
    assert run_sh(skiff, image, MKDIR).stdout == "made\n"
    prof = profile(tmp_path, deny_mkdir())
    r = skiff.run("run", "--rm", "--security-opt", f"seccomp={prof}", image, "/bin/sh", "-c",
                  MKDIR + "; grep Seccomp: /proc/self/status")
    assert "made" not in r.stdout and "Operation not permitted" in r.stderr, r
    assert r.stdout.split() == ["Seccomp:", "2"]


def test_profile_errno_ret_is_used(skiff, image, tmp_path):
    prof = profile(tmp_path, deny_mkdir({"errnoRet": errno.EACCES}))
    r = skiff.run("run", "--rm", "--security-opt", f"seccomp={prof}", image, "/bin/sh", "-c",
                  MKDIR)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r.stderr


def test_profile_allowing_everything_leaves_user_namespaces_open(skiff, image, tmp_path):
    prof = profile(tmp_path, {"defaultAction": "SCMP_ACT_ALLOW"})
    out = run_sh(skiff, image, UNSHARE_USER, "--security-opt", f"seccomp={prof}").stdout
    assert out == "in-userns\n"


@pytest.mark.parametrize("body", [
    "{ not json",
    {"defaultAction": "SCMP_ACT_BOGUS"},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "NOPE"}]},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": "mkdir"},
], ids=["syntax", "default-action", "rule-action", "syscalls-type"])
def test_broken_profile_is_refused_naming_the_file(skiff, image, tmp_path, body):
    prof = profile(tmp_path, body, name="broken-profile.json")
    r = skiff.fails("run", "--rm", "--security-opt", f"seccomp={prof}", image, "/bin/true")
    assert "broken-profile.json" in error_line(r)
    assert r.stdout == ""
    assert store_containers(skiff) == []


def test_missing_profile_is_refused_naming_the_file(skiff, image, tmp_path):
    missing = str(tmp_path / "no-such-profile.json")
    r = skiff.fails("run", "--rm", "--security-opt", f"seccomp={missing}", image, "/bin/true")
    assert "no-such-profile.json" in error_line(r)
