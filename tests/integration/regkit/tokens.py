"""A Docker-Hub-style token server: GET /token?service=..&scope=.. answers a
RS256 JWT whose x5c header carries the signing certificate (the registry
trusts it through rootcertbundle). Anonymous pulls are granted on chosen
repositories; other grants need Basic credentials; bad credentials get 401.
Every request is recorded so tests can check what the client sent."""

import base64
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives import serialization

from .tlsgen import cert_pem, key_pem, self_signed
from .util import ThreadedServer, free_port

ISSUER = "skiff-test-issuer"
SERVICE = "skiff-test-registry"


class TokenServer(ThreadedServer):
    def __init__(self, workdir, users=None, anonymous_repos=(), reply="token",
                 expires_in=300, admin=("admin", "admin-secret")):
        """users: {name: password} allowed to pull anything; admin gets push too.
        reply: "token", "access_token" or "both" (which JSON fields carry it)."""
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.users = dict(users or {})
        self.admin = admin
        self.users[admin[0]] = admin[1]
        self.anonymous_repos = set(anonymous_repos)
        self.reply = reply
        self.expires_in = expires_in
        self.key, self.cert = self_signed("skiff test token signer")
        self.bundle_path = os.path.join(self.workdir, "token-signer.crt")
        with open(self.bundle_path, "wb") as f:
            f.write(cert_pem(self.cert))
        self._key_pem = key_pem(self.key)
        self._x5c = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.lock = threading.Lock()
        self.log = []  # dicts: path, query, authorization (raw header or None), status
        self.server = None
        # The next `revoked` tokens are signed by a key the registry does not
        # trust: it answers them with 401, as it does an expired or revoked one.
        self.revoked = 0
        self._rogue_pem = key_pem(self_signed("rogue signer")[0])

    def registry_auth(self):
        """The registry's auth.token section for this server."""
        return {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                "rootcertbundle": self.bundle_path}

    # --- the grant policy ----------------------------------------------------
    def _user(self, authorization):
        """(name, ok): name None for anonymous; ok False for bad credentials."""
        if not authorization:
            return None, True
        kind, _, value = authorization.partition(" ")
        if kind.lower() != "basic":
            return None, False
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None, False
        return user, self.users.get(user) == password

    def _grant(self, user, scope):
        # scope: repository:NAME:ACTIONS (NAME may hold ':' only via a port; not here)
        parts = scope.split(":")
        if len(parts) < 3 or parts[0] != "repository":
            return None
        name, wanted = ":".join(parts[1:-1]), parts[-1].split(",")
        if user == self.admin[0]:
            allowed = {"pull", "push", "delete", "*"}
        elif user is not None:
            allowed = {"pull"}
        elif name in self.anonymous_repos:
            allowed = {"pull"}
        else:
            allowed = set()  # Docker Hub answers a token without access
        return {"type": "repository", "name": name,
                "actions": [a for a in wanted if a in allowed]}

    def issue(self, user, scopes, service):
        now = int(time.time())
        access = [g for g in (self._grant(user, s) for s in scopes) if g]
        claims = {"iss": ISSUER, "sub": user or "", "aud": service, "exp": now + self.expires_in,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        key = self._key_pem
        with self.lock:
            if self.revoked > 0:
                self.revoked -= 1
                key = self._rogue_pem
        return jwt.encode(claims, key, algorithm="RS256", headers={"x5c": [self._x5c]})

    # --- HTTP ----------------------------------------------------------------
    def _handler(self):
        ts = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urlparse(self.path)
                q = parse_qs(u.query)
                auth = self.headers.get("Authorization")
                entry = {"path": u.path, "query": q, "authorization": auth, "status": 0}
                user, ok = ts._user(auth)
                if u.path != "/token":
                    status, body = 404, {"error": "not found"}
                elif not ok:
                    status, body = 401, {"details": "incorrect username or password"}
                else:
                    service = q.get("service", [SERVICE])[0]
                    tok = ts.issue(user, q.get("scope", []), service)
                    body = {"expires_in": ts.expires_in,
                            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                    if ts.reply in ("token", "both"):
                        body["token"] = tok
                    if ts.reply in ("access_token", "both"):
                        body["access_token"] = tok
                    status = 200
                entry["status"] = status
                with ts.lock:
                    ts.log.append(entry)
                data = json.dumps(body).encode()
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="token"')
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def start(self):
        return self.serve(self._handler())

    def requests(self):
        with self.lock:
            return list(self.log)
