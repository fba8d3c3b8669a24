"""web.multipart gives back exactly the form that was sent however the body arrives, gives
werkzeug's answer, and refuses what werkzeug refuses; hostile bodies end in an empty form or
a 413, never a crash."""

from __future__ import annotations

import io
import random
from typing import IO, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.test import encode_multipart

from web import multipart
from web.multipart import MultipartFormParser

# Bytes that look like the pieces a parser hunts for.
TRICKY = [b"\r\n", b"\r", b"\n", b"--", b"\r\n--", b"\r\n\r\n", b"-", b"\x00", b"\xff"]


class Trickle(io.RawIOBase):
    """A body that arrives in reads of the sizes given (cycled), as a socket delivers it."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._sizes = sizes or [len(data) or 1]
        self._reads = 0
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._sizes[self._reads % len(self._sizes)])
        self._reads += 1
        piece = self._data[self._position : self._position + size]
        buffer[: len(piece)] = piece
        self._position += len(piece)
        return len(piece)


def in_memory(**_: object) -> IO[bytes]:
    return io.BytesIO()


def parse(
    parser_class: type[FormDataParser],
    body: bytes,
    boundary: str,
    sizes: list[int] | None = None,
    **limits: Any,
) -> tuple[list[tuple[str, str]], list[tuple[str, str | None, str | None, bytes]]]:
    parser = parser_class(stream_factory=in_memory, **limits)  # type: ignore[arg-type]
    stream = Trickle(body, sizes or [])
    _, form, files = parser.parse(stream, "multipart/form-data", len(body), {"boundary": boundary})
    return list(form.items(multi=True)), [
        (name, storage.filename, storage.content_type, storage.read())
        for name, storage in files.items(multi=True)
    ]


def encode(parts: list[dict[str, Any]], boundary: str, epilogue: bytes = b"") -> bytes:
    out = bytearray()
    for part in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disposition = f'form-data; name="{part["name"]}"'
        if part.get("filename") is not None:
            disposition += f'; filename="{part["filename"]}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if part.get("content_type"):
            out += f"Content-Type: {part['content_type']}\r\n".encode()
        out += b"\r\n" + part["data"] + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n" + epilogue
    return bytes(out)


NAMES = st.text("abcdefghij_-", min_size=1, max_size=8)
DATA = st.lists(st.one_of(st.sampled_from(TRICKY), st.binary(max_size=300)), max_size=12).map(
    b"".join
)
BOUNDARIES = st.text("abcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?", min_size=1, max_size=40)


@st.composite
def forms(draw: st.DrawFn) -> tuple[list[dict[str, Any]], str]:
    boundary = draw(BOUNDARIES)
    parts = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": NAMES,
                    "data": DATA,
                    "filename": st.one_of(st.none(), st.just(""), NAMES.map(lambda n: n + ".pdf")),
                    "content_type": st.sampled_from(
                        [None, "application/pdf", "text/plain; charset=utf-8"]
                    ),
                }
            ),
            max_size=6,
        )
    )
    # A boundary must not occur inside the parts, as any real encoder makes sure.
    delimiter = b"--" + boundary.encode()
    for part in parts:
        part["data"] = part["data"].replace(delimiter, b"")
        if part["filename"] is None and part["content_type"] == "application/pdf":
            part["content_type"] = None
        if part["filename"] is None:
            # Field values are text: werkzeug and we decode them alike, bytes in, str out.
            part["data"] = part["data"].decode("utf-8", "replace").encode()
    return parts, boundary


@settings(deadline=None, max_examples=400)
@given(forms(), st.lists(st.integers(1, 700), max_size=5), st.sampled_from([b"", b"epilogue"]))
def test_the_same_answer_as_werkzeug(
    form: tuple[list[dict[str, Any]], str], sizes: list[int], epilogue: bytes
) -> None:
    parts, boundary = form
    body = encode(parts, boundary, epilogue)
    ours = parse(MultipartFormParser, body, boundary, sizes)
    # Werkzeug, given the body in one read (in reads of a byte or two, werkzeug itself can
    # leave a CR of the delimiter in a field's value: the check below is the real oracle).
    assert ours == parse(FormDataParser, body, boundary)
    # And what went in comes out (a MultiDict lists each name's values together).
    sent_fields = [(p["name"], p["data"].decode()) for p in parts if p["filename"] is None]
    sent_files = [(p["name"], p["data"]) for p in parts if p["filename"] is not None]
    assert ours[0] == list(MultiDict(sent_fields).items(multi=True))
    assert [(name, content) for name, _, _, content in ours[1]] == list(
        MultiDict(sent_files).items(multi=True)
    )


@settings(deadline=None, max_examples=300)
@given(forms(), st.lists(st.integers(1, 700), max_size=5))
def test_bodies_from_werkzeugs_own_encoder(
    form: tuple[list[dict[str, Any]], str], sizes: list[int]
) -> None:
    # Its test client writes an empty part with a single line break after its headers.
    parts, boundary = form
    fields = MultiDict()
    for part in parts:
        if part["filename"] is None:
            fields.add(part["name"], part["data"].decode())
        else:
            fields.add(
                part["name"],
                FileStorage(
                    io.BytesIO(part["data"]), part["filename"], content_type=part["content_type"]
                ),
            )
    _, body = encode_multipart(fields, boundary)
    ours = parse(MultipartFormParser, body, boundary, sizes)
    assert ours == parse(FormDataParser, body, boundary)
    assert len(ours[0]) + len(ours[1]) == len(parts)


@settings(deadline=None, max_examples=300)
@given(forms(), st.data())
def test_a_cut_body_is_an_empty_form(
    form: tuple[list[dict[str, Any]], str], data: st.DataObject
) -> None:
    parts, boundary = form
    body = encode(parts, boundary)
    # Anywhere before the end of the closing boundary (its "--" included).
    cut = data.draw(st.integers(0, len(body) - len(b"--\r\n")))
    assert parse(MultipartFormParser, body[:cut], boundary) == ([], [])


@settings(deadline=None, max_examples=300)
@given(st.binary(max_size=2000), BOUNDARIES, st.lists(st.integers(1, 64), max_size=3))
def test_garbage_is_an_empty_form_or_a_413(body: bytes, boundary: str, sizes: list[int]) -> None:
    try:
        fields, files = parse(MultipartFormParser, body, boundary, sizes, max_form_parts=5)
    except RequestEntityTooLarge:
        return
    assert isinstance(fields, list) and isinstance(files, list)


def test_too_many_parts_is_a_413_as_with_werkzeug() -> None:
    parts = [{"name": f"f{i}", "data": b"x"} for i in range(6)]
    body = encode(parts, "b0undary")
    for parser_class in (MultipartFormParser, FormDataParser):
        assert parse(parser_class, body, "b0undary", max_form_parts=6)[0][5] == ("f5", "x")
        with pytest.raises(RequestEntityTooLarge):
            parse(parser_class, body, "b0undary", max_form_parts=5)


def test_a_field_over_the_memory_limit_is_a_413_a_file_of_any_size_is_not() -> None:
    big = b"y" * 5000
    field = encode([{"name": "title", "data": big}], "b0undary")
    with pytest.raises(RequestEntityTooLarge):
        parse(MultipartFormParser, field, "b0undary", max_form_memory_size=4096)
    upload = encode([{"name": "file", "filename": "a.pdf", "data": big * 100}], "b0undary")
    files = parse(MultipartFormParser, upload, "b0undary", max_form_memory_size=4096)[1]
    assert files == [("file", "a.pdf", None, big * 100)]


def test_file_data_goes_to_the_stream_factory_and_rfc2231_names_are_read() -> None:
    made: list[io.BytesIO] = []

    def factory(**_: object) -> IO[bytes]:
        made.append(io.BytesIO())
        return made[-1]

    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; '
        b"filename*=UTF-8''re%C3%A7u.pdf\r\nContent-Type: application/pdf\r\n\r\n"
        b"%PDF-1.7 data\r\n--b--\r\n"
    )
    parser = MultipartFormParser(stream_factory=factory)  # type: ignore[arg-type]
    _, _, files = parser.parse(
        io.BytesIO(body), "multipart/form-data", len(body), {"boundary": "b"}
    )
    storage: FileStorage = files["file"]
    assert storage.stream is made[0]
    assert storage.filename == "reçu.pdf"
    assert storage.read() == b"%PDF-1.7 data"


@pytest.mark.parametrize(
    "body",
    [
        b'--b\r\nContent-Disposition: attachment; name="x"\r\n\r\nv\r\n--b--\r\n',
        b"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--\r\n",
        b"--b\r\n\r\nv\r\n--b--\r\n",
        b'--b junk\r\nContent-Disposition: form-data; name="x"\r\n\r\nv\r\n--b--\r\n',
        b'--b\r\nContent-Disposition: form-data; name="x"\r\n folded\r\n\r\nv\r\n--b--\r\n',
        b"--b\r\nno colon here\r\n\r\nv\r\n--b--\r\n",
        b'--b\r\nContent-Disposition: form-data; name="x"\r\n' + b"X: " + b"h" * 20000,
        b"preamble without any boundary " * 3000,
    ],
    ids=[
        "not-form-data",
        "no-name",
        "no-headers",
        "text-after-boundary",
        "folded-header",
        "no-colon",
        "endless-headers",
        "endless-preamble",
    ],
)
def test_malformed_parts_make_an_empty_form(body: bytes) -> None:
    assert parse(MultipartFormParser, body, "b") == ([], [])


def test_other_form_types_go_to_werkzeug() -> None:
    parser = MultipartFormParser()
    _, form, files = parser.parse(
        io.BytesIO(b"a=1&b=%C3%A9"), "application/x-www-form-urlencoded", 12, {}
    )
    assert form == MultiDict([("a", "1"), ("b", "é")]) and not files


@settings(deadline=None, max_examples=200)
@given(
    st.binary(min_size=1, max_size=48),
    st.integers(0, 200_000),
    st.lists(st.integers(0, 300_000), min_size=1, max_size=4),
    st.integers(0, 200_000),
    st.integers(0, 2**32),
)
def test_find_on_large_buffers_agrees_with_bytearray_find(
    needle: bytes, extra: int, at: list[int], start: int, seed: int
) -> None:
    rng = random.Random(seed)
    # Large buffers go to the C library's memmem: the needle whole, cut short (its
    # prefixes are what a boundary search keeps meeting), at the very end, or nowhere.
    buffer = bytearray(rng.randbytes(multipart.MEMMEM_FROM + extra))
    start = min(start, extra)  # at least MEMMEM_FROM bytes are searched
    for position in at:
        piece = needle if rng.random() < 0.7 else needle[: rng.randrange(len(needle))]
        buffer[position:position] = piece
    if rng.random() < 0.3:
        buffer += needle
    assert multipart.find(buffer, needle, start) == buffer.find(needle, start)
    # Pinned during the call only: the buffer can be resized right after.
    buffer += b"x"


def test_find_uses_memmem_on_large_buffers_where_there_is_one() -> None:
    # On the Linux this service runs on, the fast path is really taken.
    assert multipart._MEMMEM is not None
    buffer = bytearray(multipart.MEMMEM_FROM * 3)
    buffer[-7:] = b"\r\n--end"
    assert multipart.find(buffer, b"\r\n--end", 5) == len(buffer) - 7
    assert multipart.find(buffer, b"\r\n--nowhere") == -1


class ReadOnly:
    """A WSGI input with read() and nothing else (no readinto), as some servers give."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data, self._size, self._position = data, size, 0

    def read(self, limit: int = -1) -> bytes:
        size = self._size if limit < 0 else min(limit, self._size)
        piece = self._data[self._position : self._position + size]
        self._position += len(piece)
        return piece


