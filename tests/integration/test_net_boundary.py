"""The network boundary beyond docker (issue 15, section 7): a root process in
a container is an attacker, and so is a neighbour on the LAN.

  loopback     a port published on 127.0.0.1 and the host's 127.0.0.1-only
               services, against a neighbour and a container sending
               hand-made packets to 127.0.0.1
  unpublished  a neighbour routing the container subnet through the host
  spoofing     IP source, MAC source, ARP sender, MAC flooding from a
               container's bridge port; ping with and without NET_RAW
  internal     --internal reaches its own containers, the gateway's DNS,
               nothing else
  apart        two user networks, a user network and the default bridge:
               no traffic, no gateway, no DNS answers across
  host netns   a default container cannot change links, routes, rules or
               sysctls, and the host's are unchanged
  networks     what the boundary relies on: create/rm/inspect, names and
               aliases, bad input refused with one line

Attacks come from the container's network namespace entered with nsenter
(netlib.py's agent on an AF_PACKET socket): what a root process with NET_RAW
in the container could send, so each defence must hold whatever the
container's capabilities. Every attack has a control next to it: the same
packet with the attacker's own address, or the same probe from where it is
allowed, gets through; and where it can, the test checks on the attacker's
bridge port (the host end of its veth, seen before any filter) that the
forged frames really left."""

import ipaddress
import json
import os
import random
import socket
import subprocess
import time

import pytest

import netlib
import runlib
from netlib import ETH_P_ARP, ETH_P_IP, ether, free_port, host_ip, in_netns, run_in
from netlib import http_get_or_empty as try_get

NEIGHBOUR_NET = "10.97.0"  # the neighbour's veth: host .1, neighbour .2
ZERO_MAC = "00:00:00:00:00:00"


# --- the lab: containers, networks and a neighbour, all removed at teardown --------

class Ctr:
    """A running container seen from the host: its init's pid (for nsenter),
    eth0's address, MAC and gateway, and the host end of its veth."""

    def __init__(self, name, pid, ip, prefix, mac, gw, port):
        self.name, self.pid, self.ip, self.prefix = name, pid, ip, prefix
        self.mac, self.gw, self.port = mac, gw, port

    @property
    def subnet(self):
        return str(ipaddress.ip_interface(f"{self.ip}/{self.prefix}").network)


class Net:
    def __init__(self, name, subnet, gateway):
        self.name, self.subnet, self.gateway = name, subnet, gateway

    @property
    def bridge(self):
        return netlib.iface_of_address(self.gateway)


