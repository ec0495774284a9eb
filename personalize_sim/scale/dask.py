"""Dask for large simulations and for streaming a partitioned frame from many workers.

``pip install 'personalize-sim[dask]'``. Three functions:

* :func:`simulate_frame` — a simulation as a lazy ``dask.dataframe.DataFrame``, one
  partition per range of blocks of time; computed, it equals :func:`personalize_sim.simulate`
  for the same config and seed, row for row.
* :func:`write_parquet` — the same partitions written by the workers, one Parquet file each
  (``pd.read_parquet(path)`` reads them in order).
* :func:`stream` — a Dask DataFrame streamed partition by partition by ``workers`` tasks, each
  with its share of the rate and its own checkpoint; one merged delivery log and
  :class:`~personalize_sim.scale.Ledger`.

**Why blocks of time, not users.** The engine keys its random streams by block of time: one
block's stream draws the arrivals, users and clicks of every session that starts in it. A
user shard would need a stream per user, which changes every draw (and so every event) of
today's engine; blocks give the identical frame at no cost. Tasks are pure, so Dask
recomputes a partition lost with its worker and the result is the same.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import dask
    import dask.dataframe as dd
    from dask.delayed import Delayed, delayed
except ImportError as e:  # pragma: no cover - the extra is part of the test install
    raise ImportError(
        "personalize_sim.scale.dask needs Dask: pip install 'personalize-sim[dask]'"
    ) from e

from .._checks import instance
from ..simulation.internal import (
    PartOutput,
    PartPlan,
    assemble_part,
    empty_part,
    generate_part,
    plan_parts,
)
from ._shares import Ledger, check_enough, split_rate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ScaleStream", "simulate_frame", "stream", "write_parquet"]

logger = logging.getLogger("personalize_sim.scale")


# -- simulation ---------------------------------------------------------------------------


def simulate_frame(
    config: Any = None,
    *,
    partitions: int | None = None,
    rng: Any = None,
    now: Any = None,
    **overrides: Any,
) -> dd.DataFrame:
    """A simulation as a lazy Dask DataFrame of ``partitions`` ranges of blocks of time.

    Arguments as :func:`personalize_sim.simulate` (``partitions``: default one per block).
    ``frame.compute()`` (index aside) equals ``simulate(config, rng=rng, ...)``.

    >>> frame = simulate_frame("retail", users=50, days=2, rng=1, start="2026-01-05")
    >>> frame.npartitions, len(frame.compute()) == len(
    ...     __import__("personalize_sim").simulate("retail", users=50, days=2, rng=1,
    ...                                            start="2026-01-05"))
    (2, True)
    """
    plan = plan_parts(config, partitions=partitions, rng=rng, now=now, **overrides)
    with dask.config.set({"dataframe.convert-string": False}):  # keep the frame's own dtypes
        return dd.from_delayed(_parts(plan), meta=empty_part(plan), verify_meta=False)


def write_parquet(frame: dd.DataFrame, path: str | Path) -> list[Path]:
    """Write a Dask frame (such as :func:`simulate_frame` gives) to ``path/part-NNNNN.parquet``,
    each partition by the worker that computes it; returns the files in order.

    The arguments are in the order of :func:`personalize_sim.simulation.write_parquet`
    (what to write, then where). A shared filesystem (or one machine) is needed for the
    workers to write where the caller reads.
    """
    instance(frame, "frame", dd.DataFrame, "a Dask DataFrame (simulate_frame(...))")
    instance(path, "path", (str, Path), "a directory path (str or Path)")
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    parts = frame.to_delayed()
    files = [target / f"part-{i:05d}.parquet" for i in range(len(parts))]
    writes = [
        delayed(_write, pure=True)(part, str(file)) for part, file in zip(parts, files, strict=True)
    ]
    return [Path(p) for p in dask.compute(*writes)]


def _parts(plan: PartPlan) -> list[Delayed]:
    """Each partition's frame as a delayed task; phase 1 outputs shared, spill-only."""
    name = f"personalize-sim-{dask.base.tokenize(plan)}"
    generated = [
        delayed(generate_part, pure=True)(plan, i, dask_key_name=(f"{name}-generate", i))
        for i in range(plan.partitions)
    ]
    spills = [
        delayed(PartOutput.spill_only, pure=True)(g, dask_key_name=(f"{name}-spill", i))
        for i, g in enumerate(generated)
    ]
    return [
        delayed(assemble_part, pure=True)(
            plan, spills[:i], generated[i], dask_key_name=(f"{name}-assemble", i)
        )
        for i in range(plan.partitions)
    ]


def _write(frame: pd.DataFrame, file: str) -> str:
    frame.to_parquet(file, index=False)
    return file


# -- streaming ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleStream:
    """What a partitioned stream did: the merged ledger, the merged delivery log (one row
    per attempt; ``share`` and ``partition`` say who sent it, ``started_at`` is its stream's
    Unix time 0) and each share's own summaries."""

    ledger: Ledger
    log: pd.DataFrame
    workers: int


