"""Crops, model input, perceptual and stability hashes. numpy/PIL/imagehash load on first use."""

from __future__ import annotations

import io
from typing import Optional, Tuple

MODEL_SIZE = 64          # model input is MODEL_SIZE x MODEL_SIZE grayscale
CROP_MARGIN = 0.5        # crop = element box grown by this share of its size on each side ...
CROP_MIN_PAD = 24        # ... but at least this many CSS pixels


def crop_region(rect, vw: float, vh: float, tight: bool = False) -> Optional[Tuple[int, int, int, int]]:
    """The viewport-clamped region (x, y, w, h) to capture around an element box, or None."""
    if not rect:
        return None
    x, y, w, h = rect
    if tight:
        pad_x = pad_y = 2.0
    else:
        pad_x = max(CROP_MIN_PAD, w * CROP_MARGIN)
        pad_y = max(CROP_MIN_PAD, h * CROP_MARGIN)
    x0, y0 = max(0.0, x - pad_x), max(0.0, y - pad_y)
    x1, y1 = min(float(vw), x + w + pad_x), min(float(vh), y + h + pad_y)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0))


def decode_gray(data: bytes):
    """Grayscale image from PNG or JPEG bytes (JPEG decodes straight to gray, which is much faster)."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG":
        img.draft("L", img.size)
    return img.convert("L")


def model_input(img):
    """float32 array [1, 1, 64, 64] in [0, 1]; a missing crop (None) is all zeros."""
    import numpy as np

    if img is None:
        return np.zeros((1, 1, MODEL_SIZE, MODEL_SIZE), dtype=np.float32)
    from PIL import Image

    small = img.resize((MODEL_SIZE, MODEL_SIZE), Image.BILINEAR)
    arr = np.asarray(small, dtype=np.float32) / 255.0
    return arr.reshape(1, 1, MODEL_SIZE, MODEL_SIZE)


def phash_hex(img) -> str:
    """imagehash's pHash; big images are box-reduced first (it shrinks to 32x32 anyway)."""
    import imagehash

    factor = max(img.width, img.height) // 256
    if factor >= 2:
        img = img.reduce(factor)
    return str(imagehash.phash(img))


def phash_similarity(a: str, b: str) -> float:
    """1 - normalised Hamming distance of two hex pHashes of equal length."""
    if not a or not b or len(a) != len(b):
        return 0.0
    bits = len(a) * 4
    diff = bin(int(a, 16) ^ int(b, 16)).count("1")
    return 1.0 - diff / bits


def stability_hash(img):
    """A 16x16 average hash: equal (or nearly) for frames a user would call "the same"."""
    import numpy as np
    from PIL import Image

    small = np.asarray(img.resize((16, 16), Image.BILINEAR), dtype=np.float32)
    return small > small.mean()


def same_frame(a, b, max_bits: int = 3) -> bool:
    if a is None or b is None:
        return False
    return int((a != b).sum()) <= max_bits


def crop_color(png: bytes, region: Tuple[int, int, int, int], px: float):
    """The colour crop of ``region`` (CSS px) from a viewport PNG with ``px`` pixels per CSS px."""
    from PIL import Image

    x, y, w, h = region
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return img.crop((int(x * px), int(y * px), int((x + w) * px), int((y + h) * px)))


def png_bytes(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
