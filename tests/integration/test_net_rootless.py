"""Rootless networking through slirp4netns (src/net/slirp.h): an unprivileged
user that the suite creates (test_rootless.py's User, with subordinate ids and
with a single-id mapping) runs containers that get tap0 10.0.2.100/24, reach
the host's LAN, publish ports with -p through slirp4netns's API, and cannot
reach the host's 127.0.0.1-only services.

/dev/net/tun is mode 0600 on these machines (Debian's default is 0666): the
tests that need rootless networking open it to every user (0666) as a setup
step of the `tun_open` fixture, and the `tun_closed` fixture forces 0600;
both put the original mode back at teardown, whatever happened."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import netlib
import runlib
from netlib import free_port, host_ip
from netlib import http_get_or_empty as http_get
from test_rootless import User, image_archive  # noqa: F401  (the user fixture below)

WEB = ("mkdir -p /www && echo hello-rootless > /www/index.html && exec httpd -f -p 80 -h /www")


# --- fixtures: /dev/net/tun's mode, the user, its image and containers --------------------

TUN = "/dev/net/tun"


def _tun_mode(mode):
    old = os.stat(TUN).st_mode & 0o7777
    os.chmod(TUN, mode)
    return old


@pytest.fixture
def tun_open():
    """Setup step: /dev/net/tun mode 0666 (Debian's default; 0600 on these
    machines) so that an unprivileged slirp4netns can open it; the original
    mode is restored at teardown."""
    old = _tun_mode(0o666)
    try:
        yield
    finally:
        os.chmod(TUN, old)


@pytest.fixture
def tun_closed():
    """/dev/net/tun at 0600 (root only) for the test, the original mode back after."""
    old = _tun_mode(0o600)
    try:
        yield
    finally:
        os.chmod(TUN, old)


@pytest.fixture(params=[True, False], ids=["subids", "single-id"])
def user(request):
    if not shutil.which("newuidmap"):
        pytest.fail("newuidmap missing (apt-get install uidmap)")
    if not shutil.which("slirp4netns"):
        pytest.fail("slirp4netns missing (apt-get install slirp4netns)")
    u = User(subids=request.param)
    u.containers = []
    try:
        yield u
    finally:
        for name in u.containers:
            u.run("rm", "-f", name)
        u.close()


@pytest.fixture
def img(user):
    name = image_archive(user)
    user.ok("load", "-q", "-i", os.path.join(user.dir, "img.tar"))
    return name


def detached(user, img, name, *args, cmd=WEB):
    user.containers.append(name)
    return user.ok("run", "-d", "--name", name, *args, img, "/bin/sh", "-c", cmd).stdout.strip()





def slirps_of(user):
    """The pids of the user's slirp4netns processes."""
    out = subprocess.run(["pgrep", "-u", str(user.uid), "-x", "slirp4netns"],
                         capture_output=True, text=True).stdout
    return out.split()


def one_line(r):
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("See '")
             and not l.startswith("skiff: warning:")]
    assert len(lines) == 1 and lines[0].startswith("skiff:"), r.stderr
    return lines[0]


# --- the default rootless network ---------------------------------------------------------

