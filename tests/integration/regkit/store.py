"""Read-only views of a skiff store on disk (see src/image/store.h), for
asserting what a command left behind."""

import os


class StoreView:
    def __init__(self, root):
        self.root = str(root)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def refs(self):
        """{canonical ref: (manifest digest, config digest)}"""
        out = {}
        try:
            with open(self.path("refs")) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        out[parts[0]] = (parts[1], parts[2])
        except FileNotFoundError:
            pass
        return out

    def layer_ids(self):
        """hex diff_ids of committed layers (tmp-* excluded)."""
        try:
            names = os.listdir(self.path("layers"))
        except FileNotFoundError:
            return set()
        return {n for n in names if not n.startswith("tmp-")}

    def tmp_layers(self):
        try:
            return [n for n in os.listdir(self.path("layers")) if n.startswith("tmp-")]
        except FileNotFoundError:
            return []

    def layer_diff(self, diff_id):
        hex_ = diff_id.split(":", 1)[-1]
        return self.path("layers", hex_, "diff")

    def has_blob(self, digest):
        return os.path.exists(self.path("blobs", "sha256", digest.split(":", 1)[-1]))

    def partials(self):
        try:
            return os.listdir(self.path("partial"))
        except FileNotFoundError:
            return []

    def snapshot(self):
        """What a failed command must not change: refs, layers, blobs."""
        blobs = set()
        try:
            blobs = set(os.listdir(self.path("blobs", "sha256")))
        except FileNotFoundError:
            pass
        return {"refs": self.refs(), "layers": self.layer_ids(), "blobs": blobs}
