"""What the sanitiser child gives up before it reads a hostile byte.

A code-execution bug in a parser (libheif, libjpeg, qpdf, PDFium, Pillow) runs with
whatever the child still holds. So the child holds almost nothing: an empty environment
(its fork server was started with none, so not even /proc/self/environ holds a secret),
no open descriptor but /dev/null and its answer pipe, no way to gain privileges
(no_new_privs), and a system-call filter (seccomp, through libseccomp) that refuses
sockets of every kind, running programs, tracing or reading other processes, and
changing namespaces or mounts.

The file system is cut down with Landlock: the child may read the Python installation and
the system's libraries and data, and read and write its own upload's working folder;
nothing else (not the data dir, the key file, the database, nor another upload), whatever
user the service runs as.

Not yet: when the service runs as root the child keeps uid 0 (Landlock and seccomp still
hold, and no_new_privs forbids gaining more); dropping to an unprivileged uid is next.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import sysconfig
from collections.abc import Collection
from pathlib import Path

import pyseccomp as seccomp
from landlock import Ruleset
from landlock.plumbing import FSAccess

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


# Read-only: the system's libraries and data (codecs, fonts, the magic database), and of
# /proc only the child's own entry and the machine's CPU and memory facts (never another
# process's, whose environment holds the service's secrets). Python's folders are added
# at run time.
READABLE = (
    "/usr",
    "/lib",
    "/lib64",
    "/etc/ld.so.cache",
    "/etc/fonts",
    "/etc/localtime",
    "/etc/magic",
    "/etc/magic.mime",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/sys/devices/system/cpu",
    "/dev/null",
    "/dev/urandom",
)
READ = FSAccess.READ_FILE | FSAccess.READ_DIR | FSAccess.EXECUTE


def _python_folders() -> set[str]:
    """Where modules may still be imported from lazily: never the data dir beside them."""
    folders = {sys.base_prefix, sys.prefix, *sysconfig.get_paths().values()}
    for name in ("locker", "crypto", "sharing", "web"):
        module = sys.modules.get(name)
        if module is not None and module.__file__:
            folders.add(str(Path(module.__file__).parent))
    return folders


def _limit_files(workdir: Path, inputs: Collection[str]) -> None:
    ruleset = Ruleset()
    for path in sorted({*READABLE, f"/proc/{os.getpid()}", *_python_folders()}):
        if not os.path.exists(path):
            continue
        rules = READ if os.path.isdir(path) else FSAccess.READ_FILE
        if path.startswith("/dev/"):
            rules |= FSAccess.WRITE_FILE
        ruleset.allow(path, rules=rules)
    ruleset.allow(str(workdir))  # everything, in the upload's own folder only
    for path in inputs:  # the files it was given (in that folder, when the service runs)
        ruleset.allow(path, rules=FSAccess.READ_FILE)
    ruleset.apply()


def confine(keep: Collection[int], workdir: Path, inputs: Collection[str] = ()) -> None:
    """Drop the environment, every descriptor but `keep`, every file but `inputs`, those
    in `workdir` and the Python and system folders, and load the syscall filter."""
    os.environ.clear()
    _limit_files(workdir, inputs)
    _close_all_but(keep)  # the Landlock ruleset's own descriptor too, once applied
    syscall_filter = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            syscall_filter.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            continue  # a call this architecture does not have
    syscall_filter.load()  # sets no_new_privs first (libseccomp's default)
