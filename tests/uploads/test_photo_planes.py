"""The JPEG planes path (`locker.sanitize.turbo`) gives what Pillow's path gives: the same
upright picture at the same size, with no metadata; and it steps aside, leaving the verdict
to Pillow, for every file it does not take (CMYK, a damaged stream, a scale worth
resampling)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from locker.sanitize import images, turbo
from locker.sanitize.errors import DamagedFile

MAX_PIXELS = 50_000_000
# Pillow's `subsampling` values: 4:4:4, 4:2:2, 4:2:0.
SUBSAMPLINGS = {"444": 0, "422": 1, "420": 2}


def _scene(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture that looks different under each of the eight orientations."""
    scene = Image.linear_gradient("L").resize((width, height)).convert(mode)
    draw = ImageDraw.Draw(scene)
    ink = 0 if mode == "L" else (200, 30, 30)
    draw.rectangle((0, 0, width // 3, height // 5), fill=ink)  # a block in one corner
    draw.rectangle((width // 2, height // 2, width - 1, height // 2 + 8), fill=ink)  # a bar
    return scene


def _photo(scene: Image.Image, orientation: int, subsampling: int = 2) -> bytes:
    """A camera-like JPEG: EXIF orientation, a GPS block and a comment."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
    out = io.BytesIO()
    scene.save(
        out,
        "JPEG",
        quality=95,
        exif=exif,
        comment=b"<script>alert(1)</script>",
        **({} if scene.mode == "L" else {"subsampling": subsampling}),
    )
    return out.getvalue()


def _reference(data: bytes) -> Image.Image:
    """What bare Pillow makes of the photo: decoded and turned upright."""
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return max(ImageStat.Stat(difference).mean)


@pytest.mark.parametrize("subsampling", sorted(SUBSAMPLINGS))
@pytest.mark.parametrize("orientation", range(1, 9))
def test_planes_path_matches_pillow_upright_and_bare(orientation: int, subsampling: str) -> None:
    # Odd sides: the chroma planes of 4:2:x round up, and the turn must keep them right.
    data = _photo(_scene(333, 251), orientation, SUBSAMPLINGS[subsampling])
    with ThreadPoolExecutor(1) as pool:
        clean = images.clean_image(data, "image/jpeg", MAX_PIXELS, previews=pool)
        assert clean.previews is not None
        previews = clean.previews.result()
    assert clean.jpeg is not None, "a plain camera JPEG takes the planes path"
    reference = _reference(data)
    with Image.open(io.BytesIO(clean.jpeg)) as result:
        assert result.format == "JPEG" and result.size == reference.size == clean.size
        assert not result.getexif() and "exif" not in result.info
        assert "comment" not in result.info and b"<script>" not in clean.jpeg
        assert b"Exif" not in clean.jpeg and b"GPS" not in clean.jpeg
        # Two JPEG generations apart, on sharp edges: close, not equal. A wrong turn or
        # flip puts the dark block elsewhere and the difference is tens of levels.
        assert _mean_difference(result, reference) < 3.0
    # The preview (smaller than 1600 px: the photo's own size) and the thumbnail are
    # upright and bare too.
    for picture, side in ((previews.preview, 333), (previews.thumbnail, images.THUMBNAIL_SIDE)):
        with Image.open(io.BytesIO(picture)) as result:
            assert max(result.size) == side and not result.getexif() and b"GPS" not in picture
            small = reference.resize(result.size, Image.Resampling.BILINEAR)
            assert _mean_difference(result, small) < 6.0


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_grey_photo_takes_pillows_path_and_stays_grey(orientation: int) -> None:
    data = _photo(_scene(300, 200, "L"), orientation)
    clean = images.clean_image(data, "image/jpeg", MAX_PIXELS)
    assert clean.jpeg is None and clean.grey
    with Image.open(io.BytesIO(clean.encoded())) as result:
        assert result.mode == "L"
        assert _mean_difference(result, _reference(data)) < 3.0


def test_a_wrong_turn_would_be_seen() -> None:
    # The comparison above can fail: the same photo left unturned is far from upright.
    data = _photo(_scene(333, 251), 3)
    unturned = _reference(_photo(_scene(333, 251), 1))
    assert _mean_difference(unturned, _reference(data)) > 20.0


def test_oversized_photo_is_decoded_at_a_reduced_scale_and_stored_at_most_max_side() -> None:
    # 5400 x 4000: the decoder's 3/8 scale gives 2025 x 1500, resampled to 2000 long.
    data = _photo(_scene(5400, 4000), 6)
    clean = images.clean_image(data, "image/jpeg", MAX_PIXELS)
    assert clean.jpeg is not None
    assert clean.size == (1481, 2000)  # turned upright, the long side at MAX_SIDE
    with Image.open(io.BytesIO(clean.jpeg)) as result:
        assert result.size == clean.size
        expected = _reference(data).resize(clean.size, Image.Resampling.BILINEAR)
        assert _mean_difference(result, expected) < 3.0


def test_every_path_caps_the_long_side() -> None:
    """Pillow's path too (a grey photo, a PNG scan): nothing is stored over MAX_SIDE long."""
    for mode, kind, fmt in (("L", "image/jpeg", "JPEG"), ("RGB", "image/png", "PNG")):
        out = io.BytesIO()
        Image.new(mode, (2480, 3508), 200).save(out, fmt)
        clean = images.clean_image(out.getvalue(), kind, MAX_PIXELS)
        assert clean.size == (1414, 2000), (mode, kind)
    small = io.BytesIO()
    Image.new("RGB", (1200, 900), 200).save(small, "JPEG")
    assert images.clean_image(small.getvalue(), "image/jpeg", MAX_PIXELS).size == (1200, 900)


def test_a_grainy_photo_is_stored_under_a_megabyte_on_both_paths() -> None:
    """Noise is the heaviest a JPEG gets: the quality steps down until it weighs 1 MB."""
    grain = Image.effect_noise((2000, 1500), 30).convert("RGB")  # a dim room's grain
    for fmt, kind in (("JPEG", "image/jpeg"), ("WEBP", "image/webp")):  # planes, Pillow
        out = io.BytesIO()
        grain.save(out, fmt, quality=95)
        clean = images.clean_image(out.getvalue(), kind, MAX_PIXELS)
        assert clean.size == (2000, 1500)
        assert len(clean.as_jpeg()) <= images.MAX_PHOTO_BYTES, fmt
    plain = io.BytesIO()
    grain.save(plain, "JPEG", quality=images.JPEG_QUALITY)
    assert plain.tell() > images.MAX_PHOTO_BYTES  # at q85 it would not have fitted


def test_dct_scale_keeps_the_target_and_no_more_than_the_slack() -> None:
    assert turbo.dct_scale(1.0, images.OVERSIZE_SLACK) == 1
    assert turbo.dct_scale(0.65, images.OVERSIZE_SLACK) == Fraction(3, 4)
    assert turbo.dct_scale(0.5, images.OVERSIZE_SLACK) == Fraction(1, 2)
    assert turbo.dct_scale(0.13, images.OVERSIZE_SLACK) is None  # 1/4 is twice too big
    for scale in (0.3, 0.41, 0.55, 0.62, 0.7):
        found = turbo.dct_scale(scale, images.OVERSIZE_SLACK)
        assert found is None or scale <= found <= scale * images.OVERSIZE_SLACK


def test_cmyk_jpeg_takes_pillows_path() -> None:
    out = io.BytesIO()
    _scene(120, 80).convert("CMYK").save(out, "JPEG", quality=90)
    clean = images.clean_image(out.getvalue(), "image/jpeg", MAX_PIXELS)
    assert clean.jpeg is None and clean.size == (120, 80)
    assert clean.encoded()[:3] == b"\xff\xd8\xff"


def test_damaged_stream_is_left_to_pillow_which_refuses_it() -> None:
    data = _photo(_scene(333, 251), 6)
    truncated = data[: len(data) * 2 // 3]
    size = (333, 251)
    common = {"orientation": 6, "scale": 1.0, "slack": 1.35}
    assert turbo.decode_planes(data, size=size, **common) is not None  # type: ignore[arg-type]
    assert turbo.decode_planes(truncated, size=size, **common) is None  # type: ignore[arg-type]
    # A header that disagrees with Pillow's reading is not trusted either.
    assert turbo.decode_planes(data, size=(334, 251), **common) is None  # type: ignore[arg-type]
    with pytest.raises(DamagedFile):
        images.clean_image(truncated, "image/jpeg", MAX_PIXELS)


@settings(deadline=None, max_examples=60)
@given(
    st.integers(1, 3 * turbo._TILE + 7),
    st.integers(1, 2 * turbo._TILE + 3),
    st.sampled_from(sorted(turbo._UPRIGHT)),
    st.integers(0, 2**32),
)
def test_the_tiled_turn_is_the_plain_copy(
    rows: int, columns: int, orientation: int, seed: int
) -> None:
    # Planes of several tiles and ragged edges, turned each of the eight ways.
    plane = np.random.default_rng(seed).integers(0, 256, (rows, columns), dtype=np.uint8)
    turned = turbo._UPRIGHT[orientation](plane)
    target = np.zeros(turned.shape, np.uint8)
    turbo.copy_tiled(target, turned)
    assert np.array_equal(target, turned)


def test_without_libjpeg_turbo_photos_take_pillows_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """libturbojpeg is optional: where PyTurboJPEG cannot load it, the same photo comes out
    upright and clean through Pillow alone."""
    import sys

    import turbojpeg

    def no_library(*_: object, **__: object) -> None:
        raise RuntimeError("Unable to locate turbojpeg library automatically.")

    monkeypatch.setattr(turbojpeg, "TurboJPEG", no_library)
    monkeypatch.delitem(sys.modules, "locker.sanitize.turbo")
    monkeypatch.delattr(sys.modules["locker.sanitize"], "turbo")
    assert images.load_turbo() is None
    data = _photo(_scene(400, 300), orientation=6)
    with_turbo = images.clean_image(data, "image/jpeg", MAX_PIXELS)
    monkeypatch.setattr(images, "TURBO", None)
    without = images.clean_image(data, "image/jpeg", MAX_PIXELS)
    assert without.size == with_turbo.size == (300, 400)
    encoded = without.encoded()
    with Image.open(io.BytesIO(encoded)) as clean:
        assert clean.format == "JPEG" and not clean.getexif() and "comment" not in clean.info
        assert _mean_difference(clean, _reference(data)) < 4
