"""The bridge network (issue 15): a veth on skiff0 with a leased address, NAT
out, published ports in, and nothing left behind. Real bridge, veths and
nftables; a "neighbour" is a network namespace the test makes itself."""

import concurrent.futures
import json
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import regkit
import runlib
from netlib import free_port, host_ip, http_get


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)



def rules_of(cid):
    out = subprocess.run(["nft", "list", "table", "inet", "skiff"], capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if cid in line]


def leases():
    try:
        with open("/run/skiff/net/skiff0.leases") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []




@pytest.fixture
def web(skiff, image):
    """A detached busybox httpd on the bridge, its port 80 published."""
    made = []

    def start(publish, name="web"):
        cid = skiff.ok("run", "-d", "--name", name, "--network", "bridge", "-p", publish, image,
                       "/bin/sh", "-c", "mkdir -p /www && echo hello-from-skiff > /www/index.html"
                       " && exec httpd -f -p 80 -h /www").stdout.strip()
        made.append(name)
        return cid

    yield start
    for name in made:
        skiff.run("rm", "-f", name)


@pytest.fixture
def neighbour():
    """A network namespace on a veth to the host (10.98.0.2 -> host 10.98.0.1)."""
    ns = f"skn{os.getpid() % 100000}"
    cmds = [["ip", "netns", "add", ns],
            ["ip", "link", "add", f"{ns}h", "type", "veth", "peer", "name", f"{ns}p"],
            ["ip", "link", "set", f"{ns}p", "netns", ns],
            ["ip", "addr", "add", "10.98.0.1/24", "dev", f"{ns}h"],
            ["ip", "link", "set", f"{ns}h", "up"],
            ["ip", "-n", ns, "addr", "add", "10.98.0.2/24", "dev", f"{ns}p"],
            ["ip", "-n", ns, "link", "set", f"{ns}p", "up"],
            ["ip", "-n", ns, "link", "set", "lo", "up"]]
    for c in cmds:
        subprocess.run(c, check=True, capture_output=True)
    try:
        yield ns
    finally:
        subprocess.run(["ip", "link", "del", f"{ns}h"], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_bridge_gives_eth0_an_address_a_route_and_a_hosts_line(skiff, image):
    out = skiff.ok("run", "--rm", "--network", "bridge", "-h", "box", image, "/bin/sh", "-c",
                   "ip -4 addr show eth0; ip route; cat /etc/hosts").stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/(\d+)", out)
    assert m, out
    ip, prefix = m.group(1), m.group(2)
    gw = re.search(r"default via (\S+) dev eth0", out)
    assert gw, out
    assert f"{ip}\tbox" in out
    # the gateway is the host's skiff0 address
    br = subprocess.run(["ip", "-4", "addr", "show", "skiff0"], capture_output=True,
                        text=True).stdout
    assert f"inet {gw.group(1)}/{prefix}" in br


def test_resolv_conf_keeps_the_hosts_non_loopback_servers(skiff, image):
    out = skiff.ok("run", "--rm", "--network", "bridge", image, "cat",
                   "/etc/resolv.conf").stdout
    with open("/etc/resolv.conf") as f:
        host = [line.split()[1] for line in f if line.startswith("nameserver")]
    expected = [h for h in host if not h.startswith("127.")] or ["8.8.8.8", "8.8.4.4"]
    assert [line.split()[1] for line in out.splitlines()
            if line.startswith("nameserver")] == expected


def test_container_reaches_a_server_on_the_host(skiff, image):
    port = free_port()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"from-the-host")

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("0.0.0.0", port), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        r = skiff.run("run", "--rm", "--network", "bridge", image, "/bin/sh", "-c",
                      f"wget -q -O- http://{host_ip()}:{port}/")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "from-the-host"
    finally:
        srv.shutdown()


