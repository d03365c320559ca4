"""What one app process shares for one EHR: a pooled HTTP session and a cap on the requests in flight
to it, shared fairly between the launches (R44 for the whole process, not only for each launch).

Layer: FHIR out. Imports requests and the standard library; knows nothing of Flask.

Thirty clinicians opening the app at once must not open thirty connection pools nor send 600
requests together: every launch's gateway sends through its EHR's lane. When the lane is full, a
freed slot goes to the waiting launch with the fewest requests in flight (the longest-waiting one
among equals), so a launch with twenty searches queued cannot starve one that has asked for one.

The proxy settings of the environment (`HTTPS_PROXY`, `NO_PROXY`, `REQUESTS_CA_BUNDLE`) are read
once per lane rather than on every request, as requests would otherwise do.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

MAX_IN_FLIGHT_PER_EHR = 64  # per process; a launch alone asks for at most its tenant's concurrency (32)


class FairSlots:
    """At most `capacity` holders at once; a freed slot goes to the waiting owner holding fewest."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._free = capacity
        self._held: dict[object, int] = {}
        self._waiting: dict[object, deque[threading.Event]] = {}  # insertion order: who waited first

    def acquire(self, owner: object) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                self._held[owner] = self._held.get(owner, 0) + 1
                return
            granted = threading.Event()
            self._waiting.setdefault(owner, deque()).append(granted)
        granted.wait()  # the releaser counted the slot as ours before setting the event

    def release(self, owner: object) -> None:
        with self._lock:
            held = self._held[owner] - 1
            if held:
                self._held[owner] = held
            else:
                del self._held[owner]
            if not self._waiting:
                self._free += 1
                return
            chosen = min(self._waiting, key=lambda o: self._held.get(o, 0))
            queue = self._waiting.pop(chosen)
            granted = queue.popleft()
            if queue:
                self._waiting[chosen] = queue  # to the back: owners holding as few take turns
            self._held[chosen] = self._held.get(chosen, 0) + 1
            granted.set()

    @contextmanager
    def held(self, owner: object) -> Iterator[None]:
        self.acquire(owner)
        try:
            yield
        finally:
            self.release(owner)

    def in_flight(self) -> int:
        with self._lock:
            return self.capacity - self._free

    def waiting(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._waiting.values())


class EhrLane:
    """One EHR's pooled session and fair request slots, for every launch of this process."""

    def __init__(self, base_url: str, *, max_in_flight: int = MAX_IN_FLIGHT_PER_EHR) -> None:
        self.base_url = base_url
        self.slots = FairSlots(max_in_flight)
        self.session = pooled_session(base_url, max_in_flight)

    def send(self, method: str, url: str, *, headers: Mapping[str, str], timeout: float,
             data: bytes | None = None) -> requests.Response:
        """One request on the lane's pooled connections, streamed (the caller reads the body), never
        redirected. It goes to the session's transport adapter directly: the session layer would merge
        its settings again on every request (a third of the app's cost per request) and keep one cookie
        jar for every launch, so that a cookie the EHR set in answer to one user went out with another's
        requests. Its proxy and CA settings still apply."""
        request = requests.PreparedRequest()
        request.prepare_method(method)
        request.prepare_url(url, None)
        request.prepare_headers({**self.session.headers, **headers})  # requests' own: gzip, keep-alive, its name
        request.prepare_body(data, None)
        adapter = self.session.get_adapter(url)
        return adapter.send(request, stream=True, timeout=timeout, verify=self.session.verify,
                            proxies=self.session.proxies)


def pooled_session(base_url: str, pool_size: int) -> requests.Session:
    """A session with a connection pool as large as the requests it may have in flight, and the
    environment's proxy and CA settings for `base_url` resolved now, not per request."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(get_environ_proxies(base_url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, pool_size))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


MAX_LANES = 64  # EHR base URLs a process remembers; a lane forgotten closes once no gateway holds it

_lanes: OrderedDict[str, EhrLane] = OrderedDict()
_lanes_pid = os.getpid()
_lanes_lock = threading.Lock()


def lane_for(base_url: str) -> EhrLane:
    """This process's lane to the EHR at `base_url` (one per base URL, made on first use). A forked
    worker makes its own: connections are never shared between processes."""
    global _lanes_pid
    key = base_url.rstrip("/")
    with _lanes_lock:
        if _lanes_pid != os.getpid():
            _lanes.clear()
            _lanes_pid = os.getpid()
        lane = _lanes.get(key)
        if lane is None:
            lane = _lanes[key] = EhrLane(key)
            while len(_lanes) > MAX_LANES:
                _lanes.popitem(last=False)
        else:
            _lanes.move_to_end(key)
        return lane
