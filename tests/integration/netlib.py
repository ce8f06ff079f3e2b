"""Hand-made packets for the network boundary tests (issue 15, section 7).

Two halves in one file:
- imported by the tests (on the host): build Ethernet/ARP/IPv4/UDP/TCP
  frames, parse what came back, and run the agent below in a network
  namespace (a container's, by pid, or a named one from `ip netns add`);
- run as a script in that namespace (`python3 netlib.py MODE ...`): an
  AF_PACKET socket on one interface that sends the frames it reads on stdin
  and prints the frames it sees, or a TCP banner server.

The agent only enters the network namespace (nsenter --net / ip netns exec),
so a frame it sends is exactly what a root process with NET_RAW in the
container could send: the defences must not depend on capabilities."""

import json
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

PYTHON = "/usr/bin/python3"
HERE = os.path.abspath(__file__)
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_EXPERIMENTAL = 0x88B5
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
MAX_FRAMES = 20000  # the agent's bound on what it keeps
BROADCAST = "ff:ff:ff:ff:ff:ff"


# --- building frames -------------------------------------------------------------

def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def mac_str(raw):
    return ":".join(f"{b:02x}" for b in raw)


def random_mac():
    """A locally administered unicast MAC nobody on the host has."""
    return "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ether(dst, src, ethertype, payload):
    frame = mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def ipv4(src, dst, proto, payload, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), random.randrange(65536),
                      0x4000, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def _pseudo(src, dst, proto, length):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)


def udp(src, dst, sport, dport, data):
    """An IPv4 packet carrying a UDP datagram."""
    length = 8 + len(data)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = checksum(_pseudo(src, dst, 17, length) + hdr + data) or 0xFFFF
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, length, c) + data)


def tcp_syn(src, dst, sport, dport, seq=None):
    """An IPv4 packet carrying a TCP SYN."""
    seq = random.randrange(1 << 32) if seq is None else seq
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    c = checksum(_pseudo(src, dst, 6, len(hdr)) + hdr)
    return ipv4(src, dst, 6, hdr[:16] + struct.pack("!H", c) + hdr[18:])


def icmp_echo(src, dst, ident, seq=1, data=b"skiff"):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    return ipv4(src, dst, 1, body)


def arp(op, sha, sip, tha, tip):
    """op 1: request, 2: reply."""
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, mac_bytes(sha),
                       socket.inet_aton(sip), mac_bytes(tha), socket.inet_aton(tip))


# --- a ping on an ICMP datagram socket ----------------------------------------------

# What iputils ping does without NET_RAW: busybox 1.35's ping only tries a raw
# socket, so it cannot show whether ping works with NET_RAW dropped.
DGRAM_PING_C = r"""
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct icmphdr req = { .type = ICMP_ECHO, .un.echo.sequence = htons(1) };
	unsigned char reply[256];
	struct pollfd p;
	int fd;

	if (argc != 2 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return fprintf(stderr, "usage: dgram-ping IPV4\n"), 2;
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0)
		return fprintf(stderr, "socket: %s\n", strerror(errno)), 1;
	if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0)
		return fprintf(stderr, "sendto: %s\n", strerror(errno)), 1;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 3000) != 1)
		return fprintf(stderr, "no reply\n"), 1;
	if (recv(fd, reply, sizeof reply, 0) < (ssize_t)sizeof req || reply[0] != ICMP_ECHOREPLY)
		return fprintf(stderr, "not an echo reply\n"), 1;
	printf("echo reply from %s\n", argv[1]);
	return 0;
}
"""


def build_dgram_ping(out_dir):
    """dgram-ping, static, as bytes for an image."""
    src, dst = os.path.join(out_dir, "dgram-ping.c"), os.path.join(out_dir, "dgram-ping")
    with open(src, "w") as f:
        f.write(DGRAM_PING_C)
    r = subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", dst, src], capture_output=True,
                       text=True)
    assert r.returncode == 0, f"cannot build dgram-ping: {r.stderr}"
    with open(dst, "rb") as f:
        return f.read()


# --- reading frames --------------------------------------------------------------