def stream(
    frame: dd.DataFrame,
    *,
    rate: Any,
    tracking_id: str,
    target: Any = "fast",
    workers: int | None = None,
    client: Any = None,
    checkpoint_dir: str | Path | None = None,
    **options: Any,
) -> ScaleStream:
    """Stream a Dask DataFrame of events from ``workers`` Dask tasks, partition by partition.

    Partitions are dealt round-robin to ``workers`` shares (default: one per Dask worker);
    each share streams its partitions one after another at ``rate / workers`` (a Schedule is
    scaled), computing the next partition while it sends the current one. ``target`` must
    pickle ("fast", or a ``FastTarget(endpoint_url=...)``); ``options`` go to
    :func:`personalize_sim.streaming.open_stream` (``retry=``, ``pacing=``…). Each share
    checkpoints what it delivered under ``checkpoint_dir`` (default: a new temporary folder,
    fine on one machine; across machines use shared storage), so if Dask reruns a share whose
    worker died, nothing is sent twice; a share that fails for good is accounted from its
    checkpoint: delivered, or unsent.
    """
    from distributed import default_client

    instance(frame, "frame", dd.DataFrame, "a dask.dataframe.DataFrame of events")
    client = client if client is not None else default_client()
    if workers is None:
        workers = len(client.scheduler_info()["workers"])
    check_enough(frame.npartitions, workers, "partitions")
    share_rate = split_rate(rate, workers)
    folder = Path(checkpoint_dir or tempfile.mkdtemp(prefix="personalize-sim-dask-"))
    settings = dict(options, tracking_id=tracking_id, target=target)
    futures = []
    for share in range(workers):
        indices = list(range(share, frame.npartitions, workers))
        file = str(folder / f"share-{share:04d}")
        futures.append(
            client.submit(
                _stream_share, frame, indices, share, share_rate, settings, file,
                key=f"personalize-sim-stream-{share}-{dask.base.tokenize(frame, file)}",
                pure=False,
            )
        )  # fmt: skip
    return _merge(client, frame, futures, folder, tracking_id, workers)


def _stream_share(
    frame: dd.DataFrame,
    indices: list[int],
    share: int,
    rate: Any,
    settings: dict[str, Any],
    checkpoint: str,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """One share, on a worker: each partition computed (the next one meanwhile) and streamed."""
    import pandas as pd
    from distributed import worker_client

    from ..streaming import open_stream

    summaries, logs = [], []
    with worker_client() as c:
        upcoming = c.compute(frame.partitions[indices[0]])
        for n, index in enumerate(indices):
            part = upcoming.result()
            if n + 1 < len(indices):
                upcoming = c.compute(frame.partitions[indices[n + 1]])
            # one checkpoint per partition: a checkpoint belongs to one input
            handle = open_stream(
                part, rate=rate, checkpoint=_part_file(checkpoint, index), **settings
            )
            summary = handle.run(wait=True).summary
            summaries.append({**summary.to_dict(), "share": share, "partition": index})
            log = handle.log
            log["share"], log["partition"], log["started_at"] = share, index, summary.started_at
            logs.append(log)
    return summaries, pd.concat(logs, ignore_index=True)


def _merge(
    client: Any,
    frame: dd.DataFrame,
    futures: list[Any],
    folder: Path,
    tracking_id: str,
    workers: int,
) -> ScaleStream:
    """The shares' summaries and logs joined; a failed share accounted from its checkpoint."""
    import pandas as pd

    shares: list[dict[str, Any]] = []
    logs, failures = [], []
    for share, future in enumerate(futures):
        try:
            summaries, log = future.result()
        except Exception as e:
            failures.append(f"share {share}: {type(e).__name__}: {e}")
            logger.error("share %d of the stream failed: %s", share, e)
            indices = list(range(share, frame.npartitions, workers))
            prefix = str(folder / f"share-{share:04d}")
            shares.append(_lost_share(frame, indices, prefix, tracking_id, share))
            continue
        shares.extend(summaries)
        logs.append(log)
    merged = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()
    return ScaleStream(Ledger.merge(shares, failures), merged, workers)


def _part_file(prefix: str, index: int) -> str:
    return f"{prefix}-partition-{index:05d}.ids"


def _lost_share(
    frame: dd.DataFrame, indices: list[int], prefix: str, tracking_id: str, share: int
) -> dict[str, Any]:
    """A share whose task failed for good: its events delivered (per its checkpoints) or unsent."""
    from ..payloads import to_put_events
    from ..streaming.internal import Checkpoint, Prepared

    delivered = unsent = 0
    for index in indices:
        file = Path(_part_file(prefix, index))
        done = Checkpoint(file).done if file.exists() else set()
        part = frame.partitions[index].compute()
        requests, _ = to_put_events(part, tracking_id, errors="collect")
        for request in requests:
            events = len(request["eventList"])
            if Prepared(request).id in done:
                delivered += events
            else:
                unsent += events
    return {
        "share": share, "input_events": delivered + unsent, "resumed_events": delivered,
        "unsent_events": unsent, "balanced": True,
    }  # fmt: skip
