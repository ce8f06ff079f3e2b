"""docker parity of `skiff inspect` (issue 11, item 13): the keys scripts read.

The reference is fixtures/docker_inspect.json: what docker (CLI 28.2, engine
20.10 as Debian ships them) printed for `docker inspect` of the same images
and of containers made with the same flags, recorded on the development
machine by fixtures/record_docker_inspect.py. Here skiff runs the same
commands and must emit every key docker emits, with values of the same JSON
type (null only where docker's Go type may be nil: a list, a map), and the
same values for the flags given, for Config.Entrypoint/Cmd/Env, the image's
Size and config. Deliberate differences are listed in DIFFERENT and in
docs/DOCKER-DIFFERENCES.md."""

import json
import os
import sys

import pytest

import runlib
from regkit import error_line

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "images"))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import mkimage  # noqa: E402
from record_docker_inspect import PLAIN, PREFIX, RICH, RICH_CONFIG  # noqa: E402

with open(os.path.join(HERE, "fixtures", "docker_inspect.json")) as _f:
    DOCKER = json.load(_f)

# Maps whose keys are data (label names, ports, paths, networks): their
# values' shapes are compared, not their keys.
DATA_MAPS = {"Labels", "Ports", "PortBindings", "Tmpfs", "ExposedPorts", "Volumes", "Networks"}


def is_data_map(path):
    return path.rsplit(".", 1)[-1] in DATA_MAPS or path.endswith(".LogConfig.Config")


def shape_diff(docker, skiff, path="", out=None):
    """Differences between docker's and skiff's JSON in keys and types."""
    out = [] if out is None else out
    if docker is None or skiff is None:
        # Go's nil: only a slice, a map or a pointer may be null
        other = skiff if docker is None else docker
        if other is not None and not isinstance(other, (list, dict)):
            out.append(f"{path}: docker {docker!r}, skiff {skiff!r}")
        return out
    if type(docker) is not type(skiff) and not (
            isinstance(docker, (int, float)) and isinstance(skiff, (int, float))
            and not isinstance(docker, bool) and not isinstance(skiff, bool)):
        out.append(f"{path}: docker {type(docker).__name__}, skiff {type(skiff).__name__}")
        return out
    if isinstance(docker, dict):
        if is_data_map(path):
            for k in set(docker) & set(skiff):
                shape_diff(docker[k], skiff[k], f"{path}[{k}]", out)
            values = list(docker.values())
            if values and skiff and not set(docker) & set(skiff):
                # different keys: compare one value of each
                shape_diff(values[0], next(iter(skiff.values())), f"{path}[*]", out)
            return out
        for k in sorted(set(docker) - set(skiff)):
            out.append(f"{path}.{k}: missing")
        for k in sorted(set(skiff) - set(docker)):
            out.append(f"{path}.{k}: not docker's")
        for k in set(docker) & set(skiff):
            shape_diff(docker[k], skiff[k], f"{path}.{k}", out)
    elif isinstance(docker, list) and docker and skiff:
        shape_diff(docker[0], skiff[0], f"{path}[0]", out)
    return out


@pytest.fixture
def images(skiff, tmp_path):
    """The recorder's two images, byte for byte (same ids as docker's)."""
    layers = mkimage.build_rootfs_layers()
    archive = tmp_path / "images.tar"
    mkimage.write_docker_archive(str(archive), [
        mkimage.Image(mkimage.make_config(layers), layers, [PLAIN]),
        mkimage.Image(mkimage.make_config(layers, **RICH_CONFIG), layers, [RICH])])
    skiff.ok("load", "-i", str(archive))


def has_create(skiff):
    return skiff.run("create", "--help").returncode == 0


def make(skiff, scenario):
    """The recorded container `scenario`, made by skiff with docker's flags
    (`create` is `run -d` while skiff has no create: the keys are the same)."""
    args = list(DOCKER["args"][scenario])
    if args[0] == "create" and not has_create(skiff):
        args[0:1] = ["run", "-d"]
        if args[-1] == "true":  # --rm would remove it at once
            args[-1:] = ["sleep", "1000"]
    name = PREFIX + scenario
    r = skiff.run(args[0], "--name", name, *args[1:])
    assert r.returncode in (0, 3), r.stderr  # "exited" exits 3
    if "-d" in args:
        runlib.wait_for(lambda: inspect(skiff, name)["State"]["StartedAt"][:4] != "0001",
                        what=f"{name} started")
    return name


