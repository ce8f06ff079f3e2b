#!/usr/bin/python3
"""Small, deterministic test images built from Debian's busybox-static.

Command line:
    mkimage.py docker-archive OUT.tar [--tag NAME:TAG] [--layers N] [--cmd ...]
               [--entrypoint ...] [--env K=V] [--workdir D] [--user U]
               [--docker-layout legacy|blobs] [--gzip]
    mkimage.py oci-archive OUT.tar [same options] [--compression gzip|none|zstd]
               [--ref-name NAME] [--nested-index]

--cmd and --entrypoint take one argument each, a JSON array ('["/bin/sh","-c","x"]')
or a plain word; repeat --env for several variables.

As a module (sys.path.insert(0, "tests/images"); import mkimage):
    layers = mkimage.build_rootfs_layers(n_layers=3)        # list of tar bytes
    config = mkimage.make_config(layers, cmd=["/bin/sh"])   # config JSON bytes
    mkimage.write_docker_archive("x.tar", [mkimage.Image(config, layers, ["x:1"])])
    mkimage.write_oci_archive("y.tar", mkimage.Image(config, layers, ["y:1"]))
    mkimage.tar_bytes([...entries...])                       # hostile archives

Everything is byte-for-byte reproducible: fixed mtimes, numeric uid/gid, sorted
entries, gzip without a timestamp.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

MTIME = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "ls", "cat", "echo", "true", "false", "id", "env", "ps", "mount",
           "hostname", "sleep", "printf", "test", "grep", "wc", "head")

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
REF_NAME = "org.opencontainers.image.ref.name"


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def digest(data):
    return "sha256:" + sha256_hex(data)


# --- tar entries -------------------------------------------------------------

class Entry:
    """One tar entry. kind: 'file', 'dir', 'symlink', 'hardlink'."""

    def __init__(self, name, kind="file", data=b"", mode=None, uid=0, gid=0, target=""):
        self.name = name
        self.kind = kind
        self.data = data.encode() if isinstance(data, str) else data
        self.mode = mode if mode is not None else {"dir": 0o755, "symlink": 0o777}.get(kind, 0o644)
        self.uid, self.gid = uid, gid
        self.target = target


_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE,
          "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
          "chardev": tarfile.CHRTYPE}


def tar_bytes(entries, sort=True):
    """A deterministic tar (PAX, numeric ids) of Entry objects. Names are written
    exactly as given (hostile tests need '../x' and friends), in sorted order
    unless sort=False."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in (sorted(entries, key=lambda e: e.name) if sort else entries):
            ti = tarfile.TarInfo(e.name)
            ti.type = _TYPES[e.kind]
            ti.mode = e.mode
            ti.uid, ti.gid = e.uid, e.gid
            ti.uname = ti.gname = ""
            ti.mtime = MTIME
            if e.kind in ("symlink", "hardlink"):
                ti.linkname = e.target
            if e.kind == "chardev":  # target: "MAJOR:MINOR"
                ti.devmajor, ti.devminor = (int(x) for x in e.target.split(":"))
            if e.kind == "file":
                ti.size = len(e.data)
                tar.addfile(ti, io.BytesIO(e.data))
            else:
                tar.addfile(ti)
    return buf.getvalue()


def _busybox_bytes():
    if not os.path.exists(BUSYBOX):
        sys.exit("mkimage: %s missing (apt-get install -y busybox-static)" % BUSYBOX)
    with open(BUSYBOX, "rb") as f:
        return f.read()


def rootfs_entries(extra_files=None):
    """The base layer: busybox, its applet links, users and the usual dirs.
    extra_files: {path: bytes|str|(bytes|str, mode)} added to it."""
    es = [Entry(d, "dir") for d in ("bin", "etc", "home", "proc", "sys", "dev")]
    es += [Entry("tmp", "dir", mode=0o1777), Entry("root", "dir", mode=0o700),
           Entry("home/app", "dir", uid=1000, gid=1000)]
    es.append(Entry("bin/busybox", data=_busybox_bytes(), mode=0o755))
    es += [Entry("bin/" + a, "symlink", target="busybox") for a in APPLETS]
    es += [Entry("etc/passwd", data=PASSWD), Entry("etc/group", data=GROUP)]
    for path, val in (extra_files or {}).items():
        data, mode = val if isinstance(val, tuple) else (val, 0o644)
        # replaces a base entry of that path (docker load refuses duplicates)
        es = [e for e in es if e.name != path.lstrip("/")]
        es.append(Entry(path.lstrip("/"), data=data, mode=mode))
    return es


def build_rootfs_layers(n_layers=1, extra_files=None):
    """List of uncompressed layer tars: the busybox root, then n_layers-1 small
    layers, layer i adding the file /layer-<i> (i = 1 ...)."""
    layers = [tar_bytes(rootfs_entries(extra_files))]
    for i in range(1, n_layers):
        layers.append(tar_bytes([Entry("layer-%d" % i, data="layer %d\n" % i)]))
    return layers


def compress(data, how):
    if how == "none":
        return data
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if how == "zstd":
        if not shutil.which("zstd"):
            sys.exit("mkimage: zstd CLI missing (apt-get install -y zstd)")
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    raise ValueError("unknown compression %r" % how)


