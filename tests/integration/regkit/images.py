"""Images built in python and pushed through the registry API.

Layers are tar archives made with tarfile (deterministic: fixed mtimes, uid 0,
PAX format), compressed with gzip (python), zstd (the zstd CLI) or not at all.
Images get a config with rootfs.diff_ids and a Docker schema 2 or OCI manifest;
indexes / manifest lists hold several platforms and, like Docker Hub, an
attestation entry (platform unknown/unknown)."""

import base64
import gzip
import io
import json
import os
import re
import ssl
import subprocess
import tarfile
import urllib.error
import urllib.parse
import urllib.request

from .util import sha256_digest

MTIME = MTIME_FIXED = 1700000000  # fixed, so layers are byte-for-byte reproducible
BUSYBOX = "/bin/busybox"
BUSYBOX_LINKS = ("sh", "ls", "cat", "echo", "true", "false", "id", "env", "sleep", "mkdir")

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

LAYER_TYPES = {
    ("docker", "gzip"): "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ("docker", "none"): "application/vnd.docker.image.rootfs.diff.tar",
    ("docker", "zstd"): "application/vnd.oci.image.layer.v1.tar+zstd",  # as docker does
    ("oci", "gzip"): "application/vnd.oci.image.layer.v1.tar+gzip",
    ("oci", "zstd"): "application/vnd.oci.image.layer.v1.tar+zstd",
    ("oci", "none"): "application/vnd.oci.image.layer.v1.tar",
}


# --- tar building ------------------------------------------------------------

class TarBuilder:
    """Builds a tar stream entry by entry, with full control of every header
    field (hostile layers need names and links no sane tool would write)."""

    def __init__(self, fmt=tarfile.PAX_FORMAT):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=fmt)

    def _info(self, name, type_, mode, uid=0, gid=0, mtime=MTIME, pax=None):
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.uname = ti.gname = ""
        ti.mtime = mtime
        if pax:
            ti.pax_headers = dict(pax)
        return ti

    def dir(self, name, mode=0o755, **kw):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, **kw))
        return self

    def file(self, name, data=b"", mode=0o644, **kw):
        if isinstance(data, str):
            data = data.encode()
        ti = self._info(name, tarfile.REGTYPE, mode, **kw)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))
        return self

    def symlink(self, name, target, **kw):
        ti = self._info(name, tarfile.SYMTYPE, 0o777, **kw)
        ti.linkname = target
        self.tar.addfile(ti)
        return self

    def hardlink(self, name, target, **kw):
        ti = self._info(name, tarfile.LNKTYPE, 0o644, **kw)
        ti.linkname = target
        self.tar.addfile(ti)
        return self

    def device(self, name, major, minor, block=False, mode=0o660, **kw):
        ti = self._info(name, tarfile.BLKTYPE if block else tarfile.CHRTYPE, mode, **kw)
        ti.devmajor, ti.devminor = major, minor
        self.tar.addfile(ti)
        return self

    def fifo(self, name, mode=0o644, **kw):
        self.tar.addfile(self._info(name, tarfile.FIFOTYPE, mode, **kw))
        return self

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def busybox_tar(extra=None):
    """A root with /bin/busybox, a few applet links and the usual directories."""
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    t = TarBuilder()
    for d in ("bin", "etc", "tmp", "root", "proc", "sys", "dev"):
        t.dir(d, mode=0o1777 if d == "tmp" else 0o755)
    t.file("bin/busybox", bb, mode=0o755)
    for link in BUSYBOX_LINKS:
        t.symlink(f"bin/{link}", "busybox")
    t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    t.file("etc/group", "root:x:0:\nnogroup:x:65534:\n")
    if extra:
        extra(t)
    return t.bytes()


def compress(data, compression):
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True,
                              check=True, timeout=120).stdout
    if compression == "none":
        return data
    raise ValueError(compression)


