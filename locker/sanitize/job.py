"""What the service hands the sandboxed worker for one upload: a plain value that travels as
one JSON line, apart from the worker so that importing the service does not load the parsers."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """One upload's files and where the worker writes its results.

    The clean file is written to `output`, which the parent reads once the worker has
    said it is complete (a PDF's preview and thumbnail are drawn from it afterwards,
    never from the untrusted input). With `preview_only`, the one input is a file cleaned
    at an earlier upload and only its preview is written (a document stored before
    previews were made at upload).
    """

    inputs: tuple[str, ...]
    output: str
    thumbnail: str
    preview: str
    max_pixels: int
    memory_bytes: int
    cpu_seconds: int
    max_files: int
    # Who the child becomes (uid, gid) when the service runs as root; None: it stays.
    run_as: tuple[int, int] | None = None
    preview_only: bool = False
    # The page a preview-only job draws (a PDF's; an image has one page).
    page: int = 0

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()

    @classmethod
    def from_json(cls, line: bytes) -> Job:
        fields = json.loads(line)
        run_as = fields.pop("run_as")
        return cls(
            **{**fields, "inputs": tuple(fields["inputs"])},
            run_as=None if run_as is None else (int(run_as[0]), int(run_as[1])),
        )
