"""``POST /v1/audio/transcriptions`` (OpenAI-compatible) on the WebSocket server's port.

websockets' server reads only GET requests without a body, so the connection class below
looks at the first request line: a POST is read here (head, then a Content-Length body,
both bounded) and answered directly; anything else goes to websockets untouched.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import http
import json
import logging
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection

from app.core.decoding import SAMPLE_RATE, AudioDecodeError, decode_bytes
from app.core.engine import TranscriptionEngine
from app.core.feed import stream_samples
from app.core.frontdata import STATUS_ERROR, FrontData
from app.core.languages import LanguageError, validate_language
from app.server.routes import json_response, response, text_response
from app.transcript.export import to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

UPLOAD_PATH = "/v1/audio/transcriptions"
MAX_HEAD_BYTES = 16 * 1024
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
HEAD_TIMEOUT_S = 10.0
BODY_IDLE_TIMEOUT_S = 30.0
RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


class UploadError(Exception):
    def __init__(self, status: http.HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
    except ValueError:
        raise UploadError(http.HTTPStatus.BAD_REQUEST, "Malformed HTTP request.") from None
    return method, path, headers


def parse_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data fields as name -> (filename or None, raw bytes)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise UploadError(http.HTTPStatus.BAD_REQUEST, "Send the audio as multipart/form-data.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    if not message.is_multipart():
        raise UploadError(http.HTTPStatus.BAD_REQUEST, "The multipart body could not be parsed.")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


def _text_field(fields: dict[str, tuple[str | None, bytes]], name: str, default: str) -> str:
    return fields[name][1].decode("utf-8", "replace").strip() if name in fields else default


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


async def transcribe_upload(engine: TranscriptionEngine, request: HttpRequest) -> tuple[bytes, str]:
    fields = parse_form(request.headers.get("content-type", ""), request.body)
    if "file" not in fields:
        raise UploadError(http.HTTPStatus.BAD_REQUEST, "The form needs a 'file' field with the audio.")
    response_format = _text_field(fields, "response_format", "json")
    if response_format not in RESPONSE_FORMATS:
        raise UploadError(
            http.HTTPStatus.BAD_REQUEST, f"response_format must be one of {', '.join(RESPONSE_FORMATS)}."
        )
    try:
        language = validate_language(_text_field(fields, "language", "") or None, engine.is_multilingual)
    except LanguageError as exc:
        raise UploadError(http.HTTPStatus.BAD_REQUEST, str(exc)) from None
    filename, data = fields["file"]
    try:
        samples = await asyncio.to_thread(decode_bytes, data, filename or "the upload")
    except AudioDecodeError as exc:
        raise UploadError(http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    final = await stream_samples(engine, samples, language=language)
    if final.status == STATUS_ERROR:
        raise UploadError(http.HTTPStatus.INTERNAL_SERVER_ERROR, final.error)
    detected = next((line.detected_language for line in final.lines if line.detected_language), "")
    return render(final, response_format, language or detected, len(samples) / SAMPLE_RATE)


class UploadAwareConnection(ServerConnection):
    """A websockets connection that answers a POST upload itself instead of failing it."""

    engine: TranscriptionEngine  # set on the subclass made by :func:`connection_class`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head = bytearray()
        self._body = bytearray()
        self._is_upload = False
        self._sniffed: asyncio.Future[None] = self.loop.create_future()
        self._body_event = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        if self._is_upload:
            self._body += data
            self._body_event.set()
            return
        if self._sniffed.done():
            super().data_received(data)
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0 and len(self._head) < MAX_HEAD_BYTES:
            return
        buffered, self._head = bytes(self._head), bytearray()
        if buffered.startswith(b"POST ") and end >= 0:
            self._is_upload = True
            self._head, self._body = bytearray(buffered[: end + 4]), bytearray(buffered[end + 4:])
            self._body_event.set()
        self._sniffed.set_result(None)
        if not self._is_upload:
            super().data_received(buffered)

    async def handshake(self, *args: Any, **kwargs: Any) -> None:
        sniff = asyncio.ensure_future(asyncio.shield(self._sniffed))
        await asyncio.wait(
            {sniff, self.connection_lost_waiter}, timeout=HEAD_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        sniff.cancel()
        if not self._sniffed.done():
            self.transport.abort()
            return
        if not self._is_upload:
            async with asyncio.timeout(HEAD_TIMEOUT_S):
                await super().handshake(*args, **kwargs)
            return
        await self._answer_upload()

    async def _answer_upload(self) -> None:
        try:
            request = await self._read_upload()
            if request.path.split("?")[0] != UPLOAD_PATH:
                raise UploadError(http.HTTPStatus.NOT_FOUND, "Only /v1/audio/transcriptions takes POST.")
            body, content_type = await transcribe_upload(self.engine, request)
            reply = response(http.HTTPStatus.OK, body, content_type)
        except UploadError as exc:
            log.info("upload refused: %s", exc)
            error = {"error": {"message": str(exc), "type": "invalid_request_error"}}
            reply = json_response(error, exc.status)
        except Exception:
            log.exception("upload failed")
            reply = text_response(http.HTTPStatus.INTERNAL_SERVER_ERROR, "Transcription failed.\n")
        await self._write_and_close(reply.serialize())

    async def _read_upload(self) -> HttpRequest:
        method, path, headers = parse_head(bytes(self._head[:-4]))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise UploadError(http.HTTPStatus.LENGTH_REQUIRED, "Send a Content-Length, not chunks.")
        try:
            length = int(headers.get("content-length", ""))
        except ValueError:
            raise UploadError(http.HTTPStatus.LENGTH_REQUIRED, "A Content-Length header is needed.") from None
        if length > MAX_UPLOAD_BYTES:
            limit = MAX_UPLOAD_BYTES // 2**20
            too_large = http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            raise UploadError(too_large, f"Uploads are limited to {limit} MiB.")
        while len(self._body) < length:
            self._body_event.clear()
            try:
                async with asyncio.timeout(BODY_IDLE_TIMEOUT_S):
                    await self._body_event.wait()
            except TimeoutError:
                raise UploadError(http.HTTPStatus.REQUEST_TIMEOUT, "The upload stalled.") from None
        return HttpRequest(method, path, headers, bytes(self._body[:length]))

    async def _write_and_close(self, data: bytes) -> None:
        """Flush before closing: websockets aborts the transport once this handshake returns."""
        if self.transport.is_closing():
            return
        self.transport.write(data)
        deadline = self.loop.time() + 30
        while self.transport.get_write_buffer_size() and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        self.transport.close()


def connection_class(engine: TranscriptionEngine) -> type[UploadAwareConnection]:
    return type("SaylineConnection", (UploadAwareConnection,), {"engine": engine})
