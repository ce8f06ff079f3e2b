"""Hostile layers, built entry by entry. Each case names what it tries and what
skiff must do: "refuse" (the pull fails naming image, layer and entry) or
"confine" (the pull may succeed, but everything stays inside the layer).
Escape targets are unique names under /tmp so a test can check the host."""

import uuid
from dataclasses import dataclass, field

from .images import TarBuilder


@dataclass
class HostileCase:
    name: str
    tar: bytes
    expect: str               # "refuse", "confine" or "refuse_or_confine"
    entry: str                # the entry an error message must name
    host_paths: list = field(default_factory=list)  # must not exist afterwards
    inside: str = None        # for "confine": a path that must exist in the layer


def _tag():
    return "skiff-pwned-" + uuid.uuid4().hex[:12]


def dotdot_name():
    t = _tag()
    tar = TarBuilder().dir("etc").file("../../../../../../../../../tmp/" + t, "x").bytes()
    return HostileCase("dotdot", tar, "confine", "../../", [f"/tmp/{t}"], inside=f"tmp/{t}")


def absolute_name():
    t = _tag()
    tar = TarBuilder().dir("etc").file("/tmp/" + t, "x").bytes()
    return HostileCase("absolute", tar, "confine", "/tmp/", [f"/tmp/{t}"], inside=f"tmp/{t}")


def symlink_root_then_write():
    t = _tag()
    tar = TarBuilder().symlink("evil", "/").file(f"evil/tmp/{t}", "x").bytes()
    return HostileCase("symlink-root", tar, "refuse_or_confine", "evil", [f"/tmp/{t}"],
                       inside=f"tmp/{t}")


def symlink_up_then_write():
    t = _tag()
    tar = TarBuilder().symlink("up", "../../../../../../../../tmp").file(f"up/{t}", "x").bytes()
    return HostileCase("symlink-up", tar, "refuse_or_confine", "up", [f"/tmp/{t}"],
                       inside=f"tmp/{t}")


def symlink_up_into_existing_dir():
    """As above, but the layer has its own tmp/: resolution must land there."""
    t = _tag()
    tar = (TarBuilder().dir("tmp").symlink("up", "../../../../../../../../tmp")
           .file(f"up/{t}", "x").bytes())
    return HostileCase("symlink-up-existing", tar, "refuse_or_confine", "up", [f"/tmp/{t}"],
                       inside=f"tmp/{t}")


def hardlink_outside():
    tar = TarBuilder().dir("etc").hardlink("etc/stolen", "../../../etc/passwd").bytes()
    return HostileCase("hardlink-dotdot", tar, "refuse", "etc/stolen")


def hardlink_via_symlink_dir():
    t = _tag()
    # A file outside the layer that a successful escape would link to.
    tar = TarBuilder().symlink("hostetc", "/etc").hardlink(f"stolen-{t}", "hostetc/passwd").bytes()
    return HostileCase("hardlink-via-symlink", tar, "refuse", f"stolen-{t}")


def whiteout_empty():
    tar = TarBuilder().dir("etc").file("etc/.wh.", "").bytes()
    return HostileCase("whiteout-empty", tar, "refuse", ".wh.")


def whiteout_dotdot():
    tar = TarBuilder().dir("etc").file("etc/.wh...", "").bytes()
    return HostileCase("whiteout-dotdot", tar, "refuse", ".wh...")


def forged_opaque_xattr():
    tar = TarBuilder().dir("etc", pax={"SCHILY.xattr.trusted.overlay.opaque": "y"}).bytes()
    return HostileCase("overlay-xattr", tar, "refuse", "trusted.overlay.opaque")


def device_node_outside():
    t = _tag()
    tar = TarBuilder().device(f"../../../../../../../../tmp/{t}", 8, 0, block=True).bytes()
    return HostileCase("device-dotdot", tar, "confine", "../", [f"/tmp/{t}"], inside=f"tmp/{t}")


ALL = [dotdot_name, absolute_name, symlink_root_then_write, symlink_up_then_write,
       symlink_up_into_existing_dir, hardlink_outside, hardlink_via_symlink_dir,
       whiteout_empty, whiteout_dotdot, forged_opaque_xattr, device_node_outside]
