"""Raw DNS for test_net_user.py: build queries, parse replies, and a tiny UDP
responder. Imported on the host; run as a script in a container's network
namespace (`nsenter --net=/proc/PID/ns/net /usr/bin/python3 dnsprobe.py ...`):

  query SERVER NAME TYPE [tcp]   one query; prints JSON {"rcode", "answers",
                                 "id_ok", "qd"} or {"timeout": true}
  raw SERVER HEX [tcp]           send these bytes as they are; prints the
                                 reply's hex, or "timeout"
"""

import json
import random
import socket
import struct
import sys
import threading

PYTHON = "/usr/bin/python3"
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def build_query(name, qtype, qid=None, rd=True):
    qid = random.randrange(1 << 16) if qid is None else qid
    flags = 0x0100 if rd else 0
    header = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0)
    return qid, header + encode_name(name) + struct.pack("!HH", TYPES.get(qtype, qtype), 1)


def read_name(msg, off, depth=0):
    labels = []
    while True:
        if depth > 20 or off >= len(msg):
            raise ValueError("bad name")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            rest, _ = read_name(msg, ptr, depth + 1)
            return ".".join(labels + ([rest] if rest else [])), off + 2
        off += 1
        if n == 0:
            return ".".join(labels), off
        labels.append(msg[off:off + n].decode(errors="replace"))
        off += n


def parse_reply(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        _, off = read_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = read_name(msg, off)
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == 1:
            answers.append(("A", socket.inet_ntoa(rdata)))
        elif rtype == 28:
            answers.append(("AAAA", socket.inet_ntop(socket.AF_INET6, rdata)))
        elif rtype in (12, 5):
            answers.append(({12: "PTR", 5: "CNAME"}[rtype], read_name(msg, off)[0]))
        else:
            answers.append((str(rtype), rdata.hex()))
        off += rdlen
    return {"id": qid, "qr": bool(flags & 0x8000), "rcode": RCODES.get(flags & 0xF, flags & 0xF),
            "answers": answers, "qd": qd}


def exchange(server, data, tcp=False, timeout=3.0):
    """Send data to server:53; the reply's bytes, or None on timeout/close."""
    try:
        if tcp:
            with socket.create_connection((server, 53), timeout=timeout) as s:
                s.sendall(struct.pack("!H", len(data)) + data)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    chunk = s.recv(65535)
                    if not chunk:
                        return None
                    buf += chunk
                return buf[2:2 + struct.unpack("!H", buf[:2])[0]]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(data, (server, 53))
            return s.recvfrom(65535)[0]
    except (socket.timeout, ConnectionError, OSError):
        return None


def query(server, name, qtype, tcp=False, timeout=3.0):
    qid, data = build_query(name, qtype)
    reply = exchange(server, data, tcp, timeout)
    if reply is None:
        return {"timeout": True}
    out = parse_reply(reply)
    out["id_ok"] = out.pop("id") == qid
    return out


# --- run in a network namespace -------------------------------------------------------

def in_ns_argv(pid, *args):
    return ["nsenter", f"--net=/proc/{pid}/ns/net", PYTHON, __file__, *map(str, args)]


def _main(argv):
    mode = argv[0]
    if mode == "query":
        server, name, qtype = argv[1:4]
        print(json.dumps(query(server, name, qtype, tcp=argv[4:5] == ["tcp"])))
    elif mode == "raw":
        reply = exchange(argv[1], bytes.fromhex(argv[2]), tcp=argv[3:4] == ["tcp"])
        print("timeout" if reply is None else reply.hex())
    else:
        sys.exit(f"dnsprobe: unknown mode {mode}")


# --- a responder on the host ------------------------------------------------------------

class Responder:
    """A UDP DNS server on ip:53 that answers every A query with `address`
    and keeps the names it was asked (`asked`)."""

    def __init__(self, ip, address):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 53))
        self.sock.settimeout(0.1)
        self.address = socket.inet_aton(address)
        self.asked = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop:
            try:
                msg, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            try:
                name, off = read_name(msg, 12)
                qtype = struct.unpack("!H", msg[off:off + 2])[0]
            except (ValueError, IndexError, struct.error):
                continue
            self.asked.append((name, qtype, peer[0]))
            qid = msg[:2]
            question = msg[12:off + 4]
            an = 1 if qtype == 1 else 0
            reply = qid + struct.pack("!HHHHH", 0x8180, 1, an, 0, 0) + question
            if an:
                reply += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + self.address
            self.sock.sendto(reply, peer)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()
        self.sock.close()


if __name__ == "__main__":
    _main(sys.argv[1:])