def test_outbound_nat_reaches_debians_archive(skiff, image):
    """apt-get update's first request, by hand: DNS and NAT through the host."""
    try:
        socket.getaddrinfo("deb.debian.org", 80)
    except OSError:
        pytest.skip("the host itself cannot resolve deb.debian.org")
    r = skiff.run("run", "--rm", "--network", "bridge", image, "/bin/sh", "-c",
                  "timeout 20 wget -q -O- http://deb.debian.org/debian/dists/bookworm/Release"
                  " | head -1", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Origin: Debian")


def test_published_port_answers_and_stops_after_rm(skiff, web, neighbour):
    port = free_port()
    cid = web(f"{port}:80")
    runlib.wait_for(lambda: "hello-from-skiff" in _try_get(host_ip(), port), what="httpd")
    # from another machine (the neighbour namespace, through the host's address)
    out = subprocess.run(["ip", "netns", "exec", neighbour, "busybox", "wget", "-q", "-O-",
                          f"http://10.98.0.1:{port}/"], capture_output=True, text=True,
                         timeout=20)
    assert "hello-from-skiff" in out.stdout, out.stderr
    # from the host itself, on loopback (route_localnet with kube-proxy's guard)
    assert "hello-from-skiff" in _try_get("127.0.0.1", port)
    guard = subprocess.run(["nft", "list", "chain", "inet", "skiff", "guard"],
                           capture_output=True, text=True).stdout
    assert 'iifname != "lo" ip daddr 127.0.0.0/8 drop' in guard
    assert rules_of(cid)
    assert any(cid in line for line in leases())
    skiff.ok("rm", "-f", "web")
    assert _try_get(host_ip(), port) == ""
    assert rules_of(cid) == []
    assert not any(cid in line for line in leases())


def _try_get(host, port):
    try:
        return http_get(host, port, timeout=2)
    except OSError:
        return ""


def test_ephemeral_host_port_is_chosen(skiff, web):
    cid = web("80")
    rule = " ".join(rules_of(cid))
    m = re.search(r"dport (\d+) dnat", rule)
    assert m, rule
    runlib.wait_for(lambda: "hello-from-skiff" in _try_get(host_ip(), int(m.group(1))),
                    what="httpd on the ephemeral port")


def test_a_taken_host_port_is_one_clear_error_and_leaves_nothing(skiff, image):
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        before = leases()
        r = skiff.run("run", "--rm", "--network", "bridge", "-p", f"{port}:80", image, "true")
    assert r.returncode == 125
    assert r.stderr.strip() == (f"skiff: bind for 0.0.0.0:{port}/tcp failed: port is already "
                                "allocated: Address already in use")
    assert leases() == before
    assert skiff.ok("ps", "-aq").stdout == ""


@pytest.mark.parametrize("bad,why", [
    ("80/sctp", "invalid proto: sctp"),
    ("x:80", "invalid hostPort: x"),
    ("8080:0", "invalid containerPort: 0"),
])
def test_malformed_publish_is_refused(skiff, image, bad, why):
    r = skiff.run("run", "--rm", "--network", "bridge", "-p", bad, image, "true")
    assert r.returncode == 125
    assert why in r.stderr and len(r.stderr.strip().splitlines()) <= 2


def test_publish_without_the_bridge_is_refused(skiff, image):
    r = skiff.run("run", "--rm", "--network", "none", "-p", "80", image, "true")
    assert r.returncode == 125 and "need the bridge network" in r.stderr


def test_unknown_network_is_refused(skiff, image):
    r = skiff.run("run", "--rm", "--network", "nosuchnet", image, "true")
    # docker: "network nosuchnet not found", exit 125
    assert r.returncode == 125 and r.stderr == "skiff: network nosuchnet not found\n"


def test_parallel_runs_get_distinct_addresses(skiff, image):
    def one(i):
        return skiff.run("run", "--rm", "--network", "bridge", image, "/bin/sh", "-c",
                         "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; sleep 1")

    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        results = list(ex.map(one, range(20)))
    ips = [r.stdout.strip() for r in results]
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert len(set(ips)) == 20, ips


def test_kill_9_of_skiff_leaves_nothing_once_skiff_runs_again(skiff, image):
    port = free_port()
    p = subprocess.Popen([skiff.binary, "--root", str(skiff.root), "run", "--name", "victim",
                          "--network", "bridge", "-p", f"{port}:80", image, "sleep", "60"],
                         env=skiff.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runlib.wait_for(lambda: any(f"dport {port} " in line for line in _all_rules()) and
                    "Up" in skiff.ok("ps").stdout, what="the container running")
    cid = os.readlink(os.path.join(skiff.root, "containers", "names", "victim"))
    assert "skiff_guard" in _guard(f"vsk{cid[:12]}")  # its port's guard
    p.send_signal(signal.SIGKILL)
    p.wait()
    skiff.ok("run", "--rm", image, "true")  # any command that cleans up
    assert rules_of(cid) == []
    skiff.ok("rm", "victim")
    assert not any(cid in line for line in leases())
    veth = f"vsk{cid[:12]}"
    assert subprocess.run(["ip", "link", "show", veth], capture_output=True).returncode != 0


def _all_rules():
    return subprocess.run(["nft", "list", "table", "inet", "skiff"], capture_output=True,
                          text=True).stdout.splitlines()


def test_other_tables_are_left_alone(skiff, image):
    subprocess.run(["nft", "add", "table", "inet", "skifftest"], check=True)
    subprocess.run(["nft", "add", "chain", "inet", "skifftest", "c"], check=True)
    subprocess.run(["nft", "add", "rule", "inet", "skifftest", "c", "counter"], check=True)
    try:
        skiff.ok("run", "--rm", "--network", "bridge", "-p", f"{free_port()}:80", image, "true")
        out = subprocess.run(["nft", "list", "table", "inet", "skifftest"], capture_output=True,
                             text=True).stdout
        assert "counter" in out
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "skifftest"])


