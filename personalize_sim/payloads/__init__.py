"""② Frames ⇄ requests of every personalize-events operation, validated against every limit;
bulk-import CSVs.

Items, users, actions and action interactions have their own converters, each with an
exact inverse: :func:`to_put_items`, :func:`to_put_users`, :func:`to_put_actions` and
:func:`from_put_records` (``_records``: an id column and metadata columns sent as
``properties``), :func:`to_put_action_interactions` and :func:`from_put_action_interactions`
(``_action_interactions``); ``_values`` is the one rule for metadata values; ``_datasets``
tells which dataset a frame holds and names a dataset of a group (shared with the stream
and the command line through :mod:`.internal`); :func:`to_bulk_csv` writes the bulk CSV of
any of them (``_bulk_datasets`` for the four beyond interactions). The rest of this
docstring is about events.

* :func:`validate_events` returns one row per problem (``row, field, reason, value, limit``);
* :func:`to_put_events` turns a frame into the keyword arguments of
  ``client.put_events(**request)``, refusing (or, with ``errors="collect"``,
  setting aside) rows the real service would reject;
* :func:`from_put_events` is its exact inverse;
* :func:`to_bulk_csv` and :func:`interactions_schema` write a bulk-import CSV and its
  Avro schema.

Conversion rules, in one place:

* Columns use the interactions-dataset names (``USER_ID``, ``TIMESTAMP``…) or the
  API's camelCase names (``userId``, ``sentAt``…), not both for one field.
* ``TIMESTAMP`` may hold tz-aware datetimes, naive datetimes (read as UTC), or
  epoch numbers, which need an explicit ``time_unit`` ("s", "ms", "us" or "ns").
  The API carries microseconds, so finer parts are reported, not rounded.
* Id columns hold strings; integer columns are written in decimal, losslessly.
  Anything else (floats, mixed objects) is reported as ``wrong_type``.
* ``IMPRESSION`` holds a list of item ids or a ``|``-separated string; an empty
  string or None means no impression.
* Properties come from UPPER_SNAKE_CASE columns beyond the contract (``DISCOUNT`` →
  ``discount``) and from a ``PROPERTIES`` column of dicts or JSON object strings;
  pass ``properties=[...]`` to name the columns yourself, ``properties=[]`` for none.
  Lower-case extra columns are ground truth and never sent, nor are
  ``RECOMMENDER_ARN`` (who issued the RECOMMENDATION_ID) and a tracker's
  ``TRACKING_ID`` and ``RECEIVED_AT``, which PutEvents does not carry. A null property
  value leaves the key out of that event.
* ``EVENT_ID`` is kept where given; elsewhere it is a hash of the row's content
  (plus an occurrence number for identical rows), so converting the same frame
  twice gives the same ids and a resend is idempotent.
* Events of a session are put in time order and cut into requests of at most
  10 wherever the user changes (a login midway gives requests before and after
  it) or the list is full; requests are ordered by their first event's time.
* Bad rows are reported (``validate_events``) or raise
  :class:`~personalize_sim.errors.PayloadError` with the whole report; bad arguments
  (not a DataFrame, an unknown ``time_unit`` or ``errors``, a tracking id the service
  would refuse, two columns for one field, ``properties`` naming missing columns or
  request fields) raise :class:`~personalize_sim.errors.ConfigError`.

Modules, one concept each: ``_problems`` (the report), ``_columns`` (which column is
which field), ``_strings`` (id and text fields), ``_sent_at`` (timestamps),
``_impressions``, ``_event_values``, ``_properties``, ``_events`` (the events as
arrays), ``_normalise`` (the pass that runs every field's step), ``_event_ids``,
``_requests`` (the request dicts), ``_convert`` (the two public converters),
``_from_requests`` (the inverse) and ``_bulk`` (the bulk CSV and its schema).

>>> import pandas as pd
>>> frame = pd.DataFrame({"SESSION_ID": ["s1", "s1"], "USER_ID": ["u1", "u1"],
...                       "EVENT_TYPE": ["View", "Purchase"], "ITEM_ID": ["i1", "i1"],
...                       "TIMESTAMP": [1_700_000_001, 1_700_000_000], "DISCOUNT": ["no", "yes"]})
>>> (request,) = to_put_events(frame, "my-tracker", time_unit="s")
>>> [(e["eventType"], e["sentAt"], e["properties"]) for e in request["eventList"]]
[('Purchase', 1700000000.0, '{"discount":"yes"}'), ('View', 1700000001.0, '{"discount":"no"}')]
>>> from_put_events([request])[["EVENT_TYPE", "DISCOUNT"]].values.tolist()
[['Purchase', 'yes'], ['View', 'no']]
"""

from __future__ import annotations

from .._public import expose
from ._action_interactions import from_put_action_interactions, to_put_action_interactions
from ._bulk import interactions_schema, to_bulk_csv
from ._convert import to_put_events, validate_events
from ._from_requests import from_put_events
from ._records import (
    from_put_records,
    to_put_actions,
    to_put_items,
    to_put_users,
)

__all__ = [
    "from_put_action_interactions",
    "from_put_events",
    "from_put_records",
    "interactions_schema",
    "to_bulk_csv",
    "to_put_action_interactions",
    "to_put_actions",
    "to_put_events",
    "to_put_items",
    "to_put_users",
    "validate_events",
]

expose(__name__, globals(), __all__)
