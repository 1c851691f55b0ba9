"""What the chaos tests share: the workers they kill, the broker they break, the loop.

``tests/runtime/test_chaos.py`` (the test's own jobs) and
``tests/runtime/test_chaos_capabilities.py`` (the capabilities' real jobs) both run
``takedown worker`` processes, SIGKILL one at random every few seconds and replace it,
and break the broker once: a Redis server of their own is restarted, RabbitMQ (a shared
server) has every connection dropped through a proxy.
"""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.runtime.brokers import AMQP_URL

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


class OwnRedis:
    """A redis-server of the test's own, which it may restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        time.sleep(1.0)
        self.start()


class DroppingProxy:
    """A TCP proxy to the broker that can drop every connection at once."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._refuse_until = 0.0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if time.monotonic() < self._refuse_until:
                client.close()
                continue
            try:
                up = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, up]
            for a, b in ((client, up), (up, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def drop(self, refuse_for: float = 2.0) -> None:
        self._refuse_until = time.monotonic() + refuse_for
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        self.drop(0)


class Workers:
    """``takedown worker`` processes started by ``launch`` (Python code run with ``-c``)."""

    def __init__(self, env: dict[str, str], log_dir: Path, launch: str) -> None:
        self.env, self.log_dir, self.launch = env, log_dir, launch
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        self.kills = 0

    def spawn(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.logs) + 1}.log", "wb")  # noqa: SIM115
        self.logs.append(log)
        p = subprocess.Popen([sys.executable, "-c", self.launch], cwd=ROOT, env=self.env,
                             stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        self.procs.append(p)
        return p

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random live worker and start another in its place."""
        alive = [p for p in self.procs if p.poll() is None]
        if not alive:
            return
        victim = rng.choice(alive)
        victim.kill()  # SIGKILL
        victim.wait()
        self.kills += 1
        self.procs.remove(victim)
        self.spawn()

    def stop(self, timeout: float = 30.0) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in self.logs:
            log.close()


def kill_at_random(
    workers: Workers,
    rng: random.Random,
    seconds: float,
    gap: tuple[float, float],
    break_broker: Callable[[], None],
) -> None:
    """For ``seconds``: a kill every ``gap`` seconds (uniform); the broker broken once,
    a third of the way in."""
    start = time.monotonic()
    broken = False
    while time.monotonic() - start < seconds:
        time.sleep(rng.uniform(*gap))
        workers.kill_one(rng)
        if not broken and time.monotonic() - start > seconds / 3:
            break_broker()
            broken = True


def delete_rabbitmq_queues(queue: str | None) -> None:
    if not queue:
        return
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    ch = conn.channel()
    for q in (queue, f"{queue}.DQ", f"{queue}.XQ"):
        ch.queue_delete(q)
    conn.close()
