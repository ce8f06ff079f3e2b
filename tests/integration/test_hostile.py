"""Hostile containers (issue 9): a root process in the container tries to
reach the host through every door skiff used to leave open, and must not.

  stdio        the container's stdin/stdout/stderr are skiff's own host files
               (fchmod/chown/rewrite through /proc/self/fd/N), the host's
               /dev/null, or the admin's terminal (TIOCSTI)
  exec         hostile working directories (-w /proc/self/fd/N, an image's
               WorkingDir, symlinks in the image or planted by the container),
               and a racer that watches every new process for host
               descriptors, the host binary as /proc/PID/exe, and ptrace
  --init       pid 1 holding the store, being the host binary, traceable
  shebang      CVE-2019-5736: #!/proc/self/exe runs the host's binary
  masks        masked /proc paths that are the host's /dev/null
  host users   a -e secret in the monitor's cmdline, a readable store, the
               store's path in the container's mountinfo
  passwd       /etc/passwd or /etc/group as a FIFO (a hang) or huge
  pids         a default pids limit, configurable

Each test names its attack in its docstring. Where the issue asks for
rootless too, the test runs three times: as root with a private store, and
as an unprivileged user with and without /etc/subuid ranges (`engine`).
Probes only attempt (an open for writing is closed without a write, a
traced process is let go at once) and write only under the test's
directories; the host's /dev/null is never chmodded unless it was already
proven not to be the target."""

import fcntl
import json
import os
import re
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import termios
import time

import pytest

import hostile
import regkit
from seccomp_helpers import Cgroups
from test_rootless import User

ROOTLESS = ("rootless-subids", "rootless-single-id")


# --- fixtures --------------------------------------------------------------------

@pytest.fixture(scope="session")
def probes(tmp_path_factory):
    """probe (static) and preload.so, compiled once per session."""
    return hostile.compile_probes(str(tmp_path_factory.mktemp("hostile-probes")))


def _engine(request, skiff, tmp_path):
    if request.param == "root":
        yield hostile.root_engine(skiff, tmp_path)
        return
    if not shutil.which("newuidmap"):
        pytest.fail("newuidmap missing (apt-get install uidmap)")
    user = User(subids=request.param == "rootless-subids")
    try:
        yield hostile.rootless_engine(user)
    finally:
        hostile.wait_for_exit(user.uid)
        user.close()
        hostile.delete_user_later_if_left(user.name)


@pytest.fixture(params=("root",) + ROOTLESS)
def engine(request, skiff, tmp_path):
    """skiff as root, and as an unprivileged user (with and without subids)."""
    yield from _engine(request, skiff, tmp_path)


@pytest.fixture(params=("root",))
def root(request, skiff, tmp_path):
    """skiff as root only (cgroups, device nodes of its own)."""
    yield from _engine(request, skiff, tmp_path)


@pytest.fixture
def probe_image(engine, probes):
    return engine.image(files={"bin/probe": (probes["probe"], 0o755)})


def start(engine, how, image, cmd, flags=(), **kw):
    """`run --rm FLAGS IMAGE CMD` or, for how == "exec", `exec FLAGS C CMD`
    in a container of IMAGE started for it (sleep). kw: stdin/stdout/stderr."""
    if how == "run":
        return engine.run("run", "--rm", *flags, image, *cmd, **kw)
    with engine.detached(image, "sleep", "1000") as c:
        return engine.run("exec", *flags, c, *cmd, **kw)


def lines_with(text, prefix):
    return [l[len(prefix):] for l in text.splitlines() if l.startswith(prefix)]


# --- 1. stdout / stderr redirected to a host file -------------------------------

