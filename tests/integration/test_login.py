"""skiff login / logout against a real docker-registry with htpasswd Basic auth.

What a user sees: exit status, the messages, and docker's config.json on disk
(mode 0600, base64 "user:pass" under the registry's host:port key).
"""
import base64
import json
import os
import select
import shutil
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request

import pytest

SKIFF = os.environ.get("SKIFF_BIN", "")
REGISTRY = "/usr/bin/docker-registry"
HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
USER, PASSWORD = "alice", "s3cret:with colon"

pytestmark = [
    pytest.mark.skipif(not SKIFF or not os.access(SKIFF, os.X_OK),
                       reason="SKIFF_BIN not set to an executable"),
    pytest.mark.skipif(not os.access(REGISTRY, os.X_OK), reason="docker-registry not installed"),
    pytest.mark.skipif(not os.access(HTPASSWD, os.X_OK),
                       reason="htpasswd not installed (apt-get install apache2-utils)"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("docker-registry exited with %s" % proc.returncode)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/v2/" % port, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # 401: up, and asking for credentials
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not come up on port %d" % port)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    base = tmp_path_factory.mktemp("login-registry")
    htpasswd = base / "htpasswd"
    out = subprocess.run([HTPASSWD, "-Bbn", USER, PASSWORD], check=True,
                         capture_output=True, text=True).stdout
    htpasswd.write_text(out)
    port = free_port()
    cfg = base / "reg.yml"
    cfg.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        "storage: {filesystem: {rootdirectory: %s}}\n"
        "http: {addr: 127.0.0.1:%d}\n"
        "auth: {htpasswd: {realm: basic-realm, path: %s}}\n" % (base / "data", port, htpasswd))
    proc = subprocess.Popen([REGISTRY, "serve", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=open(base / "registry.log", "w"))
    try:
        wait_until_up(port, proc)
        yield "127.0.0.1:%d" % port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def env(tmp_path):
    """A private DOCKER_CONFIG, skiff store and skiff config for each test."""
    e = dict(os.environ)
    e["DOCKER_CONFIG"] = str(tmp_path / "docker")
    e["SKIFF_CONFIG"] = str(tmp_path / "no-system-config.json")
    e["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    for k in ("SKIFF_REGISTRY_MIRROR", "SKIFF_ROOT", "SKIFF_DEBUG"):
        e.pop(k, None)
    e["_root"] = str(tmp_path / "store")
    return e


def skiff(env, *args, stdin=None):
    e = {k: v for k, v in env.items() if not k.startswith("_")}
    return subprocess.run([SKIFF, "--root", env["_root"], *args], env=e, input=stdin,
                          capture_output=True, text=True, timeout=60)


def config_path(env):
    return os.path.join(env["DOCKER_CONFIG"], "config.json")


def auths(env):
    with open(config_path(env)) as f:
        return json.load(f).get("auths", {})


def test_login_success_writes_private_config(registry, env):
    r = skiff(env, "login", "-u", USER, "--password-stdin", registry, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "Login Succeeded" in r.stdout
    mode = stat.S_IMODE(os.stat(config_path(env)).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(env["DOCKER_CONFIG"]).st_mode) == 0o700
    entry = auths(env)[registry]
    assert base64.b64decode(entry["auth"]).decode() == "%s:%s" % (USER, PASSWORD)


def test_login_with_p_flag_warns(registry, env):
    r = skiff(env, "login", "-u", USER, "-p", PASSWORD, registry)
    assert r.returncode == 0, r.stderr
    assert "--password-stdin" in r.stderr
    assert "Login Succeeded" in r.stdout
    assert registry in auths(env)


def test_login_keeps_other_entries(registry, env):
    os.makedirs(env["DOCKER_CONFIG"])
    with open(config_path(env), "w") as f:
        json.dump({"auths": {"other.example": {"auth": "eDp5"}}, "psFormat": "x"}, f)
    r = skiff(env, "login", "-u", USER, "--password-stdin", registry, stdin=PASSWORD)
    assert r.returncode == 0, r.stderr
    with open(config_path(env)) as f:
        doc = json.load(f)
    assert doc["psFormat"] == "x"
    assert doc["auths"]["other.example"] == {"auth": "eDp5"}
    assert registry in doc["auths"]


def test_wrong_password_fails_and_stores_nothing(registry, env):
    r = skiff(env, "login", "-u", USER, "--password-stdin", registry, stdin="wrong\n")
    assert r.returncode == 1
    assert "Login Succeeded" not in r.stdout
    assert ("login to '%s' failed" % registry) in r.stderr
    assert "unauthorized" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert PASSWORD not in r.stderr and "wrong" not in r.stderr
    assert not os.path.exists(config_path(env)) or registry not in auths(env)


def test_wrong_password_keeps_previous_login(registry, env):
    assert skiff(env, "login", "-u", USER, "--password-stdin", registry,
                 stdin=PASSWORD).returncode == 0
    before = auths(env)[registry]
    r = skiff(env, "login", "-u", USER, "--password-stdin", registry, stdin="nope")
    assert r.returncode == 1
    assert auths(env)[registry] == before


def test_logout_removes_entry(registry, env):
    assert skiff(env, "login", "-u", USER, "--password-stdin", registry,
                 stdin=PASSWORD).returncode == 0
    r = skiff(env, "logout", registry)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Removing login credentials for %s" % registry
    assert registry not in auths(env)
    assert stat.S_IMODE(os.stat(config_path(env)).st_mode) == 0o600


def test_logout_when_not_logged_in(registry, env):
    """docker 28 says the same whether or not there was a login to remove."""
    r = skiff(env, "logout", registry)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Removing login credentials for %s" % registry
    r = skiff(env, "logout")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Removing login credentials for https://index.docker.io/v1/"


def test_login_without_tty_or_user_is_a_clear_error(registry, env):
    r = skiff(env, "login", registry, stdin="")
    assert r.returncode == 1
    assert "non TTY" in r.stderr
    assert not os.path.exists(config_path(env))


def test_login_flag_errors(registry, env):
    r = skiff(env, "login", "--password-stdin", registry, stdin=PASSWORD)
    assert r.returncode == 1
    assert "--username" in r.stderr
    r = skiff(env, "login", "-u", USER, "-p", "x", "--password-stdin", registry, stdin="x")
    assert r.returncode == 1
    assert "cannot specify both --password and --password-stdin" in r.stderr


def test_help_goes_to_stdout(env):
    for cmd in ("login", "logout"):
        r = skiff(env, cmd, "--help")
        assert r.returncode == 0
        assert r.stdout.startswith("Usage: skiff %s" % cmd)
        assert r.stderr == ""


def test_login_prompts_on_a_terminal_without_echoing_the_password(registry, env):
    import pty

    e = {k: v for k, v in env.items() if not k.startswith("_")}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(SKIFF, [SKIFF, "--root", env["_root"], "login", registry], e)
    out = b""

    def read_until(marker):
        nonlocal out
        deadline = time.monotonic() + 30
        while marker not in out and time.monotonic() < deadline:
            out += os.read(fd, 1024)
        assert marker in out, out

    read_until(b"Username: ")
    os.write(fd, USER.encode() + b"\n")
    read_until(b"Password: ")
    os.write(fd, PASSWORD.encode() + b"\n")
    deadline = time.monotonic() + 30  # a lost password must fail the test, not hang it
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 1)[0]:
                continue
            data = os.read(fd, 1024)
            if not data:
                break
            out += data
    except OSError:
        pass  # EIO once the child has gone
    if time.monotonic() >= deadline:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, out
    assert b"Login Succeeded" in out
    assert PASSWORD.encode() not in out
    entry = auths(env)[registry]
    assert base64.b64decode(entry["auth"]).decode() == "%s:%s" % (USER, PASSWORD)