# --- config and manifests ----------------------------------------------------

def make_config(layers, cmd=None, entrypoint=None, env=None, workdir=None, user=None,
                arch="amd64", os_="linux", labels=None, stop_signal=None, exposed_ports=None):
    """Image config JSON (bytes) for these uncompressed layer tars."""
    env = list(env) if env else []
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    cfg = {"Env": env, "Cmd": cmd if cmd is not None else ["/bin/sh"]}
    if entrypoint is not None:
        cfg["Entrypoint"] = entrypoint
    if workdir:
        cfg["WorkingDir"] = workdir
    if user:
        cfg["User"] = user
    if labels:
        cfg["Labels"] = labels
    if stop_signal:
        cfg["StopSignal"] = stop_signal
    if exposed_ports:
        cfg["ExposedPorts"] = {p: {} for p in exposed_ports}
    doc = {
        "architecture": arch,
        "os": os_,
        "created": CREATED,
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [digest(l) for l in layers]},
        "history": [{"created": CREATED, "created_by": "mkimage.py layer %d" % i}
                    for i in range(len(layers))],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def make_manifest(config, blobs, media_type=MT_OCI_MANIFEST, layer_type=None):
    """Manifest JSON (bytes). blobs: the layer blobs as stored (maybe compressed)."""
    docker = media_type == MT_DOCKER_MANIFEST
    lt = layer_type or (OCI_LAYER_TYPES["gzip"] if not docker else
                        "application/vnd.docker.image.rootfs.diff.tar.gzip")
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": MT_DOCKER_CONFIG if docker else MT_OCI_CONFIG,
                   "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": lt, "digest": digest(b), "size": len(b)} for b in blobs],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


class Image:
    """An image to archive: config bytes, uncompressed layer tars, tags."""

    def __init__(self, config, layers, tags=()):
        self.config = config
        self.layers = list(layers)
        self.tags = list(tags)


# --- archive writing ---------------------------------------------------------

class ArchiveWriter:
    """A deterministic outer tar: files, dirs and symlinks in insertion order."""

    def __init__(self):
        self.entries = []
        self.names = set()

    def file(self, name, data):
        if name not in self.names:
            self.names.add(name)
            self.entries.append(Entry(name, data=data))

    def dir(self, name):
        if name not in self.names:
            self.names.add(name)
            self.entries.append(Entry(name, "dir"))

    def symlink(self, name, target):
        if name not in self.names:
            self.names.add(name)
            self.entries.append(Entry(name, "symlink", target=target))

    def write(self, path, gzip_outer=False):
        data = tar_bytes(self.entries, sort=False)
        if gzip_outer:
            data = gzip.compress(data, mtime=0)
        if path == "-":
            sys.stdout.buffer.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)
        return data


def _v1_ids(layers):
    """Legacy docker-save layer directory names: a chain over the diff_ids, so the
    same layer at a different position gets its own directory."""
    ids, parent = [], ""
    for l in layers:
        parent = sha256_hex((parent + " " + digest(l)).encode())
        ids.append(parent)
    return ids


def _add_docker_legacy(w, img, gzip_layers):
    layer_names, first_of = [], {}
    for lid, layer in zip(_v1_ids(img.layers), img.layers):
        w.dir(lid)
        w.file(lid + "/VERSION", b"1.0")
        w.file(lid + "/json", json.dumps({"id": lid}).encode())
        d = digest(layer)
        if d in first_of:  # docker save links duplicate layers
            w.symlink(lid + "/layer.tar", "../%s/layer.tar" % first_of[d])
        else:
            first_of[d] = lid
            w.file(lid + "/layer.tar", compress(layer, "gzip") if gzip_layers else layer)
        layer_names.append(lid + "/layer.tar")
    cfg_name = sha256_hex(img.config) + ".json"
    w.file(cfg_name, img.config)
    return {"Config": cfg_name, "RepoTags": img.tags or None, "Layers": layer_names}


def _add_docker_blobs(w, img, gzip_layers):
    """docker 25+: an OCI layout plus manifest.json pointing into blobs/."""
    w.dir("blobs")
    w.dir("blobs/sha256")
    names = []
    for layer in img.layers:
        blob = compress(layer, "gzip") if gzip_layers else layer
        names.append("blobs/sha256/" + sha256_hex(blob))
        w.file(names[-1], blob)
    w.file("blobs/sha256/" + sha256_hex(img.config), img.config)
    return {"Config": "blobs/sha256/" + sha256_hex(img.config),
            "RepoTags": img.tags or None, "Layers": names}


