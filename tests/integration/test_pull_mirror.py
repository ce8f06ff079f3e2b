"""docker.io through registry mirrors (SKIFF_REGISTRY_MIRROR, --registry-mirror,
"registry-mirrors" in config.json): `skiff pull busybox` means
docker.io/library/busybox:latest, fetched from the first mirror that works."""

import json
import os
import re
import time

import regkit


def test_official_image_name_resolves_on_mirror(skiff, store, registry, busybox):
    registry.client.push_image("library/busybox", busybox, tag="latest")

    skiff.ok("pull", "busybox", env={"SKIFF_REGISTRY_MIRROR": registry.url})

    assert store.refs()["docker.io/library/busybox:latest"][0] == busybox.digest
    assert registry.requests("GET", r"^/v2/library/busybox/manifests/latest$")
    row = [l for l in skiff.ok("images").stdout.splitlines()[1:] if l.split()[0] == "busybox"]
    assert len(row) == 1 and row[0].split()[1] == "latest"


def test_user_image_and_tag_on_mirror(skiff, store, registry, busybox):
    registry.client.push_image("someone/tool", busybox, tag="v1")

    skiff.ok("pull", "someone/tool:v1", env={"SKIFF_REGISTRY_MIRROR": registry.url})

    assert "docker.io/someone/tool:v1" in store.refs()


def test_mirror_from_flag(skiff, store, registry, busybox):
    registry.client.push_image("library/busybox", busybox, tag="latest")

    r = skiff.run("--registry-mirror", registry.url, "pull", "busybox")

    assert r.returncode == 0, r.stderr
    assert "docker.io/library/busybox:latest" in store.refs()


def test_mirror_from_user_config_file(skiff, store, registry, busybox):
    registry.client.push_image("library/busybox", busybox, tag="latest")
    cfg_dir = os.path.join(skiff.env["XDG_CONFIG_HOME"], "skiff")
    os.makedirs(cfg_dir)
    with open(os.path.join(cfg_dir, "config.json"), "w") as f:
        json.dump({"registry-mirrors": [registry.url]}, f)

    skiff.ok("pull", "busybox")

    assert "docker.io/library/busybox:latest" in store.refs()


def test_dead_mirror_falls_back_to_next(skiff, store, registry, busybox):
    registry.client.push_image("library/busybox", busybox, tag="latest")
    dead = f"http://127.0.0.1:{regkit.free_port()}"

    t0 = time.monotonic()
    skiff.ok("pull", "busybox", env={"SKIFF_REGISTRY_MIRROR": f"{dead},{registry.url}"})

    assert time.monotonic() - t0 < 60
    assert store.refs()["docker.io/library/busybox:latest"][0] == busybox.digest


def test_mirror_without_the_image_falls_back_to_next(tmp_path, skiff, store, registry, busybox):
    registry.client.push_image("library/busybox", busybox, tag="latest")
    with regkit.Registry(tmp_path / "empty") as empty:
        skiff.ok("pull", "busybox",
                 env={"SKIFF_REGISTRY_MIRROR": f"{empty.url},{registry.url}"})
        assert empty.requests("GET", r"/v2/library/busybox/manifests/latest")
    assert "docker.io/library/busybox:latest" in store.refs()


def test_mirror_is_not_used_for_other_registries(tmp_path, skiff, store, registry, busybox):
    registry.client.push_image("tools/busybox", busybox, tag="latest")
    with regkit.Registry(tmp_path / "mirror") as mirror:
        skiff.ok("pull", f"{registry.hostport}/tools/busybox",
                 env={"SKIFF_REGISTRY_MIRROR": mirror.url})
        assert not mirror.requests(path_re=r"^/v2/.+")


def test_all_mirrors_dead_and_origin_unreachable_is_reported(skiff, store):
    dead = f"http://127.0.0.1:{regkit.free_port()}"
    env = {"SKIFF_REGISTRY_MIRROR": dead,
           # No internet here; make the origin fail fast and deterministically.
           "https_proxy": f"http://127.0.0.1:{regkit.free_port()}",
           "HTTPS_PROXY": f"http://127.0.0.1:{regkit.free_port()}"}

    r = skiff.fails("pull", "busybox", env=env, timeout=180, code=1)

    line = regkit.error_line(r)
    assert "busybox" in line
    assert re.search(r"registry-1\.docker\.io|docker\.io", line), line
    assert not store.refs()