@pytest.mark.parametrize("how", ["run", "exec"])
@pytest.mark.parametrize("fd", [1, 2], ids=["stdout", "stderr"])
def test_output_redirected_to_a_host_file_stays_the_hosts(engine, how, fd):
    """Attack: skiff's stdout (or stderr) is a host file; the container
    writes its program into it and fchmods it setuid root / chowns it
    through /proc/self/fd/N. The container must get a pipe of skiff's."""
    img = engine.image()
    out = os.path.join(engine.scratch, "out")
    open(out, "w").close()
    engine.own(out, 0o644)
    # (no 2>/dev/null: busybox runs chmod in the shell itself, so the
    # redirection would make /proc/$$/fd/2 the container's /dev/null)
    script = (f'l=$(readlink /proc/$$/fd/{fd}); chown 1234 /proc/$$/fd/{fd}; '
              f'chmod 4755 /proc/$$/fd/{fd}; echo "link=$l" >&{fd}; echo data >&{fd}')
    with open(out, "a") as f:
        streams = {"stdout": f} if fd == 1 else {"stderr": f, "stdout": subprocess.PIPE}
        r = start(engine, how, img, ["sh", "-c", script], **streams)
    st = os.stat(out)
    with open(out) as f:
        text = f.read()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o644, engine.uid, engine.gid), \
        f"the container changed the host file: mode {oct(st.st_mode)} owner {st.st_uid}"
    assert r.returncode == 0, r.stderr
    assert "data" in text.splitlines(), text
    link = lines_with(text, "link=")
    assert link and re.match(r"(pipe|socket):\[\d+\]$", link[0]), \
        f"fd {fd} in the container is {link}, not a pipe of skiff's"


# --- 2. stdin from a host file, and without -i -------------------------------------

@pytest.mark.parametrize("how", ["run", "exec"])
def test_stdin_from_a_host_file_cannot_be_rewritten(engine, how):
    """Attack: `-i` with stdin a host file; the container chmods, chowns,
    rewrites and truncates it through /proc/self/fd/0. It must still read
    the file's bytes, through a pipe."""
    img = engine.image()
    path = os.path.join(engine.scratch, "in")
    with open(path, "w") as f:
        f.write("original-data\n")
    engine.own(path, 0o644)
    script = ('read line; echo "got=$line"; echo "link=$(readlink /proc/$$/fd/0)"; '
              'chmod 4755 /proc/$$/fd/0; chown 1234 /proc/$$/fd/0; '
              'echo x > /proc/$$/fd/0; truncate -s 0 /proc/$$/fd/0; true')
    with open(path) as f:
        r = start(engine, how, img, ["sh", "-c", script], flags=["-i"], stdin=f)
    st = os.stat(path)
    with open(path) as f:
        content = f.read()
    assert content == "original-data\n", f"the container rewrote the host file: {content!r}"
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o644, engine.uid, engine.gid)
    assert r.returncode == 0, r.stderr
    assert "got=original-data" in r.stdout.splitlines(), r.stdout
    link = lines_with(r.stdout, "link=")
    assert link and re.match(r"(pipe|socket):\[\d+\]$", link[0]), link


@pytest.mark.parametrize("how", ["run", "exec"])
def test_stdin_without_i_is_the_containers_dev_null(engine, how):
    """Attack: without -i, fd 0 used to be a host object (skiff's stdin or
    the host's /dev/null); chmod 000 through /proc/self/fd/0 would break
    every process on the host. Here skiff's stdin is a test-owned null
    device node; the container's fd 0 must be its own /dev/null. The probe
    never chmods the host's /dev/null: it skips the chmod when fd 0 is it."""
    img = engine.image()
    node = os.path.join(engine.scratch, "null")
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    engine.own(node, 0o666)
    script = ('s=$(stat -L -c %d:%i /proc/$$/fd/0); echo "link=$(readlink /proc/$$/fd/0)"; '
              'echo "fd0=$s"; echo "devnull=$(stat -c %d:%i /dev/null)"; '
              'if [ "$s" != "$HOSTNULL" ]; then chmod 000 /proc/$$/fd/0; fi; true')
    flags = ["-e", f"HOSTNULL={hostile.busybox_dev_ino('/dev/null')}"]
    with open(node) as f:
        r = start(engine, how, img, ["sh", "-c", script], flags=flags, stdin=f)
    assert stat.S_IMODE(os.stat(node).st_mode) == 0o666, "the container chmodded skiff's stdin"
    assert r.returncode == 0, r.stderr
    assert lines_with(r.stdout, "link=") == ["/dev/null"], r.stdout
    fd0 = lines_with(r.stdout, "fd0=")
    assert fd0 and fd0 != [hostile.busybox_dev_ino(node)], r.stdout
    # the container's own: in a root container a node of its /dev (rootless,
    # its /dev/null is the host's, bind-mounted, which it cannot change)
    assert fd0 == lines_with(r.stdout, "devnull="), \
        f"fd 0 is not the container's /dev/null:\n{r.stdout}"


