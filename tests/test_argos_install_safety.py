"""An Argos language pair from a stranger cannot escape the packages folder or fill the disk.

Each archive here is built the way an attacker would build one (a real zip, clean entries, a
lying metadata.json or a bomb), and each server is a real one on loopback: an HTTPS server
with a certificate made for the test (trusted through SSL_CERT_FILE), and a plain HTTP one
that a downgrade would reach. ``LoopbackSite`` is shared with tests/test_translation.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest

from app.core.translation import argos_install
from app.core.translation.argos import installed_pairs
from app.core.translation.argos_install import AvailablePair, download, fetch_index, install_file
from app.core.translation.base import TranslationError
from bench.argos_model import build_argosmodel
from tests.test_translation import folder_entries


@dataclass
class Reply:
    """What the loopback site answers for one path; a header set to None is left out."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str | None] = field(default_factory=dict)


@dataclass
class LoopbackSite:
    base: str
    routes: dict[str, Reply]
    hits: list[str]


def _handler(routes: dict[str, Reply], hits: list[str]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            reply = routes.get(self.path, Reply(b"not found", 404))
            self.send_response(reply.status)
            headers = {"Content-Length": str(len(reply.body)), **reply.headers}
            for name, value in headers.items():
                if value is not None:
                    self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self.wfile.write(reply.body)  # the client may hang up on purpose (a refused download)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _loopback_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / "loopback.pem", folder / "loopback.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@contextmanager
def loopback_site(
    folder: Path, monkeypatch: pytest.MonkeyPatch, *, tls: bool = True
) -> Iterator[LoopbackSite]:
    """A real server on 127.0.0.1 (HTTPS, trusted for this test, unless ``tls`` is False)."""
    routes: dict[str, Reply] = {}
    hits: list[str] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(routes, hits))
    scheme = "http"
    if tls:
        scheme = "https"
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = _loopback_certificate(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LoopbackSite(f"{scheme}://127.0.0.1:{server.server_address[1]}", routes, hits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def real_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_argosmodel(tmp_path_factory.mktemp("pairs") / "fr_en.argosmodel", "fr", "en")


def _with_metadata(original: Path, out: Path, **changes: str) -> Path:
    """A copy of a real pair whose metadata.json says what the attacker wants; every entry stays clean."""
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/metadata.json"):
                data = json.dumps({**json.loads(data), **changes}).encode()
            dst.writestr(info, data)
    return out


def _zip(out: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out


def _no_member_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading any member fail the test: the refusal must come from the zip's directory alone."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was read before the archive's sizes were checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def _victim(data_dir: Path) -> Path:
    """A folder beside the packages folder (think ~/.config/autostart) with something to lose."""
    victim = data_dir / "translation" / "victim"
    victim.mkdir(parents=True)
    (victim / "keep.txt").write_text("precious")
    return victim


def _assert_untouched(victim: Path) -> None:
    assert (victim / "keep.txt").read_text() == "precious", "the folder outside was replaced"
    assert not [p for p in victim.parent.iterdir() if p.name.startswith(".")], "nothing moved aside"


# --- the install folder comes from metadata.json -----------------------------------------------


def test_a_traversing_to_code_cannot_replace_a_folder_outside(real_pair, data_dir, tmp_path):
    install_file(real_pair)  # translate-fr_en now exists, so ".." after it resolves on disk
    victim = _victim(data_dir)
    hostile = _with_metadata(real_pair, tmp_path / "hostile.argosmodel", to_code="en/../../victim")
    with pytest.raises(TranslationError, match="is not a language code") as refused:
        install_file(hostile)
    assert "\n" not in str(refused.value)
    _assert_untouched(victim)
    assert folder_entries() == ["translate-fr_en"], "no staging folder left behind"
    assert [(p.source, p.target) for p in installed_pairs()] == [("fr", "en")]


def test_the_folder_check_holds_even_if_a_code_slips_through(real_pair, data_dir, tmp_path, monkeypatch):
    """Defence in depth: with the code pattern disabled, the resolved-path check still refuses."""
    install_file(real_pair)
    victim = _victim(data_dir)
    monkeypatch.setattr(argos_install, "_CODE", re.compile(r".+", re.DOTALL))
    hostile = _with_metadata(real_pair, tmp_path / "hostile.argosmodel", to_code="en/../../victim")
    with pytest.raises(TranslationError, match="would install outside"):
        install_file(hostile)
    _assert_untouched(victim)
    assert folder_entries() == ["translate-fr_en"]


@pytest.mark.parametrize("code", ["en", "de", "zh", "zt", "pt", "pb", "nb", "eo", "ast", "pt-br", "zh_hant"])
def test_real_argos_codes_are_accepted(code):
    argos_install._check_code(code, "x.argosmodel")


@pytest.mark.parametrize(
    "code",
    ["en/../..", "..", "../victim", "/etc", "e", "english", "en\n", "en/", "en\\..", "en de", "", "EN",
     "fr_en/..", "en-/../x"],
)
def test_codes_that_could_be_paths_are_refused(code):
    with pytest.raises(TranslationError, match=r"^x\.argosmodel is not a valid language pair: .* is not a"):
        argos_install._check_code(code, "x.argosmodel")


# --- size caps on unpacking ---------------------------------------------------------------------


def test_an_archive_over_the_size_cap_is_refused_before_anything_is_written(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(argos_install, "_MAX_UNPACKED_BYTES", 64 * 1024)
    big = _zip(tmp_path / "big.argosmodel", {
        "translate-fr_en/metadata.json": b'{"from_code": "fr", "to_code": "en"}',
        "translate-fr_en/model/model.bin": os.urandom(40 * 1024),
        "translate-fr_en/sentencepiece.model": os.urandom(40 * 1024),
    })
    _no_member_is_read(monkeypatch)
    with pytest.raises(TranslationError, match="is too large: it unpacks to"):
        install_file(big)
    assert folder_entries() == [], "no staging folder, no partial pair"


def test_a_zip_bomb_is_refused_by_its_compression_ratio(data_dir, tmp_path, monkeypatch):
    bomb = _zip(tmp_path / "bomb.argosmodel", {
        "translate-fr_en/metadata.json": b'{"from_code": "fr", "to_code": "en"}',
        "translate-fr_en/model/model.bin": bytes(8 << 20),  # 8 MiB of zeros in ~8 KB
    })
    _no_member_is_read(monkeypatch)
    with pytest.raises(TranslationError, match=r"it unpacks to \d+x its size"):
        install_file(bomb)
    assert folder_entries() == []


def test_an_archive_with_too_many_entries_is_refused(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(argos_install, "_MAX_ENTRIES", 20)
    many = _zip(tmp_path / "many.argosmodel", {f"translate-fr_en/f{i}": b"x" for i in range(21)})
    _no_member_is_read(monkeypatch)
    with pytest.raises(TranslationError, match="holds 21 files, over the limit of 20"):
        install_file(many)
    assert folder_entries() == []


def test_unpacking_counts_the_bytes_it_writes_whatever_the_directory_says(data_dir, tmp_path, monkeypatch):
    """With the directory check fooled (a lying header), the byte count during unpacking still stops it."""
    monkeypatch.setattr(argos_install, "_MAX_UNPACKED_BYTES", 64 * 1024)
    monkeypatch.setattr(argos_install, "_check_sizes", lambda *args: None)
    big = _zip(tmp_path / "big.argosmodel", {
        "translate-fr_en/metadata.json": b'{"from_code": "fr", "to_code": "en"}',
        "translate-fr_en/model/model.bin": os.urandom(200 * 1024),
    })
    with pytest.raises(TranslationError, match="is too large: it unpacks to more than"):
        install_file(big)
    assert folder_entries() == [], "the partly written file and its staging folder are removed"


# --- downloads ---------------------------------------------------------------------------------


def _pair(*links: str, **checksum: str) -> AvailablePair:
    return AvailablePair("fr", "en", "1.0", tuple(links), "French", "English", **checksum)


def test_a_file_url_is_refused_before_any_request(real_pair, data_dir):
    with pytest.raises(TranslationError, match="has no https:// link"):
        download(_pair(real_pair.as_uri()))
    with pytest.raises(TranslationError, match="only https:// addresses are used, not file://"):
        fetch_index(real_pair.with_name("index.json").as_uri())
    with pytest.raises(OSError, match="not file://"):
        argos_install._fetch(real_pair.as_uri(), data_dir / "copy.argosmodel", None)
    assert folder_entries() == [] and not (data_dir / "copy.argosmodel").exists()


def test_a_plain_http_link_is_never_requested(real_pair, data_dir, tmp_path, monkeypatch):
    with loopback_site(tmp_path / "http", monkeypatch, tls=False) as plain:
        plain.routes["/fr_en.argosmodel"] = Reply(real_pair.read_bytes())
        plain.routes["/index.json"] = Reply(b"[]")
        with pytest.raises(TranslationError, match="has no https:// link"):
            download(_pair(f"{plain.base}/fr_en.argosmodel"))
        with pytest.raises(TranslationError, match="not http://"):
            fetch_index(f"{plain.base}/index.json")
    assert plain.hits == [] and folder_entries() == []


def test_a_redirect_from_https_to_http_is_refused(real_pair, data_dir, tmp_path, monkeypatch):
    with (
        loopback_site(tmp_path / "http", monkeypatch, tls=False) as plain,
        loopback_site(tmp_path / "tls", monkeypatch) as site,
    ):
        plain.routes["/fr_en.argosmodel"] = Reply(real_pair.read_bytes())
        downgrade = {"Location": f"{plain.base}/fr_en.argosmodel"}
        site.routes["/fr_en.argosmodel"] = Reply(status=302, headers=downgrade)
        with pytest.raises(TranslationError, match="refused a redirect from https to http://"):
            download(_pair(f"{site.base}/fr_en.argosmodel"))
    assert site.hits == ["/fr_en.argosmodel"] and plain.hits == [], "the downgrade was not followed"
    assert folder_entries() == []


def test_the_redirect_handler_refuses_every_scheme_but_https():
    handler = argos_install._HttpsOnlyRedirects()
    request = urllib.request.Request("https://example.org/pair.argosmodel")
    for target in ("http://example.org/p", "file:///etc/passwd", "ftp://example.org/p"):
        with pytest.raises(OSError, match="refused a redirect"):
            handler.redirect_request(request, io.BytesIO(), 302, "Found", Message(), target)
    assert handler.redirect_request(request, io.BytesIO(), 302, "Found", Message(), "https://b.org/p")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-content-length"])
def test_a_download_over_the_size_cap_is_refused(data_dir, tmp_path, monkeypatch, declared):
    monkeypatch.setattr(argos_install, "_MAX_DOWNLOAD_BYTES", 1 << 20)
    progress: list[tuple[int, int]] = []
    with loopback_site(tmp_path / "tls", monkeypatch) as site:
        headers = {} if declared else {"Content-Length": None}  # HTTP/1.0: the body runs to the close
        site.routes["/big.argosmodel"] = Reply(os.urandom(3 << 20), headers=headers)
        with pytest.raises(TranslationError, match="over the 1 MiB limit"):
            download(_pair(f"{site.base}/big.argosmodel"), progress=lambda d, t: progress.append((d, t)))
    if declared:
        assert progress == [], "refused on its Content-Length, before reading the body"
    else:
        assert progress and progress[-1][0] <= 1 << 20, "reading stopped at the cap"
    assert folder_entries() == [], "the partial download is removed"


def test_a_checksum_mismatch_is_refused(real_pair, data_dir, tmp_path, monkeypatch):
    wrong = hashlib.sha256(b"something else").hexdigest()
    with loopback_site(tmp_path / "tls", monkeypatch) as site:
        site.routes["/fr_en.argosmodel"] = Reply(real_pair.read_bytes())
        index = [{"from_code": "fr", "to_code": "en", "package_version": "1.0", "sha256": wrong.upper(),
                  "links": [f"{site.base}/fr_en.argosmodel"]}]
        site.routes["/index.json"] = Reply(json.dumps(index).encode())
        (available,) = fetch_index(f"{site.base}/index.json")
        assert available.sha256 == wrong
        with pytest.raises(TranslationError, match="SHA-256 does not match"):
            download(available)
    assert folder_entries() == []


def test_a_good_download_follows_https_redirects_and_passes_its_checksum(real_pair, data_dir, tmp_path,
                                                                          monkeypatch):
    good = hashlib.sha256(real_pair.read_bytes()).hexdigest()
    progress: list[tuple[int, int]] = []
    with loopback_site(tmp_path / "tls", monkeypatch) as site:
        site.routes["/fr_en.argosmodel"] = Reply(real_pair.read_bytes())
        site.routes["/moved"] = Reply(status=301, headers={"Location": "/fr_en.argosmodel"})
        pair = download(_pair("ipfs://Qm…", f"{site.base}/moved", sha256=good),
                        progress=lambda d, t: progress.append((d, t)))
    size = real_pair.stat().st_size
    assert (pair.source, pair.target) == ("fr", "en") and progress[-1] == (size, size)
    assert folder_entries() == ["translate-fr_en"]


def test_index_entries_with_bad_codes_are_dropped_and_never_downloaded(data_dir, tmp_path, monkeypatch):
    with loopback_site(tmp_path / "tls", monkeypatch) as site:
        index = [
            {"from_code": "fr", "to_code": "../../victim", "links": [f"{site.base}/a.argosmodel"]},
            {"from_code": "fr", "to_code": "en", "links": [f"{site.base}/b.argosmodel"]},
        ]
        site.routes["/index.json"] = Reply(json.dumps(index).encode())
        assert [(p.source, p.target) for p in fetch_index(f"{site.base}/index.json")] == [("fr", "en")]
        with pytest.raises(TranslationError, match="has a bad language code"):
            download(AvailablePair("fr", "../../victim", "1.0", (f"{site.base}/a.argosmodel",)))
    assert site.hits == ["/index.json"] and folder_entries() == []