def _add_docker_oci_index(w, images, gzip_layers):
    """docker 25+ also writes an OCI index: one manifest per tag, annotated with
    the full name (containerd) and the bare tag (OCI ref.name)."""
    descs = []
    lt = OCI_LAYER_TYPES["gzip" if gzip_layers else "none"]
    for img in images:
        blobs = [compress(l, "gzip") if gzip_layers else l for l in img.layers]
        man = make_manifest(img.config, blobs, MT_OCI_MANIFEST, lt)
        w.file("blobs/sha256/" + sha256_hex(man), man)
        desc = {"mediaType": MT_OCI_MANIFEST, "digest": digest(man), "size": len(man)}
        for t in img.tags or [None]:
            d = dict(desc)
            if t:
                d["annotations"] = {"io.containerd.image.name": t,
                                    REF_NAME: t.rpartition(":")[2]}
            descs.append(d)
    w.file("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    w.file("index.json", json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                                     "manifests": descs}).encode())


def write_docker_archive(path, images, layout="legacy", gzip_layers=False, gzip_outer=False):
    """A `docker save` tarball holding images (list of Image)."""
    w = ArchiveWriter()
    add = _add_docker_legacy if layout == "legacy" else _add_docker_blobs
    manifest = [add(w, img, gzip_layers) for img in images]
    if layout == "blobs":
        _add_docker_oci_index(w, images, gzip_layers)
    repos = {}
    for img, m in zip(images, manifest):
        for t in img.tags:
            name, _, tag = t.rpartition(":")
            repos.setdefault(name, {})[tag] = m["Layers"][-1].split("/")[-2]
    if repos and layout == "legacy":
        w.file("repositories", json.dumps(repos).encode())
    w.file("manifest.json", json.dumps(manifest).encode())
    return w.write(path, gzip_outer)


def write_oci_archive(path, img, compression="gzip", ref_name=None, nested_index=False,
                      gzip_outer=False):
    """An OCI image layout tarball. ref_name defaults to the first tag.
    nested_index: index.json points at an index holding this manifest (linux/amd64)
    and an arm64 entry whose blobs are absent (the loader must not need them)."""
    w = ArchiveWriter()
    w.file("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    w.dir("blobs")
    w.dir("blobs/sha256")
    blobs = [compress(l, compression) for l in img.layers]
    for b in blobs:
        w.file("blobs/sha256/" + sha256_hex(b), b)
    w.file("blobs/sha256/" + sha256_hex(img.config), img.config)
    man = make_manifest(img.config, blobs, MT_OCI_MANIFEST, OCI_LAYER_TYPES[compression])
    w.file("blobs/sha256/" + sha256_hex(man), man)
    desc = {"mediaType": MT_OCI_MANIFEST, "digest": digest(man), "size": len(man)}
    if nested_index:
        amd = dict(desc, platform={"os": "linux", "architecture": "amd64"})
        arm = {"mediaType": MT_OCI_MANIFEST, "digest": "sha256:" + "ab" * 32, "size": 500,
               "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
        inner = json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                            "manifests": [arm, amd]}).encode()
        w.file("blobs/sha256/" + sha256_hex(inner), inner)
        desc = {"mediaType": MT_OCI_INDEX, "digest": digest(inner), "size": len(inner)}
    name = ref_name if ref_name is not None else (img.tags[0] if img.tags else None)
    if name:
        desc["annotations"] = {REF_NAME: name}
    index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": [desc]}
    w.file("index.json", json.dumps(index).encode())
    return w.write(path, gzip_outer)


# --- command line ------------------------------------------------------------

def _json_or_word(s):
    if s is None:
        return None
    try:
        v = json.loads(s)
        if isinstance(v, list):
            return v
    except ValueError:
        pass
    return [s]


def main(argv=None):
    p = argparse.ArgumentParser(description="build small busybox test images")
    p.add_argument("kind", choices=["docker-archive", "oci-archive"])
    p.add_argument("out", help="output file, '-' for stdout")
    p.add_argument("--tag", action="append", default=[], help="NAME:TAG (repeatable)")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--cmd")
    p.add_argument("--entrypoint")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--workdir")
    p.add_argument("--user")
    p.add_argument("--file", action="append", default=[], metavar="PATH=CONTENT",
                   help="extra file in the base layer")
    p.add_argument("--docker-layout", choices=["legacy", "blobs"], default="legacy",
                   help="legacy: <hex>/layer.tar; blobs: blobs/sha256/<hex> (docker 25+)")
    p.add_argument("--gzip", action="store_true", help="gzip the whole archive")
    p.add_argument("--gzip-layers", action="store_true", help="docker-archive: gzip layers")
    p.add_argument("--compression", choices=["gzip", "none", "zstd"], default="gzip",
                   help="oci-archive layer compression")
    p.add_argument("--ref-name", help="oci-archive: ref.name annotation (default: tag)")
    p.add_argument("--nested-index", action="store_true")
    a = p.parse_args(argv)
    if a.layers < 1:
        p.error("--layers must be at least 1")
    extra = dict(f.split("=", 1) for f in a.file)
    layers = build_rootfs_layers(a.layers, extra)
    config = make_config(layers, cmd=_json_or_word(a.cmd), entrypoint=_json_or_word(a.entrypoint),
                         env=a.env, workdir=a.workdir, user=a.user)
    img = Image(config, layers, a.tag)
    if a.kind == "docker-archive":
        write_docker_archive(a.out, [img], a.docker_layout, a.gzip_layers, a.gzip)
    else:
        write_oci_archive(a.out, img, a.compression, a.ref_name, a.nested_index, a.gzip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