def test_default_rootless_run_gets_tap0_route_and_resolver(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    r = user.ok("run", "--rm", img, "/bin/sh", "-c",
                "ip -4 -o addr show tap0; echo --; ip route; echo --; cat /etc/resolv.conf; "
                "echo --; cat /sys/class/net/tap0/mtu")
    addr, routes, resolv, mtu = r.stdout.split("--\n")
    assert re.search(r"inet 10\.0\.2\.100/24 ", addr), r.stdout
    assert re.search(r"^default via 10\.0\.2\.2 dev tap0", routes, re.M), r.stdout
    servers = re.findall(r"^nameserver\s+(\S+)", resolv, re.M)
    assert servers == ["10.0.2.3"], resolv
    assert mtu.strip() == "65520"
    assert not slirps_of(user), "slirp4netns outlived a --rm run"


def test_inspect_shows_the_slirp_network_as_the_container_has_it(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    detached(user, img, "ins", cmd="exec sleep 60")
    ns = json.loads(user.ok("inspect", "ins").stdout)[0]["NetworkSettings"]
    net = ns["Networks"]["slirp4netns"]
    assert net["IPAddress"] == "10.0.2.100" and net["Gateway"] == "10.0.2.2"
    assert net["IPPrefixLen"] == 24
    mac = user.ok("exec", "ins", "cat", "/sys/class/net/tap0/address").stdout.strip()
    assert net["MacAddress"] == mac, \
        f"BUG: inspect's Networks.slirp4netns.MacAddress is {net['MacAddress']}, " \
        f"but the container's tap0 has {mac}"


def test_outbound_tcp_reaches_a_server_on_the_hosts_lan_address(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    lan = host_ip()
    with netlib.HostListener(lan, "lan-service") as hl:
        r = user.ok("run", "--rm", img, "/bin/sh", "-c",
                    f"timeout 10 nc -w 5 {lan} {hl.port} </dev/null")
        assert "lan-service" in r.stdout, r.stdout + r.stderr
        assert hl.peers, "the host's server saw no connection"


# --- published ports ------------------------------------------------------------------------

def test_published_port_answers_shows_and_goes_with_rm(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    port = free_port()
    detached(user, img, "web", "-p", f"{port}:80")
    for addr in ("127.0.0.1", host_ip()):
        runlib.wait_for(lambda: "hello-rootless" in http_get(addr, port), timeout=10,
                        what=f"httpd on {addr}:{port}")
    assert user.ok("port", "web").stdout == f"80/tcp -> 0.0.0.0:{port}\n"
    assert user.ok("port", "web", "80").stdout == f"0.0.0.0:{port}\n"
    assert f"0.0.0.0:{port}->80/tcp" in user.ok("ps", "--format", "{{.Ports}}").stdout
    assert f"0.0.0.0:{port}->80/tcp" in user.ok("ps").stdout
    assert len(slirps_of(user)) == 1
    user.ok("rm", "-f", "web")
    for addr in ("127.0.0.1", host_ip()):
        assert http_get(addr, port) == "", f"{addr}:{port} still answers after rm -f"
    runlib.wait_for(lambda: not slirps_of(user), timeout=5, what="slirp4netns to go")
    # the port is free again (SO_REUSEADDR: our own connections' TIME_WAIT)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen()


def test_an_ephemeral_published_port_works(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    detached(user, img, "eph", "-p", "80")
    out = user.ok("port", "eph", "80").stdout
    m = re.fullmatch(r"0\.0\.0\.0:(\d+)\n", out)
    assert m, out
    port = int(m.group(1))
    assert port != 80 and port > 1024
    runlib.wait_for(lambda: "hello-rootless" in http_get("127.0.0.1", port), timeout=10,
                    what=f"httpd on the ephemeral port {port}")
    assert f"0.0.0.0:{port}->80/tcp" in user.ok("ps", "--format", "{{.Ports}}").stdout


def test_a_port_published_on_loopback_answers_there_only(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    port = free_port()
    detached(user, img, "loweb", "-p", f"127.0.0.1:{port}:80")
    runlib.wait_for(lambda: "hello-rootless" in http_get("127.0.0.1", port), timeout=10,
                    what=f"httpd on 127.0.0.1:{port}")
    assert http_get(host_ip(), port) == "", "a 127.0.0.1 publish answers on the LAN address"
    assert user.ok("port", "loweb").stdout == f"80/tcp -> 127.0.0.1:{port}\n"


def test_a_taken_host_port_is_refused_before_the_container_starts(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        user.containers.append("taken")
        marker = os.path.join(user.home, "started")
        r = user.run("run", "-d", "--name", "taken", "-p", f"{port}:80",
                     "-v", f"{user.home}:/out", img, "/bin/sh", "-c", "touch /out/started")
        assert r.returncode == 125, r.stdout + r.stderr
        line = one_line(r)
        assert f"{port}" in line and "bind" in line, line
        time.sleep(0.3)
        assert not os.path.exists(marker), "the container's process ran"
        assert "Up" not in user.ok("ps", "-a").stdout
        assert not slirps_of(user), "a slirp4netns was left behind"


# --- the host's loopback ---------------------------------------------------------------------

def test_the_hosts_loopback_only_services_are_out_of_reach(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after. The host's
    127.0.0.1-only server is not reachable through 10.0.2.2 (slirp4netns's
    host loopback, disabled); a server on 0.0.0.0 is, through the host's LAN
    address (positive control: the container does have a way to the host)."""
    with netlib.HostListener("127.0.0.1", "loopback-only") as lo, \
            netlib.HostListener("0.0.0.0", "everywhere") as every:
        lan = host_ip()
        r = user.run("run", "--rm", img, "/bin/sh", "-c",
                     f"timeout 8 nc -w 3 10.0.2.2 {lo.port} </dev/null; echo; "
                     f"timeout 8 nc -w 3 127.0.0.1 {lo.port} </dev/null; echo; "
                     f"timeout 8 nc -w 3 {lan} {every.port} </dev/null")
        assert "everywhere" in r.stdout, f"control failed: {r.stdout} {r.stderr}"
        assert "loopback-only" not in r.stdout, "the host's 127.0.0.1 service was reached"
        assert lo.peers == []


def test_10_0_2_2_reaches_no_host_service(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after. 10.0.2.2
    (the host's loopback in slirp4netns) is disabled: a 0.0.0.0 listener is
    not reached through it (it would be on the host's 127.0.0.1), while the
    same listener is reached through the host's LAN address (control)."""
    with netlib.HostListener("0.0.0.0", "everywhere") as every:
        r = user.run("run", "--rm", img, "/bin/sh", "-c",
                     f"timeout 8 nc -w 3 10.0.2.2 {every.port} </dev/null; echo --; "
                     f"timeout 8 nc -w 3 {host_ip()} {every.port} </dev/null")
        via_gw, via_lan = r.stdout.split("--\n")
        assert "everywhere" in via_lan, f"control failed: {r.stdout} {r.stderr}"
        assert "everywhere" not in via_gw, "10.0.2.2 reached the host's loopback"
        assert [p for p in every.peers if p.startswith("127.")] == []


# --- where rootless networking cannot work ---------------------------------------------------

def test_with_tun_closed_a_default_run_has_only_lo(user, img, tun_closed):
    """/dev/net/tun forced to 0600 (tun_closed): a default rootless run still
    works, on loopback only; then, as a setup step, set to 0666 within the
    test: the same run gets tap0. The fixture restores the original mode."""
    r = user.ok("run", "--rm", img, "/bin/sh", "-c", "ls /sys/class/net")
    assert r.stdout.split() == ["lo"]
    assert not slirps_of(user)
    os.chmod(TUN, 0o666)
    r = user.ok("run", "--rm", img, "/bin/sh", "-c", "ls /sys/class/net")
    assert r.stdout.split() == ["lo", "tap0"], "the fallback to no network is not decided " \
        "on tun's mode at each run"


@pytest.mark.parametrize("args", [("-p", "8080:80"), ("--network", "slirp4netns")],
                         ids=["publish", "network"])
def test_with_tun_closed_slirp_is_refused_naming_tuns_mode(user, img, tun_closed, args):
    """/dev/net/tun forced to 0600 (tun_closed), restored after."""
    user.containers.append("refused")
    r = user.run("run", "--name", "refused", *args, img, "true")
    assert r.returncode == 125
    line = one_line(r)
    assert "/dev/net/tun" in line and "0600" in line, line
    assert "refused" not in user.ok("ps", "-a").stdout
    assert not slirps_of(user)


def test_without_slirp4netns_on_path_the_package_is_named(user, img, tun_open):
    """Setup: /dev/net/tun set to 0666 (tun_open), restored after; skiff runs
    with a PATH that has newuidmap/newgidmap but no slirp4netns."""
    bindir = tempfile.mkdtemp(prefix="skiff-noslirp-", dir=user.dir)
    os.chmod(bindir, 0o755)
    for tool in ("newuidmap", "newgidmap"):
        os.symlink(shutil.which(tool), os.path.join(bindir, tool))
    env = {"PATH": bindir}
    user.containers.append("noslirp")
    r = user.run("run", "--name", "noslirp", "--network", "slirp4netns", img, "true", env=env)
    assert r.returncode == 125
    line = one_line(r)
    assert "slirp4netns" in line and "Debian package" in line, line
    # control: the same PATH runs a container without a network
    assert user.run("run", "--rm", "--network", "none", img, "true",
                    env=env).returncode == 0
    # and a default run there falls back to no network rather than failing
    r = user.ok("run", "--rm", img, "/bin/sh", "-c", "ls /sys/class/net", env=env)
    assert r.stdout.split() == ["lo"]