def inspect(skiff, *args):
    return json.loads(skiff.ok("inspect", *args).stdout)[0]


@pytest.fixture
def cleanup(skiff):
    yield
    names = skiff.ok("ps", "-aq").stdout.split()
    if names:
        skiff.run("rm", "-f", *names)


# --- every key, every type -----------------------------------------------------------

@pytest.mark.parametrize("scenario", sorted(DOCKER["containers"]))
def test_container_has_every_docker_key_with_dockers_types(skiff, images, cleanup, scenario):
    name = make(skiff, scenario)
    diff = shape_diff(DOCKER["containers"][scenario], inspect(skiff, name))
    assert not diff, "\n".join(diff)


@pytest.mark.parametrize("scenario", ["running", "flags"])
def test_size_flag_adds_dockers_size_keys(skiff, images, cleanup, scenario):
    name = make(skiff, scenario)
    diff = shape_diff(DOCKER["containers_size"][scenario], inspect(skiff, "-s", name))
    assert not diff, "\n".join(diff)
    assert "SizeRw" not in inspect(skiff, name)


@pytest.mark.parametrize("image", [PLAIN, RICH])
def test_image_has_dockers_keys_config_and_size(skiff, images, image):
    want, got = DOCKER["images"][image], inspect(skiff, image)
    diff = shape_diff(want, got)
    assert not diff, "\n".join(diff)
    # the same config blob: the same id, config and history-free fields
    for key in ("Id", "Config", "ContainerConfig", "Created", "Architecture", "Os", "RootFS",
                "Parent", "Comment", "Container", "DockerVersion", "Author"):
        assert got[key] == want[key], key
    # docker counts a layer's file bytes, not its tar's
    assert got["Size"] == got["VirtualSize"] == want["Size"] == 1982534
    assert image in got["RepoTags"]
    assert got["Metadata"] == {"LastTagTime": "0001-01-01T00:00:00Z"}
    assert set(got["GraphDriver"]["Data"]) == set(want["GraphDriver"]["Data"])


# --- values of the flags given ---------------------------------------------------------

# What skiff shows differently on purpose (docs/DOCKER-DIFFERENCES.md):
# docker adds "label=disable" (SELinux) to a privileged container's SecurityOpt.
DIFFERENT = {"SecurityOpt": lambda v: [o for o in v or [] if not o.startswith("label=")] or None}


def test_flag_values_match_dockers(skiff, images, cleanup):
    want = DOCKER["containers"]["flags"]
    got = inspect(skiff, make(skiff, "flags"))
    for key in ("Memory", "MemorySwap", "NanoCpus", "CpuShares", "CpusetCpus", "PidsLimit",
                "ReadonlyRootfs", "Binds", "RestartPolicy", "CapAdd", "CapDrop", "Dns",
                "DnsOptions", "DnsSearch", "ExtraHosts", "Tmpfs", "Ulimits", "Privileged",
                "Init", "AutoRemove", "NetworkMode", "CpuQuota", "CpuPeriod", "PortBindings",
                "MaskedPaths", "ReadonlyPaths", "LogConfig", "SecurityOpt"):
        fix = DIFFERENT.get(key, lambda v: v)
        assert fix(got["HostConfig"][key]) == fix(want["HostConfig"][key]), key
    for key in ("Labels", "Entrypoint", "Cmd", "User", "WorkingDir", "StopSignal", "Env",
                "Hostname", "Domainname", "OpenStdin", "Tty", "Image", "AttachStdin",
                "StdinOnce"):
        assert got["Config"][key] == want["Config"][key], key
    assert got["Mounts"] == want["Mounts"]
    assert (got["Path"], got["Args"]) == (want["Path"], want["Args"])
    assert got["Name"] == "/" + PREFIX + "flags"


