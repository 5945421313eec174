"""A loopback HTTP server speaking the Queue-Times API, with faults on demand.

It serves `GET /parks.json` and `GET /parks/{id}/queue_times.json` from any
`PayloadSource` (the simulated park model, or fixed bytes in a test), and with a
`WikiSource` the ThemeParks.wiki API under `/v1` (`feed.wiki`), on a clock that can
run faster than real time, so that a collector can be exercised against a whole park day
in minutes. Faults (latency, 500, hangs, truncated bodies, 429, missing parks) are drawn
from one seeded generator, so a given seed and request order always fail the same way.
Poison (one hostile ride record in an otherwise good answer) is a function of the seed,
the park and the second asked about, whatever the order of requests.

It binds to loopback only: it is a test double, not a service.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import re
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}
"""Hosts the server may bind to, and the address each one binds."""

_QUEUE_TIMES_PATH = re.compile(r"/parks/([0-9]{1,9})/queue_times\.json")
_GARBAGE = b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
_GARBAGE_SHARE = 0.25
"""Of the malformed answers, the share that is an HTML page rather than cut-off JSON."""


class PayloadSource(Protocol):
    """What the server serves: the body of each document, already encoded."""

    def parks_json(self) -> bytes: ...

    def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
        """The park's queue_times.json as of `at`; None for a park it does not know."""
        ...


class WikiSource(Protocol):
    """ThemeParks.wiki answers (`feed.wiki.WikiFeed`): the body for a `/v1/...` path."""

    def answer(self, path: str, at: datetime) -> bytes | None: ...


Clock = Callable[[], datetime]


@dataclass(frozen=True)
class FeedClock:
    """Simulated time: `start` when `real_time()` read `real_start`, then `speed`x as fast.

    `real_time` is injectable so tests can move time without sleeping; `real_start`
    defaults to its reading when the clock is made. speed 0 is a clock that stands still.
    """

    start: datetime
    speed: float = 1.0
    real_time: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    real_start: float | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"clock start must be timezone-aware, got naive {self.start}")
        if not (math.isfinite(self.speed) and self.speed >= 0):
            raise ValueError(f"clock speed must be a finite number >= 0, got {self.speed}")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.real_start is None:
            object.__setattr__(self, "real_start", self.real_time())

    def now(self) -> datetime:
        assert self.real_start is not None
        elapsed = self.real_time() - self.real_start
        return self.start + timedelta(seconds=elapsed * self.speed)


class Poison(StrEnum):
    """A hostile ride record: each kind once stopped a whole import or collection cycle."""

    HUGE_ID = "huge_id"
    LONE_SURROGATE = "lone_surrogate"
    LONG_NAME = "long_name"
    DEEP_NESTING = "deep_nesting"
    ABSURD_WAIT = "absurd_wait"


POISON_RIDE_BASE = 2_000_000_000
"""A poisoned ride with a valid id has id POISON_RIDE_BASE + park id: apart from real ones."""
POISON_DEPTH = 200
"""Lists nested in a poisoned wait: deeper than any real value, shallow enough that the
answer is still a document (the collector refuses more than 256 levels)."""
POISON_NAME_LENGTH = 5000


