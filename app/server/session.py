"""One `/asr` connection: frames in to an AudioProcessor, its updates out as JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.core.choices import StreamChoices
from app.core.engine import TranscriptionEngine
from app.core.frontdata import STATUS_ERROR, FrontData
from app.core.languages import LanguageError
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.refine import refine_session
from app.core.session_audio import SessionAudio
from app.core.translation.base import TranslationError
from app.server.interrupt import finish_unless
from app.server.limits import ServerLimits, Slots
from app.server.protocol import (
    CLOSE_BAD_REQUEST,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHORIZED,
    CLOSE_UNSUPPORTED_DATA,
    READY_TO_STOP,
    ProtocolError,
    SessionParams,
    UpdateEncoder,
    close_reason,
    config_message,
    parse_session,
)

log = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008


@dataclass(frozen=True)
class SessionOptions:
    pcm_input: bool
    choices: StreamChoices = field(default_factory=StreamChoices)  # the defaults a client's query overrides
    limits: ServerLimits = field(default_factory=ServerLimits)


class ClientGone(Exception):
    """The client closed or vanished; nothing more can be sent to it."""


async def serve_asr(
    ws: WebSocket,
    engine: TranscriptionEngine,
    options: SessionOptions,
    slots: Slots,
    token_ok: bool,
    stopping: asyncio.Event,
) -> None:
    """The whole session; the caller has checked Host and Origin, ``token_ok`` says the rest."""
    await ws.accept()
    peer = ws.client
    if not token_ok:
        await _close(ws, CLOSE_UNAUTHORIZED, "")
        log.info("refused %s: wrong or missing token", peer)
        return
    if not slots.try_acquire():
        busy = f"The server is busy: it takes {slots.capacity} streams at once. Try again later."
        await _close(ws, CLOSE_TRY_AGAIN_LATER, busy)
        log.info("refused %s: %d sessions already open", peer, slots.capacity)
        return
    try:
        await _run_session(ws, engine, options, stopping)
    finally:
        slots.release()


async def _run_session(
    ws: WebSocket, engine: TranscriptionEngine, options: SessionOptions, stopping: asyncio.Event
) -> None:
    try:
        params = parse_session(ws.url.query, defaults=options.choices, multilingual=engine.is_multilingual)
    except ProtocolError as refused:
        await _refuse(ws, refused)
        return
    audio = None
    if params.refine:  # the stream's audio, for the refine pass at its end; deleted with the session
        audio = await asyncio.to_thread(SessionAudio, max_seconds=options.limits.max_session_audio_s)
    try:
        await _stream(ws, engine, options, params, audio, stopping)
    finally:
        if audio is not None:
            await asyncio.to_thread(audio.discard)


async def _refuse(ws: WebSocket, refused: ProtocolError) -> None:
    with contextlib.suppress(ClientGone):
        if refused.code == CLOSE_BAD_REQUEST:
            await _send(ws, FrontData(status=STATUS_ERROR, error=str(refused)).to_dict())
        await _close(ws, refused.code, str(refused))
    log.info("refused %s: %s %s", ws.client, refused.code, refused)


async def _stream(
    ws: WebSocket,
    engine: TranscriptionEngine,
    options: SessionOptions,
    params: SessionParams,
    audio: SessionAudio | None,
    stopping: asyncio.Event,
) -> None:
    peer = ws.client
    try:
        processor = _open_processor(engine, options, params, audio)
    except ProtocolError as refused:
        await _refuse(ws, refused)
        return
    encoder = UpdateEncoder(params.mode)
    log.info(
        "session from %s (mode=%s, language=%s, policy=%s)",
        peer, params.mode, params.choices.language or "auto", params.choices.policy,
    )
    sender = asyncio.create_task(_send_updates(ws, processor, encoder))
    try:
        await _send(ws, config_message(options.pcm_input, params.mode))
        if not await _receive_audio(ws, processor, sender, options.limits.session_idle_s, stopping):
            await _close(ws, CLOSE_GOING_AWAY, "The server is stopping.")
            return
        final = await sender
        if final.status == STATUS_ERROR:
            await _close(ws, CLOSE_UNSUPPORTED_DATA, final.error)
            return
        if audio is not None and not await _send_refined(ws, engine, params, audio, encoder, stopping):
            await _close(ws, CLOSE_GOING_AWAY, "The server is stopping.")
            return
        await _send(ws, READY_TO_STOP)
        await _close(ws, 1000, "")
    except ClientGone:
        log.info("client %s went away", peer)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ClientGone):
            await sender
        await processor.cleanup()
        log.info("session from %s cleaned up", peer)


def _open_processor(
    engine: TranscriptionEngine, options: SessionOptions, params: SessionParams, audio: SessionAudio | None
) -> AudioProcessor:
    """The stream's processor; a language or translation it cannot do is a 4400, with the reason."""
    config = ProcessorConfig(
        choices=params.choices,
        pcm_input=options.pcm_input,
        live=True,
        max_audio_s=options.limits.max_session_audio_s,
    )
    try:
        return AudioProcessor(engine, config, on_audio=audio.write if audio is not None else None)
    except (LanguageError, TranslationError) as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, str(exc)) from None


