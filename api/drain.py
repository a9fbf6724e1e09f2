"""Draining on SIGTERM, for a load balancer. At start-up (the app's lifespan) `install` wraps the SIGTERM handler
the server put in place (uvicorn's graceful exit): the first SIGTERM only sets `DRAINING` — `/readyz` answers 503
`service_draining`, the balancer's health check takes the process out and new requests go to the other replicas,
while this one keeps answering what still reaches it — and DRAIN_SECONDS later hands the signal to the server,
which stops taking connections and lets the requests in flight finish (at most DRAIN_TIMEOUT_SECONDS, given to
uvicorn by `serve`). A second SIGTERM, or Ctrl+C, stops at once. Each uvicorn worker drains on its own."""

import logging
import signal
import threading
from types import FrameType

DRAINING = threading.Event()  # set from the first SIGTERM on; read by /readyz

log = logging.getLogger(__name__)


def install(drain_seconds: float) -> None:
    """Wrap the current SIGTERM handler (a no-op off the main thread, without a Python handler, or at 0 s)."""
    DRAINING.clear()
    if drain_seconds <= 0 or threading.current_thread() is not threading.main_thread():
        return
    stop = signal.getsignal(signal.SIGTERM)
    if not callable(stop):
        return

    def on_term(sig: int, frame: FrameType | None) -> None:
        if DRAINING.is_set():
            stop(sig, frame)
            return
        DRAINING.set()
        log.info("SIGTERM: draining before the graceful stop", extra={"drain_seconds": drain_seconds})
        later = threading.Timer(drain_seconds, stop, (sig, frame))
        later.daemon = True
        later.start()

    signal.signal(signal.SIGTERM, on_term)
