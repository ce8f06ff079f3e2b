"""User-defined networks beyond test_net_boundary.py: the per-network resolver
(A, AAAA, PTR, TCP, forwarding, --internal, malformed queries), generated
names, what `network rm` and `network prune` leave, --ip/--ip-range/--gateway,
daemon.json's default-address-pools, --network container:NAME, the inspect
JSON, and bad input refused with one line.

DNS is asked from a container's network namespace by the host's python
(dnsprobe.py through nsenter), so every query is a real one from the
container's address. Subnets 10.214.x.0/24 and network names nu-* keep clear
of the other suites."""

import ipaddress
import json
import os
import random
import re
import socket
import struct
import subprocess
import time

import pytest

import dnsprobe
import runlib
from netlib import host_ip

FORWARDED = "198.51.100.7"  # what the host's responder answers


# --- the lab: containers and networks, all removed at teardown ---------------------------

class Ctr:
    def __init__(self, name, cid, pid, ip):
        self.name, self.cid, self.pid, self.ip = name, cid, pid, ip


class Lab:
    def __init__(self, skiff, image):
        self.skiff, self.image = skiff, image
        self.containers, self.networks = [], []

    def network(self, name, *flags, env=None):
        self.networks.append(name)
        self.skiff.ok("network", "create", *flags, name, env=env)
        return self.net_info(name)

    def net_info(self, name):
        return json.loads(self.skiff.ok("network", "inspect", name).stdout)[0]

    def run(self, name, network, *args, cmd="exec sleep 3600"):
        """A detached container (name None: a generated one)."""
        argv = ["run", "-d"] + (["--name", name] if name else []) + ["--network", network]
        cid = self.skiff.ok(*argv, *args, self.image, "/bin/sh", "-c", cmd).stdout.strip()
        self.containers.append(cid)
        return self.info(cid)

    def info(self, ref):
        c = json.loads(self.skiff.ok("inspect", ref).stdout)[0]
        ip = ""
        for net in c["NetworkSettings"].get("Networks", {}).values():
            ip = net.get("IPAddress") or ip
        return Ctr(c["Name"].lstrip("/"), c["Id"], c["State"]["Pid"], ip)

    def sh(self, ref, script, timeout=30):
        r = self.skiff.run("exec", ref, "/bin/sh", "-c", script, timeout=timeout)
        return r.stdout if r.returncode == 0 else ""

    def close(self):
        for cid in self.containers:
            self.skiff.run("rm", "-f", cid)
        for name in self.networks:
            self.skiff.run("network", "rm", name)


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


def gw_of(net):
    return net["IPAM"]["Config"][0]["Gateway"]


def bridge_of(net):
    return "sk-" + net["Id"][:12]


# --- DNS from a container's namespace -------------------------------------------------------

