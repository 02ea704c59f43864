"""The server tried as an attacker would: hostile pages, bombs, slow and greedy clients.

Every test runs the real server on loopback with the real tiny.en engine and real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import random
import socket
import threading
import time
import wave

import psutil
import pytest
import websockets
from websockets.asyncio.client import connect

from app.core.decoding import float_to_pcm16
from app.server.limits import ServerLimits
from app.server.server import AsrServer, ServerSettings
from bench.abuse import silence_flac
from tests.conftest import clip, eval_dir, run
from tests.test_server import serving


def multipart(data: bytes, filename: str, fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    boundary = "sayline-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (fields or {}).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def raw_request(port: int, head: str, body: bytes = b"", timeout: float = 30.0) -> tuple[int, bytes]:
    """Send bytes exactly as written (any Host, any Origin); return (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head_bytes, _, payload = reply.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), payload


def post_upload(port: int, data: bytes, filename: str, headers: str = "", **fields: str) -> tuple[int, bytes]:
    body, content_type = multipart(data, filename, fields)
    head = (
        f"POST /v1/audio/transcriptions HTTP/1.1\nHost: 127.0.0.1:{port}\nContent-Type: {content_type}\n"
        f"Content-Length: {len(body)}\n{headers}"
    )
    return raw_request(port, head, body, timeout=120)


def blocking(engine, scenario, **settings):
    """Run blocking socket calls against a server living on the test's event loop."""

    async def main():
        async with serving(engine, **settings) as server:
            return await asyncio.to_thread(scenario, server)

    return run(main())