def test_bridge_adds_little_to_a_run(skiff, image):
    """Not a benchmark (bench/network.sh is): a guard against a slow path."""
    t = time.monotonic()
    for _ in range(5):
        skiff.ok("run", "--rm", "--network", "bridge", image, "true")
    assert (time.monotonic() - t) / 5 < 1.0


def test_dns_flags_and_add_host_reach_the_container(skiff, image):
    out = skiff.ok("run", "--rm", "--dns", "1.1.1.1", "--dns-search", "example.com",
                   "--dns-option", "ndots:2", "--add-host", "db:10.1.2.3",
                   "--add-host", "gw:host-gateway", "--domainname", "corp.local", "-h", "box",
                   image, "/bin/sh", "-c",
                   "cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; "
                   "cat /proc/sys/kernel/domainname").stdout
    resolv, hosts, domain = out.split("---\n")
    assert [line for line in resolv.splitlines() if not line.startswith("#")] == \
        ["nameserver 1.1.1.1", "search example.com", "options ndots:2"]
    gw = subprocess.run(["ip", "-4", "-o", "addr", "show", "skiff0"], capture_output=True,
                        text=True).stdout.split()[3].split("/")[0]
    lines = hosts.splitlines()
    assert lines.index("10.1.2.3\tdb") < lines.index(f"{gw}\tgw") < len(lines) - 1
    assert lines[-1].endswith("\tbox")
    assert domain.strip() == "corp.local"


def test_add_host_is_checked_as_docker_checks_it(skiff, image):
    r = skiff.run("run", "--rm", "--add-host", "nocolon", image, "true")
    assert r.returncode == 125
    assert 'bad format for add-host: "nocolon"' in r.stderr
    r = skiff.run("run", "--rm", "--network", "none", "--add-host", "gw:host-gateway", image,
                  "true")
    assert r.returncode == 125 and "host-gateway needs the bridge network" in r.stderr


def test_a_container_reaches_its_own_published_port_through_the_host(skiff, web):
    """br_netfilter is on here: the reply must leave by the port it came in by."""
    port = free_port()
    cid = web(f"{port}:80")
    runlib.wait_for(lambda: "hello-from-skiff" in _try_get(host_ip(), port), what="httpd")
    with open(f"/sys/class/net/vsk{cid[:12]}/brport/hairpin_mode") as f:
        assert f.read().strip() == "1"
    r = skiff.run("exec", "web", "/bin/sh", "-c", f"wget -q -O- http://{host_ip()}:{port}/")
    assert r.returncode == 0 and "hello-from-skiff" in r.stdout, r.stderr