# --- 3. the host's terminal ----------------------------------------------------------

def _ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_on_pty(engine, *args, timeout=30):
    """skiff ARGS with stdin/stdout/stderr on the slave of a new pty, which
    is skiff's controlling terminal (as an admin's shell would have it).
    Returns (exit status, what the master read, what was queued as input on
    the slave: keystrokes the host's shell would read next)."""
    master, slave = os.openpty()
    try:
        p = engine.popen(*args, stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True, preexec_fn=_ctty)
        out, end = b"", time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
            elif p.poll() is not None:
                break
        if p.poll() is None:
            p.kill()
            p.wait()
            raise AssertionError(f"skiff {args} did not end; output {out!r}")
        os.set_blocking(slave, False)
        typed = b""
        while True:
            try:
                chunk = os.read(slave, 4096)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            typed += chunk
        return p.returncode, out, typed, os.fstat(slave)
    finally:
        os.close(master)
        os.close(slave)


MARKER = "hostile-tiocsti-marker"


@pytest.mark.parametrize("how", ["run", "exec"])
def test_no_keystrokes_into_the_host_terminal(engine, probe_image, how):
    """Attack: without -t, skiff's terminal was the container's stdio; TIOCSTI
    on fds 0-2 pushes commands into the admin's shell (legacy_tiocsti=1
    here). The marker must never reach the host pty's input queue."""
    if how == "run":
        rc, out, typed, _ = run_on_pty(engine, "run", "--rm", probe_image,
                                       "/bin/probe", "tiocsti", MARKER)
    else:
        with engine.detached(probe_image, "sleep", "1000") as c:
            rc, out, typed, _ = run_on_pty(engine, "exec", c, "/bin/probe", "tiocsti", MARKER)
    assert MARKER.encode() not in typed, f"keystrokes reached the host terminal: {typed!r}"
    assert rc == 0, out
    assert out.count(b"fd ") == 3, out


@pytest.mark.parametrize("how", ["run", "exec"])
def test_t_gives_a_terminal_of_the_containers_own(engine, probe_image, how):
    """With -t the container gets a pty of its own devpts (/dev/pts/0), not
    the host's terminal, and its TIOCSTI stays in that pty."""
    cmd = ["sh", "-c", f"tty; /bin/probe fdstat 0; /bin/probe tiocsti {MARKER}"]
    if how == "run":
        rc, out, typed, host = run_on_pty(engine, "run", "--rm", "-t", probe_image, *cmd)
    else:
        with engine.detached(probe_image, "sleep", "1000") as c:
            rc, out, typed, host = run_on_pty(engine, "exec", "-t", c, *cmd)
    assert MARKER.encode() not in typed, f"keystrokes reached the host terminal: {typed!r}"
    assert rc == 0, out
    lines = [l.strip() for l in out.decode(errors="replace").splitlines() if l.strip()]
    assert "/dev/pts/0" in lines, lines
    fd0 = [l.split()[0] for l in lines if re.match(r"\d+:\d+:\d+ \d+:\d+$", l)]
    assert fd0, lines
    host_dev = f"{os.major(host.st_dev)}:{os.minor(host.st_dev)}"
    assert not fd0[0].startswith(host_dev + ":"), \
        f"the container's terminal {fd0[0]} is on the host's devpts {host_dev}"


# --- 4. hostile working directories -------------------------------------------------

# Prints where the shell's cwd is: "cwd-inside PATH" when the path its link
# shows names, inside the container, the directory it is in; then the
# marker file every case tries to create.
CWD_CHECK = ('c=$(readlink /proc/$$/cwd); '
             'if [ "$(stat -c %d:%i .)" = "$(stat -c %d:%i "$c" 2>/dev/null)" ]; '
             'then echo "cwd-inside $c"; else echo "cwd-outside $c"; fi; touch escaped')