class PeakRss:
    """The process's peak resident memory while the block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def grew_mib(self) -> float:
        return (self.peak - self.start) / 2**20


# -- hostile pages ---------------------------------------------------------------------------


def test_a_foreign_origin_is_refused_at_the_websocket_handshake(tiny_engine):
    async def scenario():
        async with serving(tiny_engine) as server:
            with pytest.raises(websockets.InvalidStatus) as refused:
                await connect(server.asr_url, origin="https://evil.example")
            sessions = server.session_count
            own = f"http://127.0.0.1:{server.port}"
            async with connect(server.asr_url, origin=own) as ws:
                config = json.loads(await ws.recv())
            return refused.value.response.status_code, config, sessions

    status, config, sessions = run(scenario())
    assert status == 403
    assert config["type"] == "config", "our own page still connects"
    assert sessions == 0


def test_a_rebinding_host_and_a_cross_site_form_post_are_refused(tiny_engine):
    wav = (eval_dir("en") / "arctic_awb_a0007.wav").read_bytes()

    def calls(server):
        port = server.port
        rebinding = raw_request(port, "GET /health HTTP/1.1\nHost: evil.example:8000\n")
        rebinding_ws = raw_request(
            port,
            "GET /asr HTTP/1.1\nHost: evil.example\nUpgrade: websocket\nConnection: Upgrade\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n",
        )
        cross_site = post_upload(port, wav, "a.wav", headers="Origin: https://evil.example\n")
        own_page = post_upload(port, wav, "a.wav", headers=f"Origin: http://localhost:{port}\n")
        return rebinding, rebinding_ws, cross_site, own_page

    rebinding, rebinding_ws, cross_site, own_page = blocking(tiny_engine, calls)
    assert rebinding[0] == 403 and b"Host" in rebinding[1]
    assert rebinding_ws[0] == 403
    assert cross_site[0] == 403 and b"evil.example" in cross_site[1]
    assert own_page[0] == 200 and "superlative" in json.loads(own_page[1])["text"]


def test_the_token_covers_uploads_and_the_api_but_not_the_page(tiny_engine):
    wav = (eval_dir("en") / "arctic_awb_a0007.wav").read_bytes()

    def calls(server):
        port = server.port
        get = "GET {} HTTP/1.1\nHost: 127.0.0.1\n{}"
        return {
            "upload": post_upload(port, wav, "a.wav")[0],
            "upload-bearer": post_upload(port, wav, "a.wav", headers="Authorization: Bearer s3cret\n")[0],
            "models": raw_request(port, get.format("/v1/models", ""))[0],
            "models-bearer": raw_request(port, get.format("/v1/models", "Authorization: Bearer s3cret\n"))[0],
            "health": raw_request(port, get.format("/health", ""))[0],
            "health-query": raw_request(port, get.format("/health?token=s3cret", ""))[0],
            "page": raw_request(port, get.format("/", ""))[0],
        }

    codes = blocking(tiny_engine, calls, token="s3cret")
    assert codes == {
        "upload": 401, "upload-bearer": 200, "models": 401, "models-bearer": 200,
        "health": 401, "health-query": 200, "page": 200,
    }


def test_listening_off_loopback_without_a_token_makes_one_up(tiny_engine):
    async def scenario():
        server = AsrServer(tiny_engine, ServerSettings(host="0.0.0.0", port=0))
        await server.start()
        try:
            async with connect(f"ws://127.0.0.1:{server.port}/asr") as ws:
                with pytest.raises(websockets.ConnectionClosed):
                    await ws.recv()
                refused = ws.close_code
            async with connect(f"ws://127.0.0.1:{server.port}/asr?token={server.token}") as ws:
                config = json.loads(await ws.recv())
            return server.token, server.http_url, refused, config
        finally:
            await server.stop()

    token, url, refused, config = run(scenario())
    assert token and len(token) >= 24
    assert url.endswith(f"?token={token}")
    assert refused == 4401 and config["type"] == "config"


# -- bombs -----------------------------------------------------------------------------------


def test_a_flac_bomb_over_the_websocket_stays_within_memory(tiny_engine):
    bomb = silence_flac(3600)  # 19 KB that decode to an hour: 230 MB of float32 at once

    async def scenario():
        async with serving(tiny_engine, pcm_input=False) as server, connect(server.asr_url) as ws:
            await ws.recv()
            with PeakRss() as rss:
                await ws.send(bomb)
                await asyncio.sleep(4)  # the decoder would have run far ahead by now
            return rss.grew_mib, server.session_count

    grew, sessions = run(scenario())
    # Backpressure holds the decoder at the processor's 30 s backlog (2 MB); the rest is the
    # recogniser's working memory, which any stream uses. Without it: +530 MiB.
    assert grew < 120, f"peak RSS grew {grew:.0f} MiB"
    assert sessions == 1


def test_a_flac_bomb_upload_is_refused_past_the_audio_cap(tiny_engine):
    bomb = silence_flac(3600)
    limits = ServerLimits(max_upload_audio_s=600)

    def call(server):
        started = time.monotonic()
        with PeakRss() as rss:
            status, body = post_upload(server.port, bomb, "bomb.flac")
        return status, body, time.monotonic() - started, rss.grew_mib

    status, body, took, grew = blocking(tiny_engine, call, limits=limits)
    assert status == 413 and b"10 minutes" in body, body
    assert grew < 150, f"peak RSS grew {grew:.0f} MiB"
    assert took < 20


def test_undecodable_audio_without_the_end_frame_closes_1003_within_a_second(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=False) as server, connect(server.asr_url) as ws:
            await ws.recv()
            await ws.send(random.Random(7).randbytes(64_000))  # and then nothing: the client waits
            started = time.monotonic()
            messages = []
            with contextlib.suppress(websockets.ConnectionClosed):
                async with asyncio.timeout(5):
                    async for raw in ws:
                        messages.append(json.loads(raw))
            return messages, ws.close_code, time.monotonic() - started

    messages, code, took = run(scenario())
    assert code == 1003
    assert took < 1.0
    assert any(m.get("status") == "error" and "could not be decoded" in m["error"] for m in messages)


# -- slow and greedy clients -----------------------------------------------------------------


def test_a_body_sent_a_byte_at_a_time_is_dropped(tiny_engine):
    limits = ServerLimits(body_idle_s=1.5, body_grace_s=1.0, body_min_rate=1000.0)

    def call(server):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(
                b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n"
            )
            started = time.monotonic()
            reply = b""
            with contextlib.suppress(OSError):
                while time.monotonic() - started < 20:
                    sock.sendall(b"-")
                    sock.settimeout(0.5)
                    with contextlib.suppress(TimeoutError):
                        reply += sock.recv(65536)
                        if reply:
                            break
            return reply, time.monotonic() - started, server.uploads.in_use

    reply, took, uploads = blocking(tiny_engine, call, limits=limits)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:80]
    assert took < 5
    assert uploads == 0


def test_a_request_head_that_never_ends_is_closed(tiny_engine):
    limits = ServerLimits(head_timeout_s=1.0)

    def call(server):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            data = sock.recv(100)  # b"" once the server closes
            return data, time.monotonic() - started

    data, took = blocking(tiny_engine, call, limits=limits)
    assert data == b""
    assert 0.8 < took < 3


def test_sessions_past_the_cap_are_refused_with_1013(tiny_engine):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True, limits=ServerLimits(max_sessions=2)) as server:
            first, second = await connect(server.asr_url), await connect(server.asr_url)
            await first.recv(), await second.recv()
            async with connect(server.asr_url) as third:
                with pytest.raises(websockets.ConnectionClosed):
                    await third.recv()
            refused = (third.close_code, third.close_reason)
            await first.close()
            await asyncio.sleep(0.2)
            async with connect(server.asr_url) as fourth:
                config = json.loads(await fourth.recv())
            await second.close()
            return refused, config

    (code, reason), config = run(scenario())
    assert code == 1013 and "busy" in reason
    assert config["type"] == "config", "a freed slot is usable again"


def test_uploads_past_the_cap_get_503(tiny_engine):
    limits = ServerLimits(max_uploads=1)
    wav = (eval_dir("en") / "arctic_awb_a0007.wav").read_bytes()

    def calls(server):
        body, content_type = multipart(wav, "a.wav")
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as holder:
            holder.sendall(  # an upload still sending its body holds the one slot
                "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:1000]
            )
            time.sleep(0.3)
            busy = post_upload(server.port, wav, "b.wav")
            holder.sendall(body[1000:])
            holder.settimeout(60)
            held = holder.recv(100)
        return busy, held

    (status, body), held = blocking(tiny_engine, calls, limits=limits)
    assert status == 503 and b"busy" in body
    assert held.startswith(b"HTTP/1.1 200")


def test_a_session_that_sends_nothing_is_closed(tiny_engine):
    async def scenario():
        limits = ServerLimits(session_idle_s=1.0)
        async with serving(tiny_engine, pcm_input=True, limits=limits) as server:
            async with connect(server.asr_url) as ws:
                await ws.recv()
                started = time.monotonic()
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        await ws.recv()
                took = time.monotonic() - started
            await asyncio.sleep(0.1)
            return ws.close_code, took, server.session_count

    code, took, sessions = run(scenario())
    assert code == 1008 and took < 3 and sessions == 0


def test_stop_with_an_upload_in_flight_returns_within_two_seconds(tiny_engine):
    speech = float_to_pcm16(clip("en", "jfk.wav"))
    long_wav = _wav_bytes(speech, repeat=12)  # 2 minutes of speech

    async def scenario():
        server = AsrServer(tiny_engine, ServerSettings(port=0))
        await server.start()
        upload = asyncio.create_task(asyncio.to_thread(post_upload, server.port, long_wav, "long.wav"))
        await asyncio.sleep(1.5)  # the body is in; the transcription is under way
        started = time.monotonic()
        await server.stop()
        took = time.monotonic() - started
        status, _ = await upload
        return took, status, server.uploads.in_use

    took, status, uploads = run(scenario())
    assert took < 2.0
    assert status == 503
    assert uploads == 0


def _wav_bytes(pcm: bytes, repeat: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(pcm * repeat)
    return buffer.getvalue()


# -- smaller ---------------------------------------------------------------------------------


def test_a_long_non_ascii_bad_query_value_is_4400_not_1011(tiny_engine):
    async def scenario():
        async with serving(tiny_engine) as server, connect(f"{server.asr_url}?mode={'é' * 80}") as ws:
            first = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            return first, ws.close_code, ws.close_reason

    first, code, reason = run(scenario())
    assert code == 4400 and "Unknown mode" in first["error"]
    assert reason.startswith("Unknown mode") and len(reason.encode()) <= 123


def test_a_nul_in_the_path_is_404(tiny_engine):
    def calls(server):
        return [
            raw_request(server.port, f"GET {path} HTTP/1.1\nHost: 127.0.0.1\n")[0]
            for path in ("/index.html%00.png", "/%2e%2e/%2e%2e/etc/passwd", "/" + "a" * 5000)
        ]

    assert blocking(tiny_engine, calls) == [404, 404, 404]


def test_the_address_handed_out_for_a_wildcard_bind_is_answered(tiny_engine):
    def call(server):
        host = server.http_url.split("//")[1].split("/")[0]  # this machine's name and the port
        assert not host.startswith("0.0.0.0")
        return raw_request(server.port, f"GET /health?token={server.token} HTTP/1.1\nHost: {host}\n")[0]

    async def main():
        server = AsrServer(tiny_engine, ServerSettings(host="0.0.0.0", port=0))
        await server.start()
        try:
            return await asyncio.to_thread(call, server)
        finally:
            await server.stop()

    assert run(main()) == 200


def test_an_upload_whose_client_hangs_up_stops_its_work(tiny_engine):
    speech = float_to_pcm16(clip("en", "jfk.wav"))
    body, content_type = multipart(_wav_bytes(speech, repeat=12), "long.wav")  # 2 minutes of speech

    def call(server):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(
                "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
            )
            time.sleep(1.5)
            working = server.uploads.in_use
        hung_up = time.monotonic()  # the socket is closed: the client is gone
        while server.uploads.in_use and time.monotonic() - hung_up < 10:
            time.sleep(0.05)
        return working, server.uploads.in_use, time.monotonic() - hung_up

    working, after, took = blocking(tiny_engine, call)
    assert working == 1, "the transcription was under way"
    assert after == 0 and took < 1.5, f"the work went on {took:.1f} s after the client left"
