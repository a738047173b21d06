"""Crop geometry, colour conversion and input quantization."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visionedge.classify import load_classifier
from visionedge.classify.normalization import range_to_normalization
from visionedge.classify.preprocess import (
    MIN_CROP_PX,
    InputQuantizer,
    crop_rect,
    crop_resize,
    dequantize,
    to_model_colour,
)
from visionedge.config import ClassifierConfig
from visionedge.errors import FrameError
from visionedge.frame import Frame
from visionedge.protocols import Box


@st.composite
def boxes(draw: st.DrawFn) -> Box:
    x0 = draw(st.floats(0, 0.999))
    y0 = draw(st.floats(0, 0.999))
    x1 = draw(st.floats(min_value=x0, max_value=1.0).filter(lambda v: v > x0))
    y1 = draw(st.floats(min_value=y0, max_value=1.0).filter(lambda v: v > y0))
    return Box(x0, y0, x1, y1)


@settings(max_examples=300, deadline=None)
@given(
    box=boxes(),
    fw=st.integers(16, 1920),
    fh=st.integers(16, 1080),
    aspect=st.sampled_from([1.0, 4 / 3, 3 / 4, 2.0]),
    margin=st.floats(0, 1),
)
def test_crop_is_inside_the_frame_and_holds_the_box(
    box: Box, fw: int, fh: int, aspect: float, margin: float
) -> None:
    x0, y0, x1, y1 = crop_rect(box, fw, fh, aspect, margin)
    assert 0 <= x0 < x1 <= fw and 0 <= y0 < y1 <= fh
    # The box (in whole pixels, one pixel of rounding) is inside the crop.
    assert x0 <= box.x0 * fw + 1 and x1 >= box.x1 * fw - 1
    assert y0 <= box.y0 * fh + 1 and y1 >= box.y1 * fh - 1
    w, h = x1 - x0, y1 - y0
    bw, bh = (box.x1 - box.x0) * fw, (box.y1 - box.y0) * fh
    # When the grown box fits the frame, the crop has the model's aspect (±1 px rounding).
    gw, gh = (bw, bw / aspect) if bw / max(bh, 1e-9) >= aspect else (bh * aspect, bh)
    gw, gh = gw * (1 + margin), gh * (1 + margin)
    if min(gw, gh) < MIN_CROP_PX:
        f = MIN_CROP_PX / min(gw, gh)
        gw, gh = gw * f, gh * f
    if gw <= fw - 1 and gh <= fh - 1 and bw >= 1 and bh >= 1:
        assert abs(w - round(gw)) <= 1 and abs(h - round(gh)) <= 1
        assert abs(w / h - aspect) <= aspect * (1 / h + 1 / w) + 1e-9


def test_margin_grows_the_box_evenly() -> None:
    # A 100x100 box in the middle of a 1000x1000 frame, square model, 20 % margin.
    assert crop_rect(Box(0.45, 0.45, 0.55, 0.55), 1000, 1000, 1.0, 0.2) == (440, 440, 560, 560)
    # A wide box on a square model grows in height to match its width.
    assert crop_rect(Box(0.4, 0.45, 0.6, 0.55), 1000, 1000, 1.0, 0.0) == (400, 400, 600, 600)


def test_box_at_the_edge_is_shifted_inside() -> None:
    assert crop_rect(Box(0.0, 0.0, 0.1, 0.1), 1000, 1000, 1.0, 0.5) == (0, 0, 150, 150)
    assert crop_rect(Box(0.9, 0.9, 1.0, 1.0), 1000, 1000, 1.0, 0.5) == (850, 850, 1000, 1000)


def test_tiny_box_gets_the_minimum_crop() -> None:
    x0, y0, x1, y1 = crop_rect(Box(0.5, 0.5, 0.501, 0.501), 640, 360, 1.0, 0.1)
    assert (x1 - x0, y1 - y0) == (MIN_CROP_PX, MIN_CROP_PX)
    assert x0 <= 320 <= x1 and y0 <= 180 <= y1


def test_box_wider_than_the_frame_allows_keeps_the_object_whole() -> None:
    # The whole width on a square model in a 16:9 frame: the crop cannot be square without
    # cutting the object, so it takes the full frame (the resize squeezes a little).
    assert crop_rect(Box(0.0, 0.4, 1.0, 0.6), 640, 360, 1.0, 0.1) == (0, 0, 640, 360)
    # A tall thin box on a landscape model: full height, as wide as the aspect allows.
    assert crop_rect(Box(0.49, 0.0, 0.51, 1.0), 640, 360, 4 / 3, 0.0) == (80, 0, 560, 360)


def test_no_box_is_the_centred_crop_of_the_model_aspect() -> None:
    assert crop_rect(None, 640, 360, 1.0, 0.15) == (140, 0, 500, 360)
    assert crop_rect(None, 640, 480, 4 / 3, 0.15) == (0, 0, 640, 480)
    assert crop_rect(None, 300, 600, 2.0, 0.0) == (0, 225, 300, 375)


def test_crop_resize_and_colour() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :100] = (255, 0, 0)  # left half blue (BGR)
    img[:, 100:] = (0, 0, 255)  # right half red
    out = crop_resize(img, (0, 0, 200, 100), 20, 10)
    assert out.shape == (10, 20, 3)
    rgb = to_model_colour(out, 3)
    assert tuple(rgb[5, 2]) == (0, 0, 255) and tuple(rgb[5, 17]) == (255, 0, 0)
    gray = to_model_colour(out, 1)
    assert gray.shape == (10, 20, 1)
    up = crop_resize(img, (95, 45, 105, 55), 40, 40)  # enlarging
    assert up.shape == (40, 40, 3)


@pytest.mark.parametrize(
    ("dtype", "lo", "hi"),
    [("int8", 0.0, 1.0), ("uint8", 0.0, 1.0), ("uint8", -1.0, 1.0), ("int8", -1.0, 1.0)],
)
def test_quantize_then_dequantize_is_within_one_step(dtype: str, lo: float, hi: float) -> None:
    # The scale/zero point a converter picks for data spanning [lo, hi].
    qmin, qmax = (-128, 127) if dtype == "int8" else (0, 255)
    scale = (hi - lo) / 255
    zp = round(qmin - lo / scale)
    q = InputQuantizer(range_to_normalization(lo, hi), 3, dtype, scale, zp)
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    tensor = q(pixels)
    assert tensor.dtype == np.dtype(dtype) and tensor.shape == (1, 16, 16, 3)
    assert int(tensor.min()) >= qmin and int(tensor.max()) <= qmax
    back = dequantize(tensor, scale, zp, quantized=True).reshape(16, 16, 3)[..., 0].reshape(-1)
    real = lo + np.arange(256) * (hi - lo) / 255
    assert np.max(np.abs(back - real)) <= scale + 1e-6


def test_uint8_pixels_are_never_copied_into_an_int8_tensor(
    make_cfg: Callable[..., ClassifierConfig],
) -> None:
    clf = load_classifier(make_cfg("colour_int8"))
    black = np.zeros((24, 32, 3), np.uint8)
    white = np.full((24, 32, 3), 255, np.uint8)
    t_black, t_white = clf.input_tensor(black), clf.input_tensor(white)
    assert t_black.dtype == np.int8
    # Zero point -128, scale 1/255: black is -128 and white 127 (a copy would give 0 and -1).
    assert int(t_black.max()) == -128 and int(t_white.min()) == 127
    mid = clf.input_tensor(np.full((24, 32, 3), 128, np.uint8))
    assert int(mid.min()) == int(mid.max()) == 0


def test_float_input_gets_real_values(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_float32", input_range=(-1.0, 1.0)))
    t = clf.input_tensor(np.full((24, 32, 3), 255, np.uint8))
    assert t.dtype == np.float32 and float(t.min()) == pytest.approx(1.0)


def test_classify_a_frame_region(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_int8", top_k=1))
    image = np.zeros((360, 640, 3), np.uint8)
    image[:, :] = (150, 0, 0)  # blue everywhere
    image[200:300, 400:500] = (0, 0, 220)  # a red object
    frame = Frame(index=17, ts_ms=1700, plane=image[::2, ::2, 0], _image=lambda: image)
    box = Box(400 / 640, 200 / 360, 500 / 640, 300 / 360)
    moving = clf.classify(frame, box)
    assert moving.frame_index == 17 and moving.box == box
    assert moving.best is not None and moving.best.label == "red"
    assert moving.classify_us > 0
    whole = clf.classify(frame, None)
    assert whole.best is not None and whole.best.label == "blue" and whole.box is None


def test_bad_images_are_frame_errors(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_int8"))
    with pytest.raises(FrameError):
        clf.classify_image(np.zeros((10, 10, 3), np.float32))  # type: ignore[arg-type]
    with pytest.raises(FrameError):
        clf.classify_image(np.zeros((10, 10, 4), np.uint8))
    gray = clf.classify_image(np.full((30, 30), 200, np.uint8))  # a gray image is fine
    assert len(gray.top) == 3


def test_thresholds_and_ignore_apply_to_classifications(
    make_cfg: Callable[..., ClassifierConfig],
) -> None:
    red = np.zeros((30, 40, 3), np.uint8)
    red[...] = (0, 0, 220)
    only_red = load_classifier(make_cfg("colour_int8", threshold=0.5, top_k=3))
    assert [p.label for p in only_red.classify_image(red).top] == ["red"]
    no_red = load_classifier(make_cfg("colour_int8", ignore=["red"], top_k=1))
    assert [p.label for p in no_red.classify_image(red).top] != ["red"]
    strict = load_classifier(make_cfg("colour_int8", thresholds={"red": 1.0}))
    assert "red" not in [p.label for p in strict.classify_image(red).top]


def test_reconfigure_changes_thresholds_live(
    make_cfg: Callable[..., ClassifierConfig], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from visionedge.errors import ConfigError

    red = np.zeros((30, 40, 3), np.uint8)
    red[...] = (0, 0, 220)
    cfg = make_cfg("colour_int8", top_k=3)
    clf = load_classifier(cfg)
    assert len(clf.classify_image(red).top) == 3
    clf.reconfigure(cfg.model_copy(update={"threshold": 0.5, "ignore": ["green"]}))
    assert [p.label for p in clf.classify_image(red).top] == ["red"]
    with pytest.raises(ConfigError, match=r"classifier\.thresholds names 'pink'"):
        clf.reconfigure(cfg.model_copy(update={"thresholds": {"pink": 0.1}}))
    with caplog.at_level(logging.WARNING):
        clf.reconfigure(cfg.model_copy(update={"num_threads": 2, "top_k": 1}))
    assert "classifier.num_threads: changes need a restart" in caplog.text
    assert len(clf.classify_image(red).top) == 1


def _area_resize_by_definition(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """docs/gate-algorithm.md §6 literally: integer overlap weights, one output at a time."""
    src_h, src_w = img.shape[:2]

    def weights(c: int, n: int) -> np.ndarray:
        m = np.zeros((n, c), np.int64)
        for o in range(n):
            for s in range(c):
                m[o, s] = max(0, min((o + 1) * c, (s + 1) * n) - max(o * c, s * n))
        return m

    a = img.astype(np.int64).reshape(src_h, src_w, -1)
    s = np.einsum("oh,hwc,pw->opc", weights(src_h, h), a, weights(src_w, w))
    d = src_w * src_h
    out = ((s + d // 2) // d).astype(np.uint8)
    return out if img.ndim == 3 else out[:, :, 0]


@settings(max_examples=150, deadline=None)
@given(
    src=st.tuples(st.integers(1, 70), st.integers(1, 70)),
    dst=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    colour=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_area_resize_is_the_spec_exactly(
    src: tuple[int, int], dst: tuple[int, int], colour: bool, seed: int
) -> None:
    from visionedge.classify.preprocess import area_resize

    rng = np.random.default_rng(seed)
    shape = (src[1], src[0], 3) if colour else (src[1], src[0])
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(area_resize(img, *dst), _area_resize_by_definition(img, *dst))


def test_area_resize_rounds_half_up_and_keeps_flat_areas() -> None:
    from visionedge.classify.preprocess import area_resize

    # 1x2 -> 1x1: (0 + 1) / 2 = 0.5 rounds up to 1; (0 + 2) / 2 = 1.
    assert area_resize(np.array([[0, 1]], np.uint8), 1, 1)[0, 0] == 1
    # 3 -> 2 pixels: footprints [0, 1.5) and [1.5, 3): (2*10 + 1*40) / 3 = 20, (1*40 + 2*70) / 3 = 60.
    assert area_resize(np.array([[10, 40, 70]], np.uint8), 2, 1).tolist() == [[20, 60]]
    flat = np.full((37, 53, 3), 77, np.uint8)
    assert np.all(area_resize(flat, 96, 96) == 77) and np.all(area_resize(flat, 5, 7) == 77)