def test_publish_all_publishes_every_exposed_port(skiff, tmp_path):
    img = runlib.install_image(skiff, tmp_path, exposed_ports=["80/tcp", "53/udp"])
    cid = skiff.ok("run", "-d", "--name", "pall", "-P", img, "sleep", "30").stdout.strip()
    try:
        rules = " ".join(rules_of(cid))
        assert re.search(r"tcp dport \d+ dnat ip to [0-9.]+:80\b", rules), rules
        assert re.search(r"udp dport \d+ dnat ip to [0-9.]+:53\b", rules), rules
    finally:
        skiff.run("rm", "-f", "pall")
    r = skiff.run("run", "--rm", "--network", "none", "-P", img, "true")
    assert r.returncode == 125 and "need the bridge network" in r.stderr


def test_port_ps_and_inspect_show_the_mappings(skiff, image):
    port = free_port()
    skiff.ok("run", "-d", "--name", "shown", "-p", f"{port}:80", "-p", "53/udp", image,
             "sleep", "30")
    try:
        out = skiff.ok("port", "shown").stdout.splitlines()
        assert out[0] == f"80/tcp -> 0.0.0.0:{port}"
        assert re.fullmatch(r"53/udp -> 0\.0\.0\.0:\d+", out[1])
        assert skiff.ok("port", "shown", "80").stdout == f"0.0.0.0:{port}\n"
        r = skiff.run("port", "shown", "81")
        assert r.returncode == 1 and "No public port '81/tcp' published for shown" in r.stderr
        ps = skiff.ok("ps", "--format", "{{.Ports}}").stdout
        assert f"0.0.0.0:{port}->80/tcp" in ps and "->53/udp" in ps
        ns = json.loads(skiff.ok("inspect", "shown").stdout)[0]["NetworkSettings"]
        assert ns["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(port)}]
        assert ns["IPAddress"] == ns["Networks"]["bridge"]["IPAddress"] != ""
    finally:
        skiff.run("rm", "-f", "shown")


def test_the_bridge_keeps_its_own_address_as_containers_come_and_go(skiff, image):
    """Without a MAC of its own a bridge takes its lowest port's: a container
    that cached the gateway's address is cut off when that container goes."""
    skiff.ok("run", "-d", "--name", "m1", image, "sleep", "30")
    try:
        with open("/sys/class/net/skiff0/addr_assign_type") as f:
            assert f.read().strip() == "3"  # NET_ADDR_SET: ours, not a port's
        with open("/sys/class/net/skiff0/address") as f:
            before = f.read()
        skiff.ok("run", "-d", "--name", "m2", image, "sleep", "30")
        skiff.ok("rm", "-f", "m1")
        with open("/sys/class/net/skiff0/address") as f:
            assert f.read() == before
    finally:
        skiff.run("rm", "-f", "m1", "m2")


def test_inspect_names_the_default_network_mode(skiff, image):
    skiff.ok("run", "--name", "nm", image, "true")
    hc = json.loads(skiff.ok("inspect", "nm").stdout)[0]["HostConfig"]
    assert hc["NetworkMode"] == "default"
    skiff.ok("run", "--name", "nm2", "--network", "none", image, "true")
    hc = json.loads(skiff.ok("inspect", "nm2").stdout)[0]["HostConfig"]
    assert hc["NetworkMode"] == "none"


def test_daemon_json_mtu_sets_the_containers_mtu(skiff, image, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"mtu": 1300}')
    env = dict(skiff.env, SKIFF_CONFIG=str(cfg))
    r = subprocess.run(skiff.cmd("run", "--rm", image, "cat", "/sys/class/net/eth0/mtu"),
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1300"
    cfg.write_text('{"mtu": 10}')
    r = subprocess.run(skiff.cmd("run", "--rm", image, "true"), env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and '"mtu" must be an integer from 68 to 65535' in r.stderr


def test_an_address_given_again_is_reachable_at_once(skiff, web):
    """A new container on an address another had: the host's ARP cache must
    not keep the old MAC (docker's MAC from the address, 02:42:IP)."""
    for round in range(3):
        port = free_port()
        cid = web(f"{port}:80", name=f"again{round}")
        ip = json.loads(skiff.ok("inspect", cid).stdout)[0]["NetworkSettings"]["IPAddress"]
        mac = skiff.ok("exec", cid, "cat", "/sys/class/net/eth0/address").stdout.strip()
        assert mac == "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))
        runlib.wait_for(lambda: "hello-from-skiff" in _try_get(host_ip(), port), timeout=3,
                        what=f"round {round} on {ip}")
        skiff.ok("rm", "-f", f"again{round}")


def _ip_of(skiff, name, ifname):
    out = skiff.ok("exec", name, "sh", "-c", f"ip -4 -o addr show {ifname} 2>/dev/null; true").stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    return m.group(1) if m else None


def _guard(veth):
    """The tc ingress filters of a container's veth (its port guard)."""
    return subprocess.run(["tc", "filter", "show", "dev", veth, "ingress"], capture_output=True,
                          text=True).stdout


def _veths_of(cid):
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return sorted(set(re.findall(rf"\d+: (vsk{cid[:8]}\w*)@", out)))


def test_network_connect_and_disconnect_a_running_container(skiff, image):
    """connect gives a running container a veth (eth1) on another network,
    with its name and --alias resolvable there; disconnect takes the veth, its
    port guard and its lease away again."""
    nets = ["nc-a", "nc-b"]
    try:
        for n in nets:
            skiff.ok("network", "create", n)
        skiff.ok("run", "-d", "--name", "nca", "--network", "nc-a", image, "sleep", "300")
        skiff.ok("run", "-d", "--name", "ncb", "--network", "nc-b", image, "sleep", "300")
        probe = "ping -c1 -W1 {} >/dev/null 2>&1 && echo yes || echo no"
        assert skiff.ok("exec", "ncb", "sh", "-c", probe.format("nca")).stdout.strip() == "no"
        skiff.ok("network", "connect", "--alias", "nca-alias", "nc-b", "nca")
        ip1 = _ip_of(skiff, "nca", "eth1")
        assert ip1 and ip1.startswith(json.loads(skiff.ok(
            "network", "inspect", "nc-b").stdout)[0]["IPAM"]["Config"][0]["Subnet"].rsplit(".", 2)[0])
        for name in ("nca", "nca-alias"):
            assert skiff.ok("exec", "ncb", "sh", "-c", probe.format(name)).stdout.strip() == "yes"
        nets_seen = json.loads(skiff.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}",
                                        "nca").stdout)
        assert set(nets_seen) == {"nc-a", "nc-b"} and nets_seen["nc-b"]["IPAddress"] == ip1
        cid = skiff.ok("inspect", "-f", "{{.Id}}", "nca").stdout.strip()
        extra = [v for v in _veths_of(cid) if v != f"vsk{cid[:12]}"]
        assert len(extra) == 1 and "skiff_guard" in _guard(extra[0])  # the new port's guard
        # twice: one line
        r = skiff.run("network", "connect", "nc-b", "nca")
        assert r.returncode != 0 and "already exists in network nc-b" in r.stderr
        skiff.ok("network", "disconnect", "nc-b", "nca")
        assert _ip_of(skiff, "nca", "eth1") is None
        assert skiff.ok("exec", "ncb", "sh", "-c", probe.format("nca")).stdout.strip() == "no"
        assert _veths_of(cid) == [f"vsk{cid[:12]}"], "the eth1 port is left"
        leases_b = [l for l in open(f"/run/skiff/net/{json.loads(skiff.ok('network', 'inspect', 'nc-b').stdout)[0]['Options']['com.docker.network.bridge.name']}.leases").read().splitlines() if cid in l]
        assert leases_b == []
    finally:
        skiff.run("rm", "-f", "nca", "ncb")
        for n in nets:
            skiff.run("network", "rm", n)


def test_network_connect_refuses_a_stopped_container(skiff, image):
    try:
        skiff.ok("network", "create", "nc-s")
        skiff.ok("run", "--name", "ncs", "--network", "none", image, "true")
        r = skiff.run("network", "connect", "nc-s", "ncs")
        assert r.returncode != 0 and r.stderr.count("\n") == 1 and "not running" in r.stderr

    finally:
        skiff.run("rm", "-f", "ncs")
        skiff.run("network", "rm", "nc-s")


def test_a_containers_port_guard_goes_with_it(skiff, image):
    """The bridge port's anti-spoofing filter (a BPF classifier on the
    ingress of the container's veth, portguard.h) is in place while it runs
    and goes with its veth."""
    cid = skiff.ok("run", "-d", "--network", "bridge", image, "sleep", "300").stdout.strip()
    veth = f"vsk{cid[:12]}"
    try:
        assert "skiff_guard" in _guard(veth) and "direct-action" in _guard(veth)
    finally:
        skiff.ok("rm", "-f", cid)
    runlib.wait_for(lambda: veth not in _veths_of(cid), what="the veth's end")


def test_a_live_udp_flow_follows_the_port_to_a_new_container(skiff, image):
    """A client that keeps sending to a published UDP port keeps its
    conntrack entry, and with it the DNAT to the first container's address:
    skiff deletes a leaving container's entries (docker does too), so the
    next container published on that port gets the flow."""
    port = free_port()
    net = "nct-udp"
    stop = threading.Event()

    def send():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("0.0.0.0", 0))
            while not stop.is_set():
                s.sendto(b"ping\n", (host_ip(), port))
                time.sleep(0.05)

    servers = {}

    def listener(name, ip):
        # busybox's nc has no UDP: the listener is the host's python in the
        # container's network namespace, which is where the flow must land
        skiff.ok("run", "-d", "--name", name, "--network", net, "--ip", ip, "-p",
                 f"{port}:5000/udp", image, "sleep", "300")
        pid = skiff.ok("inspect", "-f", "{{.State.Pid}}", name).stdout.strip()
        servers[name] = subprocess.Popen(
            ["nsenter", f"--net=/proc/{pid}/ns/net", "/usr/bin/python3", "-c",
             "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
             "s.bind(('0.0.0.0', 5000)); print(s.recv(64).decode(), flush=True)"],
            stdout=subprocess.PIPE, text=True)

    got = {}

    def received(name):
        p = servers[name]
        if name not in got and p.poll() is not None:
            got[name] = p.stdout.read()
        return "ping" in got.get(name, "")

    sender = threading.Thread(target=send, daemon=True)
    try:
        skiff.ok("network", "create", "--subnet", "10.215.7.0/24", net)
        listener("udp1", "10.215.7.10")
        sender.start()
        deadline = time.time() + 5
        while not received("udp1") and time.time() < deadline:
            time.sleep(0.1)
        assert received("udp1"), "control: the first container gets the flow"
        skiff.ok("rm", "-f", "udp1")
        listener("udp2", "10.215.7.11")
        deadline = time.time() + 5
        while not received("udp2") and time.time() < deadline:
            time.sleep(0.1)
        assert received("udp2"), "the flow still goes to the address of the removed container"
    finally:
        stop.set()
        for p in servers.values():
            p.kill()
            p.wait()
        skiff.run("rm", "-f", "udp1", "udp2")
        skiff.run("network", "rm", net)


