"""The watermark of a paper shown at a counter, drawn into its pixels (not laid over them
by the page): a copy saved from the screen carries it, and so does a screenshot.

Two marks: the sentence repeated across the whole page, slanted and light enough to read
the paper through it, and the same sentence in a white band added under the page, where
nothing of the paper is covered. The input is one of our own previews (drawn by the
sanitiser, authenticated by its AEAD): it is decoded here, not in the sandbox.
"""

from __future__ import annotations

import io
import logging
import textwrap
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

# Debian's fonts-dejavu-core (installed by scripts/bootstrap.sh and the Dockerfile): it
# has every accent of French and the other offered languages' letters.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BAND_INK = (140, 0, 0)
SLANTED_INK = (140, 0, 0, 72)
# A preview is at most 2000 px on its long side (the sanitiser's), a page this size at least.
MAX_PIXELS = 4096 * 4096


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), size)
    except OSError:  # no DejaVu: Pillow's own font still marks the page, accents as boxes
        log.warning("watermark font missing, using Pillow's default")
        return ImageFont.load_default(size)


def watermark(jpeg: bytes, sentence: str) -> bytes:
    """The page `jpeg` with `sentence` slanted across it and written in a band under it."""
    with Image.open(io.BytesIO(jpeg)) as opened:
        if opened.width * opened.height > MAX_PIXELS:
            raise ValueError("not one of our previews")
        page = opened.convert("RGB")
    width, height = page.size
    size = max(14, width // 45)
    font = _font(size)
    marked = Image.alpha_composite(page.convert("RGBA"), _slanted(page.size, sentence, font))
    lines = textwrap.wrap(sentence, width=max(20, int(width / (size * 0.55))))
    line_height = int(size * 1.4)
    band = line_height * len(lines) + size
    out = Image.new("RGB", (width, height + band), "white")
    out.paste(marked.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(out)
    draw.line([(0, height), (width, height)], fill=BAND_INK, width=max(2, size // 6))
    for number, line in enumerate(lines):
        draw.text((size // 2, height + size // 2 + number * line_height), line, BAND_INK, font)
    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _slanted(
    size: tuple[int, int], sentence: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> Image.Image:
    """A transparent layer of `size` with `sentence` in rows, turned by 30 degrees."""
    width, height = size
    side = int((width**2 + height**2) ** 0.5) + 1
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    text = f"{sentence}   ·   "
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    step_x, step_y = max(1, int(right - left)), max(1, int(bottom - top) * 4)
    for row, y in enumerate(range(0, side, step_y)):
        offset = -(row % 2) * step_x // 2
        for x in range(offset, side, step_x):
            draw.text((x, y), text, SLANTED_INK, font)
    turned = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    left = (side - width) // 2
    top = (side - height) // 2
    return turned.crop((left, top, left + width, top + height))
