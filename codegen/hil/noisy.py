"""A TCP proxy that corrupts the link on purpose: flips bits and drops bytes, for fault-injection tests.

    with NoisyProxy(("127.0.0.1", emulator_port), flip_rate=1e-3, drop_rate=1e-3, seed=1) as proxy:
        client = connect(f"socket://127.0.0.1:{proxy.port}")

Both directions are corrupted by default (``direction="both"``; or "to_device" / "to_host"). A fixed seed makes a
run repeatable. ``python -m codegen.hil.noisy --target 127.0.0.1:4444 --listen 4445`` runs it standalone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import select
import socket
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

DIRECTIONS = ("both", "to_device", "to_host")


@dataclass(frozen=True)
class NoiseStats:
    bytes_forwarded: int
    bits_flipped: int
    bytes_dropped: int
    connections: int


class NoisyProxy:
    """Forward one TCP connection at a time to ``target`` while corrupting the bytes in flight."""

    def __init__(self, target: tuple[str, int], *, flip_rate: float = 0.0, drop_rate: float = 0.0,
                 direction: str = "both", seed: int | None = 0, listen: tuple[str, int] = ("127.0.0.1", 0),
                 start_after: int = 0) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        if not (0.0 <= flip_rate <= 1.0 and 0.0 <= drop_rate <= 1.0):
            raise ValueError("flip_rate and drop_rate are probabilities per byte (0..1)")
        self.target = target
        self.flip_rate = flip_rate
        self.drop_rate = drop_rate
        self.direction = direction
        self.start_after = start_after      # bytes passed through clean in each direction (e.g. the READY banner)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = socket.create_server(listen)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._forwarded = self._flipped = self._dropped = self._connections = 0

    @property
    def port(self) -> int:
        return self._server.getsockname()[1]

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def stats(self) -> NoiseStats:
        with self._lock:
            return NoiseStats(self._forwarded, self._flipped, self._dropped, self._connections)

    def set_rates(self, flip_rate: float, drop_rate: float) -> None:
        with self._lock:
            self.flip_rate, self.drop_rate = flip_rate, drop_rate

    def start(self) -> NoisyProxy:
        self._thread = threading.Thread(target=self._serve, name="noisy-proxy", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.close()

    def __enter__(self) -> NoisyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError as exc:
                log.warning("noisy proxy cannot reach %s:%d: %s", *self.target, exc)
                client.close()
                continue
            with self._lock:
                self._connections += 1
            self._pump(client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        seen = {client: 0, upstream: 0}
        peers = {client: upstream, upstream: client}
        open_ends = [client, upstream]
        try:
            while open_ends and not self._stop.is_set():
                ready, _, _ = select.select(open_ends, [], [], 0.1)
                for src in ready:
                    data = src.recv(4096)
                    if not data:  # half-close: pass the end of stream on, keep the other direction going
                        open_ends.remove(src)
                        with contextlib.suppress(OSError):
                            peers[src].shutdown(socket.SHUT_WR)
                        continue
                    to_device = src is client
                    noisy = self.direction == "both" or (self.direction == "to_device") == to_device
                    out = data
                    if noisy:
                        clean = max(0, min(len(data), self.start_after - seen[src]))
                        out = data[:clean] + self._corrupt(data[clean:])
                    seen[src] += len(data)
                    if out:
                        peers[src].sendall(out)
        except OSError as exc:
            log.debug("noisy proxy connection closed: %s", exc)
        finally:
            client.close()
            upstream.close()

    def _corrupt(self, data: bytes) -> bytes:
        out = bytearray()
        with self._lock:
            for b in data:
                if self.drop_rate and self._rng.random() < self.drop_rate:
                    self._dropped += 1
                    continue
                if self.flip_rate and self._rng.random() < self.flip_rate:
                    b ^= 1 << self._rng.randrange(8)
                    self._flipped += 1
                out.append(b)
            self._forwarded += len(out)
        return bytes(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m codegen.hil.noisy", description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="HOST:PORT of the device socket (e.g. the emulator)")
    ap.add_argument("--listen", type=int, default=0, help="local port to listen on (0 = any)")
    ap.add_argument("--flip-rate", type=float, default=1e-3)
    ap.add_argument("--drop-rate", type=float, default=1e-3)
    ap.add_argument("--direction", choices=DIRECTIONS, default="both")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    proxy = NoisyProxy((host or "127.0.0.1", int(port)), flip_rate=args.flip_rate, drop_rate=args.drop_rate,
                       direction=args.direction, seed=args.seed, listen=("127.0.0.1", args.listen))
    with proxy:
        print(f"listening on {proxy.url} -> {args.target}", flush=True)  # noqa: T201 - standalone tool output
        try:
            proxy._stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