def dns(who, server, name, qtype="A", tcp=False):
    args = ["query", server, name, qtype] + (["tcp"] if tcp else [])
    r = subprocess.run(dnsprobe.in_ns_argv(who.pid, *args), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def dns_raw(who, server, data, tcp=False):
    """The reply's bytes to data sent as it is, or None."""
    args = ["raw", server, data.hex()] + (["tcp"] if tcp else [])
    r = subprocess.run(dnsprobe.in_ns_argv(who.pid, *args), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout.strip()
    return None if out == "timeout" else bytes.fromhex(out)


def a_of(who, server, name, tcp=False):
    got = dns(who, server, name, "A", tcp)
    assert not got.get("timeout"), f"no answer for {name} from {server}"
    return got


def ptr_name(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"



def dns_processes(name):
    """pids of the resolver of network `name` ("skiff-dns NAME")."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cmd == f"skiff-dns {name}" or cmd.startswith(f"skiff-dns {name} "):
            pids.append(int(p))
    return pids


def link_exists(ifname):
    return subprocess.run(["ip", "link", "show", ifname], capture_output=True).returncode == 0


def nft_mentions(word):
    out = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if word in line]


def error_line(r):
    """skiff's one error line (docker's "See 'skiff run --help'." may follow)."""
    lines = [line for line in r.stderr.splitlines()
             if line.strip() and not line.startswith("See '")]
    assert len(lines) == 1 and lines[0].startswith("skiff:"), r.stderr
    return lines[0]


def networks(skiff):
    """The NAME column of `network ls`."""
    lines = skiff.ok("network", "ls").stdout.splitlines()
    assert lines and lines[0].split()[:2] == ["NETWORK", "ID"], lines
    col = lines[0].index("NAME")
    return [line[col:].split()[0] for line in lines[1:] if line[col:].strip()]


# --- the resolver ------------------------------------------------------------------------------

@pytest.fixture
def dnsnet(lab):
    """nu-dns with s1 (alias db) and s2, the client."""
    net = lab.network("nu-dns", "--subnet", "10.214.1.0/24")
    s1 = lab.run("s1", "nu-dns", "--network-alias", "db")
    s2 = lab.run("s2", "nu-dns")
    return net, s1, s2


def test_a_records_for_name_alias_and_short_id(lab, dnsnet):
    net, s1, s2 = dnsnet
    gw = gw_of(net)
    for name in ("s1", "db", s1.cid[:12], "S1"):
        got = a_of(s2, gw, name)
        assert got["rcode"] == "NOERROR" and got["id_ok"], (name, got)
        assert got["answers"] == [["A", s1.ip]], (name, got)
    # the same through the container's own resolver library (busybox nslookup,
    # with the server from resolv.conf)
    assert f"nameserver {gw}" in lab.sh("s2", "cat /etc/resolv.conf")
    out = lab.sh("s2", "timeout 8 nslookup db")
    assert s1.ip in out.split("\n\n", 1)[-1], out


def test_aaaa_of_a_container_name_is_nodata(lab, dnsnet):
    net, s1, s2 = dnsnet
    got = dns(s2, gw_of(net), "s1", "AAAA")
    assert not got.get("timeout"), "no answer to AAAA s1"
    assert got["rcode"] == "NOERROR", f"AAAA of a container name must be NODATA: {got}"
    assert got["answers"] == []
    # and the A of the same name is there: NODATA, not a name unknown
    assert a_of(s2, gw_of(net), "s1")["answers"] == [["A", s1.ip]]


def test_ptr_of_a_containers_address_is_its_name(lab, dnsnet):
    net, s1, s2 = dnsnet
    for who, whom in ((s2, s1), (s1, s2)):
        got = dns(who, gw_of(net), ptr_name(whom.ip), "PTR")
        assert got.get("rcode") == "NOERROR", got
        assert len(got["answers"]) == 1 and got["answers"][0][0] == "PTR", got
        assert got["answers"][0][1].split(".")[0] == whom.name, got
    # an address of the subnet nobody holds: NXDOMAIN, not a name
    got = dns(s2, gw_of(net), ptr_name("10.214.1.250"), "PTR")
    assert got.get("rcode") == "NXDOMAIN" and got["answers"] == [], got


def test_a_query_over_tcp_gets_the_same_answer(lab, dnsnet):
    net, s1, s2 = dnsnet
    for name, qtype in (("s1", "A"), ("db", "A"), ("s1", "AAAA"), (ptr_name(s1.ip), "PTR")):
        udp = dns(s2, gw_of(net), name, qtype)
        tcp = dns(s2, gw_of(net), name, qtype, tcp=True)
        assert not tcp.get("timeout"), f"no TCP answer for {qtype} {name}"
        assert tcp["id_ok"] and (tcp["rcode"], tcp["answers"]) == (udp["rcode"], udp["answers"])


@pytest.fixture
def responder():
    """A DNS server on the host's uplink address, port 53, answering every A
    query with FORWARDED."""
    ip = host_ip()
    try:
        r = dnsprobe.Responder(ip, FORWARDED)
    except OSError as e:
        pytest.fail(f"cannot bind {ip}:53 for the test's responder: {e}")
    with r:
        yield r


def test_a_foreign_name_is_forwarded_to_the_containers_dns(lab, responder):
    net = lab.network("nu-fwd", "--subnet", "10.214.5.0/24")
    c = lab.run("fwd", "nu-fwd", "--dns", host_ip())
    # the container asks the network's resolver; --dns is the resolver's upstream
    assert re.findall(r"^nameserver\s+(\S+)", lab.sh("fwd", "cat /etc/resolv.conf"),
                      re.M) == [gw_of(net)]
    name = f"nu-{random.randrange(1 << 30)}.example"
    got = a_of(c, gw_of(net), name)
    assert got["rcode"] == "NOERROR" and got["id_ok"]
    assert got["answers"] == [["A", FORWARDED]], got
    assert [a for a in responder.asked if a[0] == name], responder.asked
    # and by the container's own resolver library
    assert FORWARDED in lab.sh("fwd", f"timeout 8 nslookup other-{name}")


def test_an_internal_network_refuses_foreign_names_and_forwards_nothing(lab, responder):
    net = lab.network("nu-int", "--subnet", "10.214.6.0/24", "--internal")
    c = lab.run("intc", "nu-int", "--dns", host_ip())
    peer = lab.run("intp", "nu-int")
    assert a_of(c, gw_of(net), "intp")["answers"] == [["A", peer.ip]]  # control
    name = f"nu-{random.randrange(1 << 30)}.example"
    for tcp in (False, True):
        got = a_of(c, gw_of(net), name, tcp=tcp)
        assert got["rcode"] == "REFUSED" and got["answers"] == [], got
    time.sleep(0.5)
    assert responder.asked == [], f"an internal network forwarded: {responder.asked}"


def _header(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


MALFORMED = {
    "garbage": bytes(random.Random(7).randrange(256) for _ in range(64)),
    "short header": b"\x12\x34\x01",
    "pointer in question": _header(0x1111) + b"\xc0\x0c\x00\x01\x00\x01",
    "pointer loop": _header(0x2222) + b"\x02s1\xc0\x0c\x00\x01\x00\x01",
    "label past the end": _header(0x3333) + b"\x3fs1",
    # 4 kB of 63-byte labels: a name far past DNS's 255 bytes
    "4 kB datagram": _header(0x4444) + (b"\x3f" + b"a" * 63) * 64 + b"\0\x00\x01\x00\x01",
    "a reply, not a query": _header(0x5555, flags=0x8180) + dnsprobe.encode_name("s1")
    + b"\x00\x01\x00\x01",
    "no question": _header(0x6666, qd=0),
}


def test_malformed_queries_get_no_answer_or_an_error_and_the_resolver_keeps_going(
        lab, dnsnet):
    net, s1, s2 = dnsnet
    gw = gw_of(net)
    before = dns_processes("nu-dns")
    assert len(before) == 1, before
    for what, data in MALFORMED.items():
        for tcp in (False, True):
            reply = dns_raw(s2, gw, data, tcp=tcp)
            if reply is not None and len(reply) >= 12:
                parsed = dnsprobe.parse_reply(reply)
                assert parsed["rcode"] != "NOERROR" or parsed["answers"] == [], \
                    f"{what} ({'tcp' if tcp else 'udp'}) was answered: {parsed}"
            # the resolver still answers
            assert a_of(s2, gw, "s1")["answers"] == [["A", s1.ip]], f"after {what}"
    assert dns_processes("nu-dns") == before


def test_a_query_from_outside_the_subnet_gets_no_answer(lab, dnsnet):
    net, s1, s2 = dnsnet
    gw = gw_of(net)
    assert a_of(s2, gw, "s1")["answers"] == [["A", s1.ip]]  # control
    qid, q = dnsprobe.build_query("s1", "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host_ip(), 0))  # the host's LAN address, outside 10.214.1.0/24
        s.settimeout(2)
        s.sendto(q, (gw, 53))
        try:
            reply = s.recvfrom(4096)[0]
        except socket.timeout:
            reply = None
    assert reply is None or dnsprobe.parse_reply(reply)["answers"] == [], \
        "the resolver answered a client outside its subnet"
    assert a_of(s2, gw, "s1")["answers"] == [["A", s1.ip]]


def test_an_unnamed_container_resolves_by_its_generated_name(lab):
    net = lab.network("nu-gen", "--subnet", "10.214.7.0/24")
    anon = lab.run(None, "nu-gen")
    name = lab.skiff.ok("inspect", "-f", "{{.Name}}", anon.cid).stdout.strip().lstrip("/")
    assert re.fullmatch(r"[a-z]+_[a-z]+\d*", name), name
    asker = lab.run("asker", "nu-gen")
    assert a_of(asker, gw_of(net), name)["answers"] == [["A", anon.ip]]


# --- lifetime -----------------------------------------------------------------------------

def test_network_rm_stops_the_resolver_and_removes_bridge_and_rules(lab):
    net = lab.network("nu-rm", "--subnet", "10.214.8.0/24")
    bridge = bridge_of(net)
    c = lab.run("rmc", "nu-rm")
    assert link_exists(bridge)
    runlib.wait_for(lambda: dns_processes("nu-rm"), what="skiff-dns nu-rm")
    assert nft_mentions(bridge), "control: the network has rules naming its bridge"
    assert a_of(c, gw_of(net), "rmc")["rcode"] == "NOERROR"
    lab.skiff.ok("rm", "-f", "rmc")
    assert lab.skiff.ok("network", "rm", "nu-rm").stdout == "nu-rm\n"
    runlib.wait_for(lambda: not dns_processes("nu-rm"), timeout=5,
                    what="skiff-dns nu-rm to exit after network rm")
    assert not link_exists(bridge), f"{bridge} left after network rm"
    assert nft_mentions(bridge) == [], f"rules left: {nft_mentions(bridge)}"
    assert "nu-rm" not in networks(lab.skiff)


def test_network_prune_removes_unused_networks_only(lab):
    used = lab.network("nu-used", "--subnet", "10.214.9.0/24")
    unused = lab.network("nu-unused", "--subnet", "10.214.10.0/24")
    c = lab.run("pruneuser", "nu-used")
    out = lab.skiff.ok("network", "prune", "-f").stdout
    assert "nu-unused" in out.split() and "nu-used" not in out.split(), out
    names = networks(lab.skiff)
    assert "nu-used" in names and "nu-unused" not in names
    assert "bridge" in names
    assert not link_exists(bridge_of(unused)) and link_exists(bridge_of(used))
    # the used network still works: its resolver answers its container
    assert a_of(c, gw_of(used), "pruneuser")["answers"] == [["A", c.ip]]


# --- addresses ---------------------------------------------------------------------------------

def eth0_ip(lab, ref):
    m = re.search(r"inet (\S+)/", lab.sh(ref, "ip -4 addr show eth0"))
    return m.group(1) if m else None


def test_ip_is_honoured_and_a_taken_ip_is_refused(lab):
    lab.network("nu-ip", "--subnet", "10.214.11.0/24")
    c = lab.run("ipc", "nu-ip", "--ip", "10.214.11.50")
    assert eth0_ip(lab, "ipc") == "10.214.11.50" == c.ip
    lab.containers.append("ipdup")
    r = lab.skiff.run("run", "-d", "--name", "ipdup", "--network", "nu-ip", "--ip",
                      "10.214.11.50", lab.image, "sleep", "30")
    assert r.returncode == 125, r.stdout + r.stderr
    assert "10.214.11.50" in error_line(r)
    running = lab.skiff.ok("ps", "--format", "{{.Names}}").stdout.split()
    assert "ipdup" not in running
    assert eth0_ip(lab, "ipc") == "10.214.11.50"


def test_ip_range_gives_addresses_from_the_range(lab):
    net = lab.network("nu-range", "--subnet", "10.214.12.0/24", "--ip-range",
                      "10.214.12.128/28")
    rng = ipaddress.ip_network("10.214.12.128/28")
    assert net["IPAM"]["Config"][0].get("IPRange") == "10.214.12.128/28"
    ips = [lab.run(f"rng{i}", "nu-range").ip for i in range(3)]
    assert len(set(ips)) == 3
    for ip in ips:
        assert ipaddress.ip_address(ip) in rng, ips


def test_gateway_sets_the_bridges_address(lab):
    net = lab.network("nu-gw", "--subnet", "10.214.13.0/24", "--gateway", "10.214.13.254")
    assert gw_of(net) == "10.214.13.254"
    lab.run("gwc", "nu-gw")
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", bridge_of(net)],
                         capture_output=True, text=True).stdout
    assert "inet 10.214.13.254/24" in out, out
    assert "default via 10.214.13.254" in lab.sh("gwc", "ip route")
    assert "nameserver 10.214.13.254" in lab.sh("gwc", "cat /etc/resolv.conf")


def test_default_address_pools_pick_the_subnet(lab, skiff):
    """daemon.json's default-address-pools, from the user's config file
    ($XDG_CONFIG_HOME/skiff/config.json, the skiff fixture's own)."""
    cfg_dir = os.path.join(skiff.env["XDG_CONFIG_HOME"], "skiff")
    os.makedirs(cfg_dir, exist_ok=True)
    with open(os.path.join(cfg_dir, "config.json"), "w") as f:
        json.dump({"default-address-pools": [{"base": "10.214.64.0/22", "size": 24}]}, f)
    pool = ipaddress.ip_network("10.214.64.0/22")
    subnets = []
    for name in ("nu-pool1", "nu-pool2"):
        net = lab.network(name)
        subnet = ipaddress.ip_network(net["IPAM"]["Config"][0]["Subnet"])
        assert subnet.prefixlen == 24 and subnet.subnet_of(pool), subnet
        assert ipaddress.ip_address(gw_of(net)) in subnet
        subnets.append(subnet)
    assert subnets[0] != subnets[1]
    c = lab.run("poolc", "nu-pool1")
    assert ipaddress.ip_address(c.ip) in subnets[0]


def test_container_network_shares_the_namespace(lab):
    lab.network("nu-share", "--subnet", "10.214.14.0/24")
    a = lab.run("sha", "nu-share",
                cmd="mkdir -p /www && echo from-sha > /www/index.html && "
                    "exec httpd -f -p 127.0.0.1:8080 -h /www")
    runlib.wait_for(lambda: "from-sha" in lab.sh("sha", "wget -q -O- http://127.0.0.1:8080/"),
                    what="httpd in sha")
    r = lab.skiff.ok("run", "--rm", "--network", "container:sha", lab.image, "/bin/sh", "-c",
                     "readlink /proc/self/ns/net; ip -4 -o addr show eth0; "
                     "timeout 5 wget -q -O- http://127.0.0.1:8080/")
    ns, addr, page = r.stdout.splitlines()[:3]
    assert ns == f"net:[{os.stat(f'/proc/{a.pid}/ns/net').st_ino}]", r.stdout
    assert f"inet {a.ip}/24" in addr, r.stdout
    assert page == "from-sha"


def test_a_detached_container_joins_another_containers_network(lab):
    lab.network("nu-share2", "--subnet", "10.214.22.0/24")
    a = lab.run("shd", "nu-share2")
    lab.containers.append("she")
    r = lab.skiff.run("run", "-d", "--name", "she", "--network", "container:shd", lab.image,
                      "sleep", "3600")
    assert r.returncode == 0, \
        f"BUG: run -d --network container:shd fails (run without -d works): {r.stderr}"
    b = lab.info("she")
    assert os.stat(f"/proc/{a.pid}/ns/net").st_ino == os.stat(f"/proc/{b.pid}/ns/net").st_ino
    assert eth0_ip(lab, "she") == a.ip


# --- inspect ---------------------------------------------------------------------------------

def test_network_inspect_and_inspect_json(lab):
    net = lab.network("nu-insp", "--subnet", "10.214.15.0/24", "--label", "nu=1")
    c = lab.run("inspc", "nu-insp")
    info = lab.net_info("nu-insp")
    assert info["Name"] == "nu-insp"
    assert re.fullmatch(r"[0-9a-f]{64}", info["Id"]) and info["Id"] == net["Id"]
    assert info["Driver"] == "bridge"
    assert info["IPAM"]["Config"][0]["Subnet"] == "10.214.15.0/24"
    assert info["IPAM"]["Config"][0]["Gateway"] == "10.214.15.1"
    assert info["Internal"] is False
    assert info.get("Labels") == {"nu": "1"}
    ctrs = info["Containers"]
    assert list(ctrs) == [c.cid], ctrs
    assert ctrs[c.cid]["Name"] == "inspc"
    assert ctrs[c.cid]["IPv4Address"] == f"{c.ip}/24"
    ns = json.loads(lab.skiff.ok("inspect", "inspc").stdout)[0]["NetworkSettings"]
    mine = ns["Networks"]["nu-insp"]
    assert mine["IPAddress"] == c.ip == eth0_ip(lab, "inspc")
    assert mine["Gateway"] == "10.214.15.1" and mine["NetworkID"] == info["Id"]
    assert lab.skiff.ok("inspect", "-f",
                        '{{(index .NetworkSettings.Networks "nu-insp").IPAddress}}',
                        "inspc").stdout.strip() == c.ip
    internal = lab.network("nu-insp-int", "--subnet", "10.214.16.0/24", "--internal")
    assert internal["Internal"] is True and internal["Containers"] == {}


# --- bad input ---------------------------------------------------------------------------------

def _host_lan():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                         text=True).stdout
    m = re.search(rf"inet ({re.escape(host_ip())}/\d+)", out)
    return str(ipaddress.ip_interface(m.group(1)).network)


@pytest.mark.parametrize("flags,words", [
    (lambda: ["--subnet", _host_lan()], ["overlap"]),
    (lambda: ["--subnet", "10.214.17.0/33"], ["10.214.17.0/33"]),
    (lambda: ["--subnet", "10.214.300.0/24"], ["10.214.300.0/24"]),
    (lambda: ["--subnet", "nonsense"], ["nonsense"]),
    (lambda: ["--subnet", "10.214.17.0/24", "--gateway", "10.214.18.1"], ["10.214.18.1"]),
    (lambda: ["--subnet", "10.214.17.0/24", "--ip-range", "10.214.18.0/28"],
     ["10.214.18.0/28"]),
], ids=["overlaps-the-hosts-lan", "prefix-33", "octet-300", "not-a-cidr",
        "gateway-outside", "range-outside"])
def test_a_bad_network_create_is_one_line_and_leaves_nothing(lab, flags, words):
    before = networks(lab.skiff)
    links_before = set(os.listdir("/sys/class/net"))
    lab.networks.append("nu-bad")
    r = lab.skiff.run("network", "create", *flags(), "nu-bad")
    assert r.returncode != 0
    line = error_line(r)
    for w in words:
        assert w in line, line
    assert networks(lab.skiff) == before
    new = {l for l in set(os.listdir("/sys/class/net")) - links_before if l.startswith("sk-")}
    assert new == set(), f"bridges left: {new}"


def test_a_duplicate_network_name_is_refused(lab):
    first = lab.network("nu-dup", "--subnet", "10.214.19.0/24")
    r = lab.skiff.run("network", "create", "--subnet", "10.214.20.0/24", "nu-dup")
    assert r.returncode != 0
    assert "nu-dup" in error_line(r)
    assert networks(lab.skiff).count("nu-dup") == 1
    assert lab.net_info("nu-dup")["Id"] == first["Id"]
    assert not any(l.startswith("sk-") and subprocess.run(
        ["ip", "-4", "-o", "addr", "show", l], capture_output=True,
        text=True).stdout.count("10.214.20.") for l in os.listdir("/sys/class/net"))


@pytest.mark.parametrize("args,words", [
    (["--ip", "10.214.21.5"], ["IP address", "user defined networks"]),
    (["--network", "bridge", "--ip", "172.17.0.250"], ["IP address", "user defined networks"]),
    (["--network-alias", "nu-alias"], ["alias", "user defined networks"]),
    (["--network", "bridge", "--network-alias", "nu-alias"], ["alias", "user defined networks"]),
], ids=["ip-default", "ip-bridge", "alias-default", "alias-bridge"])
def test_user_network_flags_on_the_default_bridge_are_refused(lab, args, words):
    r = lab.skiff.run("run", "--rm", *args, lab.image, "true")
    assert r.returncode == 125
    line = error_line(r)
    for w in words:
        assert w in line, line
    assert lab.skiff.ok("ps", "-aq").stdout == ""


def test_the_default_bridge_cannot_be_removed(lab):
    r = lab.skiff.run("network", "rm", "bridge")
    assert r.returncode != 0
    line = error_line(r)
    assert "bridge" in line, line
    assert "bridge" in networks(lab.skiff)
    # still usable
    assert lab.skiff.ok("run", "--rm", "--network", "bridge", lab.image, "/bin/sh", "-c",
                        "ip -4 addr show eth0").stdout.count("inet ") == 1
