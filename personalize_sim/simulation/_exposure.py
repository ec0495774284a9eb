"""Exposure: slates shown in front of item choices, and what users click on them.

:class:`ExposureConfig` sets the slates and the A/B arms (:class:`ArmConfig`), each
with its recommender (see ``_recommenders``). Click models turn per-position
attractiveness into one clicked position per slate (or none):

* ``position`` (PBM): P(click at i) = examination[i] · attractiveness[i]
* ``cascade``: the user scans top-down, reaching position i with probability
  examination[i], and stops at the first attractive item:
  P(click at i) = examination[i] · attractiveness[i] · Π_{j<i} (1 − attractiveness[j])

>>> ExposureConfig(slate_size=4, examination_decay=1.0).examination_curve()
(1.0, 0.5, 0.3333333333333333, 0.25)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check, count, instance, number, one_of, probability
from ._config_checks import named_items, valid_name
from ._recommenders import RECOMMENDERS, make_slates

if TYPE_CHECKING:
    from ._catalog import Catalog, CatalogDay
    from ._funnel import SessionEvents

__all__ = [
    "CLICK_MODELS",
    "DEFAULT_ARN_PREFIX",
    "ArmConfig",
    "CommonStreams",
    "Exposure",
    "ExposureConfig",
    "click_probabilities",
    "draw_clicks",
    "expose",
]

CLICK_MODELS = ("position", "cascade")
#: prefix of the ARN-like id an arm's recommender gets when the config names none
DEFAULT_ARN_PREFIX = "arn:aws:personalize:us-east-1:000000000000:recommender/"


@dataclass(frozen=True, kw_only=True)
class ArmConfig:
    """One arm of the A/B test: a share of users and the recommender they see.

    ``recommender`` is ``none`` (no slates), ``popular``, ``random``, ``personalized``
    (``quality`` 0 = popularity, 1 = the user's true preferences), or a callable
    ``f(context) -> int array (n, k)`` of item indices (see :class:`SlateContext`).
    """

    name: str
    weight: float = 1.0
    recommender: str | Callable[..., Any] = "popular"
    quality: float = 0.8
    #: EVENT_ATTRIBUTION_SOURCE of the events this arm's slates lead to
    attribution_source: str | None = None
    #: the ARN-like id of the recommender that issues this arm's RECOMMENDATION_IDs
    #: (None: ``arn:aws:personalize:us-east-1:000000000000:recommender/<name>``)
    recommender_arn: str | None = None
    #: true causal effect: probability that a click on this arm's slate adds one event of
    #: ``lift_event_type`` (on the clicked item) that would not happen without the slate
    lift: float = 0.0
    lift_event_type: str = "Purchase"

    def __post_init__(self) -> None:
        valid_name(self.name, "name")
        number(self.weight, "weight", low=0.0, strict=True)
        check(
            callable(self.recommender) or self.recommender in RECOMMENDERS,
            "recommender",
            self.recommender,
            f"one of {', '.join(RECOMMENDERS)}, or a callable",
        )
        probability(self.quality, "quality")
        if self.attribution_source is not None:
            from .. import limits  # botocore's model: loaded on first use, never on import

            rule = limits.operation_limits("PutEvents").field(
                "eventList[].metricAttribution.eventAttributionSource"
            )
            ok = isinstance(self.attribution_source, str) and bool(
                rule.regex and rule.regex.match(self.attribution_source)
            )
            ok = ok and (rule.max is None or len(self.attribution_source) <= rule.max)
            check(
                ok,
                "attribution_source",
                self.attribution_source,
                f"printable ASCII of at most {rule.max} characters (pattern {rule.pattern})",
            )
        self._check_identity()

    def _check_identity(self) -> None:
        probability(self.lift, "lift")
        valid_name(self.lift_event_type, "lift_event_type")
        if self.recommender_arn is not None:
            from .. import limits

            # the runtime API's recommenderArn shape (GetRecommendations): pattern and length
            rule = limits.operation_limits("GetRecommendations", "personalize-runtime").field(
                "recommenderArn"
            )
            ok = isinstance(self.recommender_arn, str) and bool(
                rule.regex and rule.regex.match(self.recommender_arn)
            )
            ok = ok and (rule.max is None or len(self.recommender_arn) <= rule.max)
            check(
                ok,
                "recommender_arn",
                self.recommender_arn,
                f"an ARN of at most {rule.max} characters matching {rule.pattern}",
            )

    @property
    def arn(self) -> str:
        """The recommender's ARN-like id (``recommender_arn`` or one derived from the name)."""
        if self.recommender_arn is not None:
            return self.recommender_arn
        return f"{DEFAULT_ARN_PREFIX}{self.name}"


def _default_arms() -> tuple[ArmConfig, ...]:
    return (
        ArmConfig(name="popular", weight=0.5, recommender="popular", attribution_source="popular"),
        ArmConfig(
            name="personalized",
            weight=0.5,
            recommender="personalized",
            attribution_source="recommended-for-you",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class ExposureConfig:
    """Slates of recommendations, how users examine and click them, and the A/B arms."""

    #: items per slate (at most the PutEvents impression limit and the catalog size)
    slate_size: int = 10
    #: probability that a ``new_item`` event happens in front of a slate
    slate_probability: float = 0.5
    #: ``position`` (P(click i) = examination[i] · attractiveness) or ``cascade`` (top-down)
    click_model: str = "position"
    #: probability of examining each position; default ``1 / (1 + i) ** examination_decay``
    examination: tuple[float, ...] | None = None
    examination_decay: float = 1.0
    #: attractiveness of an item = click_scale × the user's relative affinity for it
    click_scale: float = 0.25
    #: organic choices a user makes over the horizon that decides whether a clicked item
    #: "would have been found anyway": P = 1 - exp(-organic_horizon · P_organic(item))
    organic_horizon: float = 50.0
    #: built on use (default_factory): arms check their attribution source against
    #: botocore's model, which importing the package must not load
    arms: tuple[ArmConfig, ...] = field(default_factory=_default_arms)
    #: draw exposure (slates, clicks) from streams of its own, one per arm for slates, so
    #: runs that differ only in a recommender share users, arrivals and organic choices
    #: (common random numbers, for counterfactual runs); off keeps the historic draws
    common_random_numbers: bool = False

    def __post_init__(self) -> None:
        instance(self.common_random_numbers, "common_random_numbers", bool, "true or false")
        self._check_slates()
        one_of(self.click_model, "click_model", CLICK_MODELS)
        number(self.examination_decay, "examination_decay", low=0.0)
        if self.examination is not None:
            exam = tuple(
                probability(v, f"examination[{i}]") for i, v in enumerate(self.examination)
            )
            check(
                len(exam) >= self.slate_size,
                "examination",
                list(exam),
                f"one probability per slate position ({self.slate_size})",
            )
            object.__setattr__(self, "examination", exam)
        probability(self.click_scale, "click_scale")
        number(self.organic_horizon, "organic_horizon", low=0.0)
        if self.click_model == "position":
            # one click per slate: the position probabilities must leave room for "no click"
            total = self.click_scale * math.fsum(self.examination_curve())
            check(
                total <= 1.0 + 1e-12,
                "click_scale",
                self.click_scale,
                f"at most {1 / math.fsum(self.examination_curve()):.4g} with the position model "
                f"and this examination curve (the slate's click probabilities sum to {total:.3g})",
            )
        named_items(self.arms, "arms", "arm")

    def _check_slates(self) -> None:
        from .. import limits

        most = limits.operation_limits("PutEvents").field("eventList[].impression").max
        count(self.slate_size, "slate_size", low=1)
        check(
            most is None or self.slate_size <= most,
            "slate_size",
            self.slate_size,
            f"at most {most} items (the PutEvents impression limit)",
        )
        probability(self.slate_probability, "slate_probability")

    def examination_curve(self) -> tuple[float, ...]:
        """Examination probability of each slate position, top first."""
        if self.examination is not None:
            return tuple(self.examination[: self.slate_size])
        return tuple(1.0 / (1 + i) ** self.examination_decay for i in range(self.slate_size))

    @property
    def arm_shares(self) -> tuple[float, ...]:
        total = math.fsum(a.weight for a in self.arms)
        return tuple(a.weight / total for a in self.arms)


def click_probabilities(model: str, examination: np.ndarray, attract: np.ndarray) -> np.ndarray:
    """P(the click lands on position i) for each slate row; rows sum to at most 1."""
    if model == "position":
        return examination[None, :] * attract
    skipped = np.cumprod(1.0 - attract, axis=1)
    reach_unclicked = np.concatenate([np.ones((len(attract), 1)), skipped[:, :-1]], axis=1)
    return examination[None, :] * attract * reach_unclicked


def draw_clicks(probs: np.ndarray, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Clicked position for each uniform in ``u``; -1 when the slate was ignored.

    ``rows`` maps each draw to its row of ``probs`` (several showings of one slate);
    by default draw i uses row i.
    """
    cum = np.cumsum(probs, axis=1)
    if rows is None:
        rows = np.arange(len(probs))
    # most showings end without a click: settle those on the row total first
    hit = np.flatnonzero(u < cum[rows, -1])
    out = np.full(len(u), -1, dtype=np.int64)
    out[hit] = (u[hit, None] >= cum[rows[hit]]).sum(axis=1)
    return out


@dataclass(frozen=True, eq=False)
class Exposure:
    """What the slates of a block did, per event (before follow-on events inherit it)."""

    slates: np.ndarray  # (showings, k) int32: the slate of each event that faced one
    slate_row: np.ndarray  # int32 per event: its row in ``slates`` (-1: no slate)
    clicked: np.ndarray  # event index of each click
    clicked_items: np.ndarray  # the item each click chose
    position: np.ndarray  # int8 per event: the clicked position (-1: organic)
    rec_step: np.ndarray  # int16 per event: the step of the click (-1: organic)
    would_have: np.ndarray  # bool per event: would have happened without the slate


def expose(
    config: ExposureConfig,
    *,
    picks: np.ndarray,
    events: SessionEvents,
    user: np.ndarray,
    persona: np.ndarray,
    arm: np.ndarray,
    ts: np.ndarray,
    catalog: Catalog,
    day: CatalogDay,
    rng: np.random.Generator,
    streams: CommonStreams | None = None,
) -> Exposure:
    """Slates in front of item-picking events (``picks``), and the clicks on them.

    ``user``, ``persona``, ``arm`` and ``ts`` are per event. A session keeps the slate
    it was first shown (as a page keeps its row of picks), so recommenders fill one
    slate per session; click probabilities depend on the user and the slate only.
    With ``streams`` (common random numbers) every uniform is drawn per pick from the
    exposure's own streams, and each arm's recommender draws from its arm's stream.
    """
    draws = None if streams is None else streams.shared.random((3, len(picks)))
    at = _facing_slates(config, picks, arm, rng, None if draws is None else draws[0])
    at_pick = np.searchsorted(picks, at)  # each showing's place among the picks
    at_session = events.session[at]
    opens = np.ones(len(at), dtype=bool)
    opens[1:] = at_session[1:] != at_session[:-1]
    heads = at[opens]
    per_session = np.empty((len(heads), config.slate_size), dtype=np.int32)
    for a, spec in enumerate(config.arms):
        rows = np.flatnonzero(arm[heads] == a)
        if len(rows) and spec.recommender != "none":
            per_session[rows] = make_slates(
                spec.recommender,
                quality=spec.quality,
                k=config.slate_size,
                users=user[heads[rows]],
                personas=persona[heads[rows]],
                timestamps=ts[heads[rows]],
                catalog=catalog,
                day=day,
                rng=rng if streams is None else streams.arm(a),
                field=f"exposure.arms[{a}].recommender",
            )
    slate_of = np.cumsum(opens) - 1
    u_click = rng.random(len(slate_of)) if draws is None else draws[1][at_pick]
    clicks = _clicks(config, per_session, slate_of, persona[heads], catalog, u_click)
    u_would = None if draws is None else draws[2][at_pick]
    return _per_event(config, at, per_session[slate_of], clicks, events, persona, day, rng, u_would)


@dataclass(frozen=True, eq=False)
class CommonStreams:
    """The exposure's own random streams in a common-random-numbers run."""

    shared: np.random.Generator  # facing, click and would-have uniforms: one per pick
    arm: Callable[[int], np.random.Generator]  # arm a's recommender draws from arm(a)


def _facing_slates(
    config: ExposureConfig,
    picks: np.ndarray,
    arm: np.ndarray,
    rng: np.random.Generator,
    u: np.ndarray | None = None,
) -> np.ndarray:
    """The picks made in front of a slate: a share of those whose arm recommends."""
    recommends = np.array([a.recommender != "none" for a in config.arms])
    u = rng.random(len(picks)) if u is None else u
    shown = recommends[arm[picks]] & (u < config.slate_probability)
    return picks[shown]


def _clicks(
    config: ExposureConfig,
    per_session: np.ndarray,
    slate_of: np.ndarray,
    persona: np.ndarray,
    catalog: Catalog,
    u: np.ndarray,
) -> np.ndarray:
    """Clicked position of each showing (-1: none); ``persona`` is per session slate;
    ``u`` holds one uniform per showing."""
    exam = np.asarray(config.examination_curve())
    relevance_of = catalog.relevance[persona]  # (sessions, categories)
    attract = config.click_scale * np.take_along_axis(
        relevance_of, catalog.category[per_session].astype(np.int64), axis=1
    )
    probs = click_probabilities(config.click_model, exam, attract)
    return draw_clicks(probs, u, rows=slate_of)


def _per_event(
    config: ExposureConfig,
    at: np.ndarray,
    slates: np.ndarray,
    clicks: np.ndarray,
    events: SessionEvents,
    persona: np.ndarray,
    day: CatalogDay,
    rng: np.random.Generator,
    u_would: np.ndarray | None = None,
) -> Exposure:
    """Per-event columns of the showings ``at``; draws whether each click would have
    happened anyway: P = 1 - exp(-organic_horizon · P_organic(item)) (from ``u_would``,
    one uniform per showing, when given)."""
    n = len(events.step)
    clicked = clicks >= 0
    hit = at[clicked]
    items = slates[clicked, clicks[clicked]]
    position = np.full(n, -1, dtype=np.int8)
    position[hit] = clicks[clicked]
    rec_step = np.full(n, -1, dtype=np.int16)
    rec_step[hit] = events.step[hit]
    would_have = np.ones(n, dtype=bool)
    p_organic = day.pdf[persona[hit], items]
    u = rng.random(len(hit)) if u_would is None else u_would[clicked]
    would_have[hit] = u < -np.expm1(-config.organic_horizon * p_organic)
    slate_row = np.full(n, -1, dtype=np.int32)
    slate_row[at] = np.arange(len(at))
    return Exposure(
        slates=slates,
        slate_row=slate_row,
        clicked=hit,
        clicked_items=items,
        position=position,
        rec_step=rec_step,
        would_have=would_have,
    )