def test_fifty_containers_share_one_network_and_reach_each_other_by_name(skiff, image):
    """50 detached containers on one user network: 50 distinct addresses on
    one bridge, and the last resolves and reaches the first by name."""
    net = "n50"
    names = [f"c50-{i}" for i in range(50)]
    try:
        skiff.ok("network", "create", "--subnet", "10.215.50.0/24", net)
        with concurrent.futures.ThreadPoolExecutor(10) as ex:
            list(ex.map(lambda n: skiff.ok("run", "-d", "--name", n, "--network", net, image,
                                           "sleep", "300"), names))
        bridge = json.loads(skiff.ok("network", "inspect", net).stdout)[0]
        members = bridge["Containers"]
        assert len(members) == 50
        assert len({m["IPv4Address"] for m in members.values()}) == 50
        ports = subprocess.run(["ip", "-o", "link", "show", "master",
                                bridge["Options"]["com.docker.network.bridge.name"]],
                               capture_output=True, text=True).stdout.splitlines()
        assert len(ports) == 50
        out = skiff.ok("exec", names[-1], "sh", "-c",
                       f"ping -c1 -W2 {names[0]} >/dev/null && echo ok").stdout
        assert out.strip() == "ok"
    finally:
        skiff.run("rm", "-f", *names)
        skiff.run("network", "rm", net)


