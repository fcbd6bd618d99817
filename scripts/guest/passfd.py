#!/usr/bin/env python3
"""Writes a text command to /dev/rust_sockmod through a descriptor that another process opened
and passed over SCM_RIGHTS: the device must judge the opener's credentials, not the writer's.

  passfd.py write DEV TEXT -- OPENER...   run OPENER... -c "passfd.py send DEV FD" (e.g.
                                          capsh --drop=cap_net_admin --), take the descriptor
                                          it sends, write TEXT through it; exit 0 if the write
                                          succeeded, 1 with the error otherwise
  passfd.py pass DEV OPENER... :: USER...  the same passing, then run USER... with the
                                          descriptor as its fd 9 (e.g. capsh --drop=cap_net_admin
                                          -- -c "echo 'release 3' >&9", or userspace_test
                                          --device-fd 9 release 3); exit with USER's status
  passfd.py send DEV FD                   (the opener's side) open DEV, send it over socket FD
"""
import os
import shlex
import socket
import subprocess
import sys


def send(dev, fd):
    with socket.socket(fileno=int(fd)) as s:
        f = os.open(dev, os.O_RDWR)
        socket.send_fds(s, [b"f"], [f])


def receive(dev, opener):
    """Runs OPENER to open DEV and send it back; returns the descriptor received."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    cmd = f"python3 {shlex.quote(os.path.abspath(__file__))} send {shlex.quote(dev)} {theirs.fileno()}"
    opener_run = subprocess.run(opener + ["-c", cmd], pass_fds=[theirs.fileno()])
    theirs.close()
    if opener_run.returncode != 0:
        sys.exit(f"passfd: the opener failed (exit {opener_run.returncode})")
    _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    if len(fds) != 1:
        sys.exit("passfd: no descriptor received")
    return fds[0]


def write(dev, text, opener):
    fd = receive(dev, opener)
    try:
        os.write(fd, (text + "\n").encode())
    except OSError as e:
        sys.exit(f"passfd: write: {e.strerror}")
    finally:
        os.close(fd)
    print("passfd: write succeeded")


def hand_over(dev, opener, user):
    fd = receive(dev, opener)
    os.dup2(fd, 9)
    os.close(fd)
    sys.exit(subprocess.run(user, pass_fds=[9]).returncode)


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "send":
        send(a[1], a[2])
    elif len(a) >= 5 and a[0] == "pass" and "::" in a[3:-1]:
        sep = a.index("::", 3)
        hand_over(a[1], a[2:sep], a[sep + 1:])
    elif len(a) >= 5 and a[0] == "write" and a[3] == "--":
        write(a[1], a[2], a[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
