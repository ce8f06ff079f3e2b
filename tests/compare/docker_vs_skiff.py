#!/usr/bin/python3
"""The same commands through docker and through skiff, side by side.

Not part of `make check` (it needs a running dockerd). It counts the cases
whose exit code or standard output differ, after normalising what is
expected to differ (ids, names given by the engine, times, sizes), and prints
each difference. The figure goes to docs/STATUS.md.

    tests/compare/docker_vs_skiff.py [--skiff PATH] [--docker PATH] [-v]

dockerd must be running (PEERS.md: `dockerd &` with "bridge": "none"), so
every container here runs with --network none. skiff gets a private store.
Standard error is compared only for being empty or not: docker's messages
start with "docker: Error response from daemon", skiff's with "skiff:".
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "images"))
import mkimage  # noqa: E402

IMG = "cmp-busybox:1"
NN = ["--network", "none"]


def normalise(text):
    text = re.sub(r"\b[0-9a-f]{64}\b", "<ID64>", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "<ID12>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "<TIME>", text)
    text = re.sub(r"\b\d+(\.\d+)?\s?[kMG]?B\b", "<SIZE>", text)
    text = re.sub(r"(Up|Exited \(\d+\)) [^\n]*? ago", r"\1 <AGO>", text)
    text = re.sub(r"\b(About a|Less than a|\d+) (second|minute|hour)s? ago", "<AGO>", text)
    # top: host pids and the CPU share of a process just started differ by nature
    text = re.sub(r"^(root|\d+)(\s+)\d+(\s+)\d+(\s+)\d+", r"\1\2<PID>\3<PID>\4<C>", text,
                  flags=re.M)
    return text


class Engine:
    def __init__(self, name, argv):
        self.name, self.argv = name, argv

    def run(self, args, stdin=None, timeout=60):
        try:
            p = subprocess.run(self.argv + args, input=stdin, capture_output=True,
                               text=True, timeout=timeout)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return "timeout", "", "timeout"


def cases(workdir):
    """(title, [steps]): a step is (args, stdin); the last step's result is
    compared, earlier steps set things up (their results are compared too)."""
    bind = os.path.join(workdir, "bind")
    return [
        ("echo", [(["run", "--rm", *NN, IMG, "echo", "hi"], None)]),
        ("exit code", [(["run", "--rm", *NN, IMG, "sh", "-c", "exit 3"], None)]),
        ("missing command", [(["run", "--rm", *NN, IMG, "/nonexistent"], None)]),
        ("not executable", [(["run", "--rm", *NN, IMG, "/etc/passwd"], None)]),
        ("env -e", [(["run", "--rm", *NN, "-e", "A=1", IMG, "sh", "-c", "echo $A"], None)]),
        ("env of the process", [(["run", "--rm", *NN, "-e", "B=2", IMG, "sh", "-c",
                                  "env | grep -v HOSTNAME | sort"], None)]),
        ("workdir", [(["run", "--rm", *NN, "-w", "/tmp/new", IMG, "pwd"], None)]),
        ("user uid", [(["run", "--rm", *NN, "-u", "1000", IMG, "id"], None)]),
        ("user uid:gid", [(["run", "--rm", *NN, "-u", "1000:1000", IMG, "id"], None)]),
        ("user unknown", [(["run", "--rm", *NN, "-u", "nosuchuser", IMG, "id"], None)]),
        ("hostname", [(["run", "--rm", *NN, "--hostname", "h1", IMG, "hostname"], None)]),
        ("HOME", [(["run", "--rm", *NN, IMG, "sh", "-c", "echo $HOME"], None)]),
        ("stdin -i", [(["run", "--rm", "-i", *NN, IMG, "cat"], "data\n")]),
        ("stdin without -i", [(["run", "--rm", *NN, IMG, "cat"], "data\n")]),
        ("read-only", [(["run", "--rm", *NN, "--read-only", IMG, "touch", "/x"], None)]),
        ("read-only with tmpfs", [(["run", "--rm", *NN, "--read-only", "--tmpfs", "/x", IMG,
                                    "sh", "-c", "touch /x/y && echo ok"], None)]),
        ("bind mount", [(["run", "--rm", *NN, "-v", f"{bind}:/d", IMG, "cat", "/d/f"], None)]),
        ("bind mount ro", [(["run", "--rm", *NN, "-v", f"{bind}:/d:ro", IMG, "sh", "-c",
                             "echo x > /d/g"], None)]),
        ("entrypoint", [(["run", "--rm", *NN, "--entrypoint", "echo", IMG, "hi"], None)]),
        ("cap-drop ALL", [(["run", "--rm", *NN, "--cap-drop", "ALL", IMG, "sh", "-c",
                            "grep CapEff /proc/self/status"], None)]),
        ("default caps", [(["run", "--rm", *NN, IMG, "sh", "-c",
                            "grep CapEff /proc/self/status"], None)]),
        ("no_new_privs default", [(["run", "--rm", *NN, IMG, "sh", "-c",
                                    "grep NoNewPrivs /proc/self/status"], None)]),
        ("seccomp default", [(["run", "--rm", *NN, IMG, "sh", "-c",
                               "grep Seccomp: /proc/self/status"], None)]),
        ("ulimit", [(["run", "--rm", *NN, "--ulimit", "nofile=100:200", IMG, "sh", "-c",
                      "ulimit -n"], None)]),
        ("/dev", [(["run", "--rm", *NN, IMG, "ls", "/dev"], None)]),
        ("cgroup view", [(["run", "--rm", *NN, IMG, "sh", "-c",
                           "ls /sys/fs/cgroup | head -3"], None)]),
        ("memory limit seen", [(["run", "--rm", *NN, "-m", "64m", IMG, "sh", "-c",
                                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                                 "/sys/fs/cgroup/memory.max 2>/dev/null | head -1"], None)]),
        ("shm size", [(["run", "--rm", *NN, IMG, "sh", "-c",
                        "grep /dev/shm /proc/mounts | grep -o 'size=[0-9a-z]*'"], None)]),
        ("labels", [(["run", "--name", "cmp-lab", *NN, "-l", "a=b", IMG, "true"], None),
                    (["inspect", "-f", "{{.Config.Labels}}", "cmp-lab"], None),
                    (["rm", "cmp-lab"], None)]),
        ("unknown flag", [(["run", "--rm", "--no-such-flag", IMG, "true"], None)]),
        ("prefix of a flag", [(["run", "--rm", "--priv", *NN, IMG, "true"], None)]),
        ("unknown image", [(["run", "--rm", *NN, "no-such-image-here:1", "true"], None)]),
        ("-it without a tty", [(["run", "--rm", "-it", *NN, IMG, "true"], "")]),
        ("detached lifecycle", [
            (["run", "-d", "--name", "cmp-d", *NN, IMG, "sh", "-c", "echo out; sleep 100"], None),
            (["ps", "--filter", "name=^cmp-d$", "--format", "{{.Names}} {{.Command}}"], None),
            (["exec", "cmp-d", "echo", "in"], None),
            (["exec", "-u", "1000", "cmp-d", "id", "-u"], None),
            (["exec", "cmp-d", "sh", "-c", "exit 4"], None),
            (["exec", "cmp-d", "/no/such/binary"], None),
            (["exec", "-w", "/tmp", "-e", "X=1", "cmp-d", "sh", "-c", "pwd; echo $X"], None),
            (["logs", "cmp-d"], None),
            (["stop", "-t", "1", "cmp-d"], None),
            (["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "cmp-d"], None),
            (["wait", "cmp-d"], None),
            (["start", "cmp-d"], None),
            (["kill", "cmp-d"], None),
            (["wait", "cmp-d"], None),
            (["rm", "cmp-d"], None)]),
        ("foreground log", [(["run", "--name", "cmp-f", *NN, IMG, "echo", "hi"], None),
                            (["logs", "cmp-f"], None), (["rm", "cmp-f"], None)]),
        ("inspect entrypoint and cmd", [
            (["create", "--name", "cmp-c", *NN, "--entrypoint", "echo", IMG, "a", "b"], None),
            (["inspect", "-f", "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", "cmp-c"], None),
            (["inspect", "-f", "{{.HostConfig.NetworkMode}} {{.HostConfig.Memory}}", "cmp-c"], None),
            (["rm", "cmp-c"], None)]),
        ("rename", [(["create", "--name", "cmp-r1", *NN, IMG, "true"], None),
                    (["rename", "cmp-r1", "cmp-r2"], None),
                    (["ps", "-a", "--filter", "name=^cmp-r", "--format", "{{.Names}}"], None),
                    (["rm", "cmp-r2"], None)]),
        ("no such container", [(["rm", "cmp-nosuch"], None), (["stop", "cmp-nosuch"], None),
                               (["logs", "cmp-nosuch"], None), (["inspect", "cmp-nosuch"], None)]),
        ("kill -s BAD", [(["run", "-d", "--name", "cmp-k", *NN, IMG, "sleep", "100"], None),
                         (["kill", "-s", "NOSUCHSIG", "cmp-k"], None),
                         (["rm", "-f", "cmp-k"], None)]),
        ("images format", [(["images", "--format", "{{.Repository}}:{{.Tag}}", "cmp-busybox"], None)]),
        ("image inspect", [(["image", "inspect", "-f", "{{.Config.Cmd}} {{.Os}}/{{.Architecture}}",
                             IMG], None)]),
        ("rmi missing", [(["rmi", "no-such-image-here:1"], None)]),
        ("rmi -f missing", [(["rmi", "-f", "no-such-image-here:1"], None)]),
        ("tag", [(["tag", IMG, "cmp-busybox:tagged"], None),
                 (["images", "--format", "{{.Tag}}", "cmp-busybox"], None),
                 (["rmi", "cmp-busybox:tagged"], None)]),
        ("volume", [(["volume", "create", "cmp-vol"], None),
                    (["run", "--rm", *NN, "-v", "cmp-vol:/v", IMG, "sh", "-c", "echo x > /v/f"], None),
                    (["run", "--rm", *NN, "-v", "cmp-vol:/v", IMG, "cat", "/v/f"], None),
                    (["volume", "rm", "cmp-vol"], None)]),
        ("cp", [(["create", "--name", "cmp-cp", *NN, IMG, "true"], None),
                (["cp", "cmp-cp:/etc/passwd", os.path.join(workdir, "passwd")], None),
                (["rm", "cmp-cp"], None)]),
        ("top", [(["run", "-d", "--name", "cmp-top", *NN, IMG, "sleep", "100"], None),
                 (["top", "cmp-top"], None),
                 (["rm", "-f", "cmp-top"], None)]),
        ("pause", [(["run", "-d", "--name", "cmp-p", *NN, IMG, "sleep", "100"], None),
                   (["pause", "cmp-p"], None),
                   (["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "cmp-p"], None),
                   (["unpause", "cmp-p"], None),
                   (["rm", "-f", "cmp-p"], None)]),
        ("pipe closed early", [(["run", "--rm", *NN, IMG, "sh", "-c", "yes | head -1"], None)]),
        ("stop timeout exit", [(["run", "-d", "--name", "cmp-s", *NN, IMG, "sleep", "100"], None),
                               (["stop", "-t", "0", "cmp-s"], None),
                               (["inspect", "-f", "{{.State.ExitCode}}", "cmp-s"], None),
                               (["rm", "cmp-s"], None)]),
        ("version format", [(["version", "--format", "{{.Client.Os}}"], None)]),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skiff", default=os.path.join(HERE, "..", "..", "skiff"))
    ap.add_argument("--docker", default="docker")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    docker = Engine("docker", [args.docker])
    if docker.run(["version", "--format", "{{.Server.Version}}"])[0] != 0:
        print("compare: dockerd is not running (see PEERS.md)", file=sys.stderr)
        return 77
    work = tempfile.mkdtemp(prefix="skiff-cmp-")
    try:
        skiff = Engine("skiff", [os.path.abspath(args.skiff), "--root", os.path.join(work, "store")])
        os.makedirs(os.path.join(work, "bind"))
        with open(os.path.join(work, "bind", "f"), "w") as f:
            f.write("bound\n")
        archive = os.path.join(work, "img.tar")
        mkimage.main(["docker-archive", archive, "--tag", IMG, "--cmd", "sh"])
        for e in (docker, skiff):
            code, out, err = e.run(["load", "-i", archive])
            if code != 0:
                print(f"compare: {e.name} load failed: {err.strip()}", file=sys.stderr)
                return 1
        same = differ = 0
        for title, steps in cases(work):
            results = {}
            for e in (docker, skiff):
                results[e.name] = []
                for argv, stdin in steps:
                    code, out, err = e.run(argv, stdin)
                    results[e.name].append((code, normalise(out), bool(err.strip()), err.strip()))
            d = [(argv, a, b) for (argv, _), a, b in
                 zip(steps, results["docker"], results["skiff"]) if a[:3] != b[:3]]
            if d:
                differ += 1
                print(f"DIFF  {title}")
                for argv, a, b in d:
                    print(f"      {' '.join(argv)}")
                    print(f"        docker: exit {a[0]} out {a[1]!r} err {a[3][:100]!r}")
                    print(f"        skiff:  exit {b[0]} out {b[1]!r} err {b[3][:100]!r}")
            else:
                same += 1
                if args.verbose:
                    print(f"same  {title}")
        docker.run(["rm", "-f", "cmp-lab", "cmp-d", "cmp-f", "cmp-c", "cmp-r1", "cmp-r2",
                    "cmp-k", "cmp-cp", "cmp-top", "cmp-p", "cmp-s"])
        docker.run(["volume", "rm", "-f", "cmp-vol"])
        docker.run(["rmi", "-f", IMG, "cmp-busybox:tagged"])
        print(f"\n{same + differ} cases: {same} behave the same, {differ} differ")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
