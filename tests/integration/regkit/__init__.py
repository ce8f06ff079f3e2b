"""regkit: the integration suite's registry kit. A real docker-registry, a
token server, TLS material, a lying proxy, images built and pushed from
python, hostile layers, and helpers to run skiff and look at its store."""

from . import hostile, images
from .images import (MTIME_FIXED, DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1, OCI_INDEX, OCI_MANIFEST,
                     Image, Index, Layer, RegistryClient, TarBuilder, busybox_image, busybox_tar)
from .proxy import BlobServer, LyingProxy
from .registry import Registry
from .store import StoreView
from .tlsgen import TLSMaterial
from .tokens import TokenServer
from .util import DEFAULT_TIMEOUT, Skiff, error_line, free_port, sha256_digest