def check_workdir(engine, r, what, codes):
    """A hostile cwd either fails with one error line and an allowed exit
    code, or runs in a directory inside the container."""
    if r.returncode == 0:
        assert not lines_with(r.stdout, "cwd-outside "), \
            f"{what}: ran outside the container: {r.stdout.strip()}"
        assert re.search(r"^cwd-inside /", r.stdout, re.M), f"{what}: {r.stdout!r}"
        return
    assert not lines_with(r.stdout, "cwd-outside ") and not lines_with(r.stdout, "cwd-inside "), \
        f"{what}: exit {r.returncode} but the command ran: {r.stdout!r}"
    assert r.returncode in codes, f"{what}: exit {r.returncode}: {r.stderr}"
    try:
        regkit.error_line(r)
    except AssertionError:
        raise AssertionError(f"{what}: not one error line: {r.stderr!r}") from None


def assert_nothing_escaped(engine, tmp_path):
    """No file named 'escaped' anywhere under the store or the test's
    directories, except in a container's own upper layer."""
    tops = {engine.store, str(tmp_path), engine.scratch}
    if engine.cwd:
        tops.add(engine.cwd)
    found = set()
    for top in tops:
        found |= set(hostile.files_named(top, "escaped"))
    # containers/<id>/upper, or tmp/rm-<id>/upper while `run --rm` removes it
    own = re.escape(engine.store) + r"/(containers/|tmp/rm-)[0-9a-f]{64}/upper/"
    leaked = [p for p in found if not re.match(own, p)]
    assert not leaked, f"the container wrote host files: {leaked}"


def _check_cases(engine, results, codes):
    bad = []
    for what, r in results:
        try:
            check_workdir(engine, r, what, codes)
        except AssertionError as e:
            bad.append(str(e).splitlines()[0])
    assert not bad, "\n".join(bad)


def test_exec_workdir_proc_self_fd(engine, tmp_path):
    """Attack (CVE-2024-21626): `exec -w /proc/self/fd/N` for N in 3..15
    gives the process a cwd on a descriptor skiff holds: the store."""
    img = engine.image()
    with engine.detached(img, "sleep", "1000") as c:
        results = [(f"exec -w /proc/self/fd/{n}",
                    engine.run("exec", "-w", f"/proc/self/fd/{n}", c, "sh", "-c", CWD_CHECK))
                   for n in range(3, 16)]
    _check_cases(engine, results, codes=(126,))
    assert_nothing_escaped(engine, tmp_path)


def test_run_workdir_proc_self_fd(engine, tmp_path):
    """Attack: `run -w /proc/self/fd/N` for N in 3..15 (run's child holds
    the store's descriptors until execve)."""
    img = engine.image()
    results = [(f"run -w /proc/self/fd/{n}",
                engine.run("run", "--rm", "-w", f"/proc/self/fd/{n}", img, "sh", "-c", CWD_CHECK))
               for n in range(3, 16)]
    _check_cases(engine, results, codes=(125, 126))
    assert_nothing_escaped(engine, tmp_path)


SYMLINKS = [("work", "symlink", "/proc/self/fd/5", 0o777),
            ("up", "symlink", "../../../../..", 0o777)]


def test_run_hostile_workdir_of_the_image(engine, tmp_path):
    """Attack: the image's WorkingDir is /proc/self/fd/7, or a symlink of the
    image (/work -> /proc/self/fd/5, /up -> ../../../../..), as WorkingDir
    or as -w."""
    results = []
    img = engine.image(workdir="/proc/self/fd/7")
    results.append(("WorkingDir /proc/self/fd/7", engine.run("run", "--rm", img, "sh", "-c",
                                                             CWD_CHECK)))
    for wd in ("/work", "/up"):
        img = engine.image(special=SYMLINKS, workdir=wd)
        results.append((f"WorkingDir {wd} (symlink)",
                        engine.run("run", "--rm", img, "sh", "-c", CWD_CHECK)))
        results.append((f"run -w {wd} (symlink)",
                        engine.run("run", "--rm", "-w", wd, img, "sh", "-c", CWD_CHECK)))
    _check_cases(engine, results, codes=(125, 126))
    assert_nothing_escaped(engine, tmp_path)


