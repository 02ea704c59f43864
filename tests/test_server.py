"""The /asr server over real loopback sockets with a real websockets client and real speech."""

import asyncio
import contextlib
import gc
import http.client
import json
import os
import threading
import uuid

import psutil
import pytest
import websockets
from websockets.asyncio.client import connect

from app.core.choices import StreamChoices
from app.core.decoding import float_to_pcm16
from app.server.protocol import apply_message
from app.server.server import AsrServer, ServerSettings
from tests.conftest import clip, corpus_wer, eval_dir, manifest, run
from tests.test_decoding import encode

JFK = manifest("en")["jfk.wav"]["text"]


@contextlib.asynccontextmanager
async def serving(engine, **settings):
    server = AsrServer(engine, ServerSettings(host="127.0.0.1", port=0, **settings))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def stream(url: str, data: bytes, chunk: int, pace: float = 0.0, mode_diff: bool = False):
    """Send ``data`` then the empty frame; return (config, messages, close code, rebuilt lines)."""
    messages = []
    async with connect(url, max_size=None) as ws:
        config = json.loads(await ws.recv())

        async def send():
            with contextlib.suppress(websockets.ConnectionClosed):  # the server may end first
                for offset in range(0, len(data), chunk):
                    await ws.send(data[offset:offset + chunk])
                    if pace:
                        await asyncio.sleep(pace)
                await ws.send(b"")

        sender = asyncio.create_task(send())
        lines: list[dict] = []
        with contextlib.suppress(websockets.ConnectionClosedError):  # closes other than 1000
            async for raw in ws:
                message = json.loads(raw)
                messages.append(message)
                if mode_diff and message.get("type") in ("snapshot", "diff"):
                    lines = apply_message(lines, message)
                elif "lines" in message:
                    lines = message["lines"]
        await sender
        return config, messages, ws.close_code, lines


def text_of(lines: list[dict]) -> str:
    return " ".join(line["text"] for line in lines if line["speaker"] != -2)


def test_pcm_stream_gives_the_transcript_then_ready_to_stop(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            pcm = float_to_pcm16(clip("en", "jfk.wav"))
            return await stream(server.asr_url, pcm, chunk=3201, pace=0.01)

    config, messages, code, lines = run(scenario())
    assert config == {"type": "config", "useAudioWorklet": True, "mode": "full"}
    assert messages[-1] == {"type": "ready_to_stop"}
    assert code == 1000
    assert messages[-2]["status"] == "active_transcription"
    assert messages[-2]["buffer_transcription"] == ""
    assert corpus_wer([JFK], [text_of(lines)]) <= 0.15, text_of(lines)


def test_webm_opus_stream_in_diff_mode_rebuilds_the_transcript(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=False) as server:
            webm = encode(clip("en", "jfk.wav"), "webm", "libopus")
            return await stream(server.asr_url + "?mode=diff", webm, chunk=2000, pace=0.01, mode_diff=True)

    config, messages, code, lines = run(scenario())
    assert config == {"type": "config", "useAudioWorklet": False, "mode": "diff"}
    kinds = [m.get("type") for m in messages]
    assert kinds[0] == "snapshot" and kinds[-1] == "ready_to_stop"
    assert set(kinds[1:-1]) == {"diff"}
    assert code == 1000
    assert corpus_wer([JFK], [text_of(lines)]) <= 0.15, text_of(lines)


def test_two_streams_at_once_both_transcribe(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            a = float_to_pcm16(clip("en", "jfk.wav"))
            b = float_to_pcm16(clip("en", "librivox_sense_sensibility_0870.wav"))
            return await asyncio.gather(
                stream(server.asr_url, a, 3200, pace=0.02), stream(server.asr_url, b, 3200, pace=0.02)
            )

    (_, _, code_a, lines_a), (_, _, code_b, lines_b) = run(scenario())
    assert code_a == code_b == 1000
    assert corpus_wer([JFK], [text_of(lines_a)]) <= 0.15
    reference_b = manifest("en")["librivox_sense_sensibility_0870.wav"]["text"]
    assert corpus_wer([reference_b], [text_of(lines_b)]) <= 0.15


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("mode=fast", "Unknown mode"),
        ("language=xx", "English only"),
        ("target_language=zz", "Unknown target language"),
        ("target_language=de", "No installed language pair translates en to de"),
        ("policy=greedy", "Unknown policy"),
        ("refine=bogus", "refine must be 1 or 0"),
        ("revise=maybe", "revise must be 1 or 0"),
    ],
)
def test_bad_query_values_get_a_message_and_4400(tiny_engine, query, message):
    async def scenario():
        async with serving(tiny_engine) as server, connect(f"{server.asr_url}?{query}") as ws:
            first = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            return first, ws.close_code

    first, code = run(scenario())
    assert code == 4400
    assert first["status"] == "error" and message in first["error"]


