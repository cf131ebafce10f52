"""How fast the page of ``gantool export --web`` draws its first 64-sample grid in headless Chromium.

    python benchmarks/web_page.py [--model digits] [--repeat 5]

Makes the page of a model (a shipped one by default) with onnxruntime-web from its npm package (fetched once into
~/.cache/gantool-web by ``npm pack``), serves it with ``gantool serve`` and opens it in headless Chromium, driven
over the DevTools protocol on a pipe (``--remote-debugging-pipe``: the standard library, no websocket client). It
prints, per page load, the milliseconds from navigation start to the first grid on the canvas (``performance.now()``
when the page's first draw ends; its clock starts at navigation), from the page's load event, and from the moment
onnxruntime-web had its session (WebAssembly compiled, model loaded) to the grid: the sampling and drawing alone.
The browser test (tests/inference/test_web_browser.py) drives Chromium with the same ``Chromium`` class.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("GANTOOL_WEB_CACHE", Path.home() / ".cache" / "gantool-web"))


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ort_web(version: str) -> Path:
    """onnxruntime-web ``version``'s dist folder, from its npm package (``npm pack``, cached)."""
    dist = CACHE / f"onnxruntime-web-{version}" / "package" / "dist"
    if dist.is_dir():
        return dist
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to fetch onnxruntime-web: apt-get install -y npm")
    work = CACHE / f"onnxruntime-web-{version}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run(["npm", "pack", f"onnxruntime-web@{version}", "--silent"], cwd=work, check=True, capture_output=True, timeout=600)
    tarball = next(work.glob("onnxruntime-web-*.tgz"))
    shutil.unpack_archive(tarball, work)
    tarball.unlink()
    work.rename(dist.parents[1])
    return dist


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe: JSON messages ended by NUL on fds 3 (in) and 4 (out)."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds() -> None:  # in the child, before exec: its fds 3 and 4 are the pipe
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check", "--disable-gpu"]
        args += ["--no-sandbox", f"--user-data-dir={profile}", "about:blank"]  # CI runs as root, where the sandbox cannot start
        self.process = subprocess.Popen(args, preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events in between are dropped)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Chromium did not answer {method} in {timeout} s")
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed its pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        self.call("Page.navigate", self.session, url=url)

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
        result = self.call("Runtime.evaluate", self.session, timeout, **params)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails'].get('exception', {}).get('description', result)}")
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 60) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(condition)
            if value:
                return value
            time.sleep(0.02)
        raise TimeoutError(f"the page never satisfied {condition} in {timeout} s")

    def screenshot(self, path: Path, width: int, height: int) -> None:
        import base64

        self.call("Emulation.setDeviceMetricsOverride", self.session, width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


class Server:
    """``gantool serve FOLDER --port 0`` in a real process, its URL read from its first line."""

    def __init__(self, folder: Path) -> None:
        gantool = str(Path(sys.executable).parent / "gantool")
        self.process = subprocess.Popen([gantool, "serve", str(folder), "--port", "0"], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = line.split(" at ", 1)[1].split()[0]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


FIRST_GRID = "document.body && ['ready', 'error'].includes(document.body.dataset.state)"


def measure(model: str, repeat: int) -> list[dict[str, float]]:
    from gantool.inference.web import ORT_VERSION

    binary = chromium_binary()
    if binary is None:
        raise SystemExit("no chromium: apt-get install -y chromium")
    dist = ort_web(ORT_VERSION)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page"
        gantool = str(Path(sys.executable).parent / "gantool")
        subprocess.run([gantool, "export", model, "--web", str(page), "--ort", str(dist)], check=True, capture_output=True)
        server = Server(page)
        browser = Chromium(binary, Path(tmp) / "profile")
        rows = []
        try:
            for _ in range(repeat):
                browser.open(server.url)
                browser.wait_for(FIRST_GRID)
                figures = browser.evaluate(
                    "({error: gantool.error || null, drawn: gantool.firstDrawMs, session: gantool.sessionMs,"
                    " load: performance.getEntriesByType('navigation')[0].loadEventEnd,"
                    " n: gantool.z.length / " + "JSON.parse(document.getElementById('model-info').textContent).latent_dim})"
                )
                if figures["error"]:
                    raise SystemExit(f"the page failed: {figures['error']}")
                rows.append(figures)
        finally:
            browser.close()
            server.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits", help="an installed model's name or an .onnx file")
    parser.add_argument("--repeat", type=int, default=5, help="page loads (the first also warms Chromium's caches)")
    args = parser.parse_args()
    rows = measure(args.model, args.repeat)
    for i, row in enumerate(rows):
        after = row["drawn"] - row["load"]
        drawn = f"{row['n']:.0f} samples drawn {row['drawn']:.0f} ms after navigation start"
        print(f"load {i + 1}: {drawn}, {after:.0f} ms after the load event ({row['drawn'] - row['session']:.0f} ms after the model loaded)")
    for what, values in (("navigation start", [r["drawn"] for r in rows]), ("the load event", [r["drawn"] - r["load"] for r in rows])):
        print(f"first grid after {what}: median {statistics.median(values):.0f} ms, worst {max(values):.0f} ms over {len(rows)} loads")


if __name__ == "__main__":
    main()