def test_kill_9_of_a_monitor_on_a_user_network_leaves_nothing(skiff, image):
    """A detached container's monitor killed with SIGKILL: the next skiff
    command finds it dead and removes its published port, its port guard,
    its lease (so its name no longer resolves) and its veth."""
    net = "nk9"
    port = free_port()
    try:
        skiff.ok("network", "create", "--subnet", "10.215.9.0/24", net)
        cid = skiff.ok("run", "-d", "--name", "km", "--network", net, "-p", f"{port}:80",
                       image, "sleep", "300").stdout.strip()
        skiff.ok("run", "-d", "--name", "kpeer", "--network", net, image, "sleep", "300")
        assert "Address: 10.215.9." in skiff.ok("exec", "kpeer", "sh", "-c", "nslookup km").stdout
        bridge = json.loads(skiff.ok("network", "inspect", net).stdout)[0]["Options"][
            "com.docker.network.bridge.name"]
        pid = int(skiff.ok("inspect", "-f", "{{.State.Pid}}", "km").stdout)
        monitor = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        assert open(f"/proc/{monitor}/comm").read().startswith("skiff")
        os.kill(monitor, signal.SIGKILL)
        runlib.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="the container's end")
        skiff.ok("ps", "-a")  # any command notices the dead monitor
        assert rules_of(cid) == []
        assert not any(cid in l for l in open(f"/run/skiff/net/{bridge}.leases"))
        assert subprocess.run(["ip", "link", "show", f"vsk{cid[:12]}"],
                              capture_output=True).returncode != 0
        r = skiff.run("exec", "kpeer", "sh", "-c", "nslookup km")
        assert "NXDOMAIN" in r.stdout and "Name:" not in r.stdout
    finally:
        skiff.run("rm", "-f", "km", "kpeer")
        skiff.run("network", "rm", net)


