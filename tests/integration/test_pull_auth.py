"""Bearer-token auth as Docker Hub does it: anonymous pulls, credentials from
DOCKER_CONFIG/config.json, wrong credentials, `token` vs `access_token`
replies, and secrets never shown by --debug."""

import base64
import json
import os

import pytest

import regkit


def write_docker_config(skiff, hostport, user, password):
    os.makedirs(skiff.docker_config, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    with open(os.path.join(skiff.docker_config, "config.json"), "w") as f:
        json.dump({"auths": {hostport: {"auth": auth}}}, f)


def token_requests(ts, with_credentials):
    return [r for r in ts.requests() if (r["authorization"] is not None) == with_credentials]


def test_anonymous_pull_of_public_repo(skiff, store, auth_registry, busybox):
    auth_registry.client.push_image("public/busybox", busybox, tag="latest")

    skiff.ok("pull", f"{auth_registry.hostport}/public/busybox")

    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))
    reqs = auth_registry.tokens.requests()
    # The push above used admin credentials; skiff's token requests are anonymous.
    skiff_reqs = [r for r in reqs if "repository:public/busybox:pull" in r["query"].get("scope", [])
                  and r["authorization"] is None]
    assert skiff_reqs, reqs
    assert all(r["query"].get("service") == [regkit.tokens.SERVICE] for r in skiff_reqs)


def test_private_repo_without_credentials_is_refused(skiff, store, auth_registry, busybox):
    auth_registry.client.push_image("private/busybox", busybox, tag="latest")
    before = store.snapshot()

    r = skiff.fails("pull", f"{auth_registry.hostport}/private/busybox", code=1)

    line = regkit.error_line(r)
    assert "private/busybox" in line
    assert any(w in line.lower() for w in ("unauthorized", "denied", "authentication required"))
    assert store.snapshot()["refs"] == before["refs"]


def test_credentials_from_docker_config(skiff, store, auth_registry, busybox):
    auth_registry.client.push_image("private/busybox", busybox, tag="latest")
    write_docker_config(skiff, auth_registry.hostport, "alice", "wonderland")
    n_before = len(auth_registry.tokens.requests())

    skiff.ok("pull", f"{auth_registry.hostport}/private/busybox")

    assert store.refs()  # recorded
    sent = auth_registry.tokens.requests()[n_before:]
    want = "Basic " + base64.b64encode(b"alice:wonderland").decode()
    assert any(r["authorization"] == want for r in sent), sent


def test_wrong_credentials_give_clear_error(skiff, store, auth_registry, busybox):
    auth_registry.client.push_image("private/busybox", busybox, tag="latest")
    write_docker_config(skiff, auth_registry.hostport, "alice", "not-the-password")

    r = skiff.fails("pull", f"{auth_registry.hostport}/private/busybox", code=1)

    line = regkit.error_line(r)
    assert "unauthorized" in line.lower() or "incorrect username or password" in line.lower()
    assert "not-the-password" not in r.stderr
    assert not store.refs()


@pytest.mark.parametrize("reply", ["access_token", "both"])
def test_token_reply_forms(tmp_path, skiff, store, busybox, reply):
    ts = regkit.TokenServer(tmp_path / "ts", anonymous_repos={"public/busybox"}, reply=reply)
    ts.start()
    try:
        with regkit.Registry(tmp_path / "reg", token=ts.registry_auth()) as reg:
            regkit.RegistryClient(reg.url, credentials=ts.admin).push_image(
                "public/busybox", busybox, tag="latest")
            skiff.ok("pull", f"{reg.hostport}/public/busybox")
    finally:
        ts.stop()
    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))


def test_token_is_reused_across_layers(skiff, auth_registry, busybox):
    """One token for the repository scope serves the manifest, config and layers."""
    img = regkit.Image(busybox.layers + [regkit.Layer(regkit.TarBuilder().file(f"f{i}", str(i))
                                                      .bytes()) for i in range(4)])
    auth_registry.client.push_image("public/busybox", img, tag="multi")
    n_before = len(auth_registry.tokens.requests())

    skiff.ok("pull", f"{auth_registry.hostport}/public/busybox:multi")

    sent = auth_registry.tokens.requests()[n_before:]
    assert 1 <= len(sent) <= 2, sent  # not one per blob


def test_a_token_the_registry_refuses_is_replaced_once(skiff, store, auth_registry, busybox):
    """A token that stops being accepted mid-pull (expired, revoked) gets the
    registry's 401: skiff fetches a fresh one and goes on."""
    auth_registry.client.push_image("public/busybox", busybox, tag="fresh")
    n_before = len(auth_registry.tokens.requests())
    auth_registry.tokens.revoked = 1

    skiff.ok("pull", f"{auth_registry.hostport}/public/busybox:fresh")

    assert len(auth_registry.tokens.requests()) - n_before == 2
    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))


