"""Why an upload was refused: typed errors with stable codes (web/ maps them to a status)."""

from __future__ import annotations

from locker.errors import LockerError


class UnsupportedType(LockerError):
    """The bytes are not one of the accepted kinds of file."""

    code = "unsupported_type"


class TypeMismatch(LockerError):
    """The bytes look like one kind of file but do not parse as that kind."""

    code = "type_mismatch"


class DamagedFile(LockerError):
    """The file is cut short or broken and cannot be read."""

    code = "damaged_file"


class EncryptedPdf(LockerError):
    """The PDF is protected by a password or encryption."""

    code = "encrypted_pdf"


class TooManyPixels(LockerError):
    """The image claims more pixels than any phone photo has (a decompression bomb)."""

    code = "too_many_pixels"


class TooComplex(LockerError):
    """Reading the file went over the worker's memory or time limits."""

    code = "too_complex"


class PhotosOnly(LockerError):
    """Several files were sent together, and not all of them are photos."""

    code = "photos_only"


class TooManyFiles(LockerError):
    """More photos in one upload than one document may hold."""

    code = "too_many_files"


CODES: dict[str, type[LockerError]] = {
    cls.code: cls
    for cls in (
        UnsupportedType,
        TypeMismatch,
        DamagedFile,
        EncryptedPdf,
        TooManyPixels,
        TooComplex,
        PhotosOnly,
        TooManyFiles,
    )
}
