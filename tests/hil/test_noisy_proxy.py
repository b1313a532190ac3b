"""The fault-injection proxy: passes bytes through clean at rate 0, flips and drops bytes at the rates asked."""

from __future__ import annotations

import socket
import threading

from codegen.hil.noisy import NoisyProxy


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return server, t


def _roundtrip(proxy: NoisyProxy, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        try:
            while chunk := s.recv(4096):
                got += chunk
        except TimeoutError:
            pass
        return bytes(got)


def test_zero_rates_forward_every_byte_unchanged():
    server, _ = _echo_server()
    payload = bytes(range(256)) * 20
    with NoisyProxy(server.getsockname(), seed=1) as proxy:
        assert _roundtrip(proxy, payload) == payload
        assert proxy.stats().bits_flipped == 0 and proxy.stats().bytes_dropped == 0
    server.close()


def test_flips_and_drops_happen_at_about_the_requested_rate_and_are_counted():
    server, _ = _echo_server()
    payload = bytes(5000)
    with NoisyProxy(server.getsockname(), flip_rate=0.01, drop_rate=0.01, direction="to_device", seed=7) as proxy:
        got = _roundtrip(proxy, payload)
        stats = proxy.stats()
    server.close()
    assert 10 <= stats.bits_flipped <= 100 and 10 <= stats.bytes_dropped <= 100
    assert len(got) == len(payload) - stats.bytes_dropped
    assert sum(1 for b in got if b) == stats.bits_flipped  # each flip set exactly one bit of a zero byte


def test_clean_prefix_is_left_alone():
    server, _ = _echo_server()
    with NoisyProxy(server.getsockname(), flip_rate=1.0, direction="to_device", start_after=100, seed=3) as proxy:
        got = _roundtrip(proxy, bytes(200))
    server.close()
    assert got[:100] == bytes(100) and all(got[100:])
