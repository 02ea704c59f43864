"""Command line: the desktop app, the headless demo, file transcription and the server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

import numpy as np

from app import __version__
from app.console import LivePrinter, progress_printer
from app.core.choices import ChoiceError, StreamChoices
from app.core.decoding import SAMPLE_RATE, AudioDecodeError, decode_file
from app.core.diarization import BACKENDS as DIARIZATION_BACKENDS
from app.core.diarization import DiarizationError, DiarizationOptions, load_models
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import stream_samples
from app.core.frontdata import STATUS_ERROR, FrontData
from app.core.languages import LanguageError, validate_language
from app.core.model_errors import ModelError
from app.core.models import DEFAULT_MODEL
from app.core.policy import DEFAULT_POLICY, POLICIES
from app.core.refine import refine_session
from app.core.translation import BACKENDS as TRANSLATORS
from app.core.translation import TranslationError, open_translator
from app.models_cli import add_model_commands
from app.paths import demo_sample
from app.server.access import TOKEN_ENV, TokenError, is_loopback, read_token
from app.server.limits import MIB, ServerLimits
from app.server.server import AsrServer, ServerSettings, ServerStartError
from app.transcript.export import EXPORTERS, FORMATS
from app.translation_cli import add_translation_commands


class CliError(Exception):
    """A failure to report as one sentence with a non-zero exit."""


def load_engine(model: str, choices: StreamChoices) -> TranscriptionEngine:
    """The model, once ``choices`` are known to be usable; an English-only model refuses others."""
    print(f"Loading the {model} speech model…", file=sys.stderr, flush=True)
    config = EngineConfig(model=model)
    engine = TranscriptionEngine(config, progress=progress_printer("Preparing the model (first run only)"))
    if engine.notice:
        print(engine.notice, file=sys.stderr, flush=True)
    try:
        validate_language(choices.language, engine.is_multilingual)
    except LanguageError:
        engine.close()
        raise
    return engine


def stream_choices(args: argparse.Namespace) -> StreamChoices:
    """What every stream of this command is asked to do, checked before anything loads.

    ``demo`` has no speaker or translation options, so those are off.
    """
    diarization = None
    try:
        if getattr(args, "diarization", False):
            diarization = DiarizationOptions(backend=args.diarization_backend, max_speakers=args.max_speakers)
        return StreamChoices(
            language=args.language,
            policy=args.policy,
            diarization=diarization,
            target_language=getattr(args, "target_language", ""),
            translator=getattr(args, "translator", "auto"),
            revise=not args.no_revise,
        )
    except ChoiceError as exc:
        raise CliError(str(exc)) from None


def load_speaker_models(choices: StreamChoices) -> None:
    """Loaded now, so a missing install shows before any audio, not seconds into it."""
    if choices.diarization is not None:
        print("Loading the speaker models…", file=sys.stderr, flush=True)
        load_models(choices.diarization.backend)


async def stream_through(
    engine: TranscriptionEngine,
    samples: np.ndarray,
    realtime: bool,
    printer: LivePrinter | None,
    choices: StreamChoices,
) -> FrontData:
    """Stream samples through one AudioProcessor, printing lines as they commit."""
    on_update = printer.update if printer else None
    final = await stream_samples(engine, samples, choices, realtime=realtime, on_update=on_update)
    if printer:
        printer.finish(final)
    if final.status == STATUS_ERROR:
        raise CliError(final.error)
    return final


async def transcribe_file(
    engine: TranscriptionEngine, samples: np.ndarray, args: argparse.Namespace, choices: StreamChoices
) -> FrontData:
    """The live transcript, printed as it commits; then, unless ``--no-refine``, a file run's."""
    printer = None if args.quiet else LivePrinter(sys.stderr, speakers=choices.diarization is not None)
    final = await stream_through(engine, samples, args.realtime, printer, choices)
    if args.no_refine:
        return final
    return await refine_session(engine, samples, choices, on_progress=progress_printer("Refining"))