class Fault(StrEnum):
    """What can go wrong with one answer, in the order the draw checks them."""

    TIMEOUT = "timeout"
    ERROR = "error"
    RATE_LIMIT = "rate_limit"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Faults:
    """Which faults to inject and how often; all off by default.

    Each rate is the share of requests that get that fault; a request gets at most one,
    so the rates may add up to at most 1. Latency comes on top, on every request that
    faults apply to. Missing parks answer 404 unless a timeout, 500 or 429 came first.
    `poison_rate` is apart from them: the share of park answers that carry one hostile
    ride record (`Poison`) beside their normal rides.
    """

    seed: int = 0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 30.0
    malformed_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_seconds: int = 2
    missing_parks: frozenset[int] = frozenset()
    faults_on_catalogue: bool = False
    poison_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, rate in [*self.rates().items(), ("poison", self.poison_rate)]:
            if not (0.0 <= rate <= 1.0):
                raise ValueError(f"{name}_rate must be between 0 and 1, got {rate}")
        total = sum(self.rates().values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:g}; a request gets at most one")
        for name in ("latency_ms", "hang_seconds", "retry_after_seconds"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        object.__setattr__(self, "missing_parks", frozenset(self.missing_parks))

    def rates(self) -> dict[Fault, float]:
        """Rate of each fault, in the fixed order a draw is checked against them."""
        return {
            Fault.TIMEOUT: self.timeout_rate,
            Fault.ERROR: self.error_rate,
            Fault.RATE_LIMIT: self.rate_limit_rate,
            Fault.MALFORMED: self.malformed_rate,
        }


NO_FAULTS = Faults()


def choose_fault(faults: Faults, draw: float) -> Fault | None:
    """The fault for a uniform draw in [0, 1): each fault owns a slice as wide as its rate."""
    edge = 0.0
    for fault, rate in faults.rates().items():
        edge += rate
        if draw < edge:
            return fault
    return None


@dataclass(frozen=True)
class FaultDraw:
    """The dice for one request: its fault, and how a malformed body would be spoiled."""

    fault: Fault | None
    cut: float
    garbage: bool


class FaultDice:
    """One seeded generator for all requests: the n-th request always gets the n-th draw."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._rng = random.Random(faults.seed)  # noqa: S311 - a simulation, not crypto
        self._lock = threading.Lock()

    def draw(self) -> FaultDraw:
        with self._lock:
            pick, cut, kind = self._rng.random(), self._rng.random(), self._rng.random()
        return FaultDraw(choose_fault(self._faults, pick), cut, kind < _GARBAGE_SHARE)


def malformed_body(body: bytes, draw: FaultDraw) -> tuple[bytes, str]:
    """A broken 200 answer and its content type: the JSON cut short, or an HTML page.

    The cut falls before the last non-blank byte, so an object or list never closes and
    the result is never valid JSON.
    """
    content = body.rstrip()
    if draw.garbage or len(content) < 2:
        return _GARBAGE, "text/html"
    return content[: 1 + int(draw.cut * (len(content) - 1))], "application/json"


def _share(*parts: object) -> float:
    """A uniform number in [0, 1) determined by `parts` alone."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def poison_for(faults: Faults, park_id: int, at: datetime) -> Poison | None:
    """The hostile record that the park's answer for `at` carries, if any."""
    second = int(at.timestamp())
    if _share(faults.seed, "poison", park_id, second) >= faults.poison_rate:
        return None
    kinds = list(Poison)
    return kinds[int(_share(faults.seed, "poison-kind", park_id, second) * len(kinds))]


def hostile_ride(kind: Poison, park_id: int, at: datetime) -> str:
    """One hostile ride entry as JSON text (a lone surrogate exists in JSON only as an
    escape, and a 40-digit number only as text). It is closed, so that it never makes a
    park look open."""
    ride_id, name, wait = POISON_RIDE_BASE + park_id, json.dumps(f"Poisoned {kind}"), "0"
    if kind is Poison.HUGE_ID:
        ride_id = 10**30
    elif kind is Poison.LONE_SURROGATE:
        name = '"Poisoned \\ud800 name"'
    elif kind is Poison.LONG_NAME:
        name = json.dumps("Poisoned " + "x" * POISON_NAME_LENGTH)
    elif kind is Poison.DEEP_NESTING:
        wait = "[" * POISON_DEPTH + "]" * POISON_DEPTH
    else:
        wait = str(10**39)
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f'{{"id":{ride_id},"name":{name},"is_open":false,"wait_time":{wait},'
        f'"last_updated":"{stamp}"}}'
    )


_MARK = "\x00poisoned ride\x00"


def poison_body(body: bytes, kind: Poison, park_id: int, at: datetime) -> bytes:
    """The answer with one hostile ride appended to its top-level rides; a body that is
    not a payload object is served as it is."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict) or not isinstance(document.setdefault("rides", []), list):
        return body
    document["rides"].append(_MARK)
    text = json.dumps(document, ensure_ascii=False)
    return text.replace(json.dumps(_MARK), hostile_ride(kind, park_id, at), 1).encode()


class FeedServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the source, clock and fault dice its handlers use."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        source: PayloadSource,
        clock: Clock,
        faults: Faults,
        wiki: WikiSource | None = None,
    ) -> None:
        self.source = source
        self.wiki = wiki
        self.clock = clock
        self.faults = faults
        self.dice = FaultDice(faults)
        # Set on shutdown: wakes handlers that hang or wait, so none outlives the server.
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host, which can stall."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def base_url(self) -> str:
        host = self.server_name
        return (
            f"http://[{host}]:{self.server_port}"
            if ":" in host
            else f"http://{host}:{self.server_port}"
        )

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()

    def server_close(self) -> None:
        self.stopping.set()
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-answer is routine (DEBUG); anything else, a failing source
        included, is logged as an error instead of printed on stderr."""
        level = logging.DEBUG if isinstance(sys.exc_info()[1], OSError) else logging.ERROR
        logger.log(level, "error answering %s", client_address, exc_info=True)