class Layer:
    def __init__(self, tar_bytes, compression="gzip"):
        self.tar = tar_bytes
        self.compression = compression
        self.diff_id = sha256_digest(tar_bytes)
        self.blob = compress(tar_bytes, compression)
        self.digest = sha256_digest(self.blob)
        self.size = len(self.blob)

    @property
    def hex(self):
        return self.digest.split(":", 1)[1]

    @property
    def diff_hex(self):
        return self.diff_id.split(":", 1)[1]


class Image:
    """One platform's image: layers, config, manifest (Docker v2 or OCI)."""

    def __init__(self, layers, fmt="docker", arch="amd64", os_="linux", variant=None,
                 cmd=("/bin/sh",), env=("PATH=/bin",), created="2024-01-02T03:04:05Z",
                 config_extra=None):
        self.layers = list(layers)
        self.fmt = fmt
        self.platform = {"architecture": arch, "os": os_}
        if variant:
            self.platform["variant"] = variant
        cfg = {
            "architecture": arch, "os": os_, "created": created,
            "config": {"Cmd": list(cmd), "Env": list(env), "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [l.diff_id for l in self.layers]},
            "history": [{"created": created, "created_by": "regkit"} for _ in self.layers],
        }
        if variant:
            cfg["variant"] = variant
        if config_extra:
            cfg.update(config_extra)
        self.config = json.dumps(cfg, sort_keys=True).encode()
        self.config_digest = sha256_digest(self.config)
        docker = fmt == "docker"
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                       "size": len(self.config), "digest": self.config_digest},
            "layers": [{"mediaType": LAYER_TYPES[(fmt, l.compression)], "size": l.size,
                        "digest": l.digest} for l in self.layers],
        }
        self.manifest = json.dumps(manifest, indent=3).encode()
        self.media_type = manifest["mediaType"]
        self.digest = sha256_digest(self.manifest)

    def descriptor(self):
        return {"mediaType": self.media_type, "size": len(self.manifest), "digest": self.digest,
                "platform": dict(self.platform)}


def busybox_image(compression="gzip", fmt="docker", extra_layers=(), **kw):
    layers = [Layer(busybox_tar(), compression)] + list(extra_layers)
    return Image(layers, fmt=fmt, **kw)


