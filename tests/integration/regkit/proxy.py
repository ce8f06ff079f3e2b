"""A lying proxy: an HTTP server in front of the real registry that forwards
every request (Range included) and, for requests matching a scripted fault,
misbehaves: corrupt bytes, a truncated body (full Content-Length, early
close), a status (429 with Retry-After, 500) a number of times, a wrong
Docker-Content-Digest header, or a slow drip. It records every request."""

import http.client
import re
import threading
import time
from http.server import BaseHTTPRequestHandler

from .util import ThreadedServer, free_port

CHUNK = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


class Fault:
    """kind: "corrupt" (flip a byte at `offset` of the body), "truncate" (send
    only `after` bytes of the body, then close), "status" (answer `status`
    without forwarding; `retry_after` adds the header, `body`, `content_type`
    and `headers` replace the reply), "digest" (a wrong
    Docker-Content-Digest), "drip" (send the body `chunk` bytes every `delay`
    seconds). times: how many matching requests it applies to (None: all)."""

    def __init__(self, path_re, kind, method="GET", times=1, **params):
        self.path_re = re.compile(path_re)
        self.kind = kind
        self.method = method
        self.times = times
        self.params = params
        self.hits = 0

    def take(self, method, path):
        if self.method and method != self.method:
            return False
        if not self.path_re.search(path):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True


class LyingProxy(ThreadedServer):
    def __init__(self, upstream_hostport):
        self.upstream = upstream_hostport
        self.port = free_port()
        self.hostport = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.hostport}"
        self.faults = []
        self.log = []
        self.lock = threading.Lock()
        self.server = None

    def add(self, path_re, kind, **kw):
        f = Fault(path_re, kind, **kw)
        with self.lock:
            self.faults.append(f)
        return f

    def clear(self):
        with self.lock:
            self.faults.clear()
            self.log.clear()

    def _fault_for(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.take(method, path):
                    return f
        return None

    def requests(self, method=None, path_re=None):
        with self.lock:
            return [r for r in self.log if (not method or r["method"] == method)
                    and (not path_re or re.search(path_re, r["path"]))]

    def blob_gets(self, digest):
        return self.requests("GET", re.escape(f"/blobs/{digest}"))

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _record(self, fault, status):
                entry = {"method": self.command, "path": self.path,
                         "range": self.headers.get("Range"),
                         "authorization": self.headers.get("Authorization") is not None,
                         "auth_scheme": (self.headers.get("Authorization") or " ").split(" ")[0],
                         "fault": fault.kind if fault else None, "status": status}
                with proxy.lock:
                    proxy.log.append(entry)

            def _forward(self):
                body = None
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    body = self.rfile.read(n)
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                return conn, conn.getresponse()

            def _send_status(self, fault):
                status = fault.params.get("status", 500)
                data = fault.params.get(
                    "body", b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}')
                self.send_response(status)
                if "retry_after" in fault.params:
                    self.send_header("Retry-After", str(fault.params["retry_after"]))
                for k, v in fault.params.get("headers", {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type",
                                 fault.params.get("content_type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                fault = proxy._fault_for(self.command, self.path)
                if fault and fault.kind == "status":
                    self._record(fault, fault.params.get("status", 500))
                    return self._send_status(fault)
                conn, resp = self._forward()
                self._record(fault, resp.status)
                try:
                    self._relay(resp, fault)
                finally:
                    conn.close()

            def _relay(self, resp, fault):
                self.send_response(resp.status)
                length = resp.getheader("Content-Length")
                for k, v in resp.getheaders():
                    if k.lower() in HOP_BY_HOP:
                        continue
                    if fault and fault.kind == "digest" and k.lower() == "docker-content-digest":
                        v = "sha256:" + "0" * 64
                    self.send_header(k, v)
                if length is None:
                    # Unknown length: close to delimit the body.
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command == "HEAD":
                    return
                self._relay_body(resp, fault)

            def _relay_body(self, resp, fault):
                kind = fault.kind if fault else None
                sent = 0
                while True:
                    want = CHUNK
                    if kind == "drip":
                        want = fault.params.get("chunk", 16 * 1024)
                    data = resp.read(want)
                    if not data:
                        break
                    if kind == "corrupt":
                        off = fault.params.get("offset", 0) - sent
                        if 0 <= off < len(data):
                            data = data[:off] + bytes([data[off] ^ 0xFF]) + data[off + 1:]
                    if kind == "truncate":
                        after = fault.params.get("after", 1000)
                        if sent + len(data) >= after:
                            self.wfile.write(data[:after - sent])
                            self.wfile.flush()
                            self.close_connection = True
                            return
                    self.wfile.write(data)
                    sent += len(data)
                    if kind == "drip":
                        self.wfile.flush()
                        time.sleep(fault.params.get("delay", 0.05))

            def _safe(self):
                try:
                    self._handle()
                except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
                    self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _safe

        return Handler

    def start(self):
        return self.serve(self._handler())


class BlobServer(ThreadedServer):
    """Stands for blob storage (S3, a CDN) that a registry redirects to: serves
    fixed bytes per path on its own port (another origin) and records whether
    each request carried an Authorization header (it never should)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.files = {}
        self.log = []
        self.lock = threading.Lock()
        self.server = None

    def put(self, path, data):
        self.files[path] = data
        return self.url + path

    def start(self):
        bs = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                with bs.lock:
                    bs.log.append({"path": path, "range": self.headers.get("Range"),
                                   "authorization": self.headers.get("Authorization")})
                data = bs.files.get(path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return self.serve(Handler)