def test_a_full_subnet_is_one_clear_line_and_leaves_no_container(skiff, image):
    try:
        skiff.ok("network", "create", "--subnet", "10.215.99.0/30", "ntiny")  # one address
        skiff.ok("run", "-d", "--name", "tiny1", "--network", "ntiny", image, "sleep", "300")
        before = skiff.ok("ps", "-aq", "--no-trunc").stdout.split()
        r = skiff.run("run", "--rm", "--network", "ntiny", image, "true")
        assert r.returncode == 125
        assert r.stderr == "skiff: network ntiny: no free address in the network's subnet " \
                           "(1 leases)\n"
        assert skiff.ok("ps", "-aq", "--no-trunc").stdout.split() == before
    finally:
        skiff.run("rm", "-f", "tiny1")
        skiff.run("network", "rm", "ntiny")


def test_rules_of_a_deleted_stores_dead_container_are_removed(skiff, image, tmp_path):
    """A store deleted with a dead container's rules in it (test suites and
    CI runners do that) would leave them forever: no GC of that store runs
    again. Any store's skiff removes rules whose veth is gone."""
    other = regkit.Skiff(skiff.binary, tmp_path / "other-store", tmp_path / "other-home")
    (tmp_path / "img").mkdir()
    other_image = runlib.install_image(other, tmp_path / "img")
    port = free_port()
    cid = other.ok("run", "-d", "-p", f"{port}:80", other_image, "sleep", "300").stdout.strip()
    assert rules_of(cid)
    pid = int(other.ok("inspect", "-f", "{{.State.Pid}}", cid).stdout)
    monitor = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    os.kill(monitor, signal.SIGKILL)
    runlib.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="the container's end")
    shutil.rmtree(tmp_path / "other-store")
    # this store's skiff: a network removed (or a dead owner found) sweeps
    skiff.ok("network", "create", "norph")
    skiff.ok("network", "rm", "norph")
    assert rules_of(cid) == []