def test_defaults_are_dockers_empty_values(skiff, images, cleanup):
    want = DOCKER["containers"]["running"]
    got = inspect(skiff, make(skiff, "running"))
    for key in ("Binds", "CapAdd", "CapDrop", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts",
                "PidsLimit", "Memory", "MemorySwap", "NanoCpus", "CpuShares", "SecurityOpt",
                "PortBindings", "RestartPolicy", "ReadonlyRootfs", "Privileged", "CpusetCpus",
                "ShmSize", "VolumesFrom", "Links", "Devices", "ConsoleSize"):
        assert got["HostConfig"][key] == want["HostConfig"][key], key
    assert "Tmpfs" not in got["HostConfig"] and "Init" not in got["HostConfig"]
    for key in ("Entrypoint", "Cmd", "Env", "WorkingDir", "User", "Labels", "Volumes",
                "OnBuild", "Domainname", "AttachStdin", "AttachStdout", "Tty", "OpenStdin"):
        assert got["Config"][key] == want["Config"][key], key
    assert "StopSignal" not in got["Config"] and "ExposedPorts" not in got["Config"]
    assert got["Mounts"] == [] and got["ExecIDs"] is None
    assert got["State"]["FinishedAt"] == "0001-01-01T00:00:00Z"
    assert got["NetworkSettings"]["SandboxKey"] == f"/proc/{got['State']['Pid']}/ns/net"


def test_image_config_merges_as_dockers(skiff, images, cleanup):
    """Entrypoint and Cmd apart; the user's -e first, then the image's others;
    labels, stop signal, ports, user and workdir from the image."""
    for scenario in ("rich", "rich-env"):
        want = DOCKER["containers"][scenario]["Config"]
        got = inspect(skiff, make(skiff, scenario))["Config"]
        for key in ("Entrypoint", "Cmd", "Env", "Labels", "StopSignal", "ExposedPorts", "User",
                    "WorkingDir", "Tty", "Image"):
            assert got[key] == want[key], (scenario, key)
    assert want["Env"] == ["B=3", "C=4", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                           "/usr/bin:/sbin:/bin", "A=1"]
    assert not any(e.startswith(("HOSTNAME=", "TERM=")) for e in got["Env"])


def test_labels_merge_and_stop_signal_reaches_stop(skiff, images, cleanup):
    """-l over the image's labels (a bare key is ""); --stop-signal is what
    stop sends."""
    skiff.ok("run", "-d", "--name", "lab", "-l", "app=db", "-l", "bare", "--stop-signal",
             "SIGUSR1", "--network", "none", RICH,
             'trap "echo got-usr1; exit 0" USR1; echo ready; while :; do sleep 0.1; done')
    runlib.wait_for(lambda: "ready" in skiff.ok("logs", "lab").stdout, what="lab ready")
    cfg = inspect(skiff, "lab")["Config"]
    assert cfg["Labels"] == {"app": "db", "bare": "", "tier": "front"}
    assert cfg["StopSignal"] == "SIGUSR1"
    skiff.ok("stop", "lab")
    assert "got-usr1" in skiff.ok("logs", "lab").stdout
    assert inspect(skiff, "lab")["State"]["ExitCode"] == 0
    r = skiff.fails("run", "--stop-signal", "NOSUCH", RICH)
    assert "NOSUCH" in error_line(r)


# --- templates, -s, --type ------------------------------------------------------------------

def test_format_templates_print_dockers_text(skiff, images, cleanup):
    name = make(skiff, "flags")
    for fmt, want in DOCKER["container_format"].items():
        if fmt in ("{{.State.StartedAt}}", "{{.Config.StopTimeout}}"):
            continue  # a time; a Go nil pointer (skiff's JSON has no such key)
        assert skiff.ok("inspect", "-f", fmt, name).stdout == want, fmt
    for fmt, want in DOCKER["image_format"].items():
        if fmt != "{{.Metadata.LastTagTime}}":  # Go's time.Time text
            assert skiff.ok("inspect", "-f", fmt, PLAIN).stdout == want, fmt


def test_templates_see_the_fields_docker_omits_when_empty(skiff, images, cleanup):
    """docker's -f runs on its Go structs: a field its JSON leaves out when
    empty is still there for a template (what docker 28 printed)."""
    name = make(skiff, "running")
    assert "StopSignal" not in inspect(skiff, name)["Config"]
    out = skiff.ok("inspect", "-f", "[{{.Config.StopSignal}}] {{json .Config.ExposedPorts}} "
                   "{{json .HostConfig.Tmpfs}} {{json .SizeRw}}", name).stdout
    assert out == "[] null null null\n"
    assert skiff.ok("inspect", "-f", "[{{.Variant}}] [{{.Config.StopSignal}}]",
                    PLAIN).stdout == "[] []\n"


