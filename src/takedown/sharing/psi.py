"""Private Set Intersection for deconfliction, on OpenMined's ``openmined-psi`` (ECDH).

The asker (client) blinds its elements with a fresh key and sends them; the answerer
(server) blinds them again with its key and sends them back, with its own set blinded
by its key in a compressed filter (Golomb-compressed sets) per shard. The asker unblinds
and learns which of *its* elements the answerer has, nothing else: the answerer's other
elements stay behind a key only the answerer has, so they cannot be guessed and tested
the way hashed or Bloom-filtered URLs can. The answerer learns how many elements were
asked, nothing else.

The answerer's key is derived from TAKEDOWN_SECRET_KEY and the UTC day (it changes every
day), so the blinded set of one day can be computed once and reused for every question
of that day until the set changes (``SetupCache``); a cold setup is split into shards
computed in parallel processes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import private_set_intersection.python as psi
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from takedown.kit.errors import InvalidInput

FPR = 1e-9  # chance that a question returns a false hit, per question
MAX_ELEMENTS = 1_000_000
#: Sets larger than this are blinded in parallel shards (one process each).
SHARD_MIN = 20_000


def bucket(n: int) -> int:
    """The client-size class a setup is computed for (so it can be reused): 1k, 10k..."""
    b = 1000
    while b < n:
        b *= 10
    return b


def epoch_key(secret_key: str | None, day: dt.date) -> bytes:
    """The answerer's key for one UTC day."""
    if not secret_key:
        raise InvalidInput("set TAKEDOWN_SECRET_KEY to answer deconfliction questions")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"takedown deconfliction psi key {day.isoformat()}".encode(),
    ).derive(secret_key.encode("utf-8"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidInput(f"{what} is not base64") from None


# --- the answerer -----------------------------------------------------------------------------


def _setup_shard(key: bytes, num_client: int, elements: Sequence[str]) -> bytes:
    """One shard's blinded set (runs in a worker process for big sets)."""
    server = psi.server.CreateFromKey(key, True)
    setup = server.CreateSetupMessage(FPR, num_client, list(elements), psi.DataStructure.GCS)
    data: bytes = setup.SerializeToString()
    return data


def compute_setups(
    key: bytes, num_client: int, elements: Sequence[str], workers: int
) -> list[bytes]:
    if len(elements) < SHARD_MIN or workers < 2:
        return [_setup_shard(key, num_client, elements)]
    shards = [list(elements[i::workers]) for i in range(workers)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_setup_shard, key, num_client, s) for s in shards]
        return [f.result() for f in futures]


class SetupCache:
    """Blinded sets per (key, set, client bucket): computed once, reused until either the
    day's key or the set changes. Small (a few entries), per process."""

    def __init__(self, size: int = 4, workers: int | None = None) -> None:
        self._size = size
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._data: OrderedDict[tuple[bytes, str, int], list[bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes, elements: Sequence[str], num_client: int) -> list[bytes]:
        digest = hashlib.sha256("\n".join(elements).encode()).hexdigest()
        k = (key, digest, num_client)
        with self._lock:
            if k in self._data:
                self._data.move_to_end(k)
                return self._data[k]
        setups = compute_setups(key, num_client, elements, self._workers)
        with self._lock:
            self._data[k] = setups
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return setups

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


CACHE = SetupCache()


@dataclass(frozen=True)
class Answer:
    response: bytes
    setups: list[bytes]
    asked: int


def asked_count(request: bytes) -> int:
    req = psi.Request()
    try:
        req.ParseFromString(request)
    except Exception:  # protobuf's DecodeError
        raise InvalidInput("the request is not a PSI request") from None
    if not req.reveal_intersection:
        raise InvalidInput("the request must ask for the intersection")
    return len(req.encrypted_elements)


def answer(
    request: bytes, elements: Sequence[str], key: bytes, cache: SetupCache | None = None
) -> Answer:
    """Blind the asker's elements and hand over our blinded set (sorted, de-duplicated)."""
    n = asked_count(request)
    if n == 0:
        raise InvalidInput("the question has no elements")
    if n > MAX_ELEMENTS:
        raise InvalidInput(f"at most {MAX_ELEMENTS} elements per question")
    req = psi.Request()
    req.ParseFromString(request)
    server = psi.server.CreateFromKey(key, True)
    response: bytes = server.ProcessRequest(req).SerializeToString()
    ordered = sorted(set(elements)) or ["\x00empty"]
    setups = (cache or CACHE).get(key, ordered, bucket(n))
    return Answer(response, setups, n)


# --- the asker --------------------------------------------------------------------------------


class Question:
    """The asker's side: its elements, blinded with a key that never leaves this object."""

    def __init__(self, elements: Sequence[str]) -> None:
        if not elements:
            raise InvalidInput("nothing to ask")
        if len(elements) > MAX_ELEMENTS:
            raise InvalidInput(f"at most {MAX_ELEMENTS} elements per question")
        self.elements = list(elements)
        self._client = psi.client.CreateWithNewKey(True)
        self.request: bytes = self._client.CreateRequest(self.elements).SerializeToString()

    def hits(self, response: bytes, setups: Sequence[bytes]) -> set[str]:
        """The asked elements the answerer has (the union over its shards)."""
        resp = psi.Response()
        try:
            resp.ParseFromString(response)
        except Exception:
            raise InvalidInput("the answer is not a PSI response") from None
        if len(resp.encrypted_elements) != len(self.elements):
            raise InvalidInput("the answer does not match the question")
        found: set[int] = set()
        for raw in setups:
            setup = psi.ServerSetup()
            try:
                setup.ParseFromString(raw)
            except Exception:
                raise InvalidInput("the answer's set is not a PSI setup") from None
            found.update(self._client.GetIntersection(setup, resp))
        return {self.elements[i] for i in found}