def test_exec_workdir_symlinks(engine, tmp_path):
    """Attack: `exec -w DIR` where DIR is a symlink of the image (/work ->
    /proc/self/fd/5, /up -> ../../../../..) or one the container planted
    (/pN -> /proc/self/fd/N, N in 3..15): resolved in exec's process it
    leads to a descriptor of skiff's."""
    img = engine.image(special=SYMLINKS)
    with engine.detached(img, "sleep", "1000", flags=("-w", "/")) as c:
        engine.ok("exec", c, "sh", "-c",
                  "for n in $(seq 3 15); do ln -s /proc/self/fd/$n /p$n; done")
        dirs = ["/work", "/up"] + [f"/p{n}" for n in range(3, 16)]
        results = [(f"exec -w {d}", engine.run("exec", "-w", d, c, "sh", "-c", CWD_CHECK))
                   for d in dirs]
    _check_cases(engine, results, codes=(126,))
    assert_nothing_escaped(engine, tmp_path)


# --- 5. the exec race -----------------------------------------------------------------

# more for a soak: HOSTILE_RACE_EXECS=2000
RACE_EXECS = int(os.environ.get("HOSTILE_RACE_EXECS", "100"))


def read_findings(text):
    counts = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key != "example":
            counts[key] = int(value)
    return counts


def test_exec_race(engine, probe_image):
    """Attack (CVE-2019-5736 / CVE-2024-21626 classes): a process already in
    the container watches for each new pid while `skiff exec c true` runs 100
    times (HOSTILE_RACE_EXECS), and tries: /proc/P/exe is the host's skiff binary (O_PATH + fstat)
    or opens for writing; /proc/P/fd/*, cwd or root reach a file outside the
    container; PTRACE_SEIZE. Every attempt must fail."""
    host = hostile.dev_ino(engine.binary)
    with engine.detached(probe_image, "/bin/probe", "race", host, "/tmp/race.out",
                         "/tmp/race.stop") as c:
        deadline = time.monotonic() + 20
        while "racing" not in engine.run("logs", c).stdout:
            assert time.monotonic() < deadline, "the racer did not start"
            time.sleep(0.05)
        execs = [engine.run("exec", c, "true", timeout=30) for _ in range(RACE_EXECS)]
        engine.ok("exec", c, "touch", "/tmp/race.stop")
        deadline = time.monotonic() + 20
        while True:
            r = engine.run("exec", c, "cat", "/tmp/race.out")
            if r.returncode == 0:
                break
            assert time.monotonic() < deadline, f"no report from the racer: {r.stderr}"
            time.sleep(0.05)
    counts = read_findings(r.stdout)
    print(f"[{engine.name}] racer: {counts}")
    leaks = {k: counts[k] for k in ("exe_host", "exe_write", "fd_outside", "ptrace") if counts[k]}
    assert not leaks, f"the racer got through: {leaks}\n{r.stdout}"
    assert counts["pids"] >= 20, f"the racer saw only {counts['pids']} of the execs: {r.stdout}"
    failed = [(e.returncode, e.stderr) for e in execs if e.returncode != 0]
    assert not failed, failed


# --- 6. --init ------------------------------------------------------------------------

def test_init_holds_nothing_of_the_host(engine, probe_image):
    """Attack: `run --init` made pid 1 skiff's own binary: /proc/1/exe is
    the host file, its descriptors reach the store, its cmdline names host
    paths, and the container's root can ptrace it."""
    host = hostile.dev_ino(engine.binary)
    r = engine.ok("run", "--rm", "--init", probe_image, "sh", "-c",
                  f"/bin/probe pid {host} 1; echo \"cmdline=$(tr '\\0' ' ' < /proc/1/cmdline)\"")
    out = r.stdout
    assert lines_with(out, "exe ") != [host], "/proc/1/exe is the host's skiff binary"
    assert "exe_write ok" not in out.splitlines(), "/proc/1/exe opened for writing"
    fds = {l.split()[0] for l in lines_with(out, "fd ")}
    assert fds <= {"0", "1", "2"}, f"pid 1 holds more than stdio:\n{out}"
    assert not [l for l in lines_with(out, "fd ") if l.endswith(" outside")], out
    cmdline = lines_with(out, "cmdline=")
    assert cmdline, out
    for path in {engine.binary, os.path.realpath(engine.binary), engine.store,
                 os.path.realpath(engine.store)}:
        assert path not in cmdline[0], f"pid 1's cmdline names {path}: {cmdline[0]}"
    ptrace = lines_with(out, "ptrace ")
    assert ptrace and not ptrace[0].startswith("ok"), f"pid 1 could be ptraced: {out}"


