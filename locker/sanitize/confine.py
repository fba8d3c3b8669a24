"""What the sanitiser child gives up before it reads a hostile byte.

A code-execution bug in a parser (libheif, libjpeg, qpdf, PDFium, Pillow) runs with
whatever the child still holds. So the child holds almost nothing: an empty environment
(its fork server was started with none, so not even /proc/self/environ holds a secret),
no open descriptor but /dev/null and its answer pipe, no way to gain privileges
(no_new_privs), and a system-call filter (seccomp, through libseccomp) that refuses
sockets of every kind, running programs, tracing or reading other processes, and
changing namespaces or mounts.

Not yet: on a service that does not run as root, the child can still open files its user
may read (the data dir, the key file, the SQLite database). Landlock, or an unprivileged
uid for the child, is the next step; see the project's issues.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Collection

import pyseccomp as seccomp

# Refused with EPERM (not a kill: a library probing for a feature gets an error it knows).
DENIED_SYSCALLS = (
    "socket",
    "socketpair",
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "chroot",
    "pivot_root",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "io_uring_setup",
    "kexec_load",
    "init_module",
    "finit_module",
    "delete_module",
)


def _close_all_but(keep: Collection[int]) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != devnull:
            os.dup2(devnull, fd)
    open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor, gone already
                os.close(fd)


def confine(keep: Collection[int]) -> None:
    """Drop the environment, every descriptor but `keep`, and load the syscall filter."""
    os.environ.clear()
    _close_all_but(keep)
    syscall_filter = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            syscall_filter.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            continue  # a call this architecture does not have
    syscall_filter.load()  # sets no_new_privs first (libseccomp's default)
