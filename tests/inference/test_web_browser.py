"""The page of ``gantool export --web`` in headless Chromium, served by ``gantool serve``, with onnxruntime-web from
its npm package: given fixed latents, it draws onnxruntime-python's pixels within 1/255; its label picker redraws
in the class picked; a model or onnxruntime-web that fails to load is a clear message on the page.

Needs Debian's ``chromium`` and ``npm`` (``nox -s browser`` installs them; CI runs it). Without them the tests skip
on a workstation and fail under CI=true, so CI never passes them silently.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.web_page import FIRST_GRID, Chromium, Server, chromium_binary, ort_web
from gantool.core import latents
from gantool.core.images import grid
from gantool.inference import zoo
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.inference.web import ORT_SCRIPT, ORT_VERSION
from tests.conftest import run_cli

pytestmark = pytest.mark.slow  # starts Chromium and loads 15 MB of WebAssembly per page


def needed(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing under CI: the browser tests must run there (nox -s browser installs it)")
    pytest.skip(f"{what} is not installed (apt-get install -y chromium npm)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    binary = chromium_binary()
    if binary is None:
        needed("chromium")
    chromium = Chromium(binary, tmp_path_factory.mktemp("profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def ort_dist() -> Path:
    try:
        return ort_web(ORT_VERSION)
    except RuntimeError:
        needed("npm")
        raise


def make_page(tmp_path: Path, model: str, ort: Path) -> Path:
    proc = run_cli("export", model, "--web", "page", "--ort", str(ort), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "page"


def open_page(browser: Chromium, page: Path, query: str = "") -> tuple[Server, dict]:
    server = Server(page)
    browser.open(server.url + query)
    browser.wait_for(FIRST_GRID)
    return server, browser.evaluate("({state: document.body.dataset.state, status: document.getElementById('status').textContent})")


def canvas(browser: Chromium) -> np.ndarray:
    """The canvas's pixels, (H, W, 4) uint8, as the page drew them."""
    width, height, data = browser.evaluate(
        "(() => { const c = document.getElementById('grid');"
        " return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; })()"
    )
    return np.asarray(data, dtype=np.uint8).reshape(height, width, 4)


def assert_pixels(drawn: np.ndarray, samples: np.ndarray) -> None:
    """The page's grid against gantool's own PNG grid of onnxruntime-python's samples: within one level of 255."""
    expected = grid(samples, ncol=math.ceil(math.sqrt(len(samples))))
    assert drawn.shape[:2] == expected.shape[:2]
    assert (drawn[..., 3] == 255).all() and (drawn[..., 0] == drawn[..., 1]).all() and (drawn[..., 1] == drawn[..., 2]).all()
    assert np.abs(drawn[..., 0].astype(int) - expected[..., 0].astype(int)).max() <= 1


def test_fixed_latents_draw_onnxruntime_pythons_pixels(browser, ort_dist, digits_export, tmp_path):
    page = make_page(tmp_path, str(digits_export.onnx), ort_dist)
    z = latents.draw(20, 64, "normal", seed=11)
    (page / "fixed.json").write_text(json.dumps({"z": z.tolist()}))
    server, shown = open_page(browser, page, "?latents=fixed.json")
    try:
        assert shown == {"state": "ready", "status": "20 samples from the given latents, drawn by onnxruntime-web in your browser"}
        assert_pixels(canvas(browser), OnnxGenerator(digits_export.onnx, device="cpu")(z))
        assert browser.evaluate("document.getElementById('label-picker').hidden")  # unconditional: no picker
    finally:
        server.close()


def test_the_label_picker_redraws_in_the_class_picked(browser, ort_dist, tmp_path):
    page = make_page(tmp_path, "digits", ort_dist)
    z = latents.draw(9, 16, "normal", seed=4)
    labels = latents.draw_labels(9, 10, seed=4)
    (page / "fixed.json").write_text(json.dumps({"z": z.tolist(), "labels": labels.tolist()}))
    G = OnnxGenerator(zoo.resolve("digits").path, device="cpu")
    server, shown = open_page(browser, page, "?latents=fixed.json")
    try:
        assert shown["state"] == "ready"
        assert_pixels(canvas(browser), G(z, labels=labels))  # "random": the file's labels
        options = browser.evaluate("Array.from(document.getElementById('label').options, o => o.textContent)")
        assert options == ["random", *map(str, range(10))]
        drawn = browser.evaluate("gantool.drawn")
        browser.evaluate("(() => { const s = document.getElementById('label'); s.value = '7'; s.dispatchEvent(new Event('change')); })()")
        browser.wait_for(f"gantool.drawn > {drawn}")
        assert_pixels(canvas(browser), G(z, labels=np.full(9, 7)))
    finally:
        server.close()


def test_a_seed_draws_a_grid_of_64(browser, ort_dist, tmp_path):
    page = make_page(tmp_path, "digits", ort_dist)
    server, shown = open_page(browser, page, "?seed=3")
    try:
        assert shown == {"state": "ready", "status": "64 samples from seed 3, drawn by onnxruntime-web in your browser"}
        pixels = canvas(browser)
        assert pixels.shape == (8 * 30 + 2, 8 * 30 + 2, 4) and pixels[..., 0].std() > 20  # digits, not a blank sheet
        browser.open(server.url + "?seed=3")
        browser.wait_for(FIRST_GRID)
        np.testing.assert_array_equal(canvas(browser), pixels)  # a seed is the same grid on every visit
        browser.evaluate("document.getElementById('walk').click()")  # the latent walk: the grid moves frame by frame
        browser.wait_for("gantool.drawn >= 4", timeout=30)
        browser.evaluate("document.getElementById('walk').click()")
        assert canvas(browser).shape == pixels.shape and not np.array_equal(canvas(browser), pixels)
    finally:
        server.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda page: (page / "G.onnx").write_bytes(b"\x08junk"), "The model G.onnx failed to load: "),
        (lambda page: (page / "ort" / ORT_SCRIPT).unlink(), "onnxruntime-web did not load (from the script this page names)"),
    ],
    ids=["broken model", "no onnxruntime-web"],
)
def test_what_fails_to_load_is_said_on_the_page(browser, ort_dist, tmp_path, damage, message):
    page = make_page(tmp_path, "digits", ort_dist)
    damage(page)
    server, shown = open_page(browser, page)
    try:
        assert shown["state"] == "error" and shown["status"].startswith(message), shown
    finally:
        server.close()
