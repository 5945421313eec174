"""GETs against a JSON API: one pooled session, retries, a deadline, and the server's own
pacing. Both sources (Queue-Times, ThemeParks.wiki) fetch through it, so they share one
retry policy."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential, wait_random

from themepark_tracker.config import Settings


class FetchError(Exception):
    """A request that failed for good; `outcome` is one of the polls table's outcomes."""

    def __init__(self, outcome: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{outcome}: {detail}")
        self.outcome = outcome
        self.status = status


class _Retryable(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    body: bytes
    status: int
    duration_ms: int
    attempts: int


#: The longest wait a server's `Retry-After` or `RateLimit-Reset` gets.
MAX_RETRY_AFTER = 60.0


class HttpClient:
    """GETs against one API.

    Retries (tenacity, exponential backoff with jitter) cover timeouts, connection errors,
    5xx and 429; a 429's `Retry-After` is honoured. When an answer says the rate-limit
    window is spent (`RateLimit-Remaining: 0`), the next request waits for
    `RateLimit-Reset`; an answer served from a cache (`Age` above 0) says nothing about
    the budget and is not read for it. No wait ever runs past `deadline` (a
    `time.monotonic()` instant), so that a cycle ends when it must.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        user_agent: str,
        attempts: int = 3,
        retry_wait: float = 1.0,
        pool_size: int = 8,
        deadline: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.retry_wait = retry_wait
        self.deadline = deadline
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self._not_before = 0.0
        self._pacing = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def get(self, path: str) -> Fetched:
        """The body of `base_url + path`, or FetchError saying why not."""
        started = time.monotonic()
        retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception(
                lambda exc: isinstance(
                    exc, _Retryable | requests.Timeout | requests.ConnectionError
                )
            ),
            reraise=True,
        )
        try:
            response = retrying(self._get_once, self.base_url + path)
        except _Retryable as exc:
            raise FetchError("http_error", str(exc), exc.status) from None
        except requests.Timeout as exc:
            raise FetchError("timeout", type(exc).__name__) from None
        except requests.RequestException as exc:
            raise FetchError("connection_error", _short(exc)) from None
        if response.status_code != 200:
            raise FetchError("http_error", f"HTTP {response.status_code}", response.status_code)
        attempts = retrying.statistics.get("attempt_number", 1)
        return Fetched(
            response.content,
            response.status_code,
            int(1000 * (time.monotonic() - started)),
            attempts,
        )

    def _get_once(self, url: str) -> requests.Response:
        self._wait_for_window()
        timeout = self.timeout
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise requests.Timeout("the cycle deadline has passed")
            timeout = min(timeout, remaining)
        response = self.session.get(url, timeout=timeout)
        self._read_budget(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(response.status_code, _seconds(response, "Retry-After"))
        return response

    def _wait_for_window(self) -> None:
        with self._pacing:
            wait = self._not_before - time.monotonic()
        if wait <= 0:
            return
        if self.deadline is not None and time.monotonic() + wait >= self.deadline:
            raise requests.Timeout("the rate-limit window ends after the cycle deadline")
        time.sleep(wait)

    def _read_budget(self, response: requests.Response) -> None:
        if (_seconds(response, "Age") or 0) > 0:
            return
        remaining = _seconds(response, "RateLimit-Remaining")
        reset = _seconds(response, "RateLimit-Reset")
        if remaining is not None and remaining <= 0 and reset is not None:
            with self._pacing:
                self._not_before = max(self._not_before, time.monotonic() + reset)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.attempts:
            return True
        if self.deadline is None:
            return False
        return time.monotonic() + (state.upcoming_sleep or 0) >= self.deadline

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return error.retry_after
        backoff = wait_exponential(multiplier=self.retry_wait, max=30)
        return float((backoff + wait_random(0, self.retry_wait))(state))


def client_for(settings: Settings, base_url: str, deadline: float | None = None) -> HttpClient:
    """A client of either source with the collector's timeout, retries and pool."""
    return HttpClient(
        base_url,
        timeout=settings.http_timeout_seconds,
        user_agent=settings.user_agent,
        attempts=settings.collect_attempts,
        retry_wait=settings.retry_wait_seconds,
        pool_size=settings.collect_concurrency,
        deadline=deadline,
    )


def _seconds(response: requests.Response, header: str) -> float | None:
    """A header's seconds (`Retry-After` in its seconds form), capped; None without."""
    value = response.headers.get(header, "")
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        return None


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
