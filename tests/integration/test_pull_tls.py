"""TLS: a registry with a certificate from a private CA is trusted through
<certs.d>/<host:port>/ca.crt (SKIFF_CERTS_DIR); without the CA, the pull fails
with a clear certificate error. 127.0.0.0/8 is insecure by default (verification
is skipped there, as in docker), so these registries run on a test host of
our own: a network namespace joined to this machine by a veth pair."""

import os

import pytest

import regkit
from regkit import netns

pytestmark = pytest.mark.skipif(not netns.available(), reason="needs root and ip netns")


@pytest.fixture
def test_host():
    with netns.TestHost() as host:
        yield host


@pytest.fixture
def tls_registry(tmp_path, test_host):
    tls = regkit.TLSMaterial(tmp_path / "tls", ips=(test_host.ip, "127.0.0.1"))
    with regkit.Registry(tmp_path / "reg", tls=tls, test_host=test_host) as reg:
        reg.client = regkit.RegistryClient(reg.url, ssl_context=tls.ssl_context())
        reg.tls_material = tls
        yield reg


def test_pull_with_ca_from_certs_dir(skiff, store, tls_registry, busybox):
    tls_registry.client.push_image("secure/busybox", busybox, tag="latest")
    tls_registry.tls_material.install_ca(skiff.certs_dir, tls_registry.hostport)

    skiff.ok("pull", f"{tls_registry.hostport}/secure/busybox")

    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))
    assert f"{tls_registry.hostport}/secure/busybox:latest" in store.refs()


def test_pull_without_ca_is_a_certificate_error(skiff, store, tls_registry, busybox):
    tls_registry.client.push_image("secure/busybox", busybox, tag="latest")

    r = skiff.fails("pull", f"{tls_registry.hostport}/secure/busybox", code=1)

    line = regkit.error_line(r).lower()
    assert tls_registry.hostport in line
    assert "certificate" in line, line
    assert not store.refs()


def test_ca_of_another_host_does_not_help(skiff, tls_registry, busybox):
    tls_registry.client.push_image("secure/busybox", busybox, tag="latest")
    tls_registry.tls_material.install_ca(skiff.certs_dir, f"{tls_registry.host}:1")

    r = skiff.fails("pull", f"{tls_registry.hostport}/secure/busybox", code=1)

    assert "certificate" in regkit.error_line(r).lower()


def test_loopback_tls_registry_works_as_insecure(tmp_path, skiff, store, busybox):
    """docker tries https first for insecure registries: a TLS registry on
    127.0.0.1 works without its CA."""
    tls = regkit.TLSMaterial(tmp_path / "tls", ips=("127.0.0.1",))
    with regkit.Registry(tmp_path / "reg", tls=tls) as reg:
        regkit.RegistryClient(reg.url, ssl_context=tls.ssl_context()).push_image(
            "secure/busybox", busybox, tag="latest")
        skiff.ok("pull", f"{reg.hostport}/secure/busybox")
    assert os.path.isdir(store.layer_diff(busybox.layers[0].diff_id))
