"""Images: decode with an allowlist and a pixel limit, turn upright, drop every metadata
block, re-encode. Runs inside the sandboxed worker only (these bytes are hostile).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from types import ModuleType

from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from locker.sanitize.errors import DamagedFile, TooManyPixels, TypeMismatch

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
# A4 at 300 dpi: the smallest size that keeps a photographed paper legible when printed.
A4_300DPI = (2480, 3508)
# Up to this much larger than A4 at 300 dpi is kept as is: resampling costs more than it saves.
OVERSIZE_SLACK = 1.35
JPEG_QUALITY = 85
THUMBNAIL_SIDE = 256
THUMBNAIL_QUALITY = 70

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
class CleanImage:
    """Upright pixels with no metadata at all, ready to encode; or, for a photo that took
    the JPEG planes path, the clean JPEG itself and only a small copy of its pixels (for
    the thumbnail)."""

    pixels: Image.Image
    keep_png: bool
    size: tuple[int, int]
    jpeg: bytes | None = None

    @property
    def grey(self) -> bool:
        return self.pixels.mode == "L"

    def as_jpeg(self) -> bytes:
        """The clean JPEG (a PDF page is always one)."""
        return self.jpeg if self.jpeg is not None else encode_jpeg(self.pixels)

    def encoded(self) -> bytes:
        """The clean file: PNG for a PNG upload (scans keep crisp text), else JPEG."""
        return encode_png(self.pixels) if self.keep_png else self.as_jpeg()


def target_scale(width: int, height: int) -> float:
    """The downscale factor that keeps at least A4 at 300 dpi, or 1.0 when not worth it."""
    short, long = sorted((width, height))
    scale = max(A4_300DPI[0] / short, A4_300DPI[1] / long)
    return scale if scale * OVERSIZE_SLACK < 1.0 else 1.0


def clean_image(data: bytes, content_type: str, max_pixels: int) -> CleanImage:
    """Decode `data` as exactly the sniffed format, refusing bombs before any pixel is decoded."""
    expected = PILLOW_FORMATS[content_type]
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
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
        orientation = _orientation(image)
        scale = target_scale(width, height)
        if expected == "JPEG" and image.mode == "RGB" and TURBO is not None:
            # Most uploads: a colour photo, re-encoded from its planes (None: not this one).
            fast = TURBO.clean_jpeg(
                data,
                size=(width, height),
                orientation=orientation,
                scale=scale,
                slack=OVERSIZE_SLACK,
                quality=JPEG_QUALITY,
                preview_side=THUMBNAIL_SIDE,
            )
            if fast is not None:
                preview = _upright(fast.preview, orientation)
                return CleanImage(pixels=preview, keep_png=False, size=fast.size, jpeg=fast.jpeg)
        if expected == "JPEG":
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
    return CleanImage(pixels=pixels, keep_png=expected == "PNG", size=pixels.size)


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
    """Baseline JPEG q85 with no EXIF, ICC, XMP or comment segment."""
    buffer = io.BytesIO()
    pixels.save(buffer, "JPEG", quality=JPEG_QUALITY)
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
    width, height = pixels.size
    ratio = min(1.0, THUMBNAIL_SIDE / max(width, height))
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    small = pixels.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    small.info = {}
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()