def run_transcribe(args: argparse.Namespace) -> int:
    choices = stream_choices(args)
    samples = decode_file(args.file)
    load_speaker_models(choices)
    engine = load_engine(args.model, choices)
    try:
        final = asyncio.run(transcribe_file(engine, samples, args, choices))
    finally:
        engine.close()
    sys.stdout.write(EXPORTERS[args.format](final))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    sample = demo_sample()
    samples = decode_file(str(sample))
    choices = stream_choices(args)
    engine = load_engine(args.model, choices)
    print(f"Captioning {sample.name} live ({len(samples) / SAMPLE_RATE:.0f} s, real time):\n", flush=True)
    try:
        asyncio.run(stream_through(engine, samples, True, LivePrinter(sys.stdout), choices))
    finally:
        engine.close()
    return 0


def server_settings(args: argparse.Namespace) -> ServerSettings:
    """The serve command's settings; a bad limit or token file is a CliError before any model loads."""
    try:
        limits = ServerLimits(
            max_sessions=args.max_sessions,
            max_uploads=args.max_uploads,
            max_upload_bytes=round(args.max_upload_mb * MIB),
            max_upload_audio_s=args.max_audio_minutes * 60.0,
            max_session_audio_s=args.max_audio_minutes * 60.0 * 4,
        )
        token = read_token(args.token, args.token_file, os.environ.get(TOKEN_ENV))
    except (ValueError, TokenError) as exc:
        raise CliError(str(exc)) from None
    return ServerSettings(
        host=args.host, port=args.port, pcm_input=args.pcm_input, token=token, choices=stream_choices(args),
        allowed_origins=tuple(args.allow_origin), allowed_hosts=tuple(args.allow_host), limits=limits,
    )


def run_serve(args: argparse.Namespace) -> int:
    settings = server_settings(args)
    choices = settings.choices
    load_speaker_models(choices)
    engine = load_engine(args.model, choices)
    try:
        if choices.target_language:  # refuse at start, not on every client's connection
            open_translator(choices.translator, engine, choices.language, choices.target_language)
        asyncio.run(serve_until_interrupted(AsrServer(engine, settings)))
    finally:
        engine.close()
    return 0


async def serve_until_interrupted(server: AsrServer) -> None:
    """Serve until Ctrl+C or SIGTERM, then close every session and free the port."""
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
            loop.add_signal_handler(signum, stop.set)
    if server.token and not is_loopback(server.settings.host):
        print("Clients need the token: it is in the addresses below.", file=sys.stderr)
    print(f"Sayline server ready: {server.asr_url}  (page: {server.http_url})", flush=True)
    try:
        await stop.wait()
    finally:
        print("Stopping: closing sessions…", file=sys.stderr, flush=True)
        await server.stop()


def run_selftest_command(args: argparse.Namespace) -> int:
    from app.selftest import main as selftest

    return selftest(args.model)