# --- 7. #!/proc/self/exe ------------------------------------------------------------------

def host_libraries(binary):
    """The loader and the libraries ldd lists for binary: {path: realpath}."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs[m.group(1)] = os.path.realpath(m.group(1))
    return libs


def shebang_image(engine, probes):
    """/entry.sh is '#!/proc/self/exe'; the image also carries the host's
    dynamic loader and skiff's libraries, so that the host binary would run,
    and preload.so (LD_PRELOAD) prints which file did."""
    special, dirs = [], set()
    for path, real in host_libraries(engine.binary).items():
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
        with open(real, "rb") as f:
            special.append(("/".join(parts), "file", f.read(), 0o755))
    special += [(d, "dir", None, 0o755) for d in dirs]
    special += [("preload.so", "file", probes["preload"], 0o755),
                ("entry.sh", "file", "#!/proc/self/exe\n", 0o755)]
    return engine.image(special=special, entrypoint=["/entry.sh"], cmd=[],
                        env=["LD_PRELOAD=/preload.so"])


@pytest.mark.parametrize("how", ["run", "exec"])
def test_shebang_proc_self_exe_is_not_the_host_binary(engine, probes, how):
    """Attack (CVE-2019-5736): an entrypoint script starting with
    #!/proc/self/exe makes the kernel run whatever binary set the container
    up: the host's skiff, which the container could then rewrite. It must
    not be the host's binary; then the start fails with a message."""
    img = shebang_image(engine, probes)
    if how == "run":
        r = engine.run("run", "--rm", img)
    else:
        with engine.detached(img, "1000", flags=("--entrypoint", "/bin/sleep")) as c:
            r = engine.run("exec", c, "/entry.sh")
    host = hostile.dev_ino(engine.binary)
    exes = lines_with(r.stdout, "exe ")
    assert host not in exes, f"the host's skiff binary ran in the container ({r.stderr.strip()})"
    assert r.returncode != 0 and r.stderr.strip(), (r.returncode, r.stdout, r.stderr)


# --- 8. masked /proc paths -------------------------------------------------------------

MASKED = ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
          "/proc/latency_stats", "/proc/timer_stats")


def test_masked_paths_are_not_the_hosts_dev_null(root):
    """Attack: masked /proc files were bind mounts of the host's /dev/null,
    so `chmod 000 /proc/keys` in a container broke the host. First, without
    touching anything: none of them (nor the container's /dev nodes) is the
    host's /dev/null. Only then a harmless chmod 600 / chown, after which
    the host's /dev/null must be as it was."""
    img = root.image()
    paths = [p for p in MASKED if os.path.exists(p)] + ["/dev/null", "/dev/zero", "/dev/full"]
    r = root.ok("run", "--rm", img, "sh", "-c",
                "for p in " + " ".join(paths) + "; do echo \"$p $(stat -c %d:%i $p)\"; done")
    host = {hostile.busybox_dev_ino(p) for p in ("/dev/null", "/dev/zero", "/dev/full")}
    seen = dict(l.split() for l in r.stdout.splitlines())
    assert set(seen) == set(paths), r.stdout
    shared = {p: v for p, v in seen.items() if v in host}
    assert not shared, f"host device inodes inside the container: {shared}"
    before = os.stat("/dev/null")
    try:
        root.run("run", "--rm", img, "sh", "-c", "chmod 600 /proc/keys /proc/kcore; "
                                                "chown 1234 /proc/keys /proc/kcore")
        after = os.stat("/dev/null")
        assert (after.st_mode, after.st_uid) == (before.st_mode, before.st_uid), \
            "the container changed the host's /dev/null"
    finally:
        after = os.stat("/dev/null")
        if (after.st_mode, after.st_uid, after.st_gid) != \
                (before.st_mode, before.st_uid, before.st_gid):
            os.chmod("/dev/null", 0o666)
            os.chown("/dev/null", before.st_uid, before.st_gid)


