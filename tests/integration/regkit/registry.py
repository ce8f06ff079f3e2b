"""The real CNCF distribution registry (Debian's docker-registry) on a free
127.0.0.1 port, with a temporary storage root, deletes enabled, and optional
token auth, htpasswd auth or TLS. Its log (stderr, including the access log)
goes to a file so tests can count the requests it served."""

import json
import os
import re
import subprocess
import time

from .util import free_port, wait_http

REGISTRY_BIN = "/usr/bin/docker-registry"


class Registry:
    def __init__(self, workdir, host="127.0.0.1", token=None, htpasswd=None, tls=None,
                 test_host=None):
        """token: dict(realm, service, issuer, rootcertbundle); htpasswd: path of
        an htpasswd file (bcrypt); tls: a TLSMaterial; test_host: a
        netns.TestHost to run in (then host is its address)."""
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.test_host = test_host
        if test_host:
            host = test_host.ip
        self.host = host
        # A fresh namespace has every port free; its address is not ours to bind.
        self.port = 5000 if test_host else free_port(host)
        self.hostport = f"{host}:{self.port}"
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self.url = f"{self.scheme}://{self.hostport}"
        self.log_path = os.path.join(self.workdir, "registry.log")
        self.config_path = os.path.join(self.workdir, "config.yml")
        self._write_config(token, htpasswd)
        self.proc = None

    def _write_config(self, token, htpasswd):
        http = {"addr": self.hostport, "secret": "skiff-tests",
                "headers": {"X-Content-Type-Options": ["nosniff"]}}
        if self.tls:
            http["tls"] = {"certificate": self.tls.cert_path, "key": self.tls.key_path}
        cfg = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.workdir, "data")},
                        "delete": {"enabled": True},
                        "cache": {"blobdescriptor": "inmemory"}},
            "http": http,
        }
        if token:
            cfg["auth"] = {"token": dict(token)}
        elif htpasswd:
            cfg["auth"] = {"htpasswd": {"realm": "skiff-test", "path": htpasswd}}
        # YAML is a superset of JSON.
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)

    def start(self):
        log = open(self.log_path, "ab")
        prefix = self.test_host.prefix() if self.test_host else []
        self.proc = subprocess.Popen(prefix + [REGISTRY_BIN, "serve", self.config_path],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        ctx = self.tls.ssl_context() if self.tls else None
        try:
            wait_http(self.url + "/v2/", context=ctx)
        except TimeoutError:
            self.stop()
            raise RuntimeError("registry did not start:\n" + self.log())
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def requests(self, method=None, path_re=None):
        """Access-log entries as (method, path, status), optionally filtered."""
        out = []
        for m in re.finditer(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})', self.log()):
            meth, path, status = m.group(1), m.group(2), int(m.group(3))
            if method and meth != method:
                continue
            if path_re and not re.search(path_re, path):
                continue
            out.append((meth, path, status))
        return out

    def blob_gets(self, digest):
        # The access log is written asynchronously: give it a moment.
        time.sleep(0.2)
        return [r for r in self.requests("GET", re.escape(f"/blobs/{digest}"))]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
