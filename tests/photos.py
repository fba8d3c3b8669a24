"""A phone photo as a phone sends it, for browser tests and benchmarks: 12 MP, several MB,
EXIF Orientation=6 (held sideways), sensor-like noise that a JPEG cannot squeeze away."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

SAMPLE = Path(__file__).resolve().parent / "samples" / "id_photo_gps.jpg"
NOISE_SIGMA = 32
NOISE_WEIGHT = 0.3
QUALITY = 92  # as phone cameras do: about 4.4 MB for this 4032 x 3024 picture


def make_phone_photo(path: Path) -> Path:
    """Write the 12 MP sample (4032 x 3024, Orientation=6) with grain added, as a JPEG."""
    with Image.open(SAMPLE) as sample:
        exif = sample.getexif()
        pixels = sample.convert("RGB")
    grain = Image.merge("RGB", [Image.effect_noise(pixels.size, NOISE_SIGMA) for _ in "RGB"])
    photo = Image.blend(pixels, grain, NOISE_WEIGHT)
    photo.save(path, "JPEG", quality=QUALITY, exif=exif.tobytes())
    return path
