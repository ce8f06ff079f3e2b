"""Registry parity with docker 28 (issue 11, items 18, 21, 23): credential
helpers (credsStore, credHelpers, docker-credential-NAME get/store/erase,
"<token>" identity tokens), HTTP(S)_PROXY/NO_PROXY as docker reads them,
`pull --platform ARCH`, config.json's data-root, a loopback registry's plain
HTTP remembered per store, and no invented RepoDigests for loaded images.

The credential helper is a shell script the test writes (docker-credential-test
on a PATH the test sets): it logs each call and its stdin, and answers from
files the test controls. The proxy is a small CONNECT proxy written here.
"""

import base64
import json
import os
import re
import select
import socket
import socketserver
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest

import regkit

HELPER = """#!/bin/sh
state='{state}'
in=$(cat)
printf '%s %s\\n' "$1" "$in" >> "$state/calls"
case "$(cat "$state/mode" 2>/dev/null)" in
fail) echo "boom from helper"; exit 1;;
notfound) echo "credentials not found in native keychain"; exit 1;;
esac
case "$1" in
get) cat "$state/reply";;
store) printf '%s' "$in" > "$state/stored";;
esac
exit 0
"""


class Helper:
    """docker-credential-test in its own bin directory, and what it saw."""

    def __init__(self, tmp_path, skiff):
        self.state = tmp_path / "helper-state"
        self.bin = tmp_path / "helper-bin"
        self.state.mkdir()
        self.bin.mkdir()
        path = self.bin / "docker-credential-test"
        path.write_text(HELPER.format(state=self.state))
        path.chmod(0o755)
        self.env = {"PATH": f"{self.bin}:{os.environ['PATH']}"}
        self.skiff = skiff

    def answer(self, user, secret):
        (self.state / "reply").write_text(
            json.dumps({"ServerURL": "ignored", "Username": user, "Secret": secret}) + "\n")

    def mode(self, mode):
        (self.state / "mode").write_text(mode)

    def calls(self):
        p = self.state / "calls"
        return p.read_text().splitlines() if p.exists() else []

    def config(self, doc):
        os.makedirs(self.skiff.docker_config, exist_ok=True)
        with open(os.path.join(self.skiff.docker_config, "config.json"), "w") as f:
            json.dump(doc, f)

    def read_config(self):
        with open(os.path.join(self.skiff.docker_config, "config.json")) as f:
            return json.load(f)

    def run(self, *args, **kw):
        env = dict(self.env)
        env.update(kw.pop("env", {}))
        return self.skiff.run(*args, env=env, **kw)


class OAuthTokenServer(regkit.TokenServer):
    """The suite's token server, also answering docker's OAuth2 POST
    (grant_type=refresh_token) for the identity tokens it knows."""

    def __init__(self, *a, refresh_tokens=None, **kw):
        super().__init__(*a, **kw)
        self.refresh_tokens = dict(refresh_tokens or {})
        self.posts = []

    def _handler(self):
        base, ts = super()._handler(), self

        class Handler(base):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(n).decode())
                with ts.lock:
                    ts.posts.append({"path": urlparse(self.path).path, "form": form,
                                     "authorization": self.headers.get("Authorization"),
                                     "content_type": self.headers.get("Content-Type")})
                user = ts.refresh_tokens.get(form.get("refresh_token", [""])[0])
                if form.get("grant_type") != ["refresh_token"] or user is None:
                    status, body = 401, {"error": "invalid_grant"}
                else:
                    scopes = form.get("scope", [""])[0].split(" ")
                    tok = ts.issue(user, scopes, form.get("service", [""])[0])
                    status, body = 200, {"access_token": tok, "expires_in": 300}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def oauth_registry(tmp_path):
    ts = OAuthTokenServer(tmp_path / "tokens", users={"alice": "wonderland"},
                          anonymous_repos={"public/busybox"},
                          refresh_tokens={"refresh-xyz": "alice"})
    ts.start()
    try:
        with regkit.Registry(tmp_path / "reg", token=ts.registry_auth()) as reg:
            reg.client = regkit.RegistryClient(reg.url, credentials=ts.admin)
            reg.tokens = ts
            yield reg
    finally:
        ts.stop()