class _FeedServerV6(FeedServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer
    server_version = "themepark-tracker-feed"
    timeout = 60

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = urlsplit(self.path).path
        if path == "/parks.json":
            self._answer(None)
            return
        if path.startswith("/v1/") and self.server.wiki is not None:
            self._answer(None, wiki=path)
            return
        match = _QUEUE_TIMES_PATH.fullmatch(path)
        if match is None:
            self._send(404, b'{"error":"not found"}')
            return
        self._answer(int(match[1]))

    def _answer(self, park_id: int | None, wiki: str | None = None) -> None:
        """A park's answer, the catalogue (`park_id` None), or a ThemeParks.wiki path;
        the same faults fall on all but the catalogue."""
        feed = self.server
        faults = feed.faults
        asks_data = park_id is not None or wiki is not None
        draw = feed.dice.draw() if asks_data or faults.faults_on_catalogue else None
        fault = draw.fault if draw else None
        if draw is not None and faults.latency_ms > 0:
            feed.stopping.wait(faults.latency_ms / 1000)
        if fault is not None:
            logger.debug("fault %s on %s", fault, self.path)
        if fault is Fault.TIMEOUT:
            feed.stopping.wait(faults.hang_seconds)
            self.close_connection = True
            return
        if fault is Fault.ERROR:
            self._send(500, b'{"error":"internal server error"}')
            return
        if fault is Fault.RATE_LIMIT:
            self._send(
                429,
                b'{"error":"too many requests"}',
                headers={"Retry-After": str(faults.retry_after_seconds)},
            )
            return
        if wiki is not None:
            assert feed.wiki is not None
            body: bytes | None = feed.wiki.answer(wiki, feed.clock())
            if body is None:
                message = b'{"success":false,"error":{"type":"Not found","code":404}}'
                self._send(404, message)
                return
        elif park_id is None:
            body = feed.source.parks_json()
        elif park_id in faults.missing_parks:
            body = None
        else:
            at = feed.clock()
            body = feed.source.queue_times_json(park_id, at)
            poison = poison_for(faults, park_id, at) if body is not None else None
            if body is not None and poison is not None:
                logger.debug("poison %s on %s", poison, self.path)
                body = poison_body(body, poison, park_id, at)
        if body is None:
            self._send(404, b'{"error":"park not found"}')
            return
        content_type = "application/json"
        if draw is not None and fault is Fault.MALFORMED:
            body, content_type = malformed_body(body, draw)
        self._send(200, body, content_type=content_type)

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
        logger.debug("%s %s", self.address_string(), format % args)


def make_server(
    source: PayloadSource,
    clock: FeedClock | Clock,
    faults: Faults = NO_FAULTS,
    host: str = "127.0.0.1",
    port: int = 0,
    wiki: WikiSource | None = None,
) -> FeedServer:
    """A bound server, not yet serving; port 0 picks a free one (see `server_address`).

    Any host but loopback is refused: fault injection has no place on a network.
    """
    if host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"the feed server binds to loopback only ({', '.join(LOOPBACK_HOSTS)}), not {host!r}"
        )
    address = LOOPBACK_HOSTS[host]
    server_class = _FeedServerV6 if ":" in address else FeedServer
    now = clock.now if isinstance(clock, FeedClock) else clock
    return server_class((address, port), source, now, faults, wiki)


@contextmanager
def running_server(
    source: PayloadSource,
    clock: FeedClock | Clock,
    faults: Faults = NO_FAULTS,
    host: str = "127.0.0.1",
    port: int = 0,
    wiki: WikiSource | None = None,
) -> Iterator[str]:
    """Serve in a background thread; yields the base URL, e.g. `http://127.0.0.1:8123`.
    With `wiki`, it answers ThemeParks.wiki paths under `/v1` too."""
    server = make_server(source, clock, faults, host, port, wiki)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="feed-server", daemon=True
    )
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
