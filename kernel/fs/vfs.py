"""The VFS: a mount table and path resolution over the mounted file systems."""

from __future__ import annotations

import posixpath

from kernel.abi import Errno, SyscallError
from kernel.fs.file import Node

MAX_PATH = 4096


class Vfs:
    """Resolves absolute or cwd-relative paths to nodes, crossing mount points."""

    def __init__(self, root: Node) -> None:
        self.mounts: dict[str, Node] = {"/": root}

    def mount(self, path: str, root: Node) -> None:
        self.mounts[posixpath.normpath(path)] = root

    @staticmethod
    def absolute(path: str, cwd: str) -> str:
        if not path:
            raise SyscallError(Errno.ENOENT, "empty path")
        if len(path) > MAX_PATH:
            raise SyscallError(Errno.ENAMETOOLONG)
        joined = path if path.startswith("/") else posixpath.join(cwd, path)
        return posixpath.normpath("/" + joined.lstrip("/"))

    def resolve(self, path: str, cwd: str = "/") -> Node:
        """The node at `path` (ENOENT / ENOTDIR on the way)."""
        absolute = self.absolute(path, cwd)
        node = self.mounts["/"]
        walked = ""
        for name in [p for p in absolute.split("/") if p]:
            if not node.is_dir:
                raise SyscallError(Errno.ENOTDIR, walked)
            walked += "/" + name
            mounted = self.mounts.get(walked)
            node = mounted if mounted is not None else node.lookup(name)
        return node

    def resolve_parent(self, path: str, cwd: str = "/") -> tuple[Node, str]:
        """The directory that holds `path`, and the last component's name."""
        absolute = self.absolute(path, cwd)
        if absolute == "/":
            raise SyscallError(Errno.EEXIST, "/")
        parent, name = posixpath.split(absolute)
        if absolute in self.mounts:
            raise SyscallError(Errno.EBUSY, absolute)
        directory = self.resolve(parent, "/")
        if not directory.is_dir:
            raise SyscallError(Errno.ENOTDIR, parent)
        return directory, name