def run_gui_command(args: argparse.Namespace) -> int:
    from app.gui.app import run_gui

    return run_gui()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sayline",
        description=(
            "Live, offline captions. Without a command: the desktop app when a display is "
            "available, else the headless live demo."
        ),
        epilog="sayline --selftest [--model M] is the same as sayline selftest: an installed build's check.",
    )
    parser.add_argument("--version", action="version", version=f"sayline {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(dest="command")

    def add_model_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--model", default=DEFAULT_MODEL,
            help="base (default, multilingual), tiny.en, a downloaded model (sayline models list), "
            "or a model folder",
        )
        sub.add_argument("--language", default="auto", help="spoken language code, or auto (default)")
        sub.add_argument(
            "--policy", choices=sorted(POLICIES), default=DEFAULT_POLICY,
            help=f"when words become final (default {DEFAULT_POLICY}; see README)",
        )
        sub.add_argument(
            "--no-revise", action="store_true",
            help="keep each utterance's live words instead of decoding it again with a beam when it ends",
        )

    def add_diarization_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--diarization", action="store_true", help="label speakers 1, 2, 3…")
        sub.add_argument(
            "--diarization-backend", choices=DIARIZATION_BACKENDS, default="default",
            help="default: ONNX Runtime; torch, pyannote: the same networks in PyTorch (optional)",
        )
        sub.add_argument("--max-speakers", type=int, default=4, help="most speakers to tell apart (1-8)")

    def add_translation_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--target-language", default="", help="translate captions into this language code")
        sub.add_argument(
            "--translator", choices=TRANSLATORS, default="auto",
            help="argos (installed pairs), whisper (any language to English), or auto (argos when it can)",
        )

    gui = commands.add_parser("gui", help="the desktop app (main window and caption overlay)")
    gui.set_defaults(handler=run_gui_command)

    demo = commands.add_parser("demo", help="caption the bundled speech sample live, in real time")
    add_model_options(demo)
    demo.set_defaults(handler=run_demo)

    selftest = commands.add_parser(
        "selftest", help="transcribe the bundled speech sample offline; exit 0 only if the words are right"
    )
    selftest.add_argument(
        "--model", default=DEFAULT_MODEL, help="base (default), tiny.en, a downloaded model or a model folder"
    )
    selftest.set_defaults(handler=run_selftest_command)

    transcribe = commands.add_parser("transcribe", help="stream an audio or video file through the engine")
    transcribe.add_argument("file", help="any audio FFmpeg can read (WAV, MP3, Ogg, WebM, M4A…)")
    add_model_options(transcribe)
    transcribe.add_argument("--realtime", action="store_true", help="pace the file at 1x speed, as if live")
    transcribe.add_argument("--format", choices=FORMATS, default="txt", help="final transcript format")
    transcribe.add_argument("-q", "--quiet", action="store_true", help="do not print lines as they commit")
    transcribe.add_argument(
        "--no-refine", action="store_true",
        help="output the live transcript instead of decoding the whole file again at the end",
    )
    add_diarization_options(transcribe)
    add_translation_options(transcribe)
    transcribe.set_defaults(handler=run_transcribe)

    server = commands.add_parser("serve", help="serve the /asr WebSocket protocol and the caption page")
    add_model_options(server)
    server.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    server.add_argument("--port", type=int, default=8000)
    server.add_argument(
        "--pcm-input", action="store_true", help="clients send raw s16le 16 kHz PCM (AudioWorklet)"
    )
    server.add_argument(
        "--token", help=f"require this token from clients (also ${TOKEN_ENV}; made up when off loopback)"
    )
    server.add_argument("--token-file", help="read the token from this file (keeps it out of `ps`)")
    server.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="also let pages from this origin connect, e.g. chrome-extension://ID (repeatable)",
    )
    server.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="also answer to this host name, e.g. mypc.local (repeatable; IPs always work)",
    )
    server.add_argument(
        "--max-sessions", type=int, default=ServerLimits.max_sessions, help="/asr streams at once"
    )
    server.add_argument("--max-uploads", type=int, default=ServerLimits.max_uploads, help="uploads at once")
    server.add_argument(
        "--max-upload-mb", type=float, default=ServerLimits.max_upload_bytes / MIB, help="largest upload, MiB"
    )
    server.add_argument(
        "--max-audio-minutes", type=float, default=ServerLimits.max_upload_audio_s / 60,
        help="longest audio one upload may decode to (a stream may take four times this)",
    )
    add_diarization_options(server)
    add_translation_options(server)
    server.set_defaults(handler=run_serve)
    add_translation_commands(commands)
    add_model_commands(commands)
    return parser


def make_output_safe() -> None:
    """Standard output and error that any print can use, whatever started the process.

    A windowed build on Windows has no console: sys.stdout/stderr are None, and the first print
    or progress line would raise, so output goes nowhere instead (the desktop app logs to its
    file). Windows writes redirected or piped output in its ANSI code page (cp1252), which has
    no "…", "→" or "≈": what it cannot encode prints as "?" instead of ending the run.
    """
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the app
        reconfigure = getattr(getattr(sys, name), "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    make_output_safe()
    # `sayline --selftest` is the form installers and packagers expect; it names the subcommand.
    argv = ["selftest" if arg == "--selftest" else arg for arg in (sys.argv[1:] if argv is None else argv)]
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        from app.gui.app import display_available

        default = "gui" if display_available() else "demo"
        args = parser.parse_args([*argv, default])
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a reader that went away shows here, in the handler below, not at exit
        return code
    except (
        CliError, ModelError, AudioDecodeError, LanguageError, ServerStartError, DiarizationError,
        TranslationError,
    ) as exc:
        print(f"sayline: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nsayline: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`sayline models list | head -3`): nothing more to tell it, and the
        # interpreter's own flush at exit must not fail on the closed pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a command ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