class Attestation:
    """Docker Hub's attestation manifest: an OCI manifest with an in-toto
    layer, listed in the index as unknown/unknown."""

    def __init__(self, subject):
        statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                                "predicateType": "https://spdx.dev/Document"}).encode()
        self.layers = [Layer(statement, "none")]
        self.config = b"{}"
        self.config_digest = sha256_digest(self.config)
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "size": len(self.config), "digest": self.config_digest},
            "layers": [{"mediaType": "application/vnd.in-toto+json",
                        "size": self.layers[0].size, "digest": self.layers[0].digest,
                        "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}],
        }
        self.manifest = json.dumps(manifest).encode()
        self.media_type = OCI_MANIFEST
        self.digest = sha256_digest(self.manifest)
        self.subject = subject

    def descriptor(self):
        return {"mediaType": OCI_MANIFEST, "size": len(self.manifest), "digest": self.digest,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {"vnd.docker.reference.digest": self.subject.digest,
                                "vnd.docker.reference.type": "attestation-manifest"}}


class Index:
    """A manifest list (docker) or OCI index of images, optionally with one
    attestation per image placed right after it (as Docker Hub lists them)."""

    def __init__(self, images, fmt="oci", attestations=True, attestations_first=False):
        self.images = list(images)
        self.attestations = [Attestation(i) for i in self.images] if attestations else []
        entries = []
        for i, img in enumerate(self.images):
            pair = [img.descriptor()]
            if attestations:
                pair.append(self.attestations[i].descriptor())
            entries += reversed(pair) if attestations_first else pair
        self.media_type = OCI_INDEX if fmt == "oci" else DOCKER_LIST
        self.manifest = json.dumps({"schemaVersion": 2, "mediaType": self.media_type,
                                    "manifests": entries}, indent=2).encode()
        self.digest = sha256_digest(self.manifest)


# --- pushing -----------------------------------------------------------------

class RegistryClient:
    """Just enough of the registry API to push test content: blob uploads
    (monolithic), manifests by tag and by digest, deletes. Handles the Bearer
    token dance with the given credentials, or Basic for htpasswd."""

    def __init__(self, base_url, credentials=None, ssl_context=None):
        self.base = base_url.rstrip("/")
        self.credentials = credentials
        self.ctx = ssl_context
        self.tokens = {}

    def _basic(self):
        user, pw = self.credentials
        return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()

    def _token(self, challenge):
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        q = {"service": params.get("service", "")}
        if "scope" in params:
            q["scope"] = params["scope"]
        url = params["realm"] + "?" + urllib.parse.urlencode(q)
        req = urllib.request.Request(url)
        if self.credentials:
            req.add_header("Authorization", self._basic())
        with urllib.request.urlopen(req, timeout=30) as r:
            body = json.load(r)
        return body.get("token") or body.get("access_token")

    def request(self, method, path, data=None, headers=None, ok=(200, 201, 202, 204)):
        url = path if path.startswith("http") else self.base + path
        for attempt in range(2):
            req = urllib.request.Request(url, data=data, method=method,
                                         headers=dict(headers or {}))
            scope_key = path.split("/blobs/")[0].split("/manifests/")[0]
            if scope_key in self.tokens:
                req.add_header("Authorization", self.tokens[scope_key])
            try:
                with urllib.request.urlopen(req, timeout=60, context=self.ctx) as r:
                    return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                body = e.read()
                if e.code == 401 and attempt == 0:
                    ch = e.headers.get("WWW-Authenticate", "")
                    if ch.lower().startswith("bearer"):
                        self.tokens[scope_key] = "Bearer " + self._token(ch)
                    else:
                        self.tokens[scope_key] = self._basic()
                    continue
                if e.code in ok:
                    return e.code, dict(e.headers), body
                raise RuntimeError(f"{method} {url}: {e.code} {body[:300]!r}") from None
        raise RuntimeError(f"{method} {url}: unauthorized")

    def push_blob(self, repo, data):
        digest = sha256_digest(data)
        try:
            self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
            return digest
        except RuntimeError:
            pass
        _, h, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/", data=b"",
                               headers={"Content-Length": "0"})
        loc = h["Location"]
        if not loc.startswith("http"):
            loc = self.base + loc
        sep = "&" if "?" in loc else "?"
        loc = f"{loc}{sep}digest={urllib.parse.quote(digest)}"
        # Keep the scope key of the repo for the upload URL.
        self.request("PUT", loc.replace(self.base, "") if loc.startswith(self.base) else loc,
                     data=data, headers={"Content-Type": "application/octet-stream",
                                         "Content-Length": str(len(data))})
        return digest

    def push_manifest(self, repo, reference, body, media_type):
        self.request("PUT", f"/v2/{repo}/manifests/{reference}", data=body,
                     headers={"Content-Type": media_type})

    def push_image(self, repo, image, tag=None):
        """Blobs, then the manifest by digest and (if given) by tag."""
        for layer in image.layers:
            self.push_blob(repo, layer.blob)
        self.push_blob(repo, image.config)
        self.push_manifest(repo, image.digest, image.manifest, image.media_type)
        if tag:
            self.push_manifest(repo, tag, image.manifest, image.media_type)
        return image.digest

    def push_index(self, repo, index, tag=None):
        for img in index.images + index.attestations:
            self.push_image(repo, img)
        self.push_manifest(repo, index.digest, index.manifest, index.media_type)
        if tag:
            self.push_manifest(repo, tag, index.manifest, index.media_type)
        return index.digest

    def delete_manifest(self, repo, digest):
        self.request("DELETE", f"/v2/{repo}/manifests/{digest}")