@pytest.fixture
def helper(tmp_path, skiff):
    return Helper(tmp_path, skiff)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def warnings(r):
    return [l for l in r.stderr.splitlines() if l.startswith("skiff: warning:")]


# ---- credential helpers: pull ---------------------------------------------


def test_creds_store_helper_gives_pull_credentials(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    helper.config({"credsStore": "test"})
    helper.answer("alice", "wonderland")
    host = oauth_registry.hostport

    r = helper.run("pull", f"{host}/private/busybox")

    assert r.returncode == 0, r.stderr
    assert f"get {host}" in helper.calls()
    sent = [q["authorization"] for q in oauth_registry.tokens.requests()]
    assert basic("alice", "wonderland") in sent
    assert "wonderland" not in r.stderr + r.stdout
    assert not warnings(r)


def test_cred_helpers_entry_wins_over_creds_store(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    host = oauth_registry.hostport
    helper.config({"credsStore": "nosuch", "credHelpers": {host: "test"},
                   "auths": {host: {"auth": base64.b64encode(b"alice:wrong").decode()}}})
    helper.answer("alice", "wonderland")

    r = helper.run("pull", f"{host}/private/busybox")

    assert r.returncode == 0, r.stderr
    assert helper.calls() == [f"get {host}"]
    assert not warnings(r)


def test_docker_config_env_is_where_the_helper_is_named(tmp_path, helper, oauth_registry,
                                                        busybox):
    """DOCKER_CONFIG wins over ~/.docker, as in docker."""
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"credsStore": "test"}))
    helper.config({})  # ~/.docker/config.json (HOME's) names no helper
    helper.answer("alice", "wonderland")

    r = helper.run("pull", f"{oauth_registry.hostport}/private/busybox",
                   env={"DOCKER_CONFIG": str(other)})

    assert r.returncode == 0, r.stderr
    assert helper.calls() == [f"get {oauth_registry.hostport}"]


