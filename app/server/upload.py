"""``POST /v1/audio/transcriptions`` (OpenAI-compatible): a form with a file in, a transcript out.

The body is read through :class:`BodyReader` (size, idle gap, rate and deadline) into
python-multipart's streaming parser, which spools the file to a temporary file instead of
holding the whole body and its parse in memory. Decoding runs off the event loop with a cap on
the audio it may produce, straight into the stream (never the whole file's audio at once),
and the work is cancelled when the client leaves or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response

from app.core.choices import ChoiceError, StreamChoices, parse_switch
from app.core.decoding import AudioDecodeError, AudioTooLongError, decode_into
from app.core.engine import TranscriptionEngine
from app.core.feed import END_OF_STREAM, FILE_STEP_S, drive
from app.core.frontdata import STATUS_ERROR, FrontData
from app.core.languages import LanguageError
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.refine import refine_session
from app.core.session_audio import SessionAudio
from app.core.translation.base import TranslationError
from app.server.interrupt import finish_unless
from app.server.limits import MIB, BodyError, BodyReader, ServerLimits
from app.server.routes import PRIVATE_HEADERS, error_response
from app.transcript.export import to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

UPLOAD_PATH = "/v1/audio/transcriptions"
RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
MAX_TEXT_FIELD_BYTES = 64 * 1024
MAX_FORM_FIELDS = 16


class UploadError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def render(update: FrontData, response_format: str, language: str, duration: float) -> tuple[bytes, str]:
    if response_format == "text":
        return to_txt(update).encode(), "text/plain; charset=utf-8"
    if response_format == "srt":
        return to_srt(update).encode(), "application/x-subrip; charset=utf-8"
    if response_format == "vtt":
        return to_vtt(update).encode(), "text/vtt; charset=utf-8"
    payload: dict[str, Any] = {"text": update.text}
    if response_format == "verbose_json":
        spoken = [line for line in update.lines if not line.is_silence and line.text]
        payload = {
            "task": "transcribe",
            "language": language,
            "duration": round(duration, 2),
            "text": update.text,
            "segments": [
                {"id": i, "start": round(line.start, 2), "end": round(line.end, 2), "text": line.text}
                for i, line in enumerate(spoken)
            ],
        }
    return json.dumps(payload, ensure_ascii=False).encode(), "application/json"


def _text_field(form: Any, name: str, default: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


async def read_form(request: Request, limits: ServerLimits) -> Any:
    """The multipart form, read within the body limits; files are spooled, not held."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise UploadError(http.HTTPStatus.BAD_REQUEST, "Send the audio as multipart/form-data.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_upload_bytes:
        too_large = http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        raise UploadError(too_large, f"Uploads are limited to {limits.max_upload_bytes // MIB} MiB.")
    reader = BodyReader(request.receive, limits, asyncio.get_running_loop().time)
    parser = MultiPartParser(
        request.headers, reader.chunks(),
        max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_TEXT_FIELD_BYTES,
    )
    try:
        return await parser.parse()
    except BodyError as exc:
        raise UploadError(exc.status, str(exc)) from None
    except MultiPartException as exc:
        raise UploadError(http.HTTPStatus.BAD_REQUEST, f"The form could not be read: {exc.message}") from None


async def feed_upload(processor: AudioProcessor, upload: UploadFile, max_seconds: float) -> None:
    """Decode the spooled upload straight into ``processor``, then end its stream.

    Each block waits until the processor has room (its backlog is bounded), so an upload
    that decodes to hours holds seconds of audio in memory.
    """
    await decode_upload(upload, processor.process_samples, max_seconds)
    await processor.process_samples(END_OF_STREAM)


