"""Why an upload was refused: typed errors with stable codes (web/ maps them to a status)."""

from __future__ import annotations

from locker.errors import LockerError


class RefusedFile(LockerError):
    """Base of every refusal of an uploaded file by the sanitiser."""


class UnsupportedType(RefusedFile):
    """The bytes are not one of the accepted kinds of file."""

    code = "unsupported_type"


class TypeMismatch(RefusedFile):
    """The bytes look like one kind of file but do not parse as that kind."""

    code = "type_mismatch"


class DamagedFile(RefusedFile):
    """The file is cut short or broken and cannot be read."""

    code = "damaged_file"


class EncryptedPdf(RefusedFile):
    """The PDF is protected by a password or encryption."""

    code = "encrypted_pdf"


class TooManyPixels(RefusedFile):
    """The image claims more pixels than any phone photo has (a decompression bomb)."""

    code = "too_many_pixels"


class TooComplex(RefusedFile):
    """Reading the file went over the worker's memory or time limits."""

    code = "too_complex"


class PhotosOnly(RefusedFile):
    """Several files were sent together, and not all of them are photos."""

    code = "photos_only"


class TooManyFiles(RefusedFile):
    """More photos in one upload than one document may hold."""

    code = "too_many_files"


# The child reports a refusal by its code; the parent raises it again from this table.
CODES: dict[str, type[RefusedFile]] = {cls.code: cls for cls in RefusedFile.__subclasses__()}