def test_token_is_required_when_configured(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, token="s3cret") as server:
            assert server.asr_url.endswith("/asr?token=s3cret"), "the address to share carries the token"
            bare = server.asr_url.split("?")[0]
            async with connect(bare + "?token=nope") as ws:
                with pytest.raises(websockets.ConnectionClosed):
                    await ws.recv()
                refused = ws.close_code
            async with connect(bare + "?token=s3cret") as ws:
                config = json.loads(await ws.recv())
            return refused, config

    refused, config = run(scenario())
    assert refused == 4401
    assert config["type"] == "config"


def test_undecodable_stream_is_an_error_then_1003(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=False) as server:
            return await stream(server.asr_url, os.urandom(64_000), chunk=4000)

    _, messages, code, _ = run(scenario())
    assert code == 1003
    errors = [m for m in messages if m.get("status") == "error"]
    assert errors and "could not be decoded" in errors[-1]["error"]


def test_text_frames_are_ignored(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server, connect(server.asr_url) as ws:
            await ws.recv()
            await ws.send("hello, I am text")
            await ws.send(float_to_pcm16(clip("en", "arctic_awb_a0007.wav")))
            await ws.send(b"")
            messages = [json.loads(m) async for m in ws]
            return messages, ws.close_code

    messages, code = run(scenario())
    assert code == 1000 and messages[-1]["type"] == "ready_to_stop"
    assert "superlative" in text_of(messages[-2]["lines"])


def test_oversized_frames_are_refused_cleanly(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            async with connect(server.asr_url, max_size=None) as ws:
                await ws.recv()
                await ws.send(b"\x00" * (1024 * 1024 + 2))
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        await ws.recv()
                code = ws.close_code
            await asyncio.sleep(0.3)
            return code, server.session_count

    code, sessions = run(scenario())
    assert code == 1009
    assert sessions == 0


def decoder_threads() -> int:
    return sum(t.name == "sayline-decoder" for t in threading.enumerate())


def test_a_vanished_client_is_cleaned_up_within_a_second(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=False) as server:
            ws = await connect(server.asr_url)
            await ws.recv()
            webm = encode(clip("en", "jfk.wav"), "webm", "libopus")
            await ws.send(webm[: len(webm) // 2])
            await asyncio.sleep(0.5)
            during = (server.session_count, decoder_threads())
            ws.transport.abort()  # gone: no close frame, no FIN handshake
            for _ in range(20):
                await asyncio.sleep(0.05)
                if server.session_count == 0 and decoder_threads() == 0:
                    break
            return during, server.session_count, decoder_threads()

    during, sessions, threads = run(scenario())
    assert during == (1, 1)
    assert sessions == 0 and threads == 0


def test_many_connect_disconnect_cycles_leave_fds_and_memory_flat(tiny_engine):
    process = psutil.Process()

    async def cycles(n: int) -> None:
        for i in range(n):
            async with connect(server_url[0]) as ws:
                await ws.recv()
                if i % 2:
                    await ws.send(b"\x00\x01" * 800)

    server_url: list[str] = []

    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            server_url.append(server.asr_url)
            await cycles(100)  # warm-up: caches and pools reach their steady size
            gc.collect()
            fds, rss = process.num_fds(), process.memory_info().rss
            await cycles(1000)
            await asyncio.sleep(0.3)
            gc.collect()
            return fds, rss, process.num_fds(), process.memory_info().rss, server.session_count

    fds_before, rss_before, fds_after, rss_after, sessions = run(scenario())
    assert sessions == 0
    assert fds_after <= fds_before + 2
    assert rss_after - rss_before < 20 * 2**20, (rss_before, rss_after)


def test_stop_closes_sessions_and_frees_the_port(tiny_engine):
    async def scenario():
        server = AsrServer(tiny_engine, ServerSettings(port=0, pcm_input=True))
        await server.start()
        port = server.port
        ws = await connect(server.asr_url)
        await ws.recv()
        await ws.send(float_to_pcm16(clip("en", "jfk.wav"))[:64000])
        await asyncio.wait_for(server.stop(), timeout=5)
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await ws.recv()
        again = AsrServer(tiny_engine, ServerSettings(port=port, pcm_input=True))
        await again.start()  # the port is free for a restart at once
        await again.stop()
        return ws.close_code, server.session_count

    code, sessions = run(scenario())
    assert code == 1001
    assert sessions == 0


def http_get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    reply = conn.getresponse()
    return reply.status, reply.getheader("Content-Type", ""), reply.read()


def http_post_file(port: int, data: bytes, filename: str, fields: dict[str, str]) -> tuple[int, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    conn.request("POST", "/v1/audio/transcriptions", body, headers)
    reply = conn.getresponse()
    return reply.status, reply.read()


def in_thread_server(engine, scenario):
    """Run blocking HTTP calls against a server living on the test's event loop."""

    async def main():
        async with serving(engine) as server:
            return await asyncio.to_thread(scenario, server.port)

    return run(main())


def test_http_routes(tiny_engine):
    def calls(port):
        return {
            path: http_get(port, path)
            for path in ("/health", "/v1/models", "/", "/nope", "/../../etc/passwd", "/asr")
        }

    replies = in_thread_server(tiny_engine, calls)
    status, kind, body = replies["/health"]
    health = json.loads(body)
    assert status == 200 and kind == "application/json"
    assert health["status"] == "ok" and health["model"] == "tiny.en" and health["sessions"] == 0
    assert json.loads(replies["/v1/models"][2])["data"][0]["id"] == "tiny.en"
    assert replies["/"][0] == 200 and replies["/"][1].startswith("text/html")
    assert b"<html" in replies["/"][2].lower()
    assert replies["/nope"][0] == 404 and replies["/../../etc/passwd"][0] == 404
    assert replies["/asr"][0] == 426


def test_openai_compatible_upload(tiny_engine):
    clip_path = eval_dir("en") / "arctic_awb_a0007.wav"
    wav = clip_path.read_bytes()

    def calls(port):
        return (
            http_post_file(port, wav, clip_path.name, {"response_format": "json"}),
            http_post_file(port, wav, clip_path.name, {"response_format": "verbose_json"}),
            http_post_file(port, wav, clip_path.name, {"response_format": "srt"}),
            http_post_file(port, b"definitely not audio" * 100, "x.wav", {}),
            http_post_file(port, wav, clip_path.name, {"response_format": "docx"}),
        )

    as_json, verbose, srt, garbage, bad_format = in_thread_server(tiny_engine, calls)
    assert as_json[0] == 200
    assert "superlative degree" in json.loads(as_json[1])["text"]
    details = json.loads(verbose[1])
    assert details["language"] == "en" and details["segments"]
    assert details["duration"] == pytest.approx(4.0, abs=0.1)
    assert srt[0] == 200 and srt[1].startswith(b"1\n00:00:0")
    assert garbage[0] == 415 and b"not an audio file" in garbage[1]
    assert bad_format[0] == 400 and b"response_format" in bad_format[1]


def test_a_server_default_the_model_cannot_take_is_a_4400_not_a_crash(tiny_engine):
    """The desktop app may hand its server a language the loaded model lacks (tiny.en and German)."""

    async def scenario():
        async with serving(tiny_engine, choices=StreamChoices(language="de")) as server:
            async with connect(server.asr_url) as ws:
                first = json.loads(await ws.recv())
                with pytest.raises(websockets.ConnectionClosed):
                    await ws.recv()
            return first, ws.close_code

    first, code = run(scenario())
    assert code == 4400 and "English only" in first["error"]
