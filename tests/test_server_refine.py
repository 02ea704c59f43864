"""`?refine=1` on /asr and `refine` on uploads: the file run's transcript as one last update."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from app.core.decoding import float_to_pcm16, pcm16_to_float
from app.core.refine import refine_session
from app.server import session
from tests.conftest import clip, corpus_wer, eval_dir, manifest, run
from tests.test_refine import file_run
from tests.test_server import http_post_file, in_thread_server, serving, stream, text_of


@pytest.mark.parametrize("mode", ["full", "diff"])
def test_a_refined_update_comes_last_before_ready_to_stop(tiny_engine, mode):
    pcm = float_to_pcm16(clip("en", "jfk.wav"))

    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            url = f"{server.asr_url}?refine=1&mode={mode}"
            return await stream(url, pcm, chunk=32000, mode_diff=mode == "diff")

    _, messages, code, lines = run(scenario())
    assert code == 1000 and messages[-1] == {"type": "ready_to_stop"}
    refined = messages[-2]
    assert refined["refined"] is True
    assert not any(m.get("refined") for m in messages[:-2]), "only the last update is the refined one"
    if mode == "diff":
        assert refined["type"] == "diff" and refined["n_lines"] == len(lines)
    else:
        assert lines == refined["lines"]
    assert text_of(lines) == file_run(tiny_engine, pcm16_to_float(pcm))  # what the client ends with


def test_without_refine_no_update_is_refined(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            return await stream(server.asr_url, float_to_pcm16(clip("en", "jfk.wav")), chunk=32000)

    _, messages, code, _ = run(scenario())
    assert code == 1000 and not any("refined" in m for m in messages)


def test_a_client_that_leaves_mid_refine_stops_it(tiny_engine, monkeypatch):
    started, ended = asyncio.Event(), []

    async def watched_refine(*args, **kwargs):
        started.set()
        try:
            return await refine_session(*args, **kwargs)
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    monkeypatch.setattr(session, "refine_session", watched_refine)

    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            async with connect(f"{server.asr_url}?refine=1", max_size=None) as ws:
                await ws.recv()  # config
                await ws.send(float_to_pcm16(clip("multi", "pyannote_sample.wav")))
                await ws.send(b"")
                await asyncio.wait_for(started.wait(), timeout=120)
            for _ in range(40):  # the session ends, and its audio is deleted, within two seconds
                if server.session_count == 0:
                    return True
                await asyncio.sleep(0.05)
            return False

    assert run(scenario()) and ended == ["cancelled"]


def test_an_upload_asking_for_refine_gets_the_file_run(tiny_engine):
    clip_path = eval_dir("en") / "arctic_awb_a0007.wav"
    wav = clip_path.read_bytes()

    def calls(port):
        return (
            http_post_file(port, wav, clip_path.name, {"response_format": "verbose_json", "refine": "1"}),
            http_post_file(port, wav, clip_path.name, {"refine": "maybe"}),
        )

    refined, bad = in_thread_server(tiny_engine, calls)
    assert refined[0] == 200
    details = json.loads(refined[1])
    reference = manifest("en")["arctic_awb_a0007.wav"]["text"]
    assert corpus_wer([reference], [details["text"]]) <= 0.15, details["text"]
    assert details["duration"] == pytest.approx(4.0, abs=0.1)
    assert bad[0] == 400 and b"refine must be 1 or 0" in bad[1]
