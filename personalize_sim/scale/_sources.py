"""Where Locust workers' requests come from, each worker its own share (no Locust here,
so the shares are tested in any process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._shares import share_bounds

__all__ = ["FrameSource", "ParquetSource", "SimulationSource", "Source"]


class Source:
    """Where a worker's requests come from: ``share(index, workers, tracking_id)`` gives its
    requests (an iterator) and how many events they hold."""

    def share(self, index: int, workers: int, tracking_id: str) -> tuple[Iterator[dict], int]:
        raise NotImplementedError


class FrameSource(Source):
    """An events frame: converted once per worker, which sends a contiguous run of requests."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def share(self, index: int, workers: int, tracking_id: str) -> tuple[Iterator[dict], int]:
        from ..payloads import to_put_events

        requests = to_put_events(self.frame, tracking_id)
        bounds = share_bounds(len(requests), index, workers)
        mine = requests[bounds.start : bounds.stop]
        return iter(mine), sum(len(r["eventList"]) for r in mine)


class ParquetSource(Source):
    """A Parquet file or directory of files (``write_parquet``'s layout); each worker reads
    only its share of the row groups, one at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def pieces(self) -> list[tuple[Path, int, int]]:
        """Every row group: (file, index in file, rows), files in name order."""
        import pyarrow.parquet as pq

        files = sorted(self.path.glob("*.parquet")) if self.path.is_dir() else [self.path]
        out = []
        for file in files:
            meta = pq.ParquetFile(file).metadata
            out += [(file, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
        return out

    def share(self, index: int, workers: int, tracking_id: str) -> tuple[Iterator[dict], int]:
        pieces = self.pieces()
        bounds = share_bounds(len(pieces), index, workers, what="Parquet row groups")
        mine = pieces[bounds.start : bounds.stop]
        return self._requests(mine, tracking_id), sum(rows for _, _, rows in mine)

    @staticmethod
    def _requests(pieces: list[tuple[Path, int, int]], tracking_id: str) -> Iterator[dict]:
        import pyarrow.parquet as pq

        from ..payloads import to_put_events

        for file, group, _ in pieces:
            frame = pq.ParquetFile(file).read_row_group(group).to_pandas()
            yield from to_put_events(frame, tracking_id)


class SimulationSource(Source):
    """A simulation made live: each worker simulates its share of the blocks of time (the
    same events as ``simulate(config, rng=rng, ...)``, none sent by two workers)."""

    def __init__(self, config: Any = None, *, rng: Any = None, **overrides: Any) -> None:
        from ..simulation.internal import plan_parts

        self.plan = plan_parts(config, rng=rng, **overrides)

    def share(self, index: int, workers: int, tracking_id: str) -> tuple[Iterator[dict], int]:
        bounds = share_bounds(self.plan.partitions, index, workers, what="blocks of time")
        return self._requests(bounds, tracking_id), -1  # -1: known once simulated

    def _requests(self, bounds: range, tracking_id: str) -> Iterator[dict]:
        from ..payloads import to_put_events
        from ..simulation.internal import assemble_part, generate_part

        run = self.plan.run()
        spills: list[Any] = []
        for p in range(bounds.stop):  # earlier blocks are generated for their spill-over
            out = generate_part(self.plan, p, run)
            if p in bounds:
                yield from to_put_events(assemble_part(self.plan, spills, out), tracking_id)
            spills.append(out.spill_only())
