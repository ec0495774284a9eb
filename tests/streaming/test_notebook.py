"""In a real Jupyter kernel (whose event loop is running) stream() returns a handle at once."""

import pytest

from ..kernels import run_in_kernel

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

CELLS = [
    """
import asyncio, threading
from personalize_sim import stream
from personalize_sim.streaming import MemoryTarget
gate = threading.Event()
target = MemoryTarget(lambda request, n: gate.wait(30) and None)
requests = [{"trackingId": "t", "sessionId": "s", "eventList": [
    {"eventId": str(i), "eventType": "View", "sentAt": 1_700_000_000 + i}]} for i in range(20)]
asyncio.get_running_loop()  # the kernel's loop runs this cell
handle = stream(requests, rate=1000, target=target)
print("returned", handle.done)
gate.set()
""",
    """
summary = await handle.wait_async()
print("delivered", summary.delivered_events, summary.balanced)
""",
]


def test_stream_in_a_jupyter_kernel_returns_at_once_and_finishes():
    outputs = ["".join(o.get("text", "") for o in cell) for cell in run_in_kernel(*CELLS)]
    assert outputs[0].strip() == "returned False"
    assert outputs[1].strip() == "delivered 20 True"
