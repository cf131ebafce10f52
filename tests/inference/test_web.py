"""``gantool export --web`` and ``gantool serve``: the page's files, where it loads onnxruntime-web from, the server.

The page drawing in a real browser is tests/inference/test_web_browser.py (slow tier: it needs Chromium).
"""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from gantool.inference import zoo
from gantool.inference.web import ORT_CDN, ORT_FILES, ORT_SCRIPT
from tests.conftest import GANTOOL, process_env, run_cli, spawn_cli


def model_json(page: Path) -> dict:
    text = (page / "index.html").read_text()
    return json.loads(re.search(r'<script type="application/json" id="model-info">(.*?)</script>', text, re.S).group(1))


def test_a_shipped_model_gets_a_page_loading_onnxruntime_web_from_the_cdn(tmp_path):
    proc = run_cli("export", "digits", "--web", "page", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"(onnxruntime-web from {ORT_CDN}): gantool serve page" in proc.stderr
    page = tmp_path / "page"
    assert sorted(p.name for p in page.iterdir()) == ["G.onnx", "gantool-web.js", "index.html"]
    assert (page / "G.onnx").read_bytes() == zoo.resolve("digits").path.read_bytes()
    assert f'<script src="{ORT_CDN}{ORT_SCRIPT}"></script>' in (page / "index.html").read_text()
    assert model_json(page) == {
        "latent_dim": 16,
        "latent": "normal",
        "data_shape": [1, 28, 28],
        "output_range": [-1.0, 1.0],
        "classes": [str(i) for i in range(10)],
    }


def test_ort_copies_a_local_onnxruntime_web(tmp_path):
    dist = tmp_path / "onnxruntime-web" / "dist"  # the npm package's layout: --ort takes its root or its dist/
    dist.mkdir(parents=True)
    for name in ORT_FILES:
        (dist / name).write_text(f"// {name}")
    proc = run_cli("export", "ring", "--web", "page", "--ort", str(dist.parent), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = tmp_path / "page"
    assert sorted(p.name for p in (page / "ort").iterdir()) == sorted(ORT_FILES)
    assert f'<script src="ort/{ORT_SCRIPT}"></script>' in (page / "index.html").read_text()
    assert model_json(page)["data_shape"] == [2] and model_json(page)["classes"] is None  # 2-D points: a scatter


def test_a_run_is_exported_first_and_an_empty_folder_is_fine(digits_export, tmp_path):
    (tmp_path / "page").mkdir()
    proc = run_cli("export", str(digits_export.run), "--onnx", str(tmp_path / "G.onnx"), "--web", "page", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 2 and "onnx.checker passed" in proc.stderr
    assert (tmp_path / "page" / "G.onnx").read_bytes() == (tmp_path / "G.onnx").read_bytes()
    assert model_json(tmp_path / "page")["latent_dim"] == 64


def test_serve_serves_the_page_on_localhost(tmp_path):
    assert run_cli("export", "digits", "--web", "page", cwd=tmp_path).returncode == 0
    (tmp_path / "page" / "x.wasm").write_bytes(b"\0asm")
    server = subprocess.Popen(
        [GANTOOL, "serve", "page", "--port", "0"], cwd=tmp_path, env=process_env(None), stdout=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)", line).group(1)
        with urllib.request.urlopen(url, timeout=10) as page:
            assert b"gantool-web.js" in page.read()
        with urllib.request.urlopen(url + "G.onnx", timeout=10) as model:
            assert model.read() == (tmp_path / "page" / "G.onnx").read_bytes()
        with urllib.request.urlopen(url + "x.wasm", timeout=10) as wasm:
            assert wasm.headers["Content-Type"] == "application/wasm"  # WebAssembly.instantiateStreaming insists
        port = int(url.rsplit(":", 1)[1].strip("/"))
        busy = spawn_cli("serve", "page", "--port", str(port), cwd=tmp_path, timeout=60)
        assert busy.returncode == 2 and busy.stderr.strip().splitlines() == [
            f"error: port {port} on 127.0.0.1 is in use: pass another --port (--port 0 picks a free one)"
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_port_held_by_another_program_is_one_line(tmp_path):
    (tmp_path / "index.html").write_text("<p>hi</p>")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        proc = run_cli("serve", str(tmp_path), "--port", str(port))
    assert (
        proc.returncode == 2
        and proc.stderr.strip() == f"error: port {port} on 127.0.0.1 is in use: pass another --port (--port 0 picks a free one)"
    )


@pytest.mark.parametrize("shape", [[3], [2, 5, 5]])
def test_data_the_page_cannot_draw_is_refused(tmp_path, shape):
    from tests.inference.test_sample import HANDMADE_META, handmade

    size = math.prod(shape)
    meta = {**HANDMADE_META, "latent_dim": str(size), "data_shape": json.dumps(shape)}
    handmade(tmp_path / "odd.onnx", meta, ("batch", size), ("batch", *shape))
    proc = run_cli("export", "odd.onnx", "--web", "page", cwd=tmp_path)
    assert proc.returncode == 2 and f"makes data of shape {shape}, which the page cannot draw" in proc.stderr
    assert not (tmp_path / "page").exists()


def test_walks_and_pages_need_no_torch(tmp_path):
    """As after 'pip install gantool': the training extra hidden from a real process."""
    import textwrap

    from tests.inference.test_sample import BLOCK_TRAINING_EXTRA

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(BLOCK_TRAINING_EXTRA))
    absent = {"PYTHONPATH": str(site)}
    walk = spawn_cli("sample", "--model", "digits", "-n", "4", "--interpolate", "3", "--out", "w.gif", cwd=tmp_path, env=absent)
    assert walk.returncode == 0 and "an animation of 4 looping latent walks" in walk.stderr, walk.stderr
    page = spawn_cli("export", "digits", "--web", "page", cwd=tmp_path, env=absent)
    assert page.returncode == 0 and (tmp_path / "page" / "index.html").is_file(), page.stderr