def test_size_counts_what_the_container_wrote(skiff, images, cleanup):
    skiff.ok("run", "-d", "--name", "writer", "--network", "none", PLAIN, "sh", "-c",
             "head -c 12345 /bin/busybox > /tmp/blob; echo done; sleep 1000")
    runlib.wait_for(lambda: "done" in skiff.ok("logs", "writer").stdout, what="written")
    got = inspect(skiff, "--size", "writer")
    image_size = inspect(skiff, PLAIN)["Size"]
    assert got["SizeRw"] == 12345
    assert got["SizeRootFs"] == image_size + 12345


def test_type_selects_containers_images_networks_and_volumes(skiff, images, cleanup):
    skiff.ok("run", "--name", "bridge-like", "--network", "none", PLAIN, "true")
    net = json.loads(skiff.ok("inspect", "--type", "network", "bridge").stdout)[0]
    assert net["Name"] == "bridge" and net["Driver"] == "bridge"
    # no container or image of that name: docker's order ends at the networks
    assert json.loads(skiff.ok("inspect", "bridge").stdout)[0]["Name"] == "bridge"
    assert inspect(skiff, "--type", "image", PLAIN)["Id"] == DOCKER["images"][PLAIN]["Id"]
    assert inspect(skiff, "--type=container", "bridge-like")["Name"] == "/bridge-like"
    r = skiff.run("inspect", "--type", "volume", "data")
    assert r.returncode == 1 and error_line(r) == "skiff: No such volume: data"
    r = skiff.run("inspect", "--type", "network", "bridge-like")
    assert r.returncode == 1 and error_line(r) == "skiff: No such network: bridge-like"
    r = skiff.run("inspect", "--type", "node", "x")
    assert r.returncode == 125 and '"node" is not a valid value for --type' in error_line(r)


def test_a_stopped_container_names_its_network(skiff, images, cleanup):
    skiff.ok("run", "--name", "on-none", "--network", "none", PLAIN, "true")
    nets = inspect(skiff, "on-none")["NetworkSettings"]["Networks"]
    assert list(nets) == ["none"]
    skiff.ok("run", "--name", "on-bridge", PLAIN, "true")
    got = inspect(skiff, "on-bridge")["NetworkSettings"]
    assert list(got["Networks"]) == ["bridge"]
    assert len(got["Networks"]["bridge"]["NetworkID"]) == 64
    assert got["Networks"]["bridge"]["IPAddress"] == "" and got["Ports"] == {}


# --- the record --------------------------------------------------------------------------

def test_a_record_from_before_still_loads(skiff, images, cleanup):
    """A container recorded by an older skiff (no "docker" part in its
    config.json) still inspects, lists and starts."""
    name = make(skiff, "rich")
    cid = inspect(skiff, name)["Id"]
    path = os.path.join(skiff.root, "containers", cid, "config.json")
    with open(path) as f:
        record = json.load(f)
    assert record["docker"]["entrypoint"] == ["/bin/sh", "-c"]
    del record["docker"]
    with open(path, "w") as f:
        json.dump(record, f)
    got = inspect(skiff, name)
    diff = shape_diff(DOCKER["containers"]["rich"], got)
    assert not diff, "\n".join(diff)
    assert got["Config"]["Cmd"] == ["/bin/sh", "-c", "echo rich"]  # merged, as it was
    assert got["Config"]["Entrypoint"] is None
    # the rest as its image says
    for key in ("Labels", "StopSignal", "ExposedPorts", "WorkingDir", "User"):
        assert got["Config"][key] == DOCKER["containers"]["rich"]["Config"][key], key
    assert not any(e.startswith("HOSTNAME=") for e in got["Config"]["Env"])
    assert got["HostConfig"]["Binds"] is None and got["HostConfig"]["Memory"] == 0
    assert cid[:12] in skiff.ok("ps", "-aq").stdout.split()
    skiff.ok("start", name)
    runlib.wait_for(lambda: inspect(skiff, name)["State"]["Status"] == "exited"
                    and inspect(skiff, name)["State"]["ExitCode"] == 0, what="restarted")
