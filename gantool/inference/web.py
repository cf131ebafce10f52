"""``gantool export --web DIR`` and ``gantool serve DIR``: a page that samples a generator in the browser.

The folder is static files: ``index.html`` (the model's metadata inside), ``G.onnx`` and ``gantool-web.js``
(the templates in gantool/inference/page, shipped as package data), run by onnxruntime-web, loaded from a
public CDN or, with ``--ort DIR``, from a local copy put in ``ort/``. Any static file server serves it;
``gantool serve`` is the standard library's, on 127.0.0.1. No torch here: a page is made from any ONNX file
gantool sampled, and a run is exported first by the caller (gantool.cli.inference).
"""

from __future__ import annotations

import contextlib
import html
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from gantool.core.errors import GantoolError
from gantool.core.runmeta import ModelInfo

ORT_VERSION = "1.31.1"  # the onnxruntime-web the page asks the CDN for, and the one the browser test runs
ORT_CDN = f"https://cdn.jsdelivr.net/npm/onnxruntime-web@{ORT_VERSION}/dist/"
ORT_SCRIPT = "ort.wasm.min.js"  # the WebAssembly-only build: what a small generator needs, nothing more
ORT_FILES = (ORT_SCRIPT, "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")  # what it loads
PAGE_FILES = ("index.html", "gantool-web.js")
MODEL = "G.onnx"


@dataclass(frozen=True)
class WebReport:
    folder: Path
    source: Path
    ort: str  # where the page loads onnxruntime-web from

    def summary(self) -> str:
        where = f"onnxruntime-web from {self.ort}"
        return f"wrote a page sampling {self.source} to {self.folder}/index.html ({where}): gantool serve {self.folder}"


def check_folder(folder: Path) -> None:
    """A new or empty folder, refused before any work: a page never overwrites what is there."""
    if folder.exists() and not folder.is_dir():
        raise GantoolError(f"--web {folder} is a file: name a new folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise GantoolError(f"--web {folder} exists and is not empty: name a new or empty folder")
    if not folder.parent.is_dir():
        raise GantoolError(f"--web {folder}: the folder {folder.parent} does not exist")


def ort_source(ort: Path | None) -> Path | None:
    """The folder holding onnxruntime-web's files: ``ort`` itself (its dist/) or, for the npm package's root, its dist/."""
    if ort is None:
        return None
    for folder in (ort, ort / "dist"):
        if all((folder / name).is_file() for name in ORT_FILES):
            return folder
    raise GantoolError(f"--ort {ort} lacks {', '.join(ORT_FILES)}: point it at onnxruntime-web's dist folder (npm pack onnxruntime-web)")


def picture_shape(info: ModelInfo, source: Path) -> None:
    """The shapes the page can draw, as gantool's PNGs do: 2-D points, grey or RGB images, square grey vectors."""
    shape = info.data_shape
    square = len(shape) == 1 and round(shape[0] ** 0.5) ** 2 == shape[0]
    if shape == (2,) or square or (len(shape) == 3 and shape[0] in (1, 3)):
        return
    raise GantoolError(f"{source} makes data of shape {list(shape)}, which the page cannot draw: it draws 2-D points and images")


def page_html(info: ModelInfo, source: Path, ort_url: str) -> str:
    """index.html with the model's metadata (what the script needs to draw latents and pictures) filled in."""
    model = {
        "latent_dim": info.latent_dim,
        "latent": info.latent,
        "data_shape": list(info.data_shape),
        "output_range": list(info.output_range),
        "classes": None if info.classes is None else list(info.classes),
    }
    title = source.stem if source.name != MODEL else source.parent.name
    about = f"{info.component or 'a generator'} trained on {info.data or 'its data'}"
    about += f", {len(info.classes)} classes" if info.classes else ""
    about += f"; latents of {info.latent_dim} dimensions from the {info.latent} prior, drawn by this page"
    template = Template((resources.files("gantool") / "inference" / "page" / "index.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=html.escape(title),
        about=html.escape(about),
        model=json.dumps(model).replace("</", "<\\/"),
        ort=html.escape(ort_url),
    )


def write_page(onnx: Path, folder: Path, info: ModelInfo, ort: Path | None = None) -> WebReport:
    """The page's files for the generator in ``onnx`` (``info``, its metadata) in the new folder ``folder``."""
    check_folder(folder)
    picture_shape(info, onnx)
    ort_dir = ort_source(ort)
    ort_url = f"ort/{ORT_SCRIPT}" if ort_dir is not None else ORT_CDN + ORT_SCRIPT
    try:
        folder.mkdir(exist_ok=True)
        shutil.copyfile(onnx, folder / MODEL)
        (folder / "index.html").write_text(page_html(info, onnx, ort_url), encoding="utf-8")
        script = resources.files("gantool") / "inference" / "page" / "gantool-web.js"
        (folder / "gantool-web.js").write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
        if ort_dir is not None:
            (folder / "ort").mkdir()
            for name in ORT_FILES:
                shutil.copyfile(ort_dir / name, folder / "ort" / name)
    except OSError as exc:
        raise GantoolError(f"cannot write the page to {folder} ({exc.strerror or exc}): choose another --web folder") from None
    return WebReport(folder, onnx, str(ort_dir) if ort_dir is not None else ORT_CDN)


def export_web(run: str | Path | None, folder: Path, ort: Path | None = None, **export: Any) -> tuple[WebReport, Any]:
    """A page for an ONNX file or an installed model's name (torch-free), or for a run, exported first (``export``:
    ``gantool export``'s options). Returns the page's report and the export's (None when nothing was exported)."""
    from gantool.inference import zoo
    from gantool.inference.onnx_runtime import OnnxGenerator

    check_folder(folder)
    ort_source(ort)
    report = None
    if run is not None and zoo.looks_like_name(run) and str(run) in zoo.registered_names():
        onnx = zoo.resolve(str(run)).path
    elif run is not None and Path(run).is_file():
        onnx = Path(run)
    else:
        from gantool.inference.export import export_onnx

        report = export_onnx(run, **export)
        onnx = report.path
    info = OnnxGenerator(onnx, device="cpu").info
    return write_page(onnx, folder, info, ort), report


def serve(folder: Path, port: int, announce: Callable[[str], None]) -> None:
    """Serve ``folder`` on 127.0.0.1:``port`` (0: a free one) with the standard library until Ctrl-C; ``announce`` gets the URL."""
    import errno
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    if not (folder / "index.html").is_file():
        raise GantoolError(f"{folder} has no index.html: make a page with 'gantool export RUN --web {folder}'")
    if isinstance(port, bool) or not 0 <= port <= 65535:
        raise GantoolError(f"--port must be a whole number from 0 (any free port) to 65535, got {port}")

    class Quiet(SimpleHTTPRequestHandler):
        extensions_map = {  # noqa: RUF012 (the standard library's own class attribute, extended)
            **SimpleHTTPRequestHandler.extensions_map,
            ".mjs": "text/javascript",
            ".wasm": "application/wasm",
        }

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a page load is a dozen requests."""

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(folder)))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise GantoolError(f"port {port} on 127.0.0.1 is in use: pass another --port (--port 0 picks a free one)") from None
        raise GantoolError(f"cannot serve on 127.0.0.1:{port} ({exc.strerror or exc}): pass another --port") from None
    with server:
        announce(f"http://127.0.0.1:{server.server_address[1]}/")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