class Frame:
    """The fields of one captured frame the tests look at (None when absent)."""

    def __init__(self, pkttype, raw):
        self.pkttype, self.raw = pkttype, raw
        self.dst, self.src = mac_str(raw[0:6]), mac_str(raw[6:12])
        self.type = struct.unpack("!H", raw[12:14])[0]
        self.ip_src = self.ip_dst = self.proto = None
        self.sport = self.dport = self.tcp_flags = None
        self.arp_op = self.arp_sha = self.arp_sip = self.arp_tip = None
        body = raw[14:]
        if self.type == ETH_P_IP and len(body) >= 20:
            ihl = (body[0] & 0x0F) * 4
            self.proto = body[9]
            self.ip_src = socket.inet_ntoa(body[12:16])
            self.ip_dst = socket.inet_ntoa(body[16:20])
            l4 = body[ihl:]
            if self.proto in (6, 17) and len(l4) >= 4:
                self.sport, self.dport = struct.unpack("!HH", l4[:4])
            if self.proto == 6 and len(l4) >= 14:
                self.tcp_flags = l4[13]
        elif self.type == ETH_P_ARP and len(body) >= 28:
            self.arp_op = struct.unpack("!H", body[6:8])[0]
            self.arp_sha = mac_str(body[8:14])
            self.arp_sip = socket.inet_ntoa(body[14:18])
            self.arp_tip = socket.inet_ntoa(body[24:28])

    @property
    def incoming(self):
        return self.pkttype != PACKET_OUTGOING

    def is_synack(self, sport, dport):
        """A SYN-ACK (or RST: the port was reached but closed) from sport to dport."""
        return (self.proto == 6 and self.sport == sport and self.dport == dport and
                self.tcp_flags is not None and self.tcp_flags & 0x12 == 0x12)

    def __repr__(self):
        return (f"Frame({self.src}->{self.dst} type={self.type:#06x} ip={self.ip_src}->"
                f"{self.ip_dst} proto={self.proto} ports={self.sport}->{self.dport} "
                f"arp={self.arp_op}:{self.arp_sip}@{self.arp_sha}->{self.arp_tip})")


def with_marker(frames, marker):
    """The incoming frames that carry marker (not our own, nor an ICMP error
    quoting it on its way out)."""
    return [f for f in frames if f.incoming and marker in f.raw]


# --- running the agent in a namespace ----------------------------------------------

def in_netns(where, argv):
    """argv run in the network namespace `where`: None (the host), a pid (that
    process's namespace) or the name of a namespace made with `ip netns add`."""
    if where is None:
        return list(argv)
    if isinstance(where, int):
        return ["nsenter", f"--net=/proc/{where}/ns/net"] + list(argv)
    return ["ip", "netns", "exec", where] + list(argv)


