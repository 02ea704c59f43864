"""The served caption page end to end: headless Chromium, its fake microphone playing real speech."""

import asyncio
import os
from pathlib import Path

import pytest

from bench.metrics import align, normalize_text
from tests.browser import Chromium
from tests.conftest import eval_dir, manifest, run
from tests.test_server import serving

TRANSCRIPT_TEXT = (
    "Array.from(document.querySelectorAll('#transcript .line .text')).map(e => e.textContent).join(' ')"
)


def save_screenshot_copy(source: Path, name: str) -> None:
    """SAYLINE_SCREENSHOT_DIR=docs keeps the pictures for the README; tests use a temp dir."""
    target_dir = os.environ.get("SAYLINE_SCREENSHOT_DIR")
    if target_dir:
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        (Path(target_dir) / name).write_bytes(source.read_bytes())


@pytest.mark.parametrize("pcm_input", [False, True], ids=["webm-mediarecorder", "pcm-audioworklet"])
def test_page_shows_live_captions_from_the_microphone(tiny_engine, tmp_path, pcm_input):
    speech = eval_dir("en") / "jfk.wav"

    async def scenario():
        async with serving(tiny_engine, pcm_input=pcm_input) as server, Chromium(fake_audio=speech) as page:
            await page.goto(server.http_url)
            assert await page.evaluate("document.title") == "Sayline — live captions"
            await page.evaluate("document.getElementById('start').click()")
            await page.wait_for("document.getElementById('status').textContent === 'listening'", timeout=20)
            # The fake microphone loops the file; the first pass may start late (the page opens the
            # microphone only once the server said which format it wants), the second is whole.
            # Its words are scored below; here only its start, middle and end are awaited.
            whole_pass = r"/fellow american[\s\S]*ask what[\s\S]*country/i"
            try:
                text = await page.wait_for(f"(t => {whole_pass}.test(t) && t)({TRANSCRIPT_TEXT})", timeout=90)
            except TimeoutError:
                status = await page.evaluate("document.getElementById('status').textContent")
                shown = await page.evaluate(TRANSCRIPT_TEXT)
                pytest.fail(f"no whole pass in 90 s; status {status!r}, transcript: {shown!r}")
            shot = tmp_path / "page.png"
            await page.screenshot(shot)
            await page.evaluate("document.getElementById('start').click()")  # Stop
            await page.wait_for(
                "['idle', 'closed'].includes(document.getElementById('status').textContent)", timeout=30
            )
            error = await page.evaluate("document.getElementById('error').textContent")
            copy_enabled = await page.evaluate("!document.getElementById('copy').disabled")
            await asyncio.sleep(0.5)
            return text, shot, error, copy_enabled, server.session_count

    text, shot, error, copy_enabled, sessions = run(scenario())
    reference = normalize_text(manifest("en")["jfk.wav"]["text"])
    words = normalize_text(text)
    passes = [max(0, i - 3) for i, word in enumerate(words) if word == "fellow"]
    best = min(align(reference, words[start:start + len(reference)]).wer for start in passes)
    assert best <= 0.2, text
    assert error.strip() == ""
    assert copy_enabled
    assert sessions == 0
    assert shot.stat().st_size > 10_000
    save_screenshot_copy(shot, f"web-page-{'pcm' if pcm_input else 'webm'}.png")
