"""A ramp from 5 to 40 requests/s over 20 s as a Locust shape; add it to a locustfile::

    locust -f examples/locustfile.py,examples/locust_ramp.py --headless --processes 2 ...

(-u, -r and -t are then the shape's.) Any schedule of ``personalize_sim.streaming`` in
requests per second works; for a replay, set ``rates = ScheduleShape.replay_rates(...)``.
"""

from personalize_sim.scale.locust import ScheduleShape
from personalize_sim.streaming import ramp


class Ramp(ScheduleShape):
    schedule = ramp(5, 40, over=20)
    duration = 30.0