def run_in(where, *argv, check=True, timeout=30):
    r = subprocess.run(in_netns(where, argv), capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, f"{' '.join(argv)} in {where}: {r.returncode} {r.stderr}"
    return r


def _parse_agent_output(out):
    frames = []
    for line in out.splitlines():
        pkttype, hexdata = line.split()
        frames.append(Frame(int(pkttype), bytes.fromhex(hexdata)))
    return frames


def exchange(where, iface, frames, seconds=1.5):
    """Send frames (bytes) on iface in namespace `where`, then return every
    frame seen on iface during `seconds` (ours included, as PACKET_OUTGOING)."""
    r = subprocess.run(in_netns(where, [PYTHON, HERE, "exchange", iface, str(seconds)]),
                       input="".join(f.hex() + "\n" for f in frames), capture_output=True,
                       text=True, timeout=seconds + 30)
    assert r.returncode == 0, f"agent in {where} on {iface}: {r.stderr}"
    return _parse_agent_output(r.stdout)


def send(where, iface, frames):
    exchange(where, iface, frames, seconds=0)


class Capture:
    """Frames seen on iface in namespace `where` between start and stop():
    `with Capture(pid, "eth0") as cap: ...; frames = cap.stop()`."""

    def __init__(self, where, iface):
        self.where, self.iface, self.proc, self.frames = where, iface, None, None

    def __enter__(self):
        self.proc = subprocess.Popen(in_netns(self.where, [PYTHON, HERE, "capture", self.iface]),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line != "ready\n":
            self.proc.kill()
            raise AssertionError(f"capture on {self.iface} in {self.where}: "
                                 f"{line!r} {self.proc.stderr.read()}")
        return self

    def stop(self):
        if self.frames is None:
            time.sleep(0.3)  # frames in flight
            out, err = self.proc.communicate(input="", timeout=30)
            assert self.proc.returncode == 0, err
            self.frames = _parse_agent_output(out)
        return self.frames

    def __exit__(self, *exc):
        if self.frames is None:
            self.proc.kill()
            self.proc.wait()


class Server:
    """A TCP server in namespace `where` that writes `banner` to every client
    and closes: `with Server(ns, "10.97.0.2", 8000, "hi") as s: ...`."""

    def __init__(self, where, ip, port, banner):
        self.argv = in_netns(where, [PYTHON, HERE, "serve", ip, str(port), banner])
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line != "ready\n":
            self.proc.kill()
            raise AssertionError(f"server {self.argv}: {line!r} {self.proc.stderr.read()}")
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class HostListener:
    """A TCP server on the host, in this process: every client gets `banner`
    and is closed; `peers` lists who connected."""

    def __init__(self, ip, banner, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.banner = banner.encode()
        self.peers = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.peers.append(peer[0])
            with conn:
                try:
                    conn.sendall(self.banner + b"\n")
                except OSError:
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()
        self.sock.close()


# --- the agent (run in the namespace) ------------------------------------------------

def _emit(frames):
    sys.stdout.write("".join(f"{t} {raw.hex()}\n" for t, raw in frames))


def _collect(s, frames, until=None, stop_on_stdin=False):
    while len(frames) < MAX_FRAMES:
        timeout = None if until is None else max(0.0, until - time.monotonic())
        rlist = [s, sys.stdin] if stop_on_stdin else [s]
        ready, _, _ = select.select(rlist, [], [], timeout)
        if not ready:
            return
        if sys.stdin in ready and not sys.stdin.readline():
            return
        if s in ready:
            raw, addr = s.recvfrom(65535)
            frames.append((addr[2], raw))


def _serve(ip, port, banner):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ip, int(port)))
    srv.listen(16)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([srv, sys.stdin], [], [])
        if sys.stdin in ready and not sys.stdin.readline():
            return
        if srv in ready:
            conn, _ = srv.accept()
            with conn:
                conn.sendall(banner.encode() + b"\n")


def _agent(argv):
    mode = argv[0]
    if mode == "serve":
        _serve(*argv[1:4])
        return
    iface = argv[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)  # a flood fits
    s.bind((iface, 0))
    frames = []
    if mode == "capture":
        print("ready", flush=True)
        _collect(s, frames, stop_on_stdin=True)
    elif mode == "exchange":
        seconds = float(argv[2])
        for line in sys.stdin:
            if line.strip():
                s.send(bytes.fromhex(line.strip()))
        _collect(s, frames, until=time.monotonic() + seconds)
    else:
        sys.exit(f"netlib: unknown mode {mode}")
    _emit(frames)


# --- the host side: interfaces, containers, namespaces --------------------------------

def ip_json(where, *args):
    return json.loads(run_in(where, "ip", "-j", *args).stdout or "[]")


def host_ifname(index):
    for link in ip_json(None, "link", "show"):
        if link["ifindex"] == index:
            return link["ifname"]
    raise AssertionError(f"no host interface with index {index}")


def iface_of_address(ip):
    """The host interface that holds ip (a network's gateway: its bridge)."""
    for link in ip_json(None, "-4", "addr", "show"):
        if any(a.get("local") == ip for a in link.get("addr_info", [])):
            return link["ifname"]
    raise AssertionError(f"no host interface has {ip}")


def mac_of(ifname, where=None):
    return ip_json(where, "link", "show", ifname)[0]["address"]


def neigh_lladdr(where, ip, dev):
    """The MAC the neighbour table of `where` has for ip on dev, or None."""
    for n in ip_json(where, "neigh", "show", "to", ip, "dev", dev):
        if n.get("dst") == ip and "lladdr" in n:
            return n["lladdr"]
    return None


def fdb(bridge):
    """{MAC: port} of the bridge's forwarding database (learned and static)."""
    out = subprocess.run(["bridge", "fdb", "show", "br", bridge], capture_output=True,
                         text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] == "dev":
            table.setdefault(words[0], words[2])
    return table



# Small host-side helpers shared by the network test files.

def host_ip():
    """The host's address on its uplink (the default route's source)."""
    for probe in ("192.0.2.250", "1.1.1.1"):
        out = subprocess.run(["ip", "-4", "route", "get", probe], capture_output=True,
                             text=True).stdout
        m = re.search(r"src (\S+)", out)
        if m and not m.group(1).startswith("127."):
            return m.group(1)
    raise AssertionError("the host has no uplink address")


def free_port():
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def http_get(host, port, timeout=3):
    """An HTTP/1.0 GET's whole answer; raises OSError when nothing answers."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return data.decode(errors="replace")


def http_get_or_empty(host, port, timeout=3):
    """http_get, with "" where nothing answers (refused, dropped, reset)."""
    try:
        return http_get(host, port, timeout)
    except OSError:
        return ""

if __name__ == "__main__":
    _agent(sys.argv[1:])
