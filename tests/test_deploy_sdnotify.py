"""kiosk.sdnotify against a real unix datagram socket, as systemd listens."""

import os
import socket
import uuid

import pytest

from kiosk import sdnotify


@pytest.fixture
def listener(tmp_path, monkeypatch):
    """A datagram socket on a path, named in $NOTIFY_SOCKET."""
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


def test_each_message_arrives_as_one_datagram(listener):
    assert sdnotify.ready() is True
    assert sdnotify.watchdog() is True
    assert sdnotify.status("Syncing\n12 records") is True
    assert sdnotify.stopping() is True
    got = [listener.recv(4096) for _ in range(4)]
    assert got == [b"READY=1", b"WATCHDOG=1", b"STATUS=Syncing 12 records", b"STOPPING=1"]


def test_abstract_socket_named_with_at(monkeypatch):
    name = "kiosk-test-" + uuid.uuid4().hex
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        assert sdnotify.ready() is True
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    assert sdnotify.watchdog() is False
    assert sdnotify.status("idle") is False


def test_socket_gone_is_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert sdnotify.watchdog() is False


def test_relative_socket_name_is_ignored(monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", "notify")
    assert sdnotify.ready() is False


@pytest.mark.parametrize(
    "usec, pid, expected",
    [
        ("30000000", None, 15.0),
        ("30000000", "self", 15.0),
        ("30000000", "other", None),
        ("0", None, None),
        ("", None, None),
        ("thirty", None, None),
        (None, None, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch, usec, pid, expected):
    for key, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            own = {"self": os.getpid(), "other": os.getpid() + 1}
            monkeypatch.setenv(key, str(own.get(value, value)))
    assert sdnotify.watchdog_interval() == expected
