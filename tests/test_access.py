"""Who may use the server: Host, Origin and token rules, without sockets."""

import pytest

from app.server.access import AccessRules, TokenError, is_loopback, read_token, split_host

RULES = AccessRules.build(8000, "127.0.0.1", None, ["chrome-extension://abcdef"], ["mypc.local"])


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "192.168.1.5:8000", "mypc.local:8000"],
)
def test_loopback_names_ip_literals_and_added_names_are_answered(host):
    assert RULES.host_allowed(host)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", None, "[::1", "a:b:c"]
)
def test_other_names_are_refused_against_dns_rebinding(host):
    assert not RULES.host_allowed(host)


def test_a_name_the_server_was_bound_to_is_answered():
    rules = AccessRules.build(9000, "mybox.lan", None, [], [])
    assert rules.host_allowed("mybox.lan:9000") and not rules.host_allowed("other.lan:9000")


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, "127.0.0.1:8000"),  # a native client
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://localhost:8000", "127.0.0.1:8000"),
        ("http://[::1]:8000", "[::1]:8000"),
        ("http://192.168.1.5:8000", "192.168.1.5:8000"),  # our page, opened from the LAN
        ("HTTP://LOCALHOST:8000/", "localhost:8000"),
        ("chrome-extension://abcdef", "localhost:8000"),  # added by the user
    ],
)
def test_our_own_page_added_origins_and_native_clients_pass(origin, host):
    assert RULES.origin_allowed(origin, host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://evil.example", "127.0.0.1:8000"),
        ("http://127.0.0.1:9999", "127.0.0.1:8000"),  # another local app's page
        ("https://127.0.0.1:8000", "127.0.0.1:8000"),  # not our scheme
        ("null", "127.0.0.1:8000"),  # sandboxed frames and file:// pages
        ("http://evil.example:8000", "evil.example:8000"),  # same origin, but a rebinding host
        ("chrome-extension://other", "127.0.0.1:8000"),
    ],
)
def test_foreign_pages_are_refused(origin, host):
    assert not RULES.origin_allowed(origin, host)


def test_token_by_query_or_bearer_header():
    rules = AccessRules.build(8000, "127.0.0.1", "s3cret", [], [])
    assert rules.token_ok("s3cret", None)
    assert rules.token_ok(None, "Bearer s3cret")
    assert rules.token_ok(None, "bearer  s3cret ")
    assert not rules.token_ok(None, None)
    assert not rules.token_ok("s3cre", None)
    assert not rules.token_ok(None, "Basic s3cret")
    assert not rules.token_ok("", "Bearer ")
    assert RULES.token_ok(None, None), "no token set: nothing to show"


def test_read_token_prefers_the_flag_then_the_file_then_the_environment(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert read_token("from-flag", str(token_file), "from-env") == "from-flag"
    assert read_token(None, str(token_file), "from-env") == "from-file"
    assert read_token(None, None, "from-env") == "from-env"
    assert read_token(None, None, None) is None


@pytest.mark.parametrize(
    ("content", "message"), [("", "empty"), ("x" * 5000, "too long"), ("two words", "without spaces")]
)
def test_bad_tokens_are_one_sentence(tmp_path, content, message):
    token_file = tmp_path / "token"
    token_file.write_text(content)
    with pytest.raises(TokenError, match=message):
        read_token(None, str(token_file), None)


def test_a_missing_token_file_is_one_sentence(tmp_path):
    with pytest.raises(TokenError, match="Cannot read the token file"):
        read_token(None, str(tmp_path / "nope"), None)


def test_split_host_and_loopback():
    assert split_host("[::1]:8000") == ("::1", 8000)
    assert split_host("Example.COM.") == ("example.com", None)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