class Neighbour:
    """A network namespace on a veth to the host: another machine on the LAN."""

    def __init__(self, name):
        self.name = name
        self.host_if, self.ns_if = f"{name}h", f"{name}p"
        self.host_ip, self.ip = f"{NEIGHBOUR_NET}.1", f"{NEIGHBOUR_NET}.2"

    def create(self):
        for c in (["ip", "netns", "add", self.name],
                  ["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if],
                  ["ip", "link", "set", self.ns_if, "netns", self.name],
                  ["ip", "addr", "add", f"{self.host_ip}/24", "dev", self.host_if],
                  ["ip", "link", "set", self.host_if, "up"],
                  ["ip", "-n", self.name, "addr", "add", f"{self.ip}/24", "dev", self.ns_if],
                  ["ip", "-n", self.name, "link", "set", self.ns_if, "up"],
                  ["ip", "-n", self.name, "link", "set", "lo", "up"]):
            subprocess.run(c, check=True, capture_output=True)

    def route(self, subnet):
        """The neighbour sends subnet to the host, as a hostile LAN machine would."""
        run_in(self.name, "ip", "route", "replace", subnet, "via", self.host_ip)

    def destroy(self):
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


SERVE = ("mkdir -p /www && echo {name} > /www/index.html && httpd -p 8080 -h /www"
         " && exec httpd -f -p 80 -h /www")


class Lab:
    def __init__(self, skiff, image):
        self.skiff, self.image = skiff, image
        self.containers, self.networks, self.neighbours = [], [], []

    def network(self, name, subnet, gateway, *flags):
        self.networks.append(name)
        self.skiff.ok("network", "create", "--subnet", subnet, "--gateway", gateway, *flags,
                      name)
        return Net(name, subnet, gateway)

    def run(self, name, network="bridge", *args, serve=True):
        """A container that serves its name over HTTP on ports 80 and 8080
        (busybox httpd), or only sleeps."""
        cmd = SERVE.format(name=name) if serve else "exec sleep 3600"
        self.containers.append(name)
        self.skiff.ok("run", "-d", "--name", name, "--network", network, *args, self.image,
                      "/bin/sh", "-c", cmd)
        if serve:
            runlib.wait_for(lambda: name in self.sh(name, "wget -q -O- http://127.0.0.1/"),
                            what=f"httpd in {name}")
        return self.info(name)

    def info(self, name):
        pid = json.loads(self.skiff.ok("inspect", name).stdout)[0]["State"]["Pid"]
        link = netlib.ip_json(pid, "link", "show", "eth0")[0]
        addr = netlib.ip_json(pid, "-4", "addr", "show", "eth0")[0]["addr_info"][0]
        default = netlib.ip_json(pid, "route", "show", "default")
        gw = default[0]["gateway"] if default else None
        return Ctr(name, pid, addr["local"], addr["prefixlen"], link["address"], gw,
                   netlib.host_ifname(link["link_index"]))

    def sh(self, name, script, timeout=30):
        """The output of a shell script in the container ('' when it fails)."""
        r = self.skiff.run("exec", name, "/bin/sh", "-c", script, timeout=timeout)
        return r.stdout if r.returncode == 0 else ""

    def neighbour(self):
        nb = Neighbour(f"sknb{os.getpid() % 100000}")
        self.neighbours.append(nb)
        nb.create()
        return nb

    def close(self):
        for name in self.containers:
            self.skiff.run("rm", "-f", name)
        for name in self.networks:
            self.skiff.run("network", "rm", name)
        for nb in self.neighbours:
            nb.destroy()


@pytest.fixture
def image(skiff, tmp_path):
    return runlib.install_image(skiff, tmp_path)


@pytest.fixture
def lab(skiff, image):
    lab = Lab(skiff, image)
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(params=("bridge", "user-network"))
def lan(request, lab):
    """The network the attacker and its victims share: the default bridge, and
    a user-defined network (its own bridge, its ports filtered the same way)."""
    if request.param == "bridge":
        return "bridge"
    return lab.network("nb-lan", "10.213.30.0/24", "10.213.30.1").name


# --- probes, run in a container ------------------------------------------------------

def fetch(lab, who, ip, port=80):
    """What busybox wget in `who` gets from http://ip:port/ ('' on failure)."""
    return lab.sh(who.name, f"timeout 5 wget -q -O- http://{ip}:{port}/")


def banner(lab, who, ip, port):
    """What a TCP connection from `who` to ip:port reads ('' on failure)."""
    return lab.sh(who.name, f"timeout 5 nc -w 3 {ip} {port} </dev/null")


def pings(lab, who, ip):
    """An ICMP echo from who's network namespace (busybox ping run by the
    host's root, so the container's capabilities and skiff's NET_RAW choice
    do not matter) is answered."""
    r = run_in(who.pid, "busybox", "ping", "-c1", "-W2", ip, check=False)
    assert "permission denied" not in r.stderr, r.stderr
    return r.returncode == 0


def lookup(lab, who, name, server):
    """busybox nslookup's answer lines for name from server ('' when none)."""
    out = lab.sh(who.name, f"timeout 8 nslookup {name} {server}")
    # drop the "Server:" block: its address is the server's, not an answer
    return out.split("\n\n", 1)[1] if "\n\n" in out else ""





def syn_answered(where, iface, dst_mac, src_mac, src_ip, dst_ip, dport):
    """Send one hand-made TCP SYN from `where` on iface; True when a SYN-ACK
    for it comes back within 1.5 s (whatever its source address: an answer
    from a DNAT'ed loopback address comes back from 127.0.0.1)."""
    sport = random.randrange(20000, 60000)
    frame = ether(dst_mac, src_mac, ETH_P_IP, netlib.tcp_syn(src_ip, dst_ip, sport, dport))
    got = netlib.exchange(where, iface, [frame])
    return any(f.incoming and f.is_synack(dport, sport) for f in got)


def marker(what):
    return f"skiff-boundary-{what}-{random.randrange(1 << 30)}".encode()


# --- 1. loopback stays loopback ---------------------------------------------------------

def test_a_port_published_on_loopback_is_not_reachable_from_a_neighbour(lab):
    """CVE-2020-8558 / moby#45610: a LAN machine sends a SYN for 127.0.0.1 to
    the host's MAC; DNAT or route_localnet must not take it to the container."""
    nb = lab.neighbour()
    lo_port, any_port = free_port(), free_port()
    lab.run("web", "bridge", "-p", f"127.0.0.1:{lo_port}:80", "-p", f"{any_port}:80")
    runlib.wait_for(lambda: "web" in try_get("127.0.0.1", lo_port), what="127.0.0.1 publish")
    host_mac, nb_mac = netlib.mac_of(nb.host_if), netlib.mac_of(nb.ns_if, nb.name)

    def syn(dst, port):
        return syn_answered(nb.name, nb.ns_if, host_mac, nb_mac, nb.ip, dst, port)

    # control: the same hand-made SYN to the host's address is answered
    assert syn(nb.host_ip, any_port)
    assert not syn("127.0.0.1", lo_port), "the 127.0.0.1 publish answered a neighbour"
    assert not syn("127.0.0.1", any_port), "a 0.0.0.0 publish answered on 127.0.0.1"
    assert not syn(nb.host_ip, lo_port), "the 127.0.0.1 publish answered on the host address"


def test_host_loopback_services_are_not_reachable_from_a_neighbour(lab):
    """A LAN machine routing 127.0.0.1 to the host reaches no service bound
    to the host's 127.0.0.1 (route_localnet must stay off for its port)."""
    nb = lab.neighbour()
    lab.run("anyone", "bridge", "-p", f"{free_port()}:80")  # skiff's rules are in place
    host_mac, nb_mac = netlib.mac_of(nb.host_if), netlib.mac_of(nb.ns_if, nb.name)
    with netlib.HostListener("127.0.0.1", "loopback-only") as lo, \
            netlib.HostListener("0.0.0.0", "any-address") as anyl:
        assert syn_answered(nb.name, nb.ns_if, host_mac, nb_mac, nb.ip, nb.host_ip, anyl.port)
        assert not syn_answered(nb.name, nb.ns_if, host_mac, nb_mac, nb.ip, "127.0.0.1",
                                lo.port), "the host's 127.0.0.1 service answered a neighbour"


def test_host_loopback_services_are_not_reachable_from_a_container(lab, lan):
    """A container connects to the gateway on a port the host serves only on
    127.0.0.1, then sends hand-made SYNs for 127.0.0.1 to the gateway's MAC
    (the bridge has route_localnet for the 127.0.0.1 publishes)."""
    lo_pub = free_port()
    lab.run("web", "bridge", "-p", f"127.0.0.1:{lo_pub}:80")
    c = lab.run("attacker", lan, serve=False)
    gw_mac = netlib.mac_of(netlib.iface_of_address(c.gw))
    with netlib.HostListener("127.0.0.1", "loopback-only") as lo, \
            netlib.HostListener("0.0.0.0", "any-address") as anyl:
        assert "any-address" in banner(lab, c, c.gw, anyl.port)  # control
        assert "loopback-only" not in banner(lab, c, c.gw, lo.port)

        def syn(dst, port):
            return syn_answered(c.pid, "eth0", gw_mac, c.mac, c.ip, dst, port)

        assert syn(c.gw, anyl.port)  # control: the hand-made SYN itself is fine
        assert not syn("127.0.0.1", lo.port), "the host's 127.0.0.1 service answered"
        assert not syn("127.0.0.1", anyl.port), "the host answered for 127.0.0.1"
        assert not syn("127.0.0.1", lo_pub), "a 127.0.0.1 publish answered a container"
        assert c.ip not in lo.peers


# --- 2. unpublished means unreachable -----------------------------------------------------

def test_unpublished_container_ports_are_unreachable_from_a_neighbour(lab, lan):
    """A LAN machine routes the container subnet through the host and connects
    to a port nobody published; the published one answers (control)."""
    nb = lab.neighbour()
    port = free_port()
    web = lab.run("web", lan, "-p", f"{port}:80")  # serves 80 and 8080
    nb.route(web.subnet)
    got = run_in(nb.name, "timeout", "10", "busybox", "wget", "-q", "-O-",
                 f"http://{nb.host_ip}:{port}/", check=False)
    assert "web" in got.stdout, f"control: the published port: {got.stderr}"
    with netlib.Capture(None, nb.host_if) as at_host, netlib.Capture(web.pid, "eth0") as at_web:
        got = run_in(nb.name, "timeout", "10", "busybox", "wget", "-q", "-O-",
                     f"http://{web.ip}:8080/", check=False)
        arrived, reached = at_host.stop(), at_web.stop()
    assert "web" not in got.stdout, "the neighbour reached an unpublished port"
    assert any(f.incoming and f.ip_dst == web.ip and f.dport == 8080 for f in arrived), \
        "the neighbour's SYN never reached the host: the attack was not tried"
    assert not [f for f in reached if f.ip_src == nb.ip], "the neighbour reached the container"


# --- 3. no spoofing on the bridge ---------------------------------------------------------

def trio(lab, lan):
    return [lab.run(n, lan, serve=False) for n in ("a", "b", "c")]


def test_a_container_cannot_send_from_another_containers_or_a_made_up_address(lab, lan):
    a, b, c = trio(lab, lan)
    made_up = str(ipaddress.ip_network(a.subnet).network_address + 250)
    sources = {"genuine": a.ip, "other-container": c.ip, "made-up": made_up,
               "outside": "10.123.45.67"}
    marks = {k: marker(k) for k in sources}
    frames = [ether(b.mac, a.mac, ETH_P_IP, netlib.udp(src, b.ip, 40000, 9, marks[k]))
              for k, src in sources.items()]
    with netlib.Capture(None, a.port) as sent, netlib.Capture(b.pid, "eth0") as got:
        netlib.send(a.pid, "eth0", frames)
        left, arrived = sent.stop(), got.stop()
    for k, m in marks.items():
        assert netlib.with_marker(left, m), f"{k}: the frame never left the attacker"
    assert netlib.with_marker(arrived, marks["genuine"]), "control: the genuine packet"
    for k in ("other-container", "made-up", "outside"):
        assert not netlib.with_marker(arrived, marks[k]), f"a {k} source reached the victim"


def test_a_container_cannot_send_to_the_host_from_another_containers_address(lab, lan):
    a, b = lab.run("a", lan, serve=False), lab.run("b", lan, serve=False)
    gw_mac = netlib.mac_of(netlib.iface_of_address(a.gw))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("0.0.0.0", 0))
        rx.settimeout(0.5)
        port = rx.getsockname()[1]
        genuine, forged = marker("genuine"), marker("as-b")
        netlib.send(a.pid, "eth0", [
            ether(gw_mac, a.mac, ETH_P_IP, netlib.udp(b.ip, a.gw, 40000, port, forged)),
            ether(gw_mac, a.mac, ETH_P_IP, netlib.udp(a.ip, a.gw, 40000, port, genuine))])
        received = []
        try:
            while True:
                received.append(rx.recvfrom(2048))
        except socket.timeout:
            pass
    assert (genuine, (a.ip, 40000)) in received, f"control: {received}"
    assert not [r for r in received if r[0] == forged], "the host took b's address from a"