async def _receive_audio(
    ws: WebSocket, processor: AudioProcessor, sender: asyncio.Task, idle_s: float, stopping: asyncio.Event
) -> bool:
    """Feed binary frames until the empty one, or the stream failed on its own; False: stopping.

    Raises ClientGone when the client left, or sent nothing for ``idle_s`` (it is closed).
    """
    stop = asyncio.ensure_future(stopping.wait())
    try:
        while not sender.done():
            receive = asyncio.ensure_future(ws.receive())
            done, _ = await asyncio.wait(
                {receive, sender, stop}, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED
            )
            if receive not in done:
                receive.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await receive
                if stop in done:
                    return False
                if not done:
                    await _close(ws, CLOSE_POLICY_VIOLATION, f"No audio for {idle_s:.0f} s.")
                    log.info("closed %s: no audio for %.0f s", ws.client, idle_s)
                    raise ClientGone
                return True
            message = receive.result()
            if message["type"] == "websocket.disconnect":
                raise ClientGone
            frame = message.get("bytes")
            if frame is None:
                log.info("ignoring a text frame from %s", ws.client)
                continue
            feeding = asyncio.ensure_future(processor.process_audio(frame))  # may wait for room
            await asyncio.wait({feeding, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not feeding.done():
                feeding.cancel()
                return False
            feeding.result()
            if not frame:
                return True
        return True
    finally:
        stop.cancel()


async def _send_refined(
    ws: WebSocket,
    engine: TranscriptionEngine,
    params: SessionParams,
    audio: SessionAudio,
    encoder: UpdateEncoder,
    stopping: asyncio.Event,
) -> bool:
    """Send the stream decoded again as a file run, as one last update; False: the server is stopping.

    It runs within the session's slot, and stops at once when the client leaves (ClientGone) or
    the server stops. When it cannot be done (the audio outgrew what is kept, or the pass
    failed) the live transcript the client already has stands, and the log says why.
    """
    if audio.truncated:
        log.warning("not refining the stream from %s: it outgrew the audio kept for that", ws.client)
        return True
    samples = await asyncio.to_thread(audio.read)
    work = await finish_unless(refine_session(engine, samples, params.choices), _until_gone(ws), stopping)
    if work.cancelled():
        if stopping.is_set():
            return False
        raise ClientGone
    if work.exception() is not None:
        log.error("refining the stream from %s failed", ws.client, exc_info=work.exception())
        return True
    message = encoder.encode(work.result())
    if message is not None:
        await _send(ws, message)
    return True


async def _until_gone(ws: WebSocket) -> None:
    """Returns once the client has left; whatever else it sends meanwhile is ignored."""
    with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass


async def _send_updates(ws: WebSocket, processor: AudioProcessor, encoder: UpdateEncoder) -> FrontData:
    final = FrontData()
    async for update in processor.results():
        final = update
        message = encoder.encode(update)
        if message is not None:
            await _send(ws, message)
    return final


async def _send(ws: WebSocket, message: dict) -> None:
    try:
        await ws.send_text(json.dumps(message))
    except (WebSocketDisconnect, OSError, RuntimeError) as exc:  # RuntimeError: already closed
        raise ClientGone from exc


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    try:
        await ws.close(code, close_reason(reason))
    except (WebSocketDisconnect, OSError, RuntimeError) as exc:
        raise ClientGone from exc
