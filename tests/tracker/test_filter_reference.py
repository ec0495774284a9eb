"""The emulator's filtered slates against a slow, obviously correct reference evaluation.

Hypothesis draws a small catalog (items with or without a record, a multi-value GENRE,
a numeric PRICE), one user's interactions and age, and a filter of one to three
``|``-joined expressions over Items, Interactions and ``IF CurrentUser``. The emulator
(its sans-I/O core, fed real request bodies) answers a popularity slate with the filter;
the reference checks every item of the unfiltered slate one by one, straight from the
Developer Guide's rules, with no index and no set algebra.
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize_sim.tracker import TrackerConfig
from personalize_sim.tracker._emulator import Emulator

ITEMS = [f"i{n}" for n in range(8)]
GENRES = ["x", "y", "z"]
EVENT_TYPES = ["Purchase", "click"]
COMPARE = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}  # fmt: skip


@dataclass(frozen=True)
class Cond:
    kind: str  # "genre", "price", "events"
    op: str
    values: tuple[Any, ...]
    placeholder: bool = False

    def text(self) -> str:
        if self.kind == "price":
            return f"Items.PRICE {self.op} {self.values[0]}"
        field = "Items.GENRE" if self.kind == "genre" else "Interactions.EVENT_TYPE"
        listed = "$G" if self.placeholder else ", ".join(f'"{v}"' for v in self.values)
        return f"{field} {self.op} ({listed})"


@dataclass(frozen=True)
class Expr:
    include: bool
    groups: tuple[tuple[Cond, ...], ...]
    age: tuple[str, int] | None

    def text(self) -> str:
        where = " OR ".join(" AND ".join(c.text() for c in g) for g in self.groups)
        head = "INCLUDE" if self.include else "EXCLUDE"
        age = "" if self.age is None else f" IF CurrentUser.AGE {self.age[0]} {self.age[1]}"
        return f"{head} ItemID WHERE {where}{age}"


def conditions(dataset: str) -> st.SearchStrategy[Cond]:
    if dataset == "Interactions":
        types = st.lists(st.sampled_from(["purchase", "CLICK", "*"]), min_size=1, max_size=2)
        return st.builds(Cond, st.just("events"), st.sampled_from(["IN", "NOT IN"]),
                         types.map(tuple))  # fmt: skip
    genre = st.builds(
        Cond, st.just("genre"), st.sampled_from(["IN", "NOT IN"]),
        st.lists(st.sampled_from(GENRES), min_size=1, max_size=2).map(tuple), st.booleans(),
    )  # fmt: skip
    price = st.builds(Cond, st.just("price"), st.sampled_from(list(COMPARE)),
                      st.integers(0, 5).map(lambda n: (n,)))  # fmt: skip
    return st.one_of(genre, price)


@st.composite
def expressions(draw: Any) -> Expr:
    dataset = draw(st.sampled_from(["Items", "Interactions"]))
    group = st.lists(conditions(dataset), min_size=1, max_size=2).map(tuple)
    groups = draw(st.lists(group, min_size=1, max_size=2).map(tuple))
    age = draw(st.none() | st.tuples(st.sampled_from(list(COMPARE)), st.integers(20, 40)))
    return Expr(draw(st.booleans()), groups, age)


catalogs = st.dictionaries(
    st.sampled_from(ITEMS),
    st.fixed_dictionaries({}, optional={
        "genre": st.lists(st.sampled_from(GENRES), min_size=1, max_size=2, unique=True)
        .map("|".join),
        "price": st.integers(0, 5),
    }),
)  # fmt: skip
histories = st.lists(st.tuples(st.sampled_from(ITEMS), st.sampled_from(EVENT_TYPES)), max_size=6)


def reference(
    exprs: list[Expr], catalog: dict[str, dict[str, Any]], history: list[tuple[str, str]],
    age: int | None, genre_values: tuple[str, ...], item: str,
) -> bool:  # fmt: skip
    """Is ``item`` allowed? Each rule checked directly on the raw data."""
    record = catalog.get(item)

    def holds(c: Cond) -> bool:
        if c.kind == "events":
            wanted = {v.lower() for v in c.values}
            types = {t.lower() for i, t in history if i == item}
            if c.op == "IN":
                return bool(types) and ("*" in wanted or bool(types & wanted))
            return "*" not in wanted and bool(types - wanted)
        if c.kind == "price":
            if record is None or "price" not in record:
                return False
            return COMPARE[c.op](record["price"], c.values[0])
        values = set(genre_values if c.placeholder else c.values)
        has = record is not None and bool(set(record.get("genre", "").split("|")) & values)
        return has if c.op == "IN" else not has

    def user_holds(e: Expr) -> bool:
        return e.age is None or (age is not None and COMPARE[e.age[0]](age, e.age[1]))

    applied = [e for e in exprs if user_holds(e)]
    matched = {e: any(all(holds(c) for c in g) for g in e.groups) for e in applied}
    includes = [e for e in applied if e.include]
    if includes and not any(matched[e] for e in includes):
        return False
    return not any(matched[e] for e in applied if not e.include)


def post(emulator: Emulator, path: str, body: dict[str, Any]) -> dict[str, Any]:
    outcome = emulator.handle("POST", path, {}, orjson.dumps(body))
    assert outcome.error_code is None, outcome.message
    emulator.finish(outcome, len(outcome.rows))
    return orjson.loads(outcome.payload) if outcome.payload else {}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(expressions(), min_size=1, max_size=3), catalogs, histories,
    st.none() | st.integers(18, 45), st.lists(st.sampled_from(GENRES), min_size=1, max_size=2),
)  # fmt: skip
def test_filtered_slates_match_the_reference(
    exprs: list[Expr], catalog: dict[str, dict[str, Any]], history: list[tuple[str, str]],
    age: int | None, genre_values: list[str],
) -> None:  # fmt: skip
    text = " | ".join(e.text() for e in exprs)
    config = TrackerConfig(rng=0, max_tps=None, recommenders={"top": "popularity"},
                           filters={"f": text})  # fmt: skip
    emulator = Emulator(config)
    dataset = "arn:aws:personalize:us-east-1:000000000000:dataset/g/"
    if catalog:
        records = [{"itemId": i, "properties": json.dumps(p)} for i, p in catalog.items()]
        post(emulator, "/items", {"datasetArn": dataset + "ITEMS", "items": records})
    if age is not None:
        user = {"userId": "u", "properties": json.dumps({"age": age})}
        post(emulator, "/users", {"datasetArn": dataset + "USERS", "users": [user]})
    events = [("u", item, kind) for item, kind in history]
    events += [(f"p{item}", item, "View") for item in ITEMS]  # every item is known
    for n, (user_id, item, kind) in enumerate(events):
        event = {"eventId": f"e{n}", "eventType": kind, "itemId": item, "sentAt": 1e9 + n}
        post(emulator, "/events", {"trackingId": "t", "userId": user_id, "sessionId": user_id,
                                   "eventList": [event]})  # fmt: skip
    arns = emulator.runtime.arns
    ask = {"recommenderArn": arns["top"], "userId": "u", "numResults": 25}
    unfiltered = [e["itemId"] for e in post(emulator, "/recommendations", ask)["itemList"]]
    filter_arn = config.filter_arns["f"]
    values = {"G": ",".join(f'"{g}"' for g in genre_values)} if "$G" in text else {}
    answer = post(emulator, "/recommendations", {**ask, "filterArn": filter_arn,
                                                 "filterValues": values})  # fmt: skip
    expected = [item for item in unfiltered
                if reference(exprs, catalog, history, age, tuple(genre_values), item)]  # fmt: skip
    assert [e["itemId"] for e in answer["itemList"]] == expected, text