def test_a_container_cannot_send_with_another_mac(lab, lan):
    """Frames with b's MAC or a made-up one: not delivered, not learned (b's
    MAC stays on b's port, so nobody steals b's traffic)."""
    a, b, c = trio(lab, lan)
    assert pings(lab, b, b.gw)  # the bridge learns b's MAC on b's port
    bridge = netlib.iface_of_address(a.gw)
    assert netlib.fdb(bridge).get(b.mac) == b.port
    made_up = netlib.random_mac()
    macs = {"genuine": a.mac, "b's": b.mac, "made-up": made_up}
    marks = {k: marker(k) for k in macs}
    frames = [ether(c.mac, mac, ETH_P_IP, netlib.udp(a.ip, c.ip, 40000, 9, marks[k]))
              for k, mac in macs.items()]
    with netlib.Capture(None, a.port) as sent, netlib.Capture(c.pid, "eth0") as got:
        netlib.send(a.pid, "eth0", frames * 3)
        left, arrived = sent.stop(), got.stop()
    for k, m in marks.items():
        assert netlib.with_marker(left, m), f"{k}: the frame never left the attacker"
    assert netlib.with_marker(arrived, marks["genuine"]), "control: the genuine frame"
    assert not netlib.with_marker(arrived, marks["b's"]), "a frame with b's MAC was delivered"
    assert not netlib.with_marker(arrived, marks["made-up"]), "a made-up MAC was delivered"
    table = netlib.fdb(bridge)
    assert table.get(b.mac) == b.port, f"b's MAC moved to {table.get(b.mac)}"
    assert made_up not in table


