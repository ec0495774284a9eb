"""What the stream and demo commands print: a live progress bar and the delivery summary."""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personalize_sim.streaming import DeliverySummary, StreamHandle

__all__ = ["describe", "progress"]

#: the latency percentiles printed
_SHOWN = ("p50", "p90", "p99", "p99.9")
#: updates of the progress bar per second
_UPDATES_PER_S = 4


def progress(handle: StreamHandle, *, enabled: bool, desc: str | None = None) -> None:
    """A progress bar of finished events on stderr until the stream ends."""
    from tqdm import tqdm

    summary = handle.live_summary()
    with tqdm(total=summary.input_events or None, unit="ev", disable=not enabled,
              file=sys.stderr, dynamic_ncols=True, desc=desc) as bar:  # fmt: skip
        shown = 0
        while True:
            done = handle.done
            s = handle.live_summary()
            bar.total = max(bar.total or 0, s.input_events)
            rate = s.achieved_rate
            bar.set_postfix(
                rate=f"{rate:.0f} {_short(s.unit)}/s" if math.isfinite(rate) else "-",
                throttled=s.throttled, dead=s.dead_letter_events, refresh=False,
            )  # fmt: skip
            bar.update(s.finished_events - shown)
            shown = s.finished_events
            if done:
                return
            time.sleep(1 / _UPDATES_PER_S)


def describe(s: DeliverySummary) -> list[str]:
    """The summary in a few lines, for people."""
    achieved = f"{s.achieved_rate:.4g}" if math.isfinite(s.achieved_rate) else "-"
    target = s.settings.schedule or (
        "the input's own timing" if s.target_rate is None else f"{s.target_rate:.4g} {s.unit}/s"
    )
    resumed = f" ({s.resumed_events:,} earlier, per the checkpoint)" if s.resumed_events else ""
    lines = [
        f"{s.state}: {s.delivered_events:,} of {s.input_events:,} events delivered in "
        f"{s.delivered_requests:,} requests{resumed}; "
        f"{s.dead_letter_events:,} dead-lettered, {s.pending_events:,} pending, "
        f"{s.rejected_rows:,} rows rejected",
        f"attempts {s.attempts:,} (retried {s.retried:,}, throttled {s.throttled:,}, "
        f"5xx {s.server_errors:,}, connection {s.connection_errors:,}"
        + (f", inside boto3 {s.sdk_retries:,}" if s.sdk_retries else "")
        + f"), missed sends {s.missed_sends:,}, retry mode {s.retry_mode}, "
        f"transport {s.settings.transport}",
        f"rate: achieved {achieved} {s.unit}/s over {s.duration_s:.1f} s (target: {target})",
        "latency from the intended send time (ms): "
        + s.latency_intended.describe(_SHOWN, named=True),
        "latency of each call (ms):                "
        + s.latency_service.describe(_SHOWN, named=True),
        "waiting for a connection or thread (ms):  " + s.latency_queue.describe(_SHOWN, named=True),
        f"ledger balanced (delivered + dead-lettered + resumed + pending = input): {s.balanced}",
    ]
    if str(s.limited_by) != "none":
        who = "the client was the bottleneck" if s.bottleneck else "the tracker was the limit"
        lines.append(f"warning: {who} ({s.limited_by}: {s.diagnosis}); {s.advice('cli')}")
    return lines


def _short(unit: str) -> str:
    return "req" if unit == "requests" else "ev"
