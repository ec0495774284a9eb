"""Our schedules as a Locust load shape."""

from __future__ import annotations

from typing import Any, ClassVar

from locust import LoadTestShape

from ...streaming.internal import Prepared
from .._shares import replay_rates, users_for_rate


class ScheduleShape(LoadTestShape):
    """Our schedules as a Locust shape: ``schedule`` (requests/s) for ``duration`` seconds,
    with each user sending ``rate_per_user`` requests/s (as :class:`PutEventsUser`).

    ``replay`` has no rate of its own: build it with :meth:`replay_rates` from the source.
    """

    abstract = True
    schedule: ClassVar[Any] = None
    duration: ClassVar[float] = 60.0
    rate_per_user: ClassVar[float] = 1.0
    rates: ClassVar[list[float] | None] = None  # per second, from replay_rates
    _cursor: Any = None

    def tick(self) -> tuple[int, float] | None:
        t = self.get_run_time()
        if t >= self.duration:
            return None
        users = users_for_rate(self.rate_at(t), self.rate_per_user)
        return users, float(users)

    def rate_at(self, t: float) -> float:
        """The target in requests/s ``t`` seconds into the test."""
        if self.rates is not None:
            return self.rates[min(int(t), len(self.rates) - 1)]
        schedule = self.schedule
        if schedule is None or schedule.per != "requests" or schedule.kind == "replay":
            raise ValueError(
                "ScheduleShape needs schedule= in requests per second (constant, ramp, steps…); "
                "for a replay, rates = ScheduleShape.replay_rates(frame, tracking_id, speedup)"
            )
        if self._cursor is None:
            self._cursor = schedule.cursor()
        return float(self._cursor.rate_at(t))

    @staticmethod
    def replay_rates(frame: Any, tracking_id: str, speedup: float = 1.0) -> list[float]:
        """Requests per second of wall time when ``frame`` is replayed ``speedup`` times faster."""
        from ...payloads import to_put_events

        requests = to_put_events(frame, tracking_id)
        return replay_rates([Prepared(r).sent_at or 0.0 for r in requests], speedup)