@pytest.mark.parametrize("reads", ["readinto", "read"])
def test_a_part_of_many_mb_comes_out_whole_whichever_way_it_is_read(reads: str) -> None:
    # Random bytes sprinkled with the delimiter's beginnings, cut at awkward read sizes:
    # what a photo or a PDF's compressed streams look like to the boundary search.
    rng = random.Random(7)
    boundary = "be9cd8b0507c975002fb0435589dba05"
    decoys = [b"\r\n--" + boundary.encode()[:n] for n in range(0, len(boundary), 5)]
    data = bytearray()
    while len(data) < 5 * 1024 * 1024:
        data += rng.randbytes(rng.randrange(1, 200_000)) + rng.choice(decoys)
    body = encode(
        [
            {
                "name": "file",
                "filename": "scan.pdf",
                "content_type": "application/pdf",
                "data": bytes(data),
            },
            {"name": "category", "filename": None, "content_type": None, "data": b"other"},
        ],
        boundary,
    )
    parser = MultipartFormParser(stream_factory=in_memory)  # type: ignore[arg-type]
    stream: Any = (
        Trickle(body, [1_000_003, 65_536, 7]) if reads == "readinto" else ReadOnly(body, 333_333)
    )
    _, form, files = parser.parse(stream, "multipart/form-data", len(body), {"boundary": boundary})
    assert form["category"] == "other"
    assert files["file"].read() == data
