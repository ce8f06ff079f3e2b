"""Small helpers shared by the fixtures: free ports, waiting for servers,
digests, and running the skiff binary with a bounded timeout."""

import hashlib
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

# Nothing in the suite may hang forever: every subprocess gets this bound.
DEFAULT_TIMEOUT = 120


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_http(url, timeout=20, context=None):
    """Wait until url answers with any HTTP status (401 counts: it is up)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context):
                return
        except urllib.error.HTTPError:
            return
        except OSError as e:  # connection refused while starting
            last = e
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not come up: {last}")


class Skiff:
    """Runs the skiff binary against one private store with a clean environment
    (own HOME, DOCKER_CONFIG, config files and certs dir), so that nothing of the
    host's configuration leaks into a test."""

    def __init__(self, binary, root, home):
        self.binary = binary
        self.root = str(root)
        self.home = str(home)
        os.makedirs(self.home, exist_ok=True)
        self.docker_config = os.path.join(self.home, ".docker")
        self.certs_dir = os.path.join(self.home, "certs.d")
        os.makedirs(self.certs_dir, exist_ok=True)
        self.env = self._clean_env()

    def _clean_env(self):
        keep = ("PATH", "LANG", "LC_ALL", "TERM", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                "LSAN_OPTIONS")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "DOCKER_CONFIG": self.docker_config,
            "SKIFF_CONFIG": os.path.join(self.home, "no-system-config.json"),
            "SKIFF_CERTS_DIR": self.certs_dir,
        })
        return env

    def cmd(self, *args, root=True):
        argv = [self.binary]
        if root:
            argv += ["--root", self.root]
        return argv + [str(a) for a in args]

    def run(self, *args, env=None, timeout=DEFAULT_TIMEOUT, input=None, root=True):
        full_env = dict(self.env)
        full_env.update(env or {})
        return subprocess.run(self.cmd(*args, root=root), env=full_env, input=input,
                              capture_output=True, text=True, timeout=timeout)

    def popen(self, *args, env=None, **kw):
        full_env = dict(self.env)
        full_env.update(env or {})
        return subprocess.Popen(self.cmd(*args), env=full_env, **kw)

    def ok(self, *args, **kw):
        """Run and require exit 0; the assertion message carries the output."""
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"skiff {' '.join(args)} exited {r.returncode}\n" \
                                  f"stdout: {r.stdout}\nstderr: {r.stderr}"
        return r

    def fails(self, *args, code=125, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == code, f"skiff {' '.join(args)}: want exit {code}, got " \
                                     f"{r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        return r


def error_line(result):
    """skiff prints exactly one error line on failure, starting with 'skiff:'."""
    lines = [l for l in result.stderr.splitlines() if l.startswith("skiff:")]
    assert len(lines) == 1, f"want one 'skiff:' error line, got:\n{result.stderr}"
    return lines[0]


class ThreadedServer:
    """Base for the suite's own HTTP servers: an http.server on
    127.0.0.1:self.port, served from a daemon thread until stop()."""

    server = None

    def serve(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
