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

When the service runs as root, the child also becomes an unprivileged user (`run_as`,
from LOCKER_SANDBOX_USER) with no capability and no supplementary group, so the files'
own permissions stand between it and the service's secrets even if Landlock were
missing. It is handed its upload's folder (made its own, and its working directory, so it
needs no way through the root-only folders above it) and may signal no process but
itself, so a shared user such as `nobody` gives it nothing of another process's.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import shutil
import stat
import sys
import sysconfig
from collections.abc import Collection, Iterable
from pathlib import Path

import pyseccomp as seccomp
from landlock import Ruleset
from landlock.plumbing import FSAccess

from locker.sysusers import user_ids

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
    # Signals reach only the child itself (below); these have no such argument to check.
    "tkill",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
)
# Allowed only with the child's own pid as first argument: its user may be shared.
SELF_ONLY_SYSCALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# Who the child becomes when the service runs as root and LOCKER_SANDBOX_USER is unset:
# the user the set-up script makes for it, else the system's `nobody`.
DEFAULT_USERS = ("locker-sandbox", "nobody")
NOBODY = (65534, 65534)

log = logging.getLogger(__name__)


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


def _can_enter(path: Path, ids: tuple[int, int], listing: bool) -> bool:
    info = path.stat()
    uid, gid = ids
    if info.st_uid == uid:
        shift = 6
    elif info.st_gid == gid:
        shift = 3
    else:
        shift = 0
    needed = (stat.S_IXOTH | (stat.S_IROTH if listing else 0)) << shift
    return info.st_mode & needed == needed


def unreachable(folders: Iterable[str], ids: tuple[int, int]) -> list[str]:
    """The folders that user `ids` could not list, or not reach through their parents."""
    blocked = []
    for folder in sorted(set(folders)):
        path = Path(folder)
        if not path.is_dir():
            continue
        chain = [*reversed(path.parents), path]
        if not all(_can_enter(p, ids, listing=p == path) for p in chain):
            blocked.append(folder)
    return blocked


def chosen_ids(user: str | None = None) -> tuple[int, int]:
    """The uid and gid of `user`, or else of the first of DEFAULT_USERS there is."""
    if user:
        return user_ids(user)
    for name in DEFAULT_USERS:
        with contextlib.suppress(KeyError):
            return user_ids(name)
    return NOBODY


@functools.cache
def sandbox_ids(user: str | None = None) -> tuple[int, int] | None:
    """Who the child runs as: None when the service is not root (it keeps the service's
    own unprivileged user), else `user` (or the default one).

    The child imports modules lazily after it has dropped root, so the Python folders
    must be open to that user; when they are not (a checkout in /root), the child keeps
    uid 0 rather than fail every upload, and this is logged at each start.
    """
    if os.geteuid() != 0:
        return None
    ids = chosen_ids(user)
    if ids[0] == 0:
        return None
    blocked = unreachable(python_folders(), ids)
    if blocked:
        log.warning(
            "sanitiser child keeps uid 0: user %d cannot read %s (install the service "
            "where other users may read it)",
            ids[0],
            ", ".join(blocked),
        )
        return None
    return ids


def _hand_over(workdir: Path, inputs: Collection[str], run_as: tuple[int, int]) -> tuple[str, ...]:
    """Give the upload's folder to `run_as` and make it the working directory; return the
    inputs as names in it (one given from elsewhere is copied in, never chowned)."""
    folder = workdir.resolve()
    os.chdir(folder)
    os.chown(".", *run_as)
    os.chmod(".", 0o700)
    names = []
    for index, path in enumerate(inputs):
        source = Path(path)
        name = source.name
        if source.parent.resolve() != folder:
            name = f"given-{index}"
            shutil.copyfile(source, name)
        os.chown(name, *run_as)
        names.append(name)
    return tuple(names)


def _become(run_as: tuple[int, int]) -> None:
    uid, gid = run_as
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # every capability goes with uid 0


def python_folders() -> set[str]:
    """Where modules may still be imported from lazily: never the data dir beside them."""
    folders = {sys.base_prefix, sys.prefix, *sysconfig.get_paths().values()}
    for name in ("locker", "crypto", "sharing", "web"):
        module = sys.modules.get(name)
        if module is not None and module.__file__:
            folders.add(str(Path(module.__file__).parent))
    return folders


def _limit_files(workdir: Path, inputs: Collection[str]) -> None:
    ruleset = Ruleset()
    for path in sorted({*READABLE, f"/proc/{os.getpid()}", *python_folders()}):
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


def confine(
    keep: Collection[int],
    workdir: Path,
    inputs: Collection[str] = (),
    run_as: tuple[int, int] | None = None,
) -> tuple[str, ...] | None:
    """Drop the environment, every descriptor but `keep`, every file but `inputs`, those
    in `workdir` and the Python and system folders, root for `run_as` (when given), and
    load the syscall filter.

    With `run_as`, returns the inputs as the child must now name them (in its working
    directory, `workdir`); without, None: the names given still hold.
    """
    os.environ.clear()
    os.umask(0o077)  # what the child writes is the service's alone to read
    names = _hand_over(workdir, inputs, run_as) if run_as is not None else None
    _limit_files(workdir, inputs if names is None else ())
    _close_all_but(keep)  # the Landlock ruleset's own descriptor too, once applied
    if run_as is not None:
        _become(run_as)
    _filter_syscalls()
    return names


def _filter_syscalls() -> None:
    refuse = seccomp.ERRNO(errno.EPERM)
    syscall_filter = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        with contextlib.suppress(RuntimeError, ValueError, OSError):  # not on this machine
            syscall_filter.add_rule(refuse, name)
    not_self = seccomp.Arg(0, seccomp.NE, os.getpid())
    for name in SELF_ONLY_SYSCALLS:
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            syscall_filter.add_rule(refuse, name, not_self)
    syscall_filter.load()  # sets no_new_privs first (libseccomp's default)
