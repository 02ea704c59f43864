"""The window's local server options against the real server on the engine thread.

"Other devices" must give the same protection as ``sayline serve --host 0.0.0.0`` (a token in
every address the window hands out), and "Allowed origins" must reach the server's Origin check.
"""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import websockets
from PySide6.QtGui import QGuiApplication
from websockets.sync.client import connect

from app.gui.main_window import MainWindow, page_link
from app.gui.settings import Settings, load_settings, parse_origins, save_settings
from app.server.protocol import CLOSE_UNAUTHORIZED

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def start_server(qtbot, main: MainWindow) -> str:
    main.server_check.setChecked(True)
    qtbot.waitUntil(lambda: main.copy_url.isEnabled(), timeout=10_000)
    return main.server_url.text()


def server_options_enabled(main: MainWindow) -> list[bool]:
    return [w.isEnabled() for w in (main.port_spin, main.lan_check, main.origins_edit)]


def local(url: str) -> str:
    """The same address on 127.0.0.1: the shown one names this machine, which a test box may not resolve."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()


def test_other_devices_puts_a_token_in_every_address_and_the_server_wants_it(qtbot, make_window):
    main = make_window()
    assert not main.lan_check.isChecked() and "token" in main.lan_check.toolTip()
    main.lan_check.setChecked(True)
    url = start_server(qtbot, main)
    assert server_options_enabled(main) == [False, False, False]

    parts = urlsplit(url)
    assert (parts.scheme, parts.path) == ("ws", "/asr") and parts.port == main.settings.server_port
    token = parse_qs(parts.query)["token"][0]
    assert token and main.bridge.host.server.settings.host == "0.0.0.0"

    bare = local(url).split("?")[0]
    with connect(bare, open_timeout=10) as ws, pytest.raises(websockets.ConnectionClosed):
        ws.recv(timeout=10)
    assert ws.close_code == CLOSE_UNAUTHORIZED == 4401
    with connect(local(url), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "config"

    # Another computer uses the address as shown: its Host header names this machine.
    with connect(url, sock=socket.create_connection(("127.0.0.1", parts.port)), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "config"

    main.copy_url.click()
    assert QGuiApplication.clipboard().text() == url
    main.copy_page.click()
    page = QGuiApplication.clipboard().text()
    assert page == f"http://{parts.netloc}/?token={token}"
    browser = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    browser.request("GET", page.split(parts.netloc, 1)[1], headers={"Host": parts.netloc})
    answer = browser.getresponse()
    assert answer.status == 200 and b"<html" in answer.read().lower()
    browser.close()

    main.server_check.setChecked(False)
    qtbot.waitUntil(lambda: not main.copy_url.isEnabled(), timeout=10_000)
    assert server_options_enabled(main) == [True, True, True]
    assert main.server_url.text() == ""


def test_loopback_by_default_without_a_token(qtbot, make_window):
    main = make_window()
    url = start_server(qtbot, main)
    assert url == f"ws://127.0.0.1:{main.settings.server_port}/asr"
    assert main.bridge.host.server.settings.host == "127.0.0.1"
    main.copy_page.click()
    assert QGuiApplication.clipboard().text() == f"http://127.0.0.1:{main.settings.server_port}/"


def test_an_allowed_origin_may_connect_and_a_foreign_one_is_refused(qtbot, make_window):
    main = make_window()
    main.origins_edit.setText(f" {EXTENSION.upper()}/, https://captions.example:8443 ")
    main.origins_edit.editingFinished.emit()
    assert main.settings.server_allowed_origins == (EXTENSION, "https://captions.example:8443")
    assert main.origins_edit.text() == f"{EXTENSION} https://captions.example:8443"
    url = start_server(qtbot, main)

    with connect(url, origin=EXTENSION, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "config"
    with pytest.raises(websockets.InvalidStatus) as refused:
        connect(url, origin="https://evil.example", open_timeout=10)
    assert refused.value.response.status_code == 403


def test_an_invalid_origin_is_shown_and_the_server_does_not_start(qtbot, make_window):
    main = make_window()
    main.origins_edit.setText(f"{EXTENSION} https://example.com/captions")
    main.server_check.setChecked(True)
    assert not main.server_check.isChecked()
    assert main.error_banner.isVisible() and "'https://example.com/captions' is not an origin" in (
        main.error_banner.text()
    )
    qtbot.wait(300)
    assert main.bridge.host.server is None and not main.copy_url.isEnabled()
    assert main.settings.server_enabled is False and main.settings.server_allowed_origins == ()
    assert server_options_enabled(main) == [True, True, True]

    main.origins_edit.setText(EXTENSION)  # corrected: the complaint goes, the server starts
    url = start_server(qtbot, main)
    assert not main.error_banner.isVisible()
    assert main.bridge.host.server.settings.allowed_origins == (EXTENSION,)
    assert url.startswith("ws://127.0.0.1:")


def test_a_server_that_cannot_start_leaves_the_options_usable(qtbot, make_window):
    main = make_window()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", main.port_spin.value()))
        taken.listen()
        main.server_check.setChecked(True)
        qtbot.waitUntil(lambda: not main.server_check.isChecked(), timeout=10_000)
    assert "Cannot listen on 127.0.0.1" in main.error_banner.text()
    assert server_options_enabled(main) == [True, True, True]
    assert not main.copy_url.isEnabled()


def test_server_options_are_saved_and_come_back(qtbot, make_window, config_dir):
    main = make_window()
    main.lan_check.setChecked(True)
    main.origins_edit.setText(EXTENSION)
    main.origins_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: (config_dir / "settings.json").is_file(), timeout=5_000)
    qtbot.wait(700)
    saved, warning = load_settings()
    assert warning is None
    assert saved.server_lan is True and saved.server_allowed_origins == (EXTENSION,)
    again = make_window(server_lan=saved.server_lan, server_allowed_origins=saved.server_allowed_origins)
    assert again.lan_check.isChecked() and again.origins_edit.text() == EXTENSION


def test_server_settings_round_trip_and_refuse_what_is_not_an_origin(tmp_path):
    settings = Settings(server_lan=True, server_allowed_origins=[EXTENSION, "http://[::1]:9000/"])
    assert settings.server_allowed_origins == (EXTENSION, "http://[::1]:9000")
    path = save_settings(settings, tmp_path / "settings.json")
    assert json.loads(path.read_text())["server_allowed_origins"] == [EXTENSION, "http://[::1]:9000"]
    assert load_settings(path) == (settings, None)
    assert Settings().server_lan is False and Settings().server_allowed_origins == ()

    for bad in ("*", "null", "example.com", "https://example.com/path", "http://x?y=1", "http://x:99999",
                "http://user@x"):
        with pytest.raises(ValueError, match="server_allowed_origins"):
            Settings(server_allowed_origins=(bad,))
    with pytest.raises(ValueError, match="server_lan"):
        Settings(server_lan="yes")

    path.write_text(json.dumps({"server_allowed_origins": ["https://ok.example", "*"], "server_lan": 1}))
    loaded, warning = load_settings(path)
    assert loaded.server_allowed_origins == () and loaded.server_lan is False
    assert "server_allowed_origins" in warning and "server_lan" in warning


def test_the_origins_field_splits_on_spaces_and_commas():
    assert parse_origins("") == ()
    assert parse_origins(f"{EXTENSION},https://a.example  https://a.example,\thttp://b:81") == (
        EXTENSION, "https://a.example", "http://b:81"
    )
    with pytest.raises(ValueError, match=r"^'https://a\.example/x' is not an origin"):
        parse_origins("https://ok.example https://a.example/x")


@pytest.mark.parametrize(
    ("asr_url", "page"),
    [
        ("ws://myhost:8000/asr?token=abc", "http://myhost:8000/?token=abc"),
        ("ws://127.0.0.1:8000/asr", "http://127.0.0.1:8000/"),
        ("ws://[::1]:8000/asr?token=a-b_c", "http://[::1]:8000/?token=a-b_c"),
        ("wss://captions.example/asr?token=t", "https://captions.example/?token=t"),
    ],
)
def test_the_page_link_keeps_the_token(asr_url, page):
    assert page_link(asr_url) == page
