"""JPEG photos to clean JPEGs without leaving the Y, Cb and Cr planes (libjpeg-turbo).

Most uploads are phone photos: JPEG in, JPEG out. Going through RGB costs a colour
conversion and a chroma upsampling each way, and turning an RGB photo upright moves three
bytes a pixel. Here the photo is decoded straight to its planes (at a reduced DCT scale
when it is oversized), the planes are turned upright (a byte and a half a pixel), and the
encoder takes them as they are. The result is a fresh JPEG written from decoded samples:
no marker, comment or trailing byte of the upload survives, as on Pillow's path. The
preview is made the same way from the same planes, shrunk: the photo is decoded once.

This path only ever saves time; it never decides a verdict. Anything unusual (grey, CMYK
or RGB colour spaces, an exotic subsampling, a size that disagrees with Pillow's reading of the
header, the decoder's least warning) answers None, and the caller takes Pillow's path,
which accepts or refuses the file as it always did.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import turbojpeg
from PIL import Image

# PyTurboJPEG is a thin ctypes binding: one handle to the shared library, loaded once in
# the fork server so each sanitiser child inherits it.
_TURBO = turbojpeg.TurboJPEG()
# What each chroma subsampling becomes when the picture's axes are swapped (4:2:2 is two
# pixels wide and one high; upright it is one wide and two high, 4:4:0). The others
# (4:1:1, 4:4:1) are not in every libjpeg-turbo: Pillow's path takes them, and grey
# photos too (PyTurboJPEG 1.x cannot hand over a lone luma plane).
_SWAPPED = {
    turbojpeg.TJSAMP_444: turbojpeg.TJSAMP_444,
    turbojpeg.TJSAMP_420: turbojpeg.TJSAMP_420,
    turbojpeg.TJSAMP_422: turbojpeg.TJSAMP_440,
    turbojpeg.TJSAMP_440: turbojpeg.TJSAMP_422,
}
# Luma pixels per chroma sample, across and down, for each of those.
_SAMPLING = {
    turbojpeg.TJSAMP_444: (1, 1),
    turbojpeg.TJSAMP_420: (2, 2),
    turbojpeg.TJSAMP_422: (2, 1),
    turbojpeg.TJSAMP_440: (1, 2),
}
# The DCT scales the decoder offers at or below full size, smallest first.
_SCALES = sorted(
    Fraction(num, denom) for num, denom in _TURBO.scaling_factors if Fraction(num, denom) <= 1
)
_Plane = np.ndarray[Any, np.dtype[np.uint8]]
# Side of the tiles a plane is turned in: 256 x 256 bytes, source and target, fit in L2.
_TILE = 256
# EXIF orientation -> the move that turns a plane upright (numpy views, nothing copied).
_UPRIGHT: dict[int, Callable[[_Plane], _Plane]] = {
    1: lambda plane: plane,
    2: lambda plane: plane[:, ::-1],
    3: lambda plane: plane[::-1, ::-1],
    4: lambda plane: plane[::-1, :],
    5: lambda plane: plane.T,
    6: lambda plane: np.rot90(plane, -1),
    7: lambda plane: plane[::-1, ::-1].T,
    8: lambda plane: np.rot90(plane, 1),
}
# The encoder's rows are padded to this many bytes (the PyTurboJPEG call fixes it).
_ROW_PAD = 4


@dataclass(frozen=True)
class CleanJpeg:
    """The clean JPEG and its upright size."""

    jpeg: bytes
    size: tuple[int, int]


@dataclass(frozen=True)
class Planes:
    """A photo's Y, Cb and Cr planes as decoded (not yet upright), the luma plane cut to
    the picture, and how the chroma planes are subsampled."""

    planes: list[_Plane]
    subsample: int


def dct_scale(scale: float, slack: float) -> Fraction | None:
    """The smallest decoder scale that keeps at least `scale` of each side, if it keeps no
    more than `slack` times that (else resampling is worth it: Pillow's path)."""
    for candidate in _SCALES:
        if candidate >= scale:
            return candidate if scale == 1.0 or candidate <= scale * slack else None
    return None


def decode_planes(
    data: bytes, *, size: tuple[int, int], orientation: int, scale: float, slack: float
) -> Planes | None:
    """The planes of the JPEG `data`, or None for Pillow's path to decide.

    `size` is the width and height Pillow read from the header (already within the pixel
    limit): a decoder that reads another size is not trusted with the file.
    """
    factor = dct_scale(scale, slack)
    if factor is None or orientation not in _UPRIGHT:
        return None
    with warnings.catch_warnings():
        # PyTurboJPEG reports the decoder's warnings (a truncated or corrupt stream) as
        # Python warnings and returns what it decoded: here each is a reason to defer.
        warnings.simplefilter("error")
        try:
            width, height, subsample, colour_space = _TURBO.decode_header(data)
            if (width, height) != size or colour_space != turbojpeg.TJCS_YCbCr:
                return None
            if subsample not in _SWAPPED:
                return None
            planes: list[_Plane] = _TURBO.decode_to_yuv_planes(
                data,
                scaling_factor=(factor.numerator, factor.denominator),
                flags=turbojpeg.TJFLAG_STOPONWARNING,
            )
        except (OSError, UserWarning, ValueError):
            return None
    # The decoder pads the luma plane to whole chroma samples: cut it to the picture
    # before turning, or the padding would land on the top or left edge.
    luma_rows, luma_columns = _scaled(height, factor), _scaled(width, factor)
    planes[0] = planes[0][:luma_rows, :luma_columns]
    return Planes(planes=planes, subsample=subsample)


def encode_upright(decoded: Planes, orientation: int, quality: int) -> CleanJpeg | None:
    """A fresh JPEG of the planes turned upright, or None (Pillow's path then decides)."""
    upright = [_UPRIGHT[orientation](plane) for plane in decoded.planes]
    new_height, new_width = upright[0].shape
    swapped = orientation >= 5  # the moves that exchange rows and columns
    encoded_subsample = _SWAPPED[decoded.subsample] if swapped else decoded.subsample
    packed = _packed(upright, _SAMPLING[encoded_subsample])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            jpeg = _TURBO.encode_from_yuv(
                packed,
                new_height,
                new_width,
                quality=quality,
                jpeg_subsample=encoded_subsample,
            )
        except (OSError, UserWarning):
            return None
    return CleanJpeg(jpeg=bytes(jpeg), size=(new_width, new_height))


def shrunk(decoded: Planes, side: int) -> Planes:
    """A copy at most `side` pixels long, subsampled as the original: each plane is
    reduced by a whole factor (averaging, cheap), then resampled to its size."""
    rows, columns = decoded.planes[0].shape
    ratio = min(1.0, side / max(rows, columns))
    width, height = max(1, round(columns * ratio)), max(1, round(rows * ratio))
    across, down = _SAMPLING[decoded.subsample]
    targets = [(width, height)] + [(-(-width // across), -(-height // down))] * 2
    planes = [
        np.asarray(
            Image.fromarray(plane).resize(target, Image.Resampling.BILINEAR, reducing_gap=1.0)
        )
        for plane, target in zip(decoded.planes, targets, strict=True)
    ]
    return Planes(planes=planes, subsample=decoded.subsample)


def merged(decoded: Planes, side: int) -> Image.Image:
    """A YCbCr picture about `side` pixels long (as decoded: the caller turns it upright)."""
    rows, columns = decoded.planes[0].shape
    ratio = min(1.0, side / max(rows, columns))
    target = (max(1, round(columns * ratio)), max(1, round(rows * ratio)))
    bands = [
        Image.fromarray(plane).resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
        for plane in decoded.planes
    ]
    return Image.merge("YCbCr", bands)  # always three planes: grey photos never get here


def _scaled(side: int, factor: Fraction) -> int:
    return -(-side * factor.numerator // factor.denominator)  # libjpeg rounds up


def _packed(planes: list[_Plane], sampling: tuple[int, int]) -> _Plane:
    """The planes one after the other as the encoder reads them: the luma plane padded to
    whole chroma samples (its edge repeated), each row padded to the row alignment."""
    across, down = sampling
    rows, columns = planes[0].shape
    shapes = [(-(-rows // down) * down, -(-columns // across) * across)]
    shapes += [(-(-rows // down), -(-columns // across))] * (len(planes) - 1)
    strides = [-(-width // _ROW_PAD) * _ROW_PAD for _, width in shapes]
    total = sum(height * stride for (height, _), stride in zip(shapes, strides, strict=True))
    buffer = np.empty(total, np.uint8)
    offset = 0
    for plane, (height, width), stride in zip(planes, shapes, strides, strict=True):
        target = buffer[offset : offset + height * stride].reshape(height, stride)
        filled_rows, filled_columns = plane.shape
        copy_tiled(target[:filled_rows, :filled_columns], plane)  # the one copy: the turn
        target[:filled_rows, filled_columns:width] = target[
            :filled_rows, filled_columns - 1 : filled_columns
        ]
        target[filled_rows:, :width] = target[filled_rows - 1 : filled_rows, :width]
        target[:, width:] = 0
        offset += height * stride
    return buffer


def copy_tiled(target: _Plane, plane: _Plane) -> None:
    """target[...] = plane, tile by tile.

    A turned plane is a transposed view, and numpy copies it element by element down its
    columns, a cache miss at nearly every byte; tile by tile, each tile's source and target
    stay in cache (figures in bench/README.md, "uploads"). No library turns a numpy plane
    into a given buffer (Pillow's transpose makes an image of its own, one more copy).
    """
    rows, columns = plane.shape
    for top in range(0, rows, _TILE):
        for left in range(0, columns, _TILE):
            target[top : top + _TILE, left : left + _TILE] = plane[
                top : top + _TILE, left : left + _TILE
            ]
