"""Restarting the emulator on the store of an earlier run: ids never collide, models relearnt.

As a user meets it: ``personalize-sim serve --seed N`` in a subprocess, stopped and started
again on the same ``--db``, with boto3 clients.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config

from personalize_sim.tracker import LocalTracker, TrackerConfig
from personalize_sim.tracker._server import fetch_stats

from ..cli.test_serve import SCRIPT, client_for
from .conftest import event, request

TOP = TrackerConfig(recommenders=["top=popularity"]).recommender_arns["top"]


@contextmanager
def serving(
    db: Path, *extra: str, out: list[str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``serve --seed 7`` on ``db``; its URL; stopped with SIGTERM at the end, when the rest
    of its stdout goes to ``out``."""
    args = ["serve", "--seed", "7", "--max-tps", "0", "--db", str(db), "--recommender",
            "top=popularity", *extra]  # fmt: skip
    process = subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = process.stdout.readline().decode()  # type: ignore[union-attr]
        assert line.startswith("listening on "), process.communicate(timeout=30)
        yield line.split()[-1], process
    finally:
        process.send_signal(signal.SIGTERM)
        rest = process.stdout.read()  # type: ignore[union-attr]  # its buffer holds lines too
        process.communicate(timeout=30)
    assert process.returncode == 0
    if out is not None:
        out += rest.decode().splitlines()


def runtime_for(url: str):
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(
        "personalize-runtime", endpoint_url=url, config=Config(retries={"total_max_attempts": 1})
    )


def top_items(url: str) -> tuple[list[str], str]:
    answer = runtime_for(url).get_recommendations(recommenderArn=TOP, userId="anyone")
    return [entry["itemId"] for entry in answer["itemList"]], answer["recommendationId"]


def test_a_restarted_seeded_emulator_issues_new_ids_and_answers_from_the_store(tmp_path):
    db = tmp_path / "events.db"
    history = [event(0, itemId="a"), event(1, itemId="a"), event(2, itemId="b")]
    with serving(db) as (url, _):
        client_for(url).put_events(**request(history))
        first, first_id = top_items(url)
    assert first == ["a", "b"]
    with serving(db) as (url, _):
        again, again_id = top_items(url)  # was: 400 UNIQUE constraint failed, and then []
        # an event without an id gets one made up from the request id: stored, not a duplicate
        client_for(url).put_events(**request([event(3, eventId=None, itemId="c")]))
        client_for(url).put_events(**request([event(4, eventId=None, itemId="c")]))
    assert again == ["a", "b"] and again_id != first_id
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM recommendations").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM events WHERE item_id = 'c'").fetchone() == (2,)


def test_ids_after_a_restart_replay_for_the_same_seed_and_store(tmp_path):
    """Two copies of one store, each restarted with the same seed: the same ids."""
    first = tmp_path / "first.db"
    with LocalTracker(process=False, db_path=first, rng=7, recommenders=["top=popularity"]) as t:
        t.client().put_events(**request([event(0, itemId="a")], trackingId=t.tracking_id))
        fresh_ids = [top_items(t.endpoint_url)[1] for _ in range(2)]
    copy = tmp_path / "copy.db"
    shutil.copy(first, copy)
    answers = []
    for db in (first, copy):
        with LocalTracker(process=False, db_path=db, rng=7, recommenders=["top=popularity"]) as t:
            answers.append([top_items(t.endpoint_url) for _ in range(2)])
    assert answers[0] == answers[1]
    assert not {rec_id for _, rec_id in answers[0]} & set(fresh_ids)
    assert all(items == ["a"] for items, _ in answers[0])


def test_serve_says_how_long_relearning_the_store_took(tmp_path):
    db = tmp_path / "events.db"
    with serving(db) as (url, _):
        client_for(url).put_events(**request([event(n, itemId=f"i{n % 3}") for n in range(9)]))
    lines: list[str] = []
    with serving(db, out=lines):
        pass
    assert lines[0] == "tracking id: local-tracker (any tracking id is accepted)"
    assert lines[1] == f"recommender top (popularity): {TOP}"
    assert lines[2].startswith("models relearnt from 9 stored events in ")


def test_stats_name_the_tracking_id_and_the_recommenders_arns():
    """A client that did not start the emulator reads what to call from GET /stats."""
    kinds = ["top=popularity", "campaign/me=user-personalization"]
    with LocalTracker(process=False, tracking_ids=["a", "b"], recommenders=kinds) as t:
        stats = fetch_stats(t.endpoint_url)
    assert (stats["tracking_id"], stats["tracking_ids"]) == ("a", ["a", "b"])
    assert stats["recommender_arns"] == {
        "top": TOP,
        "me": TOP.replace("recommender/top", "campaign/me"),
    }


def test_filters_read_the_stored_data_after_a_restart(tmp_path):
    """What a filter reads (interactions, PutItems records) is relearnt from the store."""
    db = tmp_path / "events.db"
    bought = 'unbought=EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    config = TrackerConfig(filters=[bought, 'red=INCLUDE ItemID WHERE Items.COLOR IN ("red")'])
    with serving(db, "--filter", config.filters[0], "--filter", config.filters[1]) as (url, _):
        events = client_for(url)
        for n, item in enumerate(["a", "b", "b"]):
            kind = "Purchase" if n == 0 else "View"
            events.put_events(**request([event(n, itemId=item, eventType=kind)], userId="u1"))
        events.put_items(datasetArn="arn:aws:personalize:us-east-1:0:dataset/g/ITEMS",
                         items=[{"itemId": "a", "properties": '{"color": "red"}'}])  # fmt: skip
    with serving(db, "--filter", config.filters[0], "--filter", config.filters[1]) as (url, _):
        runtime = runtime_for(url)

        def shown(name: str) -> list[str]:
            answer = runtime.get_recommendations(
                recommenderArn=TOP, userId="u1", filterArn=config.filter_arns[name]
            )
            return [entry["itemId"] for entry in answer["itemList"]]

        assert shown("unbought") == ["b"] and shown("red") == ["a"]
