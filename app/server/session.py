"""One `/asr` connection: frames in to an AudioProcessor, its updates out as JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from app.core.diarization import DiarizationOptions
from app.core.engine import TranscriptionEngine
from app.core.frontdata import STATUS_ERROR, FrontData
from app.core.policy import DEFAULT_POLICY
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.transcriber import StreamSettings
from app.core.translation.base import TranslationError
from app.server.protocol import (
    CLOSE_BAD_REQUEST,
    CLOSE_UNSUPPORTED_DATA,
    READY_TO_STOP,
    ProtocolError,
    SessionParams,
    UpdateEncoder,
    config_message,
    parse_session,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionOptions:
    pcm_input: bool
    token: str | None
    diarization: DiarizationOptions | None = None
    target_language: str = ""  # the server's default; a client's ?target_language= overrides it
    translator: str = "auto"
    policy: str = DEFAULT_POLICY


async def serve_asr(ws: ServerConnection, engine: TranscriptionEngine, options: SessionOptions) -> None:
    peer = ws.remote_address
    try:
        params = parse_session(ws.request.path, token=options.token, multilingual=engine.is_multilingual)
        processor = _open_processor(engine, options, params)
    except ProtocolError as refused:
        if refused.code == CLOSE_BAD_REQUEST:
            error = FrontData(status=STATUS_ERROR, error=str(refused))
            await ws.send(json.dumps(error.to_dict()))
        await ws.close(refused.code, str(refused)[:120])
        log.info("refused %s: %s %s", peer, refused.code, refused)
        return

    encoder = UpdateEncoder(params.mode)
    log.info(
        "session from %s (mode=%s, language=%s, policy=%s)",
        peer, params.mode, params.language or "default", processor.config.stream.policy,
    )
    sender = asyncio.create_task(_send_updates(ws, processor, encoder))
    try:
        await ws.send(json.dumps(config_message(options.pcm_input, params.mode)))
        await _receive_audio(ws, processor, sender)
        final = await sender
        if final.status == STATUS_ERROR:
            await ws.close(CLOSE_UNSUPPORTED_DATA, "undecodable audio")
        else:
            await ws.send(json.dumps(READY_TO_STOP))
            await ws.close(1000)
    except ConnectionClosed:
        log.info("client %s went away", peer)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await sender
        await processor.cleanup()
        log.info("session from %s cleaned up", peer)


def _open_processor(
    engine: TranscriptionEngine, options: SessionOptions, params: SessionParams
) -> AudioProcessor:
    """The stream's processor; a translation it cannot do is the client's 4400, with the reason."""
    config = ProcessorConfig(
        pcm_input=options.pcm_input,
        language=params.language,
        live=True,
        stream=StreamSettings(policy=params.policy or options.policy),
        diarization=options.diarization,
        target_language=options.target_language if params.target_language is None else params.target_language,
        translator=options.translator,
    )
    try:
        return AudioProcessor(engine, config)
    except TranslationError as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, str(exc)) from None


async def _receive_audio(ws: ServerConnection, processor: AudioProcessor, sender: asyncio.Task) -> None:
    """Feed binary frames until the empty one, or until the stream failed on its own."""
    async for frame in _frames_until_sender_stops(ws, sender):
        if isinstance(frame, str):
            log.info("ignoring a text frame from %s", ws.remote_address)
            continue
        await processor.process_audio(bytes(frame))
        if not frame:
            return


async def _frames_until_sender_stops(ws: ServerConnection, sender: asyncio.Task):
    """Yield frames; stop early when the stream ended on its own (an undecodable stream)."""
    while not sender.done():
        receive = asyncio.ensure_future(ws.recv())
        done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
        if receive not in done:
            receive.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await receive
            return
        yield receive.result()


async def _send_updates(ws: ServerConnection, processor: AudioProcessor, encoder: UpdateEncoder) -> FrontData:
    final = FrontData()
    async for update in processor.results():
        final = update
        message = encoder.encode(update)
        if message is not None:
            await ws.send(json.dumps(message))
    return final