def test_tokens_the_registry_never_accepts_give_a_clear_error(skiff, auth_registry, busybox):
    """No endless loop of token requests: one retry, then one line."""
    auth_registry.client.push_image("public/busybox", busybox, tag="never")
    n_before = len(auth_registry.tokens.requests())
    auth_registry.tokens.revoked = 1000

    r = skiff.fails("pull", f"{auth_registry.hostport}/public/busybox:never", code=1)

    sent = len(auth_registry.tokens.requests()) - n_before
    assert 1 <= sent <= 4, sent
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("skiff: ") and "public/busybox" in lines[-1], r.stderr
    auth_registry.tokens.revoked = 0


def test_debug_never_shows_secrets(skiff, auth_registry, busybox):
    auth_registry.client.push_image("private/busybox", busybox, tag="latest")
    write_docker_config(skiff, auth_registry.hostport, "alice", "wonderland")

    r = skiff.ok("--debug", "pull", f"{auth_registry.hostport}/private/busybox")

    assert "GET" in r.stderr and "/v2/" in r.stderr  # it does trace
    secret_b64 = base64.b64encode(b"alice:wonderland").decode()
    assert "wonderland" not in r.stderr and secret_b64 not in r.stderr
    assert "eyJ" not in r.stderr  # no JWT (base64 of '{"') anywhere
    for line in r.stderr.splitlines():
        if "authorization" in line.lower():
            assert "bearer ey" not in line.lower() and "basic " + secret_b64.lower() not in \
                line.lower()


def test_redirect_to_blob_storage_gets_no_credentials(skiff, store, auth_registry, busybox):
    """Registries redirect blob GETs to storage on another host; the bearer
    token must not follow the redirect there."""
    auth_registry.client.push_image("private/busybox", busybox, tag="latest")
    write_docker_config(skiff, auth_registry.hostport, "alice", "wonderland")
    layer = busybox.layers[0]
    storage = regkit.BlobServer().start()
    front = regkit.LyingProxy(auth_registry.hostport).start()
    try:
        # Credentials are stored for the registry as skiff is told to reach it.
        write_docker_config(skiff, front.hostport, "alice", "wonderland")
        location = storage.put(f"/blobs/{layer.hex}", layer.blob) + "?X-Signature=abc"
        front.add(rf"/blobs/{layer.digest}", "status", status=307,
                  headers={"Location": location}, body=b"")

        skiff.ok("pull", f"{front.hostport}/private/busybox")

        assert [r["authorization"] for r in storage.log] == [None]
        # The registry itself got bearer tokens, never the Basic credentials.
        schemes = {r["auth_scheme"] for r in front.requests(path_re=r"^/v2/.+")}
        assert "Bearer" in schemes and "Basic" not in schemes, schemes
    finally:
        front.stop()
        storage.stop()
    assert layer.diff_hex in store.layer_ids()


@pytest.fixture
def basic_registry(tmp_path):
    """A registry with htpasswd (Basic) auth: user bob, password builder."""
    import subprocess
    htpasswd = tmp_path / "htpasswd"
    line = subprocess.run(["htpasswd", "-Bbn", "bob", "builder"], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()
    htpasswd.write_text(line + "\n")
    with regkit.Registry(tmp_path / "basic-registry", htpasswd=str(htpasswd)) as reg:
        reg.client = regkit.RegistryClient(reg.url, credentials=("bob", "builder"))
        yield reg


def test_basic_auth_registry_with_credentials(skiff, store, basic_registry, busybox):
    basic_registry.client.push_image("team/busybox", busybox, tag="latest")
    write_docker_config(skiff, basic_registry.hostport, "bob", "builder")

    skiff.ok("pull", f"{basic_registry.hostport}/team/busybox")

    assert busybox.layers[0].diff_hex in store.layer_ids()


def test_basic_auth_registry_wrong_password(skiff, store, basic_registry, busybox):
    basic_registry.client.push_image("team/busybox", busybox, tag="latest")
    write_docker_config(skiff, basic_registry.hostport, "bob", "Wr0ngPa55")

    r = skiff.fails("pull", f"{basic_registry.hostport}/team/busybox", code=1)

    assert "unauthorized" in regkit.error_line(r).lower()
    assert "Wr0ngPa55" not in r.stderr
    assert not store.refs()
