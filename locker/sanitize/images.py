"""Images: decode with an allowlist and a pixel limit, turn upright, drop every metadata
block, re-encode. Runs inside the sandboxed worker only (these bytes are hostile).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from locker.sanitize.errors import DamagedFile, TooManyPixels, TypeMismatch

if TYPE_CHECKING:
    from locker.sanitize.turbo import Planes

register_heif_opener()


def load_turbo() -> ModuleType | None:
    """The libjpeg-turbo path (`turbo`), or None where the library is missing: photos then
    take Pillow's path, slower and the same verdicts."""
    try:
        from locker.sanitize import turbo
    except (ImportError, OSError, RuntimeError):  # PyTurboJPEG found no libturbojpeg
        return None
    return turbo


TURBO = load_turbo()

# The one Pillow decoder each sniffed type may reach; nothing else is ever tried.
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# A paper's long side once stored, as the phone's script sends it (web/static/upload.js):
# legible on screen and printed at A5, and a fifth of a 12 MP photo's weight.
MAX_SIDE = 2000
# The decoder's own scaling is taken when it decodes at most this much more than wanted
# (the planes are then resampled to MAX_SIDE); beyond, Pillow's path decodes and resamples.
OVERSIZE_SLACK = 1.35
JPEG_QUALITY = 85
# A stored photo weighs at most about this, as the phone's script sends it: above, the
# quality steps down, to 45 at the lowest (a grainy photo; a paper's photo is far lighter).
MAX_PHOTO_BYTES = 1000 * 1000
LOWER_QUALITIES = (75, 65, 55, 45)
THUMBNAIL_SIDE = 256
THUMBNAIL_QUALITY = 70
# The paper shown inline on its page: legible on a phone, light enough for a slow 3G link.
PREVIEW_SIDE = 1600
PREVIEW_QUALITY = 80

_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Previews:
    """The two pictures a paper is shown by, drawn from the same pixels: its preview (a
    JPEG whose long side is at most PREVIEW_SIDE) and its thumbnail for the list."""

    preview: bytes
    thumbnail: bytes


@dataclass(frozen=True)
class CleanImage:
    """Upright pixels with no metadata at all, ready to encode; or, for a photo that took
    the JPEG planes path, the clean JPEG itself (and no pixels). `previews` is drawn
    meanwhile from the same decoded pixels, when `clean_image` was given an executor."""

    pixels: Image.Image | None
    keep_png: bool
    size: tuple[int, int]
    jpeg: bytes | None = None
    previews: Future[Previews] | None = None

    @property
    def grey(self) -> bool:
        return self.pixels is not None and self.pixels.mode == "L"

    def as_jpeg(self) -> bytes:
        """The clean JPEG (a PDF page is always one)."""
        if self.jpeg is not None:
            return self.jpeg
        assert self.pixels is not None  # only the planes path has no pixels, and a JPEG
        return encode_jpeg(self.pixels)

    def encoded(self) -> bytes:
        """The clean file: PNG for a PNG upload (scans keep crisp text), else JPEG."""
        if self.keep_png:
            assert self.pixels is not None
            return encode_png(self.pixels)
        return self.as_jpeg()


def target_scale(width: int, height: int) -> float:
    """The downscale factor that brings the long side to MAX_SIDE, or 1.0 when within it."""
    long = max(width, height)
    return MAX_SIDE / long if long > MAX_SIDE else 1.0


@contextmanager
def _bombs_refused() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def clean_image(
    data: bytes, content_type: str, max_pixels: int, previews: Executor | None = None
) -> CleanImage:
    """Decode `data` as exactly the sniffed format, refusing bombs before any pixel is decoded.

    With `previews`, the preview and thumbnail are drawn on that executor from the pixels
    decoded here, while the clean file is encoded: the photo is decoded once.
    """
    with _bombs_refused():
        image, orientation, scale = _opened(data, content_type, max_pixels)
        planes = _planes(data, image, orientation, scale)
        if planes is not None:
            assert TURBO is not None
            drawn = previews.submit(planes_previews, planes, orientation) if previews else None
            fast = TURBO.encode_upright(planes, orientation, JPEG_QUALITY)
            for quality in LOWER_QUALITIES:
                if fast is None or len(fast.jpeg) <= MAX_PHOTO_BYTES:
                    break
                fast = TURBO.encode_upright(planes, orientation, quality)
            if fast is not None:
                return CleanImage(
                    pixels=None, keep_png=False, size=fast.size, jpeg=fast.jpeg, previews=drawn
                )
            if drawn is not None:
                drawn.cancel()  # Pillow's path decides, and draws them again from its pixels
        pixels = _pixels(image, orientation, scale)
    return CleanImage(
        pixels=pixels,
        keep_png=image.format == "PNG",
        size=pixels.size,
        previews=previews.submit(pixels_previews, pixels) if previews else None,
    )


def image_previews(data: bytes, content_type: str, max_pixels: int) -> Previews:
    """The preview and thumbnail of an image, decoded as an upload is, not encoded again
    (an image cleaned at upload, before previews were made there)."""
    with _bombs_refused():
        image, orientation, scale = _opened(data, content_type, max_pixels)
        planes = _planes(data, image, orientation, scale)
        if planes is not None:
            return planes_previews(planes, orientation)
        pixels = _pixels(image, orientation, scale)
    return pixels_previews(pixels)