def test_identity_token_from_helper_is_an_oauth_refresh_token(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    helper.config({"credsStore": "test"})
    helper.answer("<token>", "refresh-xyz")
    host = oauth_registry.hostport

    r = helper.run("pull", f"{host}/private/busybox")

    assert r.returncode == 0, r.stderr
    posts = oauth_registry.tokens.posts
    assert posts, "no OAuth2 POST to the token server"
    form = posts[-1]["form"]
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["refresh-xyz"]
    assert form["client_id"] == ["docker"]
    assert form["service"] == [regkit.tokens.SERVICE]
    assert "repository:private/busybox:pull" in form["scope"][0].split(" ")
    assert posts[-1]["content_type"].startswith("application/x-www-form-urlencoded")
    # The refresh token is never sent as Basic, nor in a URL.
    for q in oauth_registry.tokens.requests():
        assert "refresh-xyz" not in json.dumps(q)


def test_identity_token_in_config_file(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    helper.config({"auths": {oauth_registry.hostport: {"identitytoken": "refresh-xyz"}}})

    r = helper.run("pull", f"{oauth_registry.hostport}/private/busybox")

    assert r.returncode == 0, r.stderr
    assert oauth_registry.tokens.posts[-1]["form"]["refresh_token"] == ["refresh-xyz"]


def test_refused_identity_token_is_unauthorized(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    helper.config({"credsStore": "test"})
    helper.answer("<token>", "revoked-one")

    r = helper.run("pull", f"{oauth_registry.hostport}/private/busybox")

    assert r.returncode == 1
    assert "unauthorized" in regkit.error_line(r)
    assert "revoked-one" not in r.stderr


def test_helper_without_credentials_means_anonymous(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("public/busybox", busybox, tag="latest")
    helper.config({"credsStore": "test"})
    helper.mode("notfound")
    before = len(oauth_registry.tokens.requests())

    r = helper.run("pull", f"{oauth_registry.hostport}/public/busybox")

    assert r.returncode == 0, r.stderr
    assert helper.calls() == [f"get {oauth_registry.hostport}"]
    assert not warnings(r)
    sent = oauth_registry.tokens.requests()[before:]
    assert sent and all(q["authorization"] is None for q in sent)


@pytest.mark.parametrize("store_name,mode,words", [
    ("test", "fail", "error getting credentials - err: exit status 1, out: `boom from helper`"),
    ("nosuch", None, 'exec: "docker-credential-nosuch": executable file not found in $PATH'),
])
def test_failing_or_missing_helper_is_one_warning_then_anonymous(helper, oauth_registry, busybox,
                                                                  store_name, mode, words):
    """docker goes on without credentials; skiff says why in one line."""
    oauth_registry.client.push_image("public/busybox", busybox, tag="latest")
    helper.config({"credsStore": store_name})
    if mode:
        helper.mode(mode)

    r = helper.run("pull", f"{oauth_registry.hostport}/public/busybox")

    assert r.returncode == 0, r.stderr
    w = warnings(r)
    assert len(w) == 1, r.stderr
    assert words in w[0], w[0]
    assert f"docker-credential-{store_name}" in w[0]


def test_malformed_helper_reply_is_one_warning(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("public/busybox", busybox, tag="latest")
    helper.config({"credsStore": "test"})
    (helper.state / "reply").write_text('{"Username": "alice", "Secret": 42}')

    r = helper.run("pull", f"{oauth_registry.hostport}/public/busybox")

    assert r.returncode == 0, r.stderr
    assert len(warnings(r)) == 1 and "Secret" in warnings(r)[0], r.stderr


def test_helper_name_with_a_slash_is_refused(helper, oauth_registry, busybox):
    oauth_registry.client.push_image("private/busybox", busybox, tag="latest")
    helper.config({"credsStore": "../../tmp/evil"})

    r = helper.run("pull", f"{oauth_registry.hostport}/private/busybox")

    assert r.returncode == 1
    assert "invalid credential helper name" in regkit.error_line(r)


# ---- credential helpers: login and logout ---------------------------------


def test_login_stores_through_the_helper(helper, oauth_registry):
    host = oauth_registry.hostport
    helper.config({"credsStore": "test", "auths": {host: {"auth": "eDp5"}}, "psFormat": "x"})

    r = helper.run("login", "-u", "alice", "--password-stdin", host, input="wonderland\n")

    assert r.returncode == 0, r.stderr
    assert r.stdout == "Login Succeeded\n"
    assert "unencrypted" not in r.stderr
    stored = json.loads((helper.state / "stored").read_text())
    assert stored == {"ServerURL": host, "Username": "alice", "Secret": "wonderland"}
    doc = helper.read_config()
    assert doc["auths"][host] == {}  # docker's empty entry: the secret is the helper's
    assert doc["psFormat"] == "x" and doc["credsStore"] == "test"


def test_login_without_helper_warns_like_docker(helper, oauth_registry):
    host = oauth_registry.hostport

    r = helper.run("login", "-u", "alice", "--password-stdin", host, input="wonderland")

    assert r.returncode == 0, r.stderr
    assert "WARNING! Your credentials are stored unencrypted in " \
           f"'{helper.skiff.docker_config}/config.json'." in r.stderr
    assert helper.read_config()["auths"][host]["auth"] == \
        base64.b64encode(b"alice:wonderland").decode()


@pytest.mark.parametrize("store_name,mode,out", [
    ("test", "fail", "err: exit status 1, out: `boom from helper`"),
    ("nosuch", None, 'err: exec: "docker-credential-nosuch": executable file not found in '
                     "$PATH, out: ``"),
])
def test_login_with_a_failing_helper_is_docker_error(helper, oauth_registry, store_name, mode,
                                                     out):
    host = oauth_registry.hostport
    helper.config({"credsStore": store_name})
    if mode:
        helper.mode(mode)

    r = helper.run("login", "-u", "alice", "--password-stdin", host, input="wonderland")

    assert r.returncode == 1
    line = regkit.error_line(r)
    assert line == f"skiff: Error saving credentials: error storing credentials - {out}", line
    assert "Login Succeeded" not in r.stdout
    assert "wonderland" not in r.stderr
    assert host not in helper.read_config().get("auths", {})


def test_login_with_working_helper_credentials_needs_no_flags(helper, oauth_registry):
    host = oauth_registry.hostport
    helper.config({"credHelpers": {host: "test"}})
    helper.answer("alice", "wonderland")

    r = helper.run("login", host, input="")

    assert r.returncode == 0, r.stderr
    assert r.stdout == "Login Succeeded\n"
    assert r.stderr.startswith("Authenticating with existing credentials... [Username: alice]\n")
    assert helper.calls() == [f"get {host}"]


def test_logout_erases_through_the_helper(helper, oauth_registry):
    host = oauth_registry.hostport
    helper.config({"credsStore": "test", "auths": {host: {}, "other:1": {}}})

    r = helper.run("logout", host)

    assert r.returncode == 0, r.stderr
    assert r.stdout == f"Removing login credentials for {host}\n"
    assert helper.calls() == [f"erase {host}", f"erase http://{host}", f"erase https://{host}"]
    assert helper.read_config()["auths"] == {"other:1": {}}


def test_logout_with_a_failing_helper_warns_and_succeeds(helper, oauth_registry):
    host = oauth_registry.hostport
    helper.config({"credsStore": "test", "auths": {host: {}}})
    helper.mode("fail")

    r = helper.run("logout", host)

    assert r.returncode == 0
    assert r.stdout == f"Removing login credentials for {host}\n"
    assert len(warnings(r)) == 1
    assert "error erasing credentials - err: exit status 1, out: `boom from helper`" in r.stderr


def test_logout_when_not_logged_in_is_docker_28(skiff):
    r = skiff.ok("logout", "127.0.0.1:5999")
    assert r.stdout == "Removing login credentials for 127.0.0.1:5999\n"
    r = skiff.ok("logout")
    assert r.stdout == "Removing login credentials for https://index.docker.io/v1/\n"


# ---- HTTP_PROXY / HTTPS_PROXY / NO_PROXY -----------------------------------

PROXIED_NAME = "reg.proxy.test"  # resolvable only by the proxy


class ConnectProxy:
    """A small HTTP proxy: CONNECT host:port opens a tunnel (https through a
    proxy), an absolute-form request (GET http://host:port/path) is forwarded
    with Connection: close. Names in `routes` resolve to 127.0.0.1, nothing
    else resolves. `seen` records ("CONNECT", "host:port") or ("GET", url)."""

    def __init__(self, routes):
        self.routes = set(routes)
        self.seen = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline(8192).decode("latin-1").strip()
                headers = []
                while True:
                    h = self.rfile.readline(8192)
                    if h in (b"\r\n", b"\n", b""):
                        break
                    headers.append(h.decode("latin-1").rstrip("\r\n"))
                parts = line.split(" ")
                if len(parts) != 3:
                    return
                method, target, _ = parts
                proxy.seen.append((method, target))
                if method == "CONNECT":
                    self.tunnel(target)
                else:
                    self.forward(method, target, headers)

            def upstream(self, hostport):
                host, _, port = hostport.rpartition(":")
                if host not in proxy.routes:
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                     b"Connection: close\r\n\r\n")
                    return None
                return socket.create_connection(("127.0.0.1", int(port)), timeout=10)

            def tunnel(self, target):
                up = self.upstream(target)
                if not up:
                    return
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                relay(self.connection, up)

            def forward(self, method, url, headers):
                u = urlparse(url)
                up = self.upstream(f"{u.hostname}:{u.port or 80}")
                if not up:
                    return
                path = u.path + (f"?{u.query}" if u.query else "")
                keep = [h for h in headers if not h.lower().startswith(
                    ("proxy-", "connection:"))]
                head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in keep)
                up.sendall((head + "Connection: close\r\n\r\n").encode("latin-1"))
                relay(self.connection, up)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def relay(a, b):
    """Copy both ways until either side closes."""
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [], 30)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        pass
    finally:
        b.close()


@pytest.fixture
def connect_proxy():
    p = ConnectProxy({PROXIED_NAME})
    yield p
    p.stop()


def tls_for_name(directory, name):
    """A CA and a server certificate for `name` and 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from regkit import tlsgen

    tls = regkit.TLSMaterial(directory, ips=("127.0.0.1",))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(tls.ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(tls.ca_key, hashes.SHA256()))
    with open(tls.cert_path, "wb") as f:
        f.write(tlsgen.cert_pem(cert))
    with open(tls.key_path, "wb") as f:
        f.write(tlsgen.key_pem(key))
    return tls


@pytest.fixture
def tls_registry(tmp_path):
    tls = tls_for_name(tmp_path / "tls", PROXIED_NAME)
    with regkit.Registry(tmp_path / "tls-reg", tls=tls) as reg:
        reg.client = regkit.RegistryClient(reg.url, ssl_context=tls.ssl_context())
        reg.tls_material = tls
        yield reg


def all_proxy_vars(url):
    return {"HTTP_PROXY": url, "http_proxy": url, "HTTPS_PROXY": url, "https_proxy": url}


def test_https_registry_through_a_connect_proxy(skiff, store, tls_registry, connect_proxy,
                                                busybox):
    tls_registry.client.push_image("secure/busybox", busybox, tag="latest")
    name = f"{PROXIED_NAME}:{tls_registry.port}"
    tls_registry.tls_material.install_ca(skiff.certs_dir, name)

    skiff.ok("pull", f"{name}/secure/busybox", env={"HTTPS_PROXY": connect_proxy.url})

    assert ("CONNECT", name) in connect_proxy.seen
    assert f"{name}/secure/busybox:latest" in store.refs()


def test_plain_http_registry_through_upper_case_http_proxy(skiff, store, registry,
                                                           connect_proxy, busybox):
    """docker reads HTTP_PROXY in either case (libcurl alone: only http_proxy).
    The insecure registry's https attempt goes through CONNECT and fails, then
    plain http goes as absolute-form requests."""
    registry.client.push_image("plain/busybox", busybox, tag="latest")
    name = f"{PROXIED_NAME}:{registry.port}"

    skiff.ok("--insecure-registry", name, "pull", f"{name}/plain/busybox",
             env={"HTTP_PROXY": connect_proxy.url, "HTTPS_PROXY": connect_proxy.url})

    assert ("CONNECT", name) in connect_proxy.seen
    assert ("GET", f"http://{name}/v2/") in connect_proxy.seen
    assert f"{name}/plain/busybox:latest" in store.refs()


def test_loopback_registry_is_never_proxied(skiff, store, registry, busybox):
    registry.client.push_image("plain/busybox", busybox, tag="latest")
    dead = f"http://127.0.0.1:{regkit.free_port()}"

    skiff.ok("pull", f"{registry.hostport}/plain/busybox", env=all_proxy_vars(dead))

    assert f"{registry.hostport}/plain/busybox:latest" in store.refs()


@pytest.mark.parametrize("no_proxy,proxied", [
    (f".{PROXIED_NAME}", True),   # a leading dot: subdomains only, as Go
    (f"*.{PROXIED_NAME}", True),
    ("proxy.test", False),        # a domain and its subdomains
    (f"{PROXIED_NAME}:1", True),  # another port
    ("127.0.0.0/8", True),        # an address rule never matches a name
    ("*", False),
])
def test_no_proxy_with_docker_rules(skiff, store, registry, connect_proxy, busybox, no_proxy,
                                    proxied):
    registry.client.push_image("plain/busybox", busybox, tag="latest")
    name = f"{PROXIED_NAME}:{registry.port}"
    env = {"http_proxy": connect_proxy.url, "https_proxy": connect_proxy.url,
           "no_proxy": no_proxy}

    t0 = time.monotonic()
    r = skiff.run("--insecure-registry", name, "pull", f"{name}/plain/busybox", env=env)

    if proxied:
        assert r.returncode == 0, r.stderr
        assert connect_proxy.seen
    else:
        # Direct: the name does not resolve here, and that is said at once.
        assert r.returncode == 1
        assert "Could not resolve host" in regkit.error_line(r)
        assert not connect_proxy.seen
        assert time.monotonic() - t0 < 2.5


# ---- a loopback registry's plain HTTP, remembered per store ----------------


def test_plain_http_answer_is_remembered_per_store(skiff, registry, busybox):
    registry.client.push_image("plain/busybox", busybox, tag="latest")
    ref = f"{registry.hostport}/plain/busybox"
    marker = os.path.join(skiff.root, "plain-http", registry.hostport)

    first = skiff.ok("--debug", "pull", ref)
    assert f"GET https://{registry.hostport}/v2/" in first.stderr  # docker's order
    assert os.path.isfile(marker)

    again = skiff.ok("--debug", "pull", ref)
    assert "https://" not in again.stderr  # no TLS handshake to fail
    assert f"GET http://{registry.hostport}/v2/" in again.stderr
    assert "Image is up to date" in again.stdout


def test_remembered_plain_http_is_forgotten_when_tls_answers(tmp_path, skiff, store, busybox):
    tls = regkit.TLSMaterial(tmp_path / "tls", ips=("127.0.0.1",))
    with regkit.Registry(tmp_path / "reg", tls=tls) as reg:
        regkit.RegistryClient(reg.url, ssl_context=tls.ssl_context()).push_image(
            "secure/busybox", busybox, tag="latest")
        marker = os.path.join(skiff.root, "plain-http", reg.hostport)
        os.makedirs(os.path.dirname(marker))
        open(marker, "w").close()  # stale: the port speaks TLS now

        r = skiff.ok("--debug", "pull", f"{reg.hostport}/secure/busybox")

        assert f"GET http://{reg.hostport}/v2/" in r.stderr
        assert f"GET https://{reg.hostport}/v2/ -> 200" in r.stderr
        assert not os.path.exists(marker)
    assert f"{reg.hostport}/secure/busybox:latest" in store.refs()


# ---- pull --platform ARCH ---------------------------------------------------


@pytest.fixture
def multi_arch(registry):
    """An index with linux/amd64 and linux/arm64/v8 images (different files)."""
    amd = regkit.Image([regkit.Layer(regkit.TarBuilder().file("arch", "amd64").bytes())],
                       arch="amd64")
    arm = regkit.Image([regkit.Layer(regkit.TarBuilder().file("arch", "arm64").bytes())],
                       arch="arm64", variant="v8")
    index = regkit.Index([amd, arm])
    registry.client.push_index("multi/app", index, tag="latest")
    return amd, arm


@pytest.mark.parametrize("platform", ["arm64", "aarch64", "linux/arm64", "linux/arm64/v8"])
def test_pull_platform_architecture_alone(skiff, store, registry, multi_arch, platform):
    amd, arm = multi_arch
    ref = f"{registry.hostport}/multi/app"

    r = skiff.ok("pull", "--platform", platform, ref)

    assert store.refs()[f"{ref}:latest"][1] == arm.config_digest, r.stdout
    assert "warning" not in r.stderr


@pytest.mark.parametrize("platform,words", [
    ("foo", '"foo": unknown operating system or architecture: invalid argument'),
    ("linux/", "invalid platform"),
])
def test_pull_platform_unknown_word_is_docker_error(skiff, store, platform, words):
    r = skiff.fails("pull", "--platform", platform, "127.0.0.1:1/x", code=1)
    assert words in regkit.error_line(r)
    assert "See 'skiff pull --help'" not in r.stderr  # docker: the pull failed, not its flags


def test_pull_platform_os_alone_means_the_host_architecture(skiff, store, registry, multi_arch):
    amd, arm = multi_arch
    host = arm if os.uname().machine in ("aarch64", "arm64") else amd

    skiff.ok("pull", "--platform", "linux", f"{registry.hostport}/multi/app")

    assert store.refs()[f"{registry.hostport}/multi/app:latest"][1] == host.config_digest


# ---- data-root --------------------------------------------------------------


def write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f)


def test_data_root_is_the_default_store(tmp_path, skiff):
    data_root = tmp_path / "data-root"
    write_json(skiff.env["SKIFF_CONFIG"], {"data-root": str(data_root)})

    skiff.ok("images", root=False)
    assert (data_root / "refs").exists() or (data_root / "blobs").is_dir()

    other = tmp_path / "flag-root"
    skiff.ok("--root", str(other), "images", root=False)
    assert (other / "blobs").is_dir()  # --root wins


def test_data_root_in_the_user_file_wins_over_the_system_one(tmp_path, skiff):
    write_json(skiff.env["SKIFF_CONFIG"], {"data-root": str(tmp_path / "system")})
    write_json(os.path.join(skiff.env["XDG_CONFIG_HOME"], "skiff", "config.json"),
               {"data-root": str(tmp_path / "user")})

    skiff.ok("images", root=False)

    assert (tmp_path / "user" / "blobs").is_dir()
    assert not (tmp_path / "system").exists()


@pytest.mark.parametrize("doc,words", [
    ({"data-root": "relative/dir"}, '"data-root" must be an absolute path'),
    ({"data-root": "/a", "root": "/b"}, '"data-root" and "root" name different stores'),
])
def test_bad_data_root_is_named(tmp_path, skiff, doc, words):
    write_json(skiff.env["SKIFF_CONFIG"], doc)
    r = skiff.fails("images", root=False, code=1)
    assert words in regkit.error_line(r) and skiff.env["SKIFF_CONFIG"] in r.stderr


# ---- RepoDigests ------------------------------------------------------------


def repo_digests(skiff, name):
    return json.loads(skiff.ok("inspect", "--type", "image", name).stdout)[0]["RepoDigests"]


def test_loaded_image_has_no_repo_digests(tmp_path, skiff, registry, busybox):
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "images"))
    import mkimage

    layers = mkimage.build_rootfs_layers(1)
    img = mkimage.Image(mkimage.make_config(layers), layers, ["loaded:1"])
    archive = tmp_path / "img.tar"
    mkimage.write_docker_archive(str(archive), [img])
    skiff.ok("load", "-i", str(archive))

    assert repo_digests(skiff, "loaded:1") == []  # docker: []
    out = skiff.ok("images", "--digests", "--format", "{{.Repository}} {{.Digest}}").stdout
    assert "loaded <none>" in out.splitlines()

    # A pulled image keeps its registry digest.
    registry.client.push_image("plain/busybox", busybox, tag="latest")
    skiff.ok("pull", f"{registry.hostport}/plain/busybox")
    assert repo_digests(skiff, f"{registry.hostport}/plain/busybox") == \
        [f"{registry.hostport}/plain/busybox@{busybox.digest}"]
