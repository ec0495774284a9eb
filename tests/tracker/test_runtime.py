"""The runtime API of the emulator, through an unmodified boto3 ``personalize-runtime`` client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from personalize_sim.attribution import MetricAttribution, attribution_report
from personalize_sim.clock import VirtualClock
from personalize_sim.tracker import LocalTracker, TrackerConfig
from personalize_sim.tracker._emulator import Emulator

RECOMMENDERS = {
    "top": "popularity",
    "hot": "trending",
    "sims": "similar-items",
    "campaign/mine": "user-personalization",
    "dice": "random",
}
NO_RETRY = {"total_max_attempts": 1}


@pytest.fixture(scope="module")
def served() -> Iterator[LocalTracker]:
    """One emulator per module, taught a little history: u1 a,b; u2 a,c; u3 a."""
    with LocalTracker(process=False, max_tps=0, rng=0, recommenders=RECOMMENDERS) as t:
        events = t.client()
        history = [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "c"), ("u3", "a")]
        for n, (user, item) in enumerate(history):
            events.put_events(
                trackingId=t.tracking_id,
                userId=user,
                sessionId=f"s-{user}",
                eventList=[{"eventId": f"h{n}", "eventType": "click", "itemId": item,
                            "sentAt": 1_700_000_000 + n}],
            )  # fmt: skip
        yield t


@pytest.fixture(scope="module")
def runtime(served: LocalTracker) -> Any:
    return served.runtime_client(parameter_validation=False, retries=NO_RETRY)


def arn(tracker: LocalTracker, name: str) -> str:
    return tracker.recommender_arns[name]


def items(answer: dict[str, Any], key: str = "itemList") -> list[str]:
    return [entry["itemId"] for entry in answer[key]]


def test_every_kind_answers_from_what_it_learnt(served: LocalTracker, runtime: Any) -> None:
    top = runtime.get_recommendations(recommenderArn=arn(served, "top"), userId="new")
    assert items(top)[0] == "a" and sorted(items(top)) == ["a", "b", "c"]
    assert sum(e["score"] for e in top["itemList"]) == pytest.approx(1.0)
    sims = runtime.get_recommendations(recommenderArn=arn(served, "sims"), itemId="b")
    assert items(sims) == ["a"]  # b was only ever seen with a
    mine = runtime.get_recommendations(campaignArn=arn(served, "mine"), userId="u1")
    assert items(mine)[0] == "c"  # a's neighbour, and u1 has seen a and b
    hot = runtime.get_recommendations(recommenderArn=arn(served, "hot"), userId="u1")
    assert items(hot)[0] == "a"
    dice = runtime.get_recommendations(recommenderArn=arn(served, "dice"), userId="u1")
    assert sorted(items(dice)) == ["a", "b", "c"]
    two = runtime.get_recommendations(recommenderArn=arn(served, "top"), userId="x", numResults=2)
    assert len(two["itemList"]) == 2


def test_personalized_ranking_puts_unknown_items_last(served: LocalTracker, runtime: Any) -> None:
    answer = runtime.get_personalized_ranking(
        campaignArn=arn(served, "mine"), userId="u3", inputList=["zz", "b", "c", "yy"]
    )
    ranked = items(answer, "personalizedRanking")
    assert set(ranked[:2]) == {"b", "c"} and ranked[2:] == ["zz", "yy"]
    assert answer["recommendationId"].startswith("RID-")


def test_personalized_ranking_of_a_cold_user_falls_back_to_trending(
    served: LocalTracker, runtime: Any
) -> None:
    """A user with no history: items someone interacted with first, by trending (as
    GetRecommendations fills up), and an item nobody ever touched last, never first."""
    answer = runtime.get_personalized_ranking(
        campaignArn=arn(served, "mine"), userId="never-seen", inputList=["zz", "b", "c", "a"]
    )
    assert items(answer, "personalizedRanking") == ["a", "c", "b", "zz"]


def test_every_answer_issues_a_fresh_id_recorded_with_issuer_and_items(
    served: LocalTracker, runtime: Any
) -> None:
    answers = [
        runtime.get_recommendations(recommenderArn=arn(served, "top"), userId="u9", numResults=2)
        for _ in range(3)
    ]
    ids = [a["recommendationId"] for a in answers]
    assert len(set(ids)) == 3 and all(len(i) <= 40 for i in ids)  # PutEvents' limit
    table = served.recommendations().set_index("RECOMMENDATION_ID")
    for answer in answers:
        row = table.loc[answer["recommendationId"]]
        assert row["RECOMMENDER_ARN"] == arn(served, "top")
        assert row["ITEMS"] == items(answer)
        assert row["USER_ID"] == "u9" and row["OPERATION"] == "GetRecommendations"


def error(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_unknown_arns_are_resource_not_found(served: LocalTracker, runtime: Any) -> None:
    unknown = arn(served, "top").replace("/top", "/nobody")
    code, status, message = error(runtime.get_recommendations, recommenderArn=unknown, userId="u")
    assert (code, status) == ("ResourceNotFoundException", 404) and unknown in message
    # a recommender's ARN is not a campaign's: GetPersonalizedRanking takes campaigns only
    code, status, _ = error(
        runtime.get_personalized_ranking, campaignArn=arn(served, "top"), userId="u",
        inputList=["a"],
    )  # fmt: skip
    assert (code, status) == ("ResourceNotFoundException", 404)
    # modelled: botocore raises the service's own exception class
    with pytest.raises(runtime.exceptions.ResourceNotFoundException):
        runtime.get_recommendations(campaignArn=unknown.replace("recommender", "campaign"),
                                    userId="u")  # fmt: skip
    code, status, _ = error(
        runtime.get_recommendations, recommenderArn=arn(served, "top"), userId="u",
        filterArn="arn:aws:personalize:us-east-1:000000000000:filter/none",
    )  # fmt: skip
    assert (code, status) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"numResults": 501}, "Member must have value less than or equal to 500"),
        (
            {"numResults": 51, "metadataColumns": {"ITEMS": ["GENRE"]}},
            "less than or equal to 50",
        ),
        ({"numResults": -1}, "Member must have value greater than or equal to 0"),
        ({"context": {"bad key": "v"}}, "Map keys must satisfy constraint: [Member must satisfy"),
        ({"context": {"DEVICE": "x" * 1001}}, "Map values must satisfy constraint: [Member must"),
        ({"context": {f"k{i}": "v" for i in range(151)}}, "less than or equal to 150"),
        ({"filterValues": {"GENRE": "x"}}, "filterValues are given without a filterArn"),
        ({"campaignArn": "arn:aws:personalize:us-east-1:0:campaign/x"}, "Exactly one of"),
        ({"userId": "u" * 257}, "Member must have length less than or equal to 256"),
        ({"recommenderArn": "not-an-arn"}, "regular expression pattern"),
    ],
)
def test_bad_input_is_invalid_input(
    served: LocalTracker, runtime: Any, changes: dict[str, Any], expected: str
) -> None:
    request = {"recommenderArn": arn(served, "top"), "userId": "u", **changes}
    code, status, message = error(runtime.get_recommendations, **request)
    assert (code, status) == ("InvalidInputException", 400)
    assert expected in message


def test_a_kind_refuses_requests_it_cannot_answer(served: LocalTracker, runtime: Any) -> None:
    code, _, message = error(runtime.get_recommendations, recommenderArn=arn(served, "sims"),
                             userId="u1")  # fmt: skip
    assert code == "InvalidInputException" and "itemId is required" in message
    code, _, message = error(
        runtime.get_personalized_ranking, campaignArn=arn(served, "mine"), userId="u",
        inputList=[f"i{n}" for n in range(501)],
    )  # fmt: skip
    assert code == "InvalidInputException" and "less than or equal to 500" in message


def test_faults_of_the_plan_reach_the_runtime_api() -> None:
    with LocalTracker(
        process=False, rng=0, error_rate=1.0, error_statuses=[503], recommenders=RECOMMENDERS
    ) as t:
        client = t.runtime_client(retries=NO_RETRY)
        code, status, _ = error(client.get_recommendations, recommenderArn=arn(t, "top"),
                                userId="u")  # fmt: skip
        assert (code, status) == ("ServiceUnavailable", 503)
        assert t.stats()["GetRecommendations5xxErrors"] == 1


def test_quota_per_recommender_is_a_token_bucket() -> None:
    clock = VirtualClock()
    config = TrackerConfig(recommenders=RECOMMENDERS, runtime_max_tps=2, rng=0)
    emulator = Emulator(config, clock=clock)

    def ask(name: str) -> str | None:
        body = orjson.dumps({"recommenderArn": config.recommender_arns[name], "userId": "u"})
        return emulator.handle("POST", "/recommendations", {}, body).error_code

    assert [ask("top"), ask("top"), ask("top")] == [None, None, "ThrottlingException"]
    assert ask("hot") is None  # a quota of its own
    clock.advance(0.5)
    assert ask("top") is None


def test_signature_checked_when_enabled() -> None:
    with LocalTracker(
        process=False, verify_signature=True, access_key_id="AK", secret_access_key="SK",
        recommenders=RECOMMENDERS,
    ) as t:  # fmt: skip
        good = t.runtime_client(retries=NO_RETRY)
        assert good.get_recommendations(recommenderArn=arn(t, "top"), userId="u")["itemList"] == []
        from personalize_sim._aws import boto3_client

        bad = boto3_client("personalize-runtime", region="us-east-1", endpoint_url=t.endpoint_url,
                           keys=("AK", "wrong"), retries=NO_RETRY)  # fmt: skip
        code, status, _ = error(bad.get_recommendations, recommenderArn=arn(t, "top"), userId="u")
        assert (code, status) == ("InvalidSignatureException", 403)


def test_issued_ids_are_credited_to_their_issuer_without_a_mapping() -> None:
    with LocalTracker(process=False, max_tps=0, rng=0, recommenders=RECOMMENDERS) as t:
        runtime, events = t.runtime_client(), t.client()
        issued = {}
        for name in ("top", "dice"):
            answer = runtime.get_recommendations(recommenderArn=arn(t, name), userId="u1")
            issued[name] = answer["recommendationId"]
        sent = [("top", "e1"), ("top", "e2"), ("dice", "e3"), (None, "e4")]
        events.put_events(
            trackingId=t.tracking_id, userId="u1", sessionId="s1",
            eventList=[
                {"eventId": eid, "eventType": "Purchase", "itemId": "a", "sentAt": 1_767_607_260,
                 **({"recommendationId": issued[name]} if name else {})}
                for name, eid in sent
            ],
        )  # fmt: skip
        frame = t.events()
    ma = MetricAttribution.from_json(
        {"metrics": [{"eventType": "Purchase", "metricName": "buys",
                      "expression": "SAMPLECOUNT()"}]}
    )  # fmt: skip
    report = attribution_report(frame, ma, now=dt.datetime(2026, 1, 6, tzinfo=dt.UTC))
    totals = report.s3().groupby("EVENT_ATTRIBUTION_SOURCE")["VALUE"].sum().to_dict()
    assert totals == {arn(t, "top"): 2.0, arn(t, "dice"): 1.0, "SOURCE_NAME_UNDEFINED": 1.0}
    assert report.counts["unmapped_recommendation_id"].sum() == 0


def test_a_cold_item_is_never_recommended_by_co_occurrence() -> None:
    with LocalTracker(process=False, max_tps=0, rng=0, recommenders=RECOMMENDERS) as t:
        dataset = "arn:aws:personalize:us-east-1:000000000000:dataset/g/ITEMS"
        t.client().put_items(datasetArn=dataset, items=[{"itemId": "cold"}, {"itemId": "a"}])
        events = t.client()
        for n in range(40):
            events.put_events(
                trackingId=t.tracking_id, userId=f"u{n % 7}", sessionId=f"s{n % 7}",
                eventList=[{"eventId": f"e{n}", "eventType": "click",
                            "itemId": "abcdefgh"[n % 8], "sentAt": 1_700_000_000 + n}],
            )  # fmt: skip
        runtime = t.runtime_client()
        shown = set()
        for item in ["cold", *"abcdefgh"]:
            answer = runtime.get_recommendations(recommenderArn=arn(t, "sims"), itemId=item,
                                                 numResults=500)  # fmt: skip
            shown.update(items(answer))
        for user in [f"u{n}" for n in range(9)]:
            answer = runtime.get_recommendations(campaignArn=arn(t, "mine"), userId=user)
            shown.update(items(answer))
        assert "cold" not in shown and shown == set("abcdefgh")
        explored = runtime.get_recommendations(recommenderArn=arn(t, "dice"), userId="u1",
                                               numResults=500)  # fmt: skip
        assert "cold" in items(explored)  # only random explores it


def test_recommenders_are_declared_once_and_checked() -> None:
    config = TrackerConfig(recommenders=["top=popularity", "campaign/me=random"])
    assert TrackerConfig.from_dict(config.to_dict()) == config
    assert config.recommender_arns["me"].endswith(":campaign/me")
    from personalize_sim.errors import ConfigError

    with pytest.raises(ConfigError, match="kind"):
        TrackerConfig(recommenders=["top=magic"])
    with pytest.raises(ConfigError, match="distinct"):
        TrackerConfig(recommenders=["a=random", "a=popularity"])


def test_a_resent_event_teaches_the_models_once() -> None:
    """A retried PutEvents (same event ids) is stored once, and learnt once."""
    with LocalTracker(process=False, max_tps=0, rng=0, recommenders=RECOMMENDERS) as t:
        events = t.client()

        def put(event_id: str, item: str) -> None:
            events.put_events(
                trackingId=t.tracking_id, sessionId="s",
                eventList=[{"eventId": event_id, "eventType": "click", "itemId": item,
                            "sentAt": 1_700_000_000}],
            )  # fmt: skip

        for _ in range(3):
            put("same", "a")
        put("b1", "b")
        put("b2", "b")
        answer = t.runtime_client().get_recommendations(recommenderArn=arn(t, "top"), userId="u")
        assert items(answer) == ["b", "a"]
        assert [e["score"] for e in answer["itemList"]] == pytest.approx([2 / 3, 1 / 3])
        assert t.stats()["duplicates"] == 2
