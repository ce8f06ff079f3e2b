"""Fixtures of the integration suite: the skiff binary (SKIFF_BIN), a private
store per test, and real registries (plain, token auth, TLS) with helpers to
push images built in python. Every server is stopped at teardown."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import regkit  # noqa: E402


def pytest_configure(config):
    binary = os.environ.get("SKIFF_BIN")
    if not binary or not os.path.isabs(binary) or not os.access(binary, os.X_OK):
        raise pytest.UsageError("set SKIFF_BIN to the absolute path of the skiff binary "
                                f"(got {binary!r})")
    if not os.access(regkit.registry.REGISTRY_BIN, os.X_OK):
        raise pytest.UsageError("docker-registry is not installed (apt-get install "
                                "docker-registry)")


@pytest.fixture
def skiff(tmp_path):
    """skiff with its own store (--root), HOME, DOCKER_CONFIG and certs dir."""
    return regkit.Skiff(os.environ["SKIFF_BIN"], tmp_path / "store", tmp_path / "home")


@pytest.fixture
def store(skiff):
    return regkit.StoreView(skiff.root)


@pytest.fixture
def registry(tmp_path):
    """A plain-HTTP registry on 127.0.0.1 (insecure by default, as in docker)."""
    with regkit.Registry(tmp_path / "registry") as reg:
        reg.client = regkit.RegistryClient(reg.url)
        yield reg


@pytest.fixture
def token_server(tmp_path):
    ts = regkit.TokenServer(tmp_path / "tokens", users={"alice": "wonderland"},
                            anonymous_repos={"public/busybox"})
    ts.start()
    yield ts
    ts.stop()


@pytest.fixture
def auth_registry(tmp_path, token_server):
    """A registry behind Docker-Hub-style bearer tokens from token_server."""
    with regkit.Registry(tmp_path / "auth-registry", token=token_server.registry_auth()) as reg:
        reg.client = regkit.RegistryClient(reg.url, credentials=token_server.admin)
        reg.tokens = token_server
        yield reg


@pytest.fixture
def proxy(registry):
    """The lying proxy in front of `registry`."""
    p = regkit.LyingProxy(registry.hostport).start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def busybox():
    """One busybox image (gzip, Docker media types); built once per session."""
    return regkit.busybox_image()

