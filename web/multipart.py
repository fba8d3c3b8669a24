"""multipart/form-data bodies parsed at the speed of the disk, for uploads of many MB.

Werkzeug's parser (sansio.multipart) copies every byte of a file part five times in
Python (into its buffer, a slice to look for a partial boundary, two more to cut the data
out, then the write): 23 ms for a 20 MB PDF here, against 7 ms to write those bytes to a
file at all, and a quarter of the whole upload's own time (bench/README.md, "uploads").
No maintained library plugs into Flask's request.form / request.files with a faster data
path, so this one is written by hand and kept small: it reads the body straight into
its buffer, finds each boundary there (with the C library's memmem in large buffers, see
`find`) and writes file data straight from that buffer. Part headers, limits
and the objects it returns are werkzeug's own, and tests/web/test_multipart.py checks it
gives werkzeug's answer on generated bodies cut at random read sizes.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import IO, Any

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

# Each read of the body: large enough that per-read Python work vanishes next to the
# copy, small enough to hold little (the buffer is at most about two reads).
READ_BYTES = 1024 * 1024
# Part headers and the preamble before the first boundary are small in any real form.
MAX_HEADER_BYTES = 16 * 1024
MAX_PREAMBLE_BYTES = 64 * 1024
# Room for one read, appended to the buffer before the stream reads into it.
_SPACE = bytes(READ_BYTES)


# Below this many bytes to search, bytearray.find is as quick as any call out of Python.
MEMMEM_FROM = 64 * 1024


def _load_memmem() -> Callable[..., int | None] | None:
    """The C library's memmem, or None where it has none.

    Finding the boundary is most of a large part's parsing: bytearray.find takes 7 ms for
    20 MB of random-looking bytes (a PDF's compressed streams, a photo) and a 36-byte
    delimiter, glibc's memmem 2 ms. Neither Python nor a maintained package offers a
    substring search on a buffer in between, so this binds the one function by hand.
    """
    try:
        memmem = ctypes.CDLL(None).memmem
    except (OSError, AttributeError):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    return memmem


_MEMMEM = _load_memmem()


def find(buffer: bytearray, needle: bytes, start: int = 0) -> int:
    """buffer.find(needle, start), with the C library's memmem on large buffers."""
    length = len(buffer) - start
    if _MEMMEM is None or length < MEMMEM_FROM or not needle:
        return buffer.find(needle, start)
    # The ctypes view pins the buffer (it cannot be resized) only during this call.
    view = (ctypes.c_char * len(buffer)).from_buffer(buffer)
    try:
        base = ctypes.addressof(view)
        hit = _MEMMEM(base + start, length, needle, len(needle))
    finally:
        del view
    return -1 if hit is None else hit - base


class MultipartFormParser(FormDataParser):
    """Werkzeug's form parser, with multipart bodies parsed by `parse_multipart`."""

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        if mimetype != "multipart/form-data":
            return super().parse(stream, mimetype, content_length, options)
        try:
            boundary = (options or {}).get("boundary", "").encode("ascii")
            if not boundary:
                raise ValueError("multipart body without a boundary")
            form, files = parse_multipart(
                stream,
                boundary,
                content_length,
                stream_factory=self.stream_factory,
                max_form_memory_size=self.max_form_memory_size,
                max_form_parts=self.max_form_parts,
                cls=self.cls,
            )
        except ValueError:
            # As werkzeug's own parser: a malformed body is an empty form, unless told not.
            if not self.silent:
                raise
            return stream, self.cls(), self.cls()
        return stream, form, files


class _Body:
    """The request body seen through one buffer: read on demand, consumed from the front."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.buffer = bytearray()
        self.ended = False

    def fill(self) -> bool:
        """Read more of the body into the buffer; False once the body has ended."""
        if self.ended:
            return False
        readinto = getattr(self._stream, "readinto", None)
        if readinto is None:  # a WSGI input with read() only
            more = self._stream.read(READ_BYTES)
            self.buffer += more
            got = len(more)
        else:
            # Straight into the buffer: read() would copy each MB twice more on its way.
            have = len(self.buffer)
            self.buffer += _SPACE
            with memoryview(self.buffer) as view, view[have:] as space:
                got = readinto(space) or 0
            del self.buffer[have + got :]
        if not got:
            self.ended = True
            return False
        return True

    def take_until(self, marker: bytes, limit: int) -> bytes:
        """The bytes before `marker` (which is consumed too); ValueError past `limit`."""
        start = 0
        while (found := self.buffer.find(marker, start)) < 0:
            if len(self.buffer) > limit:
                raise ValueError("multipart section too long")
            start = max(0, len(self.buffer) - len(marker) + 1)
            if not self.fill():
                raise ValueError("multipart body ended early")
        if found > limit:
            raise ValueError("multipart section too long")
        taken = bytes(self.buffer[:found])
        del self.buffer[: found + len(marker)]
        return taken

    def need(self, count: int) -> None:
        while len(self.buffer) < count:
            if not self.fill():
                raise ValueError("multipart body ended early")


def parse_multipart(
    stream: IO[bytes],
    boundary: bytes,
    content_length: int | None,
    *,
    stream_factory: Callable[..., IO[bytes]],
    max_form_memory_size: int | None,
    max_form_parts: int | None,
    cls: type[MultiDict[Any, Any]] = MultiDict,
) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
    """The fields and files of a multipart/form-data body, as werkzeug's parser gives them.

    ValueError for a malformed body; RequestEntityTooLarge past `max_form_parts` parts or
    a field of more than `max_form_memory_size` bytes.
    """
    body = _Body(stream)
    delimiter = b"\r\n--" + boundary
    # The first boundary may open the body without a line break before it.
    body.buffer += b"\r\n"
    body.take_until(delimiter, MAX_PREAMBLE_BYTES)
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, FileStorage]] = []
    try:
        parts = 0
        while True:
            body.need(2)
            if body.buffer[:2] == b"--":
                break  # the closing boundary; whatever follows is an epilogue
            # Transport padding (spaces, tabs) may follow a boundary before its line break.
            header_block = body.take_until(b"\r\n\r\n", MAX_HEADER_BYTES)
            padding, _, header_block = header_block.partition(b"\r\n")
            if padding.strip(b" \t"):
                raise ValueError("text after a multipart boundary")
            parts += 1
            if max_form_parts is not None and parts > max_form_parts:
                raise RequestEntityTooLarge()
            headers = _parse_headers(header_block)
            disposition, extra = parse_options_header(headers.get("content-disposition"))
            name = extra.get("name")
            if disposition != "form-data" or name is None:
                raise ValueError("multipart part without a form-data name")
            filename = extra.get("filename")
            if filename is None:
                value = _read_field(body, delimiter, max_form_memory_size)
                # A part's own charset is ignored: text fields are UTF-8 only, because a
                # charset such as utf-7 turns harmless bytes into markup after our checks.
                fields.append((name, value.decode("utf-8", "replace")))
                continue
            container = stream_factory(
                total_content_length=content_length,
                filename=filename,
                content_type=headers.get("content-type"),
                content_length=headers.get("content-length", type=int),
            )
            files.append((name, FileStorage(container, filename, name, headers=headers)))
            _copy_part(body, delimiter, _writer(container))
            container.seek(0)
    except BaseException:
        for _, storage in files:
            storage.close()
        raise
    return cls(fields), cls(files)


def _writer(container: IO[bytes]) -> Callable[[memoryview], None]:
    def write(piece: memoryview) -> None:
        while piece:
            written = container.write(piece)
            if not written:
                raise OSError("the upload's file took no bytes")
            piece = piece[written:]

    return write


def _parse_headers(block: bytes) -> Headers:
    headers = Headers()
    for line in block.split(b"\r\n"):
        if not line.strip(b" \t"):
            continue
        if line[:1] in (b" ", b"\t"):
            raise ValueError("folded multipart header")
        name, colon, value = line.decode("utf-8", "replace").partition(":")
        if not colon:
            raise ValueError("multipart header without a colon")
        headers.add(name.strip(" \t"), value.strip(" \t"))
    return headers


def _read_field(body: _Body, delimiter: bytes, limit: int | None) -> bytes:
    pieces: list[bytes] = []
    size = 0

    def keep(piece: memoryview) -> None:
        nonlocal size
        size += len(piece)
        if limit is not None and size > limit:
            raise RequestEntityTooLarge()
        pieces.append(bytes(piece))

    _copy_part(body, delimiter, keep)
    return b"".join(pieces)


def _copy_part(body: _Body, delimiter: bytes, write: Callable[[memoryview], object]) -> None:
    """Hand `write` the part's data up to the next delimiter (consumed), in pieces that
    are views on the read buffer: file data is never copied in Python."""
    # An empty part may end its headers with a single line break, the delimiter's own
    # standing for the blank line (werkzeug's test client writes them so, and its parser
    # reads them): the boundary then follows the headers at once.
    bare = delimiter[2:]
    body.need(len(bare))
    if body.buffer.startswith(bare):
        del body.buffer[: len(bare)]
        return
    start = 0
    while True:
        buffer = body.buffer
        found = find(buffer, delimiter, start)
        if found >= 0:
            if found:
                with memoryview(buffer)[:found] as piece:
                    write(piece)
            del buffer[: found + len(delimiter)]
            return
        # All but a tail that could be the start of the delimiter is data.
        safe = len(buffer) - len(delimiter) + 1
        if safe > 0:
            with memoryview(buffer)[:safe] as piece:
                write(piece)
            del buffer[:safe]
        start = max(0, len(buffer) - len(delimiter) + 1)
        if not body.fill():
            raise ValueError("multipart body ended early")
