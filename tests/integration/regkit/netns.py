"""A test host of our own: a network namespace joined to this machine by a
veth pair, with a private address on each end. Used where a test needs a
registry that is not on 127.0.0.0/8 (which skiff, like docker, treats as
insecure): all traffic stays between this machine and a namespace the test
made itself, and the namespace is deleted afterwards."""

import os
import random
import subprocess


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class TestHost:
    def __init__(self):
        tag = f"{os.getpid() % 10000}{random.randrange(1000):03d}"
        self.netns = f"skiff-test-{tag}"
        self.host_if = f"skh{tag}"
        self.ns_if = f"skn{tag}"
        net = random.randrange(1, 250)
        self.host_ip = f"10.231.{net}.1"
        self.ip = f"10.231.{net}.2"

    def __enter__(self):
        _ip("netns", "add", self.netns)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _ip("link", "set", self.ns_if, "netns", self.netns)
            _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            _ip("-n", self.netns, "addr", "add", f"{self.ip}/30", "dev", self.ns_if)
            _ip("-n", self.netns, "link", "set", self.ns_if, "up")
            _ip("-n", self.netns, "link", "set", "lo", "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        # Deleting the namespace deletes the veth pair with it.
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, timeout=30)

    def prefix(self):
        """Command prefix that runs a program inside the test host."""
        return ["ip", "netns", "exec", self.netns]


def available():
    return os.geteuid() == 0 and subprocess.run(
        ["ip", "netns", "list"], capture_output=True).returncode == 0
