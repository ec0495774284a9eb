"""Distributed PutEvents load with Locust (``pip install 'personalize-sim[locust]'``).

Against the local tracker (``personalize-sim serve`` prints its endpoint and tracking id)::

    personalize-sim generate --preset retail --users 2000 --days 7 -o events.parquet
    locust -f examples/locustfile.py --headless --processes 2 -u 50 -r 50 -t 30s \\
        --host http://127.0.0.1:8080 --tracking-id <id> --events events.parquet \\
        --ledger ledger.json --csv stats

Master and workers as separate commands (on one machine, or one worker per machine)::

    locust -f examples/locustfile.py --master --headless --expect-workers 2 -u 50 -r 50 \\
        -t 30s --host ... --tracking-id ... --ledger ledger.json
    locust -f examples/locustfile.py --worker --master-host 127.0.0.1 --events events.parquet

Each worker sends its own share of the Parquet row groups; every attempt shows in Locust's
statistics; the master writes the merged ledger (delivered, dead-lettered, unsent).
"""

from personalize_sim.scale.locust import PutEventsUser


class Shopper(PutEventsUser):
    """One request per second per user (``rate_per_user``): users = requests per second."""