async def decode_upload(
    upload: UploadFile, take: Callable[[np.ndarray], Awaitable[None]], max_seconds: float
) -> None:
    """Decode the spooled upload on its own thread, each block awaited through ``take`` on the loop.

    The thread is not ``asyncio.to_thread``'s: a process waits for those at exit, and this one
    must stop at the next packet once the client leaves or the server stops.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()
    stop = threading.Event()

    def deliver(samples: np.ndarray) -> None:
        asyncio.run_coroutine_threadsafe(take(samples), loop).result()

    def work() -> None:
        try:
            upload.file.seek(0)
            label = upload.filename or "the upload"
            result: Any = decode_into(upload.file, label, deliver, max_seconds, stop.is_set)
        except BaseException as exc:  # handed to the loop, raised there
            result = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            loop.call_soon_threadsafe(_settle, done, result)

    threading.Thread(target=work, name="sayline-upload-decoder", daemon=True).start()
    try:
        await done
    finally:
        stop.set()


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


async def transcribe_form(
    engine: TranscriptionEngine, form: Any, defaults: StreamChoices, limits: ServerLimits
) -> tuple[bytes, str]:
    """The server's stream choices apply to uploads too; the form may choose the language."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise UploadError(http.HTTPStatus.BAD_REQUEST, "The form needs a 'file' field with the audio.")
    response_format = _text_field(form, "response_format", "json")
    if response_format not in RESPONSE_FORMATS:
        raise UploadError(
            http.HTTPStatus.BAD_REQUEST, f"response_format must be one of {', '.join(RESPONSE_FORMATS)}."
        )
    try:  # the processor checks the language against the model (an English-only one says so)
        choices = defaults.with_query({"language": _text_field(form, "language", "")})
        refine = parse_switch("refine", _text_field(form, "refine", ""))
        processor = AudioProcessor(engine, ProcessorConfig(choices=choices, live=False, step_s=FILE_STEP_S))
    except (LanguageError, ChoiceError, TranslationError) as exc:
        raise UploadError(http.HTTPStatus.BAD_REQUEST, str(exc)) from None
    try:
        if refine:
            final, seconds = await refine_upload(engine, upload, choices, limits.max_upload_audio_s)
        else:
            final = await drive(processor, feed_upload(processor, upload, limits.max_upload_audio_s))
            seconds = processor.received_seconds
    except AudioTooLongError as exc:
        raise UploadError(http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(exc)) from None
    except AudioDecodeError as exc:
        raise UploadError(http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    if final.status == STATUS_ERROR:
        raise UploadError(http.HTTPStatus.INTERNAL_SERVER_ERROR, final.error)
    detected = next((line.detected_language for line in final.lines if line.detected_language), "")
    return render(final, response_format, choices.language or detected, seconds)


async def refine_upload(
    engine: TranscriptionEngine, upload: UploadFile, choices: StreamChoices, max_seconds: float
) -> tuple[FrontData, float]:
    """The upload decoded as a file run (app/core/refine.py), and its length in seconds.

    Its audio goes to a private FLAC file first: the pass needs all of it at once, and the
    file holds it in a third of PCM's room until then. The caller's cancellation stops the pass.
    """
    audio = await asyncio.to_thread(SessionAudio, max_seconds=max_seconds)

    async def keep(samples: np.ndarray) -> None:
        audio.write(samples)

    try:
        await decode_upload(upload, keep, max_seconds)
        if audio.truncated:
            raise AudioTooLongError("The upload is too long to refine; send it without refine.")
        samples = await asyncio.to_thread(audio.read)
        return await refine_session(engine, samples, choices), audio.seconds
    finally:
        await asyncio.to_thread(audio.discard)


async def _client_gone(request: Request) -> None:
    """Returns once the client has hung up (the body is read by then, so only that can come)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def answer_upload(
    engine: TranscriptionEngine,
    request: Request,
    defaults: StreamChoices,
    limits: ServerLimits,
    stopping: asyncio.Event,
) -> Response:
    """The whole exchange; the transcription stops as soon as the client hangs up or we stop."""
    try:
        form = await read_form(request, limits)
    except UploadError as exc:
        log.info("upload refused: %s", exc)
        return error_response(exc.status, str(exc))
    try:
        work = await finish_unless(
            transcribe_form(engine, form, defaults, limits), _client_gone(request), stopping
        )
        if work.cancelled():
            if stopping.is_set():
                return error_response(http.HTTPStatus.SERVICE_UNAVAILABLE, "The server is stopping.")
            log.info("upload abandoned by the client; its transcription was stopped")
            return error_response(http.HTTPStatus.BAD_REQUEST, "The client went away.")
        try:
            body, content_type = work.result()
        except UploadError as exc:
            log.info("upload refused: %s", exc)
            return error_response(exc.status, str(exc))
        except Exception:
            log.exception("upload failed")
            return error_response(http.HTTPStatus.INTERNAL_SERVER_ERROR, "Transcription failed.")
        return Response(body, http.HTTPStatus.OK, PRIVATE_HEADERS, media_type=content_type)
    finally:
        await form.close()