def test_a_container_cannot_poison_arp_caches(lab, lan):
    """ARP requests, replies and gratuitous ARP from a, claiming the gateway's
    address (to b) and b's address (to the host). The entries are set
    beforehand, so a change is visible; the genuine ARP of a is the control."""
    a, b = lab.run("a", lan, serve=False), lab.run("b", lan, serve=False)
    bridge = netlib.iface_of_address(a.gw)
    gw_mac = netlib.mac_of(bridge)
    stale = "02:00:5e:00:00:01"
    for where, ip, mac, dev in ((b.pid, a.gw, gw_mac, "eth0"), (None, b.ip, b.mac, bridge),
                                (b.pid, a.ip, stale, "eth0"), (None, a.ip, stale, bridge)):
        run_in(where, "ip", "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "stale")
    time.sleep(1.2)  # past locktime: a reply may now override an entry
    forged = [
        ether(b.mac, a.mac, ETH_P_ARP, netlib.arp(1, a.mac, a.gw, ZERO_MAC, b.ip)),
        ether(b.mac, a.mac, ETH_P_ARP, netlib.arp(2, a.mac, a.gw, b.mac, b.ip)),
        ether(netlib.BROADCAST, a.mac, ETH_P_ARP, netlib.arp(1, a.mac, a.gw, ZERO_MAC, a.gw)),
        ether(gw_mac, a.mac, ETH_P_ARP, netlib.arp(1, a.mac, b.ip, ZERO_MAC, a.gw)),
        ether(gw_mac, a.mac, ETH_P_ARP, netlib.arp(2, a.mac, b.ip, gw_mac, a.gw)),
        ether(netlib.BROADCAST, a.mac, ETH_P_ARP, netlib.arp(1, a.mac, b.ip, ZERO_MAC, b.ip)),
    ]
    genuine = [
        ether(b.mac, a.mac, ETH_P_ARP, netlib.arp(1, a.mac, a.ip, ZERO_MAC, b.ip)),
        ether(gw_mac, a.mac, ETH_P_ARP, netlib.arp(1, a.mac, a.ip, ZERO_MAC, a.gw)),
    ]
    with netlib.Capture(None, a.port) as sent:
        netlib.send(a.pid, "eth0", forged + genuine)
        left = sent.stop()
    assert len([f for f in left if f.type == ETH_P_ARP and f.arp_sha == a.mac]) >= 8
    time.sleep(0.3)
    # controls: a's genuine ARP was taken by b and by the host
    assert netlib.neigh_lladdr(b.pid, a.ip, "eth0") == a.mac
    assert netlib.neigh_lladdr(None, a.ip, bridge) == a.mac
    assert netlib.neigh_lladdr(b.pid, a.gw, "eth0") == gw_mac, "b's gateway entry poisoned"
    assert netlib.neigh_lladdr(None, b.ip, bridge) == b.mac, "the host's entry for b poisoned"


def test_a_container_cannot_flood_the_bridges_mac_table(lab, lan):
    a = lab.run("a", lan, serve=False)
    bridge = netlib.iface_of_address(a.gw)
    gw_mac = netlib.mac_of(bridge)
    macs = {netlib.random_mac() for _ in range(300)}
    mark = marker("flood")
    # IPv4 from a's own address, so that only the source MAC is forged (the
    # port's guard also drops every ethertype but IPv4 and ARP, genuine or
    # not, so the control must be a genuine IPv4 frame)
    def frame(src):
        return ether(gw_mac, src, ETH_P_IP, netlib.udp(a.ip, a.gw, 40000, 9, mark))
    frames = [frame(m) for m in macs]
    frames.append(frame(a.mac))
    with netlib.Capture(None, a.port) as sent:
        netlib.send(a.pid, "eth0", frames)
        left = sent.stop()
    assert len({f.src for f in netlib.with_marker(left, mark)} & macs) == len(macs), \
        "the flood never left the attacker"
    table = netlib.fdb(bridge)
    assert table.get(a.mac) == a.port, "control: the bridge knows a's own MAC on a's port"
    learned = macs & set(table)
    assert not learned, f"the bridge learned {len(learned)} made-up MACs"


GATEWAY = "$(ip route | awk '/^default/ {print $3}')"


def test_busybox_ping_to_the_gateway_works_by_default(lab):
    r = lab.skiff.run("run", "--rm", lab.image, "/bin/sh", "-c", f"ping -c1 -W3 {GATEWAY}")
    assert r.returncode == 0 and "1 packets received" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("opts", [(), ("--cap-drop", "NET_RAW"), ("--user", "1000"),
                                  ("--user", "1000", "--cap-drop", "NET_RAW")],
                         ids=["default", "cap-drop-NET_RAW", "non-root", "non-root-no-NET_RAW"])
def test_ping_on_an_icmp_datagram_socket_works(skiff, tmp_path, opts):
    """Whatever skiff decides about NET_RAW, ping keeps working: without a
    raw socket, iputils ping uses an ICMP datagram socket, which
    net.ipv4.ping_group_range must allow in the container's namespace (docker
    sets it). Busybox's ping has no such fallback: dgram-ping stands in."""
    image = runlib.install_image(skiff, tmp_path, extra_files={
        "bin/dgram-ping": (netlib.build_dgram_ping(str(tmp_path)), 0o755)})
    r = skiff.run("run", "--rm", *opts, image, "/bin/sh", "-c", f"dgram-ping {GATEWAY}")
    assert r.returncode == 0 and "echo reply" in r.stdout, r.stdout + r.stderr


# --- 4. --internal is internal ---------------------------------------------------------

def test_an_internal_network_reaches_its_own_containers_and_nothing_else(lab):
    net = lab.network("nb-int", "10.213.40.0/24", "10.213.40.1", "--internal")
    peer = lab.run("peer", net.name)
    x = lab.run("x", net.name, serve=False)
    outsider = lab.run("outsider", "bridge", serve=False)
    nb = lab.neighbour()
    nb.route(net.subnet)  # the outside would even answer
    # what a container with NET_ADMIN could do: route everything to the gateway
    run_in(x.pid, "ip", "route", "replace", "default", "via", net.gateway, "dev", "eth0")
    out_port = free_port()
    with netlib.HostListener("0.0.0.0", "host-service") as hl, \
            netlib.Server(nb.name, nb.ip, out_port, "outside-service"):
        # controls: its own network, its resolver, and the services themselves
        assert "peer" in fetch(lab, x, peer.ip)
        assert pings(lab, x, peer.ip)
        assert peer.ip in lookup(lab, x, "peer", net.gateway)
        assert "host-service" in banner(lab, outsider, host_ip(), hl.port)
        assert "outside-service" in banner(lab, outsider, nb.ip, out_port)
        for addr in (net.gateway, host_ip(), outsider.gw, nb.host_ip):
            assert "host-service" not in banner(lab, x, addr, hl.port), f"reached {addr}"
            assert not pings(lab, x, addr), f"ping reached the host at {addr}"
        assert "outside-service" not in banner(lab, x, nb.ip, out_port), "reached outside"
        assert not pings(lab, x, nb.ip), "ping reached outside"
        assert x.ip not in hl.peers


# --- 5. networks stay apart -------------------------------------------------------------

def two_networks(lab):
    return (lab.network("nb-a", "10.213.50.0/24", "10.213.50.1"),
            lab.network("nb-b", "10.213.51.0/24", "10.213.51.1"))


def test_two_user_networks_cannot_reach_each_other(lab):
    na, nb_ = two_networks(lab)
    a1, a2 = lab.run("a1", na.name), lab.run("a2", na.name, serve=False)
    b1 = lab.run("b1", nb_.name)
    with netlib.HostListener("0.0.0.0", "host-service") as hl:
        # controls: a network reaches itself and its own gateway
        assert "a1" in fetch(lab, a2, a1.ip) and pings(lab, a2, a1.ip)
        assert "host-service" in banner(lab, b1, nb_.gateway, hl.port)
        assert "host-service" in banner(lab, a1, na.gateway, hl.port)
        for src, dst in ((b1, a1), (a1, b1), (a2, b1)):
            assert dst.name not in fetch(lab, src, dst.ip), f"{src.name} reached {dst.name}"
            assert not pings(lab, src, dst.ip), f"{src.name} pinged {dst.name}"
        for src, gw in ((b1, na.gateway), (a1, nb_.gateway)):
            assert "host-service" not in banner(lab, src, gw, hl.port), \
                f"{src.name} reached the other network's gateway {gw}"
            assert not pings(lab, src, gw), f"{src.name} pinged the other gateway {gw}"


def test_a_user_network_and_the_default_bridge_cannot_reach_each_other(lab):
    na = lab.network("nb-a", "10.213.52.0/24", "10.213.52.1")
    a1, a2 = lab.run("a1", na.name), lab.run("a2", na.name, serve=False)
    c1, c2 = lab.run("c1", "bridge"), lab.run("c2", "bridge", serve=False)
    assert "a1" in fetch(lab, a2, a1.ip)  # controls
    assert "c1" in fetch(lab, c2, c1.ip)
    for src, dst in ((c2, a1), (a2, c1)):
        assert dst.name not in fetch(lab, src, dst.ip), f"{src.name} reached {dst.name}"
        assert not pings(lab, src, dst.ip), f"{src.name} pinged {dst.name}"


def test_dns_names_stay_in_their_network(lab):
    na, nb_ = two_networks(lab)
    a1 = lab.run("a1", na.name, "--network-alias", "alpha", serve=False)
    a2 = lab.run("a2", na.name, serve=False)
    b1 = lab.run("b1", nb_.name, serve=False)
    c1 = lab.run("c1", "bridge", serve=False)
    for name in ("a1", "alpha"):  # controls: on its own network, by name and alias
        assert a1.ip in lookup(lab, a2, name, na.gateway)
    for src, server in ((b1, nb_.gateway), (b1, na.gateway), (c1, na.gateway)):
        for name in ("a1", "alpha"):
            got = lookup(lab, src, name, server)
            assert a1.ip not in got, f"{src.name} resolved {name} through {server}: {got}"


# --- 6. the host's network namespace is untouchable ------------------------------------------

NETNS_ATTACKS = [
    "ip link add skbx0 type bridge",
    "ip link set eth0 address 02:42:de:ad:be:ef",
    "ip link set eth0 mtu 1280",
    "ip addr add 10.213.99.99/32 dev eth0",
    "ip route add 10.213.98.0/24 dev eth0",
    "ip rule add from all lookup 213",
    "sysctl -w net.ipv4.ip_forward=0",
    "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet",
    "echo 1 > /proc/sys/net/ipv4/conf/eth0/proxy_arp",
    "echo '1 0' > /proc/sys/net/ipv4/ping_group_range",
]

HOST_SYSCTLS = ["net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet",
                "net/ipv4/conf/skiff0/route_localnet", "net/ipv4/conf/all/proxy_arp",
                "net/ipv4/ping_group_range"]


def host_net_state():
    def sysctl(path):
        try:
            with open(f"/proc/sys/{path}") as f:
                return f.read()
        except FileNotFoundError:
            return None

    bridge = netlib.ip_json(None, "-d", "link", "show", "skiff0")[0]
    return {
        "sysctls": {p: sysctl(p) for p in HOST_SYSCTLS},
        "skiff0": (bridge["mtu"], bridge["address"], bridge["flags"]),
        "skiff0 addr": subprocess.run(["ip", "-4", "-o", "addr", "show", "skiff0"],
                                      capture_output=True, text=True).stdout,
        "skbx0": subprocess.run(["ip", "link", "show", "skbx0"],
                                capture_output=True).returncode,
        "routes": [line for line in subprocess.run(
            ["ip", "route", "show", "table", "all"], capture_output=True,
            text=True).stdout.splitlines() if "10.213.98." in line or "10.213.99." in line],
        "rules": [line for line in subprocess.run(["ip", "rule"], capture_output=True,
                                                  text=True).stdout.splitlines()
                  if "lookup 213" in line],
    }


def test_the_hosts_network_namespace_is_untouchable(lab):
    victim = lab.run("victim", "bridge", serve=False)
    control = lab.run("control", "bridge", serve=False)
    before = host_net_state()
    for attack in NETNS_ATTACKS:
        r = lab.skiff.run("exec", "victim", "/bin/sh", "-c", attack)
        assert r.returncode != 0, f"a default container could: {attack}"
    after = host_net_state()
    assert after == before
    assert netlib.ip_json(victim.pid, "link", "show", "eth0")[0]["address"] == victim.mac
    # control: each attack is a valid command that works with the privilege
    # (the same busybox, as the host's root, in the control's namespace only)
    for attack in NETNS_ATTACKS:
        r = subprocess.run(in_netns(control.pid, ["busybox", "sh", "-c",
                                                  attack]),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"control: {attack}: {r.stderr}"
    assert host_net_state() == before


# --- functional: user networks as the boundary relies on them ------------------------------

def test_containers_on_a_user_network_resolve_each_other_by_name_and_alias(lab):
    net = lab.network("nb-fun", "10.213.60.0/24", "10.213.60.1")
    assert "nb-fun" in lab.skiff.ok("network", "ls").stdout.split()
    info = json.loads(lab.skiff.ok("network", "inspect", "nb-fun").stdout)[0]
    assert info["Name"] == "nb-fun"
    assert info["IPAM"]["Config"][0]["Subnet"] == "10.213.60.0/24"
    assert info["IPAM"]["Config"][0]["Gateway"] == "10.213.60.1"
    s1 = lab.run("s1", net.name, "--network-alias", "db")
    s2 = lab.run("s2", net.name, "--cap-add", "NET_RAW", serve=False)  # for busybox ping
    assert ipaddress.ip_address(s1.ip) in ipaddress.ip_network(net.subnet)
    assert s1.gw == net.gateway
    for name in ("s1", "db"):
        assert s1.ip in lookup(lab, s2, name, net.gateway), name
        out = lab.sh("s2", f"ping -c1 -W2 {name}")
        assert f"({s1.ip})" in out and "1 packets received" in out, name
    assert "s1" in lab.sh("s2", "timeout 5 wget -q -O- http://db/")
    assert s2.ip in lookup(lab, s1, "s2", net.gateway)


def test_a_network_in_use_cannot_be_removed(lab):
    lab.network("nb-used", "10.213.61.0/24", "10.213.61.1")
    lab.run("user", "nb-used", serve=False)
    r = lab.skiff.run("network", "rm", "nb-used")
    assert r.returncode != 0
    assert "nb-used" in error_line(r)
    assert "nb-used" in lab.skiff.ok("network", "ls").stdout.split()
    assert pings(lab, lab.info("user"), "10.213.61.1")  # still wired
    lab.skiff.ok("rm", "-f", "user")
    lab.skiff.ok("network", "rm", "nb-used")
    assert "nb-used" not in lab.skiff.ok("network", "ls").stdout.split()


def error_line(r):
    """skiff's one error line (docker's "See 'skiff run --help'." may follow)."""
    lines = [line for line in r.stderr.splitlines()
             if line.strip() and not line.startswith("See '")]
    assert len(lines) == 1 and lines[0].startswith("skiff:"), r.stderr
    return lines[0]


def test_an_overlapping_subnet_is_refused_with_one_line(lab):
    lab.network("nb-first", "10.213.62.0/24", "10.213.62.1")
    lab.networks.append("nb-second")
    r = lab.skiff.run("network", "create", "--subnet", "10.213.62.128/25", "nb-second")
    assert r.returncode != 0
    assert "overlap" in error_line(r)
    assert "nb-second" not in lab.skiff.ok("network", "ls").stdout.split()
    # the default bridge's subnet is taken too
    inside = next(ipaddress.ip_network(lab.run("onbridge", serve=False).subnet).subnets(
        new_prefix=28))
    r = lab.skiff.run("network", "create", "--subnet", str(inside), "nb-second")
    assert r.returncode != 0 and "overlap" in error_line(r)
    assert "nb-second" not in lab.skiff.ok("network", "ls").stdout.split()


def test_an_unknown_network_is_refused(lab):
    r = lab.skiff.run("run", "--rm", "--network", "nb-nosuch", lab.image, "true")
    assert r.returncode == 125
    line = error_line(r)
    assert "nb-nosuch" in line and "not found" in line  # docker: network NAME not found
    assert lab.skiff.ok("ps", "-aq").stdout == ""
    for cmd in (("network", "rm"), ("network", "inspect")):
        r = lab.skiff.run(*cmd, "nb-nosuch")
        assert r.returncode != 0 and "nb-nosuch" in r.stderr


def test_ip_outside_the_subnet_is_refused(lab):
    net = lab.network("nb-ip", "10.213.63.0/24", "10.213.63.1")
    c = lab.run("fixed", net.name, "--ip", "10.213.63.50", serve=False)
    assert c.ip == "10.213.63.50"  # control: an address inside is taken
    lab.containers.append("outside")
    r = lab.skiff.run("run", "-d", "--name", "outside", "--network", net.name,
                      "--ip", "10.213.64.50", lab.image, "sleep", "30")
    assert r.returncode == 125
    assert "10.213.64.50" in error_line(r)
    assert "outside" not in lab.skiff.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()
