"""TLS material made with python3-cryptography: a test CA, server certificates
signed by it (subjectAltName IP addresses), and a self-signed signing
certificate for the token server (its key signs the JWTs, the registry trusts
the certificate through rootcertbundle)."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _validity(builder):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=30))


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def self_signed(cn, ca=False):
    """(key, cert) of a self-signed certificate."""
    key = _key()
    b = x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
    b = _validity(b).public_key(key.public_key()).serial_number(x509.random_serial_number())
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                          crl_sign=True, content_commitment=False,
                                          key_encipherment=False, data_encipherment=False,
                                          key_agreement=False, encipher_only=False,
                                          decipher_only=False), critical=True)
    return key, b.sign(key, hashes.SHA256())


def server_cert(ca_key, ca_cert, ips):
    """(key, cert) for a TLS server reachable at the given IP addresses."""
    key = _key()
    b = x509.CertificateBuilder().subject_name(_name(str(ips[0]))).issuer_name(
        ca_cert.subject)
    b = _validity(b).public_key(key.public_key()).serial_number(x509.random_serial_number())
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    b = b.add_extension(x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]), critical=False)
    b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                        critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


class TLSMaterial:
    """A CA and a server certificate for `ips`, written under `directory`:
    ca.crt, server.crt, server.key."""

    def __init__(self, directory, ips=("127.0.0.1",)):
        os.makedirs(directory, exist_ok=True)
        self.ca_key, self.ca_cert = self_signed("skiff test CA", ca=True)
        self.key, self.cert = server_cert(self.ca_key, self.ca_cert, list(ips))
        self.ca_path = os.path.join(directory, "ca.crt")
        self.cert_path = os.path.join(directory, "server.crt")
        self.key_path = os.path.join(directory, "server.key")
        with open(self.ca_path, "wb") as f:
            f.write(cert_pem(self.ca_cert))
        with open(self.cert_path, "wb") as f:
            f.write(cert_pem(self.cert))
        with open(self.key_path, "wb") as f:
            f.write(key_pem(self.key))

    def install_ca(self, certs_dir, hostport):
        """docker's layout: <certs_dir>/<host:port>/ca.crt"""
        d = os.path.join(certs_dir, hostport)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "ca.crt"), "wb") as f:
            f.write(cert_pem(self.ca_cert))
        return d

    def ssl_context(self):
        import ssl
        ctx = ssl.create_default_context(cafile=self.ca_path)
        return ctx
