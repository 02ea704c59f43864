"""Headless Chromium driven over the DevTools protocol with the websockets client we already ship.

Enough of CDP to load a page, click, read the DOM and take a screenshot; Chromium's fake
media devices play a real speech file as the microphone.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_binary() -> str:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("Chromium is not installed; scripts/setup.sh installs it (apt package chromium).")


class Chromium:
    def __init__(self, fake_audio: Path | None = None) -> None:
        # Chromium's helper processes may still write to the profile while it is removed.
        self._profile = tempfile.TemporaryDirectory(prefix="sayline-chromium-", ignore_cleanup_errors=True)
        args = [
            chromium_binary(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            "--window-size=1280,800",
            f"--user-data-dir={self._profile.name}",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        if fake_audio is not None:
            args.insert(-1, f"--use-file-for-fake-audio-capture={fake_audio}")
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._ids = itertools.count(1)
        self._ws: Any = None
        self.console: list[str] = []

    def _devtools_port(self, timeout: float = 30.0) -> int:
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self._process.poll() is not None:
                raise RuntimeError(f"Chromium exited with code {self._process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("Chromium did not open its DevTools port")

    async def __aenter__(self) -> Chromium:
        port = await asyncio.to_thread(self._devtools_port)
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        self._ws = await connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20)
        await self.send("Runtime.enable")
        await self.send("Page.enable")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._profile.cleanup()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        await self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await self._ws.recv())
            if message.get("method") == "Runtime.consoleAPICalled":
                args = message["params"]["args"]
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'", timeout=15)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True, userGesture=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.25)
        raise TimeoutError(f"page never satisfied: {expression}")

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