# --- 9. secrets and store metadata ---------------------------------------------------------

def test_secret_is_in_no_cmdline(engine):
    """Attack: any host user reads /proc/PID/cmdline; a detached container's
    monitor kept `skiff run -e SECRET=...` there for its whole life. No
    process may show the value; the monitor names itself a skiff monitor."""
    img = engine.image()
    with engine.detached(img, "sleep", "1000", flags=("-e", "SECRET=hunter2")) as c:
        cid = engine.container_id(c)
        with open(os.path.join(engine.store, "containers", cid, "state.json")) as f:
            st = json.load(f)
        hits = {pid: cl for pid, cl in hostile.all_cmdlines().items() if b"hunter2" in cl}
        monitor = st.get("monitor_pid") or hostile.ppid(st["pid"])
        with open(f"/proc/{monitor}/comm") as f:
            comm = f.read().strip()
        with open(f"/proc/{monitor}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    assert not hits, f"the secret is in host cmdlines: {hits}"
    names = f"{comm} {cmdline}"
    assert "skiff" in names and "monitor" in names, \
        f"the monitor ({monitor}) does not name itself: comm {comm!r}, cmdline {cmdline!r}"


def readable_by_nobody(paths):
    """The paths that the user nobody can open for reading (or list)."""
    script = ("import os, sys\n"
              "for p in sys.stdin.read().split('\\0'):\n"
              "    if not p: continue\n"
              "    try:\n"
              "        (os.listdir if os.path.isdir(p) else (lambda q: open(q).close()))(p)\n"
              "        print(p)\n"
              "    except OSError:\n"
              "        pass\n")
    r = subprocess.run([sys.executable, "-c", script], input="\0".join(paths), text=True,
                       capture_output=True, user="nobody", group="nogroup", extra_groups=[],
                       cwd="/", timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def store_metadata(store):
    """Every file and directory of the store but the layers' and containers'
    file systems (whose modes are the image's)."""
    out = []
    for d, dirs, files in os.walk(store):
        rel = os.path.relpath(d, store).split(os.sep)
        dirs[:] = [x for x in dirs
                   if not (rel[:1] == ["layers"] and len(rel) == 2 and x == "diff")
                   and not (rel[:1] == ["containers"] and len(rel) == 2
                            and x in ("upper", "work", "rootfs", "merged"))]
        out += [os.path.join(d, x) for x in dirs + files]
    return out


@pytest.fixture
def shared_dir_engine(engine):
    """engine, but as root with its store under a directory every user can
    traverse (tmp_path is not), so that only the store's own modes protect it."""
    if engine.rootless:
        yield engine
        return
    top = tempfile.mkdtemp(prefix="skiff-hostile-", dir="/tmp")
    os.chmod(top, 0o755)
    sk = regkit.Skiff(engine.binary, os.path.join(top, "store"), os.path.join(top, "home"))
    e = hostile.Engine("root", sk.binary, sk.root, dict(sk.env), os.path.join(top, "scratch"))
    try:
        yield e
    finally:
        for name in os.listdir(os.path.join(sk.root, "containers", "names")) \
                if os.path.isdir(os.path.join(sk.root, "containers", "names")) else []:
            e.run("rm", "-f", name)
        shutil.rmtree(top, ignore_errors=True)


def test_store_is_private(shared_dir_engine):
    """Attack: another host user lists the images (refs) or reads a
    container's config (its -e values) in the store. The store is 0700
    (0711 at most, rootless) and nothing in it is readable by nobody."""
    engine = shared_dir_engine
    img = engine.image()
    with engine.detached(img, "sleep", "1000", flags=("-e", "SECRET=hunter2")):
        mode = stat.S_IMODE(os.stat(engine.store).st_mode)
        allowed = 0o711 if engine.rootless else 0o700
        assert mode & ~allowed == 0, f"store {engine.store} is {oct(mode)}"
        refs = stat.S_IMODE(os.stat(os.path.join(engine.store, "refs")).st_mode)
        assert refs & 0o077 == 0, f"refs is {oct(refs)}"
        meta = store_metadata(engine.store)
        open_to_all = [f"{p} {oct(stat.S_IMODE(st.st_mode))}"
                       for p, st in ((p, os.lstat(p)) for p in meta)
                       if stat.S_ISREG(st.st_mode) and st.st_mode & 0o007]
        assert not open_to_all, f"files of the store any user may read: {open_to_all}"
        readable = readable_by_nobody(meta)
    assert not readable, f"nobody can read: {readable}"


@pytest.mark.parametrize("how", ["run", "exec"])
def test_store_path_not_in_mountinfo(engine, how):
    """Attack: the container learns where the store is on the host (a path
    to aim the other attacks at) from /proc/self/mountinfo."""
    img = engine.image()
    r = start(engine, how, img, ["cat", "/proc/self/mountinfo"])
    assert r.returncode == 0, r.stderr
    for path in {engine.store, os.path.realpath(engine.store), "/var/lib/skiff"}:
        leaked = [l for l in r.stdout.splitlines() if path in l]
        assert not leaked, f"{path} in the container's mountinfo:\n" + "\n".join(leaked)


# --- 10. /etc/passwd and /etc/group as a FIFO, or huge -------------------------------------

def run_bounded(engine, *args, timeout=15):
    try:
        return engine.run(*args, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"skiff {' '.join(args)} hung for {timeout} s")


@pytest.mark.parametrize("name", ["passwd", "group"])
def test_run_user_with_a_fifo_in_etc(root, name):
    """Attack: the image's /etc/passwd (or /etc/group) is a FIFO: `run -u`
    blocked forever opening it. It must fail at once, naming the file."""
    img = root.image(special=[(f"etc/{name}", "fifo", None, 0o644)])
    r = run_bounded(root, "run", "--rm", "-u", "app", img, "id")
    assert r.returncode in (125, 126), (r.returncode, r.stderr)
    assert f"/etc/{name}" in regkit.error_line(r)


@pytest.mark.parametrize("name", ["passwd", "group"])
def test_exec_user_with_a_planted_fifo_in_etc(root, name):
    """Attack: the container replaces its /etc/passwd (or /etc/group) with a
    FIFO; the admin's `exec -u` hung. It must fail at once, naming the file."""
    img = root.image()
    with root.detached(img, "sleep", "1000") as c:
        root.ok("exec", c, "sh", "-c", f"rm /etc/{name} && mkfifo /etc/{name}")
        r = run_bounded(root, "exec", "-u", "app", c, "id")
    assert r.returncode != 0, r.stdout
    assert f"/etc/{name}" in regkit.error_line(r)


def test_huge_passwd_is_refused(root):
    """Attack: a 64 MiB (sparse) /etc/passwd planted by the container, read
    whole into memory by every `exec -u`. It must be refused, naming it."""
    img = root.image()
    with root.detached(img, "sleep", "1000") as c:
        root.ok("exec", c, "sh", "-c", "truncate -s 64M /etc/passwd")
        r = run_bounded(root, "exec", "-u", "app", c, "id")
    assert r.returncode != 0, r.stdout
    assert "/etc/passwd" in regkit.error_line(r)


# --- 11. a default pids limit -----------------------------------------------------------------

def pids_max(engine, image, *flags):
    with engine.detached(image, "sleep", "1000", flags=flags) as c:
        return Cgroups().read(engine.container_id(c), "pids", "pids.max")


def test_default_pids_limit(root, skiff):
    """Attack: a fork bomb in a container started without --pids-limit.
    Default 2048 (podman's); --pids-limit overrides it; "default-pids-limit"
    in the config file changes the default, -1 meaning unlimited."""
    img = root.image()
    assert pids_max(root, img) == "2048"
    assert pids_max(root, img, "--pids-limit", "100") == "100"
    config = skiff.env["SKIFF_CONFIG"]
    try:
        with open(config, "w") as f:
            json.dump({"default-pids-limit": 500}, f)
        assert pids_max(root, img) == "500"
        assert pids_max(root, img, "--pids-limit", "100") == "100"
        with open(config, "w") as f:
            json.dump({"default-pids-limit": -1}, f)
        assert pids_max(root, img) == "max"
    finally:
        os.unlink(config)
