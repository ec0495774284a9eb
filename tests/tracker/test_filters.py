"""Filters, promotions, metadata and action recommendations, through real boto3 clients.

Every expectation is computed by hand from the catalog below. Popularity ranks
i1 (6 events) > i2 (5) > i3 (4) > i4 (3) > i5 (2); user x-all saw every item, so each
item is linked with every other one (similar-items reads those links).

item  GENRE         PRICE  OWNER      | user  AGE  MEMBERSHIP  events
i1    comedy|drama  5      in-house   | u1    25   gold        Purchase i2, click i3
i2    drama         12.5              | u2    40               View i4
i3    action        20     in-house   |
i4    comedy        8                 |
i5    (no record)                     |
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from personalize_sim.errors import ConfigError
from personalize_sim.tracker import LocalTracker

DATASET = "arn:aws:personalize:us-east-1:000000000000:dataset/shop/"
NO_RETRY = {"total_max_attempts": 1}
CATALOG = {
    "i1": {"genre": "comedy|drama", "price": 5, "owner": "in-house"},
    "i2": {"genre": "drama", "price": 12.5},
    "i3": {"genre": "action", "price": 20, "owner": "in-house"},
    "i4": {"genre": "comedy", "price": 8},
}
FILTERS = {
    "drama": 'INCLUDE ItemID WHERE Items.GENRE IN ("drama")',
    "no-drama": 'EXCLUDE ItemID WHERE Items.GENRE IN ("drama")',
    "not-comedy": 'INCLUDE ItemID WHERE Items.GENRE NOT IN ("comedy")',
    "lt10": "INCLUDE ItemID WHERE Items.PRICE < 10",
    "le12": "INCLUDE ItemID WHERE Items.PRICE <= 12.5",
    "gt12": "INCLUDE ItemID WHERE Items.PRICE > 12.5",
    "ge12": "INCLUDE ItemID WHERE Items.PRICE >= 12.5",
    "eq8": "INCLUDE ItemID WHERE Items.PRICE = 8",
    "and": 'INCLUDE ItemID WHERE Items.GENRE IN ("comedy") AND Items.PRICE > 6',
    "or": 'INCLUDE ItemID WHERE Items.GENRE IN ("action") OR Items.PRICE < 6',
    "unbought": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
    "seen": 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")',
    "seen-not-bought": 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("purchase")',
    "union-in": 'INCLUDE ItemID WHERE Items.GENRE IN ("action") | '
    'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
    "union-ex": "EXCLUDE ItemID WHERE Items.PRICE < 6 | "
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")',
    "minus": 'INCLUDE ItemID WHERE Items.GENRE IN ("drama", "action") | '
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
    "minus-first": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase") | '
    'INCLUDE ItemID WHERE Items.GENRE IN ("drama", "action")',
    "young": 'EXCLUDE ItemID WHERE Items.GENRE IN ("action") IF CurrentUser.AGE < 30',
    "gold": 'INCLUDE ItemID WHERE Items.OWNER IN ("in-house") '
    'IF CurrentUser.MEMBERSHIP IN ("gold")',
    "genre": "INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)",
    "cheap": "INCLUDE ItemID WHERE Items.PRICE <= $PRICE",
    "not-genre": "EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE)",
    "cheaper": "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE",
    "same-genre": "INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE",
    "house": 'INCLUDE ItemID WHERE Items.OWNER IN ("in-house")',
    "email": 'INCLUDE ActionID WHERE Actions.CHANNEL IN ("email")',
    "untaken": 'EXCLUDE ActionID WHERE ActionInteractions.EVENT_TYPE IN ("taken")',
}
RECOMMENDERS = {"top": "popularity", "sims": "similar-items", "campaign/mine":
                "user-personalization", "campaign/nba": "personalized-actions"}  # fmt: skip


@pytest.fixture(scope="module")
def served() -> Iterator[LocalTracker]:
    with LocalTracker(process=False, max_tps=0, rng=0, recommenders=RECOMMENDERS,
                      filters=FILTERS) as tracker:  # fmt: skip
        client = tracker.client()
        items = [{"itemId": i, "properties": json.dumps(p)} for i, p in CATALOG.items()]
        client.put_items(datasetArn=DATASET + "ITEMS", items=items)
        users = [{"userId": "u1", "properties": json.dumps({"age": 25, "membership": "gold"})},
                 {"userId": "u2", "properties": json.dumps({"age": 40})}]  # fmt: skip
        client.put_users(datasetArn=DATASET + "USERS", users=users)
        history = [("x-all", item, "View") for item in ("i1", "i2", "i3", "i4", "i5")]
        history += [("u1", "i2", "Purchase"), ("u1", "i3", "click"), ("u2", "i4", "View")]
        more = {"i1": 5, "i2": 3, "i3": 2, "i4": 1, "i5": 1}
        history += [(f"one-{item}-{k}", item, "View") for item, n in more.items() for k in range(n)]
        for n, (user, item, kind) in enumerate(history):
            event = {"eventId": f"h{n}", "eventType": kind, "itemId": item, "sentAt": 1e9 + n}
            client.put_events(trackingId=tracker.tracking_id, userId=user, sessionId=user,
                              eventList=[event])  # fmt: skip
        actions = [{"actionId": a, "properties": json.dumps({"channel": c})}
                   for a, c in [("a1", "email"), ("a2", "sms"), ("a3", "email")]]  # fmt: skip
        client.put_actions(datasetArn=DATASET + "ACTIONS", actions=actions)
        taken = {"userId": "u1", "sessionId": "s", "actionId": "a1", "eventType": "Taken",
                 "timestamp": 1e9}  # fmt: skip
        client.put_action_interactions(trackingId=tracker.tracking_id, actionInteractions=[taken])
        yield tracker


@pytest.fixture(scope="module")
def runtime(served: LocalTracker) -> Any:
    return served.runtime_client(parameter_validation=False, retries=NO_RETRY)


def top(served: LocalTracker, runtime: Any, name: str, user: str = "u1", **kw: Any) -> list[str]:
    answer = runtime.get_recommendations(
        recommenderArn=served.recommender_arns["top"], userId=user,
        filterArn=served.config.filter_arns[name], **kw,
    )  # fmt: skip
    return [entry["itemId"] for entry in answer["itemList"]]


def test_unfiltered_order_is_popularity(served: LocalTracker, runtime: Any) -> None:
    answer = runtime.get_recommendations(recommenderArn=served.recommender_arns["top"], userId="u1")
    assert [e["itemId"] for e in answer["itemList"]] == ["i1", "i2", "i3", "i4", "i5"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("drama", ["i1", "i2"]),  # IN matches one value of a multi-value field
        ("no-drama", ["i3", "i4", "i5"]),  # i5 has no record: nothing to exclude it by
        ("not-comedy", ["i2", "i3", "i5"]),
        ("lt10", ["i1", "i4"]),
        ("le12", ["i1", "i2", "i4"]),
        ("gt12", ["i3"]),
        ("ge12", ["i2", "i3"]),
        ("eq8", ["i4"]),
        ("and", ["i4"]),
        ("or", ["i1", "i3"]),
        ("unbought", ["i1", "i3", "i4", "i5"]),  # "purchase" matches "Purchase": case ignored
        ("seen", ["i2", "i3"]),
        ("seen-not-bought", ["i3"]),
        ("union-in", ["i2", "i3"]),  # Include A | Include B: A or B
        ("union-ex", ["i2", "i4", "i5"]),  # Exclude A | Exclude B: neither A nor B
        ("minus", ["i1", "i3"]),  # Include A | Exclude B: A - B
        ("minus-first", ["i1", "i3"]),  # the order of the expressions does not matter
        ("young", ["i1", "i2", "i4", "i5"]),  # u1 is 25: the expression applies
        ("gold", ["i1", "i3"]),
    ],
)
def test_each_element_of_the_language(
    served: LocalTracker, runtime: Any, name: str, expected: list[str]
) -> None:
    assert top(served, runtime, name) == expected


def test_if_current_user_false_leaves_the_expression_out(
    served: LocalTracker, runtime: Any
) -> None:
    everything = ["i1", "i2", "i3", "i4", "i5"]
    assert top(served, runtime, "young", user="u2") == everything  # 40
    assert top(served, runtime, "gold", user="u2") == everything
    assert top(served, runtime, "seen", user="u2") == ["i4"]


def test_placeholders_take_the_request_values(served: LocalTracker, runtime: Any) -> None:
    genres = {"GENRE": '"comedy","action"'}
    assert top(served, runtime, "genre", filterValues=genres) == ["i1", "i3", "i4"]
    assert top(served, runtime, "cheap", filterValues={"PRICE": "8"}) == ["i1", "i4"]
    assert top(served, runtime, "not-genre", filterValues=genres) == ["i2", "i5"]
    # an EXCLUDE without its values is not applied, as the API documents
    assert top(served, runtime, "not-genre") == ["i1", "i2", "i3", "i4", "i5"]


def test_current_item_filters_related_items(served: LocalTracker, runtime: Any) -> None:
    def sims(item: str, name: str) -> set[str]:
        answer = runtime.get_recommendations(
            recommenderArn=served.recommender_arns["sims"], itemId=item,
            filterArn=served.config.filter_arns[name],
        )  # fmt: skip
        return {entry["itemId"] for entry in answer["itemList"]}

    assert sims("i3", "cheaper") == {"i1", "i2", "i4"}  # price < 20
    assert sims("i1", "same-genre") == {"i2", "i4"}  # comedy or drama, i1 itself left out


def test_ranking_drops_what_the_filter_refuses(served: LocalTracker, runtime: Any) -> None:
    answer = runtime.get_personalized_ranking(
        campaignArn=served.recommender_arns["mine"], userId="u1",
        inputList=["i5", "i2", "i1"], filterArn=served.config.filter_arns["unbought"],
    )  # fmt: skip
    assert sorted(e["itemId"] for e in answer["personalizedRanking"]) == ["i1", "i5"]


def refused(call: Any, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kw)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_bad_filter_requests_get_the_services_errors(served: LocalTracker, runtime: Any) -> None:
    get = runtime.get_recommendations
    base = {"recommenderArn": served.recommender_arns["top"], "userId": "u1"}
    arns = served.config.filter_arns
    code, message = refused(get, **base, filterArn=arns["drama"].replace("drama", "nope"))
    assert code == "ResourceNotFoundException" and "filter/nope" in message
    code, message = refused(get, **base, filterArn=arns["genre"])
    assert code == "InvalidInputException" and "$GENRE" in message
    code, message = refused(get, **base, filterArn=arns["drama"], filterValues={"X": '"a"'})
    assert code == "InvalidInputException" and "X" in message
    code, message = refused(
        get, **base, filterArn=arns["genre"], filterValues={"GENRE": "x" * 1001}
    )
    assert code == "InvalidInputException" and "1000" in message
    many = {f"P{i}": "a" for i in range(26)}
    code, message = refused(get, **base, filterArn=arns["genre"], filterValues=many)
    assert code == "InvalidInputException" and "25" in message
    code, _ = refused(get, **base, filterValues={"GENRE": '"a"'})
    assert code == "InvalidInputException"
    code, message = refused(get, **base, filterArn=arns["email"])  # an actions filter
    assert code == "InvalidInputException" and "ActionID" in message
    code, message = refused(get, **base, filterArn=arns["cheaper"])  # CurrentItem on popularity
    assert code == "InvalidInputException" and "CurrentItem" in message
    code, message = refused(get, **base, promotions=[{"name": "p", "percentPromotedItems": 10}])
    assert code == "InvalidInputException" and "filterArn" in message


def test_a_malformed_filter_is_refused_when_declared() -> None:
    with pytest.raises(ConfigError, match="at position 29: expected IN, NOT IN"):
        LocalTracker(process=False, filters={"bad": 'INCLUDE ItemID WHERE Items.A INN ("x")'})


def test_promotions_take_their_share_and_name(served: LocalTracker, runtime: Any) -> None:
    promotion = {"name": "house", "percentPromotedItems": 50,
                 "filterArn": served.config.filter_arns["house"]}  # fmt: skip
    answer = runtime.get_recommendations(
        recommenderArn=served.recommender_arns["top"], userId="u1", numResults=4,
        promotions=[promotion],
    )  # fmt: skip
    entries = answer["itemList"]
    promoted = [e["itemId"] for e in entries if e.get("promotionName") == "house"]
    assert promoted == ["i1", "i3"]  # in the model's order among themselves
    assert sorted(e["itemId"] for e in entries if "promotionName" not in e) == ["i2", "i4"]


def test_metadata_columns_come_back_with_each_item(served: LocalTracker, runtime: Any) -> None:
    answer = runtime.get_recommendations(
        recommenderArn=served.recommender_arns["top"], userId="u1", numResults=2,
        metadataColumns={"ITEMS": ["GENRE", "PRICE"]},
    )  # fmt: skip
    assert [e["metadata"] for e in answer["itemList"]] == [
        {"genre": "comedy|drama", "price": "5"},
        {"genre": "drama", "price": "12.5"},
    ]
    base = {"recommenderArn": served.recommender_arns["top"], "userId": "u1"}
    code, message = refused(runtime.get_recommendations, **base, numResults=51,
                            metadataColumns={"ITEMS": ["GENRE"]})  # fmt: skip
    assert code == "InvalidInputException" and "50" in message
    eleven = {"ITEMS": [f"C{i}" for i in range(11)]}
    code, message = refused(runtime.get_recommendations, **base, metadataColumns=eleven)
    assert code == "InvalidInputException" and "10" in message


def test_action_recommendations_with_filters(served: LocalTracker, runtime: Any) -> None:
    nba, arns = served.recommender_arns["nba"], served.config.filter_arns

    def actions(user: str, **kw: Any) -> list[str]:
        answer = runtime.get_action_recommendations(campaignArn=nba, userId=user, **kw)
        return [entry["actionId"] for entry in answer["actionList"]]

    assert actions("u2") == ["a1", "a2", "a3"]  # a1 was taken: the best take rate
    assert actions("u2", filterArn=arns["email"]) == ["a1", "a3"]
    assert "a1" not in actions("u1")  # taken lately by u1
    assert actions("u2", filterArn=arns["untaken"]) == ["a1", "a2", "a3"]  # u2 took nothing
    code, _ = refused(runtime.get_action_recommendations, campaignArn=nba, userId="u1",
                      filterArn=arns["drama"])  # fmt: skip
    assert code == "InvalidInputException"
    code, _ = refused(runtime.get_recommendations, campaignArn=nba, userId="u1")
    assert code == "InvalidInputException"