def _opened(data: bytes, content_type: str, max_pixels: int) -> tuple[Image.Image, int, float]:
    """The image opened (header only) as exactly its sniffed format, within the pixel
    limit; its EXIF orientation and the scale it is to be decoded at."""
    expected = PILLOW_FORMATS[content_type]
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(io.BytesIO(data), formats=[expected])
    except Image.DecompressionBombError as exc:
        raise TooManyPixels("pixel limit") from exc
    except UnidentifiedImageError as exc:
        raise TypeMismatch("parse disagrees with sniffed type") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DamagedFile("header") from exc
    if image.format != expected:
        raise TypeMismatch("parse disagrees with sniffed type")
    width, height = image.size
    if width < 1 or height < 1:
        raise DamagedFile("no pixels")
    if width * height > max_pixels:
        raise TooManyPixels("pixel limit")
    return image, _orientation(image), target_scale(width, height)


def _planes(data: bytes, image: Image.Image, orientation: int, scale: float) -> Planes | None:
    """A colour JPEG's planes (most uploads), or None: not one the planes path takes."""
    if image.format != "JPEG" or image.mode != "RGB" or TURBO is None:
        return None
    planes: Planes | None = TURBO.decode_planes(
        data, size=image.size, orientation=orientation, scale=scale, slack=OVERSIZE_SLACK
    )
    if planes is not None and max(planes.planes[0].shape) > MAX_SIDE:
        planes = TURBO.shrunk(planes, MAX_SIDE)
    return planes


def _pixels(image: Image.Image, orientation: int, scale: float) -> Image.Image:
    """Pillow's path: the pixels decoded, in a plain mode, at `scale`, upright, bare."""
    width, height = image.size
    if image.format == "JPEG":
        # Decoding straight to YCbCr skips two colour conversions, and DCT scaling
        # decodes an oversized photo at a fraction of the cost.
        wanted = (max(1, int(width * scale)), max(1, int(height * scale)))
        mode = "YCbCr" if image.mode == "RGB" else image.mode
        image.draft(mode, wanted)
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise TooManyPixels("pixel limit") from exc
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, IndexError) as exc:
        raise DamagedFile("pixels") from exc
    pixels = _plain_mode(image)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if pixels.size != size:
            pixels = pixels.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = _upright(pixels, orientation)
    # Whatever rode along in `info` (EXIF, XMP, ICC, comments, text chunks) stays behind.
    pixels.info = {}
    return pixels


def planes_previews(planes: Planes, orientation: int) -> Previews:
    """Preview and thumbnail from a photo's decoded planes (the planes path's pixels)."""
    assert TURBO is not None
    small = TURBO.shrunk(planes, PREVIEW_SIDE)
    preview = TURBO.encode_upright(small, orientation, PREVIEW_QUALITY)
    thumbnail = _upright(TURBO.merged(small, THUMBNAIL_SIDE), orientation)
    if preview is None:  # the encoder refused our own planes: Pillow encodes them
        return pixels_previews(_upright(TURBO.merged(small, PREVIEW_SIDE), orientation))
    return Previews(preview=preview.jpeg, thumbnail=encode_thumbnail(thumbnail))


def pixels_previews(pixels: Image.Image) -> Previews:
    """Preview and thumbnail from upright pixels (Pillow's path, a PDF's first page)."""
    preview = _shrunk(pixels, PREVIEW_SIDE, reducing_gap=1.0)
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=PREVIEW_QUALITY)
    return Previews(preview=buffer.getvalue(), thumbnail=encode_thumbnail(preview))


def _upright(pixels: Image.Image, orientation: int) -> Image.Image:
    if orientation in _ORIENTATION:
        return pixels.transpose(_ORIENTATION[orientation])
    return pixels


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is dropped anyway: read it as "upright"
        return 1
    return value if isinstance(value, int) else 1


def _plain_mode(image: Image.Image) -> Image.Image:
    if image.mode in {"RGB", "L", "YCbCr"}:
        return image
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in {"1", "I;16", "I;16B", "I;16L", "I", "F"}:
        return image.convert("L")
    return image.convert("RGB")


def encode_jpeg(pixels: Image.Image) -> bytes:
    """Baseline JPEG q85 (lower if it would weigh over MAX_PHOTO_BYTES) with no EXIF, ICC,
    XMP or comment segment."""
    buffer = io.BytesIO()
    for quality in (JPEG_QUALITY, *LOWER_QUALITIES):
        buffer = io.BytesIO()
        pixels.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= MAX_PHOTO_BYTES:
            break
    return buffer.getvalue()


def encode_png(pixels: Image.Image) -> bytes:
    """PNG with no text, EXIF or ICC chunk (scans keep crisp text)."""
    buffer = io.BytesIO()
    pixels.convert("RGB" if pixels.mode == "YCbCr" else pixels.mode).save(
        buffer, "PNG", compress_level=6
    )
    return buffer.getvalue()


def encode_thumbnail(pixels: Image.Image) -> bytes:
    """A small JPEG for the list view, so originals are never decoded to show a list."""
    buffer = io.BytesIO()
    _shrunk(pixels, THUMBNAIL_SIDE, reducing_gap=2.0).save(
        buffer, "JPEG", quality=THUMBNAIL_QUALITY
    )
    return buffer.getvalue()


def _shrunk(pixels: Image.Image, side: int, reducing_gap: float) -> Image.Image:
    """The pixels at most `side` pixels long, with nothing in `info` (a copy only when
    they must be shrunk or cleared)."""
    width, height = pixels.size
    ratio = side / max(width, height)
    if ratio >= 1.0 and not pixels.info:
        return pixels
    ratio = min(1.0, ratio)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    small = pixels.resize(size, Image.Resampling.BILINEAR, reducing_gap=reducing_gap)
    small.info = {}
    return small
