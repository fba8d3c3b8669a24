"""multipart/form-data bodies, as the app's requests read them (werkzeug's parser): files
go to a private received file, limits give 413, malformed bodies an empty form."""

from __future__ import annotations

import pytest
from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from locker.documents import ReceivedFile


def _body(*parts: bytes) -> bytes:
    return b"".join(b"--b\r\n" + part + b"\r\n" for part in parts) + b"--b--\r\n"


def _field(name: str, value: bytes, extra: bytes = b"") -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n'.encode() + extra + b"\r\n" + value


def _file(name: str, filename: str, data: bytes) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    return disposition.encode() + b"Content-Type: application/pdf\r\n\r\n" + data


def _posted(app: Flask, body: bytes) -> object:
    return app.test_request_context(
        "/", method="POST", data=body, content_type="multipart/form-data; boundary=b"
    )


def test_files_are_received_into_a_private_file_the_upload_takes_over(app: Flask) -> None:
    data = b"%PDF-1.4 " + bytes(range(256)) * 4096 + b"\r\n--not-the-boundary"
    with _posted(app, _body(_field("title", b"Fiche de paie"), _file("file", "a.pdf", data))):
        received = request.files["file"]
        assert isinstance(received.stream, ReceivedFile)
        assert received.filename == "a.pdf"
        assert received.read() == data
        assert request.form["title"] == "Fiche de paie"


def test_a_parts_own_charset_is_ignored(app: Flask) -> None:
    # UTF-7 would turn this into "<script>", past every check made on the text.
    utf7 = b"Content-Type: text/plain; charset=utf-7\r\n"
    with _posted(app, _body(_field("title", b"+ADw-script+AD4-", utf7))):
        assert request.form["title"] == "+ADw-script+AD4-"


def test_too_many_parts_or_a_huge_field_is_a_413_a_big_file_is_not(app: Flask) -> None:
    many = _body(*(_field(f"f{i}", b"x") for i in range(app.config["MAX_FORM_PARTS"] + 1)))
    with _posted(app, many), pytest.raises(RequestEntityTooLarge):
        _ = request.form
    huge = _body(_field("title", b"x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)))
    with _posted(app, huge), pytest.raises(RequestEntityTooLarge):
        _ = request.form
    big_file = _body(_file("file", "a.pdf", b"y" * (app.config["MAX_FORM_MEMORY_SIZE"] * 4)))
    with _posted(app, big_file):
        assert len(request.files["file"].read()) == app.config["MAX_FORM_MEMORY_SIZE"] * 4


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"--b\r\n",
        b"no boundary anywhere",
        _body(_file("file", "a.pdf", b"cut short"))[:-8],
    ],
)
def test_a_malformed_body_is_an_empty_form(app: Flask, body: bytes) -> None:
    with _posted(app, body):
        assert not request.form and not request.files
