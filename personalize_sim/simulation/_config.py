"""Simulation configuration: small frozen dataclasses, YAML in and out, presets.

Every value is checked when the object is built; a bad one raises
:class:`~personalize_sim.errors.ConfigError` naming the field (as a path such as
``funnel.transitions.View``), the value and what is allowed.

>>> cfg = SimulationConfig.preset("retail").replace(users=500, days=2)
>>> cfg.population.users, cfg.time.days
(500, 2.0)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..schema import EVENT_COLUMNS

__all__ = [
    "EXIT",
    "ArmConfig",
    "CatalogConfig",
    "CategoryConfig",
    "EventTypeConfig",
    "ExposureConfig",
    "FunnelConfig",
    "GapConfig",
    "PersonaConfig",
    "PopulationConfig",
    "PropertyConfig",
    "SimulationConfig",
    "TimeConfig",
    "preset_names",
]

#: the pseudo event type that ends a session in ``FunnelConfig.transitions``
EXIT = "exit"
#: how far a probability vector may be from summing to one (YAML floats are decimal)
_SUM_TOLERANCE = 1e-6
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
_NAME = re.compile(r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$")
#: frame columns a property column may not shadow
_RESERVED_COLUMNS = frozenset(EVENT_COLUMNS)
VALUE_KINDS = ("none", "price", "rating", "watch_time")
RECOMMENDERS = ("none", "popular", "random", "personalized")
CLICK_MODELS = ("position", "cascade")
GAP_DISTRIBUTIONS = ("lognormal", "exponential", "uniform")


# ------------------------------------------------------------------------------------------
# small validation helpers


def _check(ok: bool, field_name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(field_name, value, allowed)


def _number(value: Any, field_name: str, *, low: float = -math.inf, strict: bool = False) -> float:
    """A finite real number ≥ low (> low when strict); bools are not numbers here."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value > low if strict else value >= low
    bound = "" if low == -math.inf else f" {'>' if strict else '>='} {low:g}"
    _check(ok, field_name, value, f"a finite number{bound}")
    return float(value)


def _probability(value: Any, field_name: str) -> float:
    p = _number(value, field_name, low=0.0)
    _check(p <= 1.0, field_name, value, "a probability between 0 and 1")
    return p


def _count(value: Any, field_name: str, *, low: int = 0) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    _check(ok, field_name, value, f"an integer >= {low}")
    return int(value)


def _distribution(values: Iterable[Any], field_name: str) -> tuple[float, ...]:
    """Non-negative weights that sum to one (within rounding of decimal YAML)."""
    probs = tuple(_number(v, f"{field_name}[{i}]", low=0.0) for i, v in enumerate(values))
    total = math.fsum(probs)
    _check(
        abs(total - 1.0) <= _SUM_TOLERANCE,
        field_name,
        list(probs),
        f"probabilities that sum to 1 (these sum to {total:.6g})",
    )
    return probs


def _name(value: Any, field_name: str) -> str:
    ok = isinstance(value, str) and bool(_NAME.match(value)) and len(value) <= 256
    _check(ok, field_name, value, "a non-empty printable ASCII name of at most 256 characters")
    return value


def _profile(values: Any, field_name: str, length: int) -> tuple[float, ...]:
    ok = isinstance(values, list | tuple) and len(values) == length
    _check(ok, field_name, values, f"a list of {length} non-negative numbers")
    profile = tuple(_number(v, f"{field_name}[{i}]", low=0.0) for i, v in enumerate(values))
    _check(sum(profile) > 0, field_name, values, "at least one positive number")
    return profile


def _prefixed(prefix: str, build: Callable[[], Any]) -> Any:
    """Build a nested config, re-raising its ConfigError with the full field path."""
    try:
        return build()
    except ConfigError as error:
        raise ConfigError(f"{prefix}.{error.field}", error.value, error.allowed) from None


# ------------------------------------------------------------------------------------------
# catalog


@dataclass(frozen=True, kw_only=True)
class CategoryConfig:
    """One item category: its share of the catalog, prices and (for video) durations."""

    name: str
    weight: float = 1.0
    #: median price; prices are log-normal around it (0 for free content)
    price_median: float = 20.0
    price_sigma: float = 0.5
    #: median length in seconds (video); 0 when items have no duration
    duration_median: float = 0.0
    duration_sigma: float = 0.4

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _number(self.weight, "weight", low=0.0, strict=True)
        _number(self.price_median, "price_median", low=0.0)
        _number(self.price_sigma, "price_sigma", low=0.0)
        _number(self.duration_median, "duration_median", low=0.0)
        _number(self.duration_sigma, "duration_sigma", low=0.0)


@dataclass(frozen=True, kw_only=True)
class CatalogConfig:
    """Items: categories, Zipf popularity, new arrivals and popularity drift."""

    items: int = 5_000
    categories: tuple[CategoryConfig, ...] = (
        CategoryConfig(name="electronics", price_median=120.0, price_sigma=0.8),
        CategoryConfig(name="books", price_median=15.0, price_sigma=0.4),
        CategoryConfig(name="clothing", price_median=35.0, price_sigma=0.5),
        CategoryConfig(name="home", price_median=45.0, price_sigma=0.7),
    )
    #: item popularity ∝ rank ** -zipf_exponent
    zipf_exponent: float = 1.0
    #: share of items released during the window (they cannot be seen before release)
    new_item_share: float = 0.0
    #: standard deviation of the daily random walk of each item's log popularity
    drift_sigma: float = 0.0

    def __post_init__(self) -> None:
        _count(self.items, "items", low=1)
        _check(
            isinstance(self.categories, tuple) and len(self.categories) > 0,
            "categories",
            self.categories,
            "at least one category",
        )
        names = [c.name for c in self.categories]
        _check(len(set(names)) == len(names), "categories", names, "unique category names")
        _number(self.zipf_exponent, "zipf_exponent", low=0.0)
        _check(self.new_item_share < 1, "new_item_share", self.new_item_share, "a share < 1")
        _probability(self.new_item_share, "new_item_share")
        _number(self.drift_sigma, "drift_sigma", low=0.0)

    @property
    def initial_items(self) -> int:
        """Items on sale from the start of the window."""
        return self.items - round(self.items * self.new_item_share)


# ------------------------------------------------------------------------------------------
# population


@dataclass(frozen=True, kw_only=True)
class PersonaConfig:
    """A kind of user: its share of users and its affinity for each category."""

    name: str
    weight: float = 1.0
    #: category name -> affinity; categories not listed get ``PopulationConfig.base_affinity``
    affinities: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _number(self.weight, "weight", low=0.0, strict=True)
        _check(isinstance(self.affinities, Mapping), "affinities", self.affinities, "a mapping")
        for category, value in self.affinities.items():
            _number(value, f"affinities.{category}", low=0.0)
        object.__setattr__(self, "affinities", dict(self.affinities))


@dataclass(frozen=True, kw_only=True)
class PopulationConfig:
    """Users: personas, heavy-tailed activity, new users, anonymous sessions and logins."""

    users: int = 1_000
    personas: tuple[PersonaConfig, ...] = (PersonaConfig(name="everyone"),)
    #: affinity of a persona for a category it does not list
    base_affinity: float = 0.1
    #: sigma of the log-normal per-user activity weights (0 = everyone equally active)
    activity_sigma: float = 1.0
    #: share of users whose first visit falls inside the window
    new_user_share: float = 0.1
    #: share of sessions that start anonymous (no USER_ID)
    anonymous_share: float = 0.2
    #: share of anonymous sessions (of at least two events) in which the user logs in midway
    login_share: float = 0.3

    def __post_init__(self) -> None:
        _count(self.users, "users", low=1)
        _check(
            isinstance(self.personas, tuple) and len(self.personas) > 0,
            "personas",
            self.personas,
            "at least one persona",
        )
        names = [p.name for p in self.personas]
        _check(len(set(names)) == len(names), "personas", names, "unique persona names")
        _number(self.base_affinity, "base_affinity", low=0.0)
        _number(self.activity_sigma, "activity_sigma", low=0.0)
        _probability(self.new_user_share, "new_user_share")
        _probability(self.anonymous_share, "anonymous_share")
        _probability(self.login_share, "login_share")

    @property
    def persona_shares(self) -> tuple[float, ...]:
        total = math.fsum(p.weight for p in self.personas)
        return tuple(p.weight / total for p in self.personas)


# ------------------------------------------------------------------------------------------
# time


@dataclass(frozen=True, kw_only=True)
class GapConfig:
    """Seconds between two events of a session.

    ``lognormal`` uses ``median`` and ``sigma``; ``exponential`` uses ``mean``;
    ``uniform`` uses ``low`` and ``high`` (the Retail Demo Store draws 30–600 s).
    """

    distribution: str = "lognormal"
    median: float = 40.0
    sigma: float = 1.0
    mean: float = 60.0
    low: float = 30.0
    high: float = 600.0

    def __post_init__(self) -> None:
        _check(
            self.distribution in GAP_DISTRIBUTIONS,
            "distribution",
            self.distribution,
            f"one of {', '.join(GAP_DISTRIBUTIONS)}",
        )
        _number(self.median, "median", low=0.0, strict=True)
        _number(self.sigma, "sigma", low=0.0)
        _number(self.mean, "mean", low=0.0, strict=True)
        _number(self.low, "low", low=0.0)
        _number(self.high, "high", low=0.0)
        _check(self.high >= self.low, "high", self.high, f"a number >= low ({self.low:g})")


#: share of sessions starting in each local hour (peaks at lunch and in the evening)
DEFAULT_HOURLY = (
    0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.4, 0.7, 1.0, 1.1, 1.2, 1.3,
    1.5, 1.4, 1.2, 1.1, 1.1, 1.2, 1.5, 1.8, 2.0, 1.8, 1.2, 0.6,
)  # fmt: skip
#: Monday .. Sunday
DEFAULT_WEEKLY = (1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.2)


@dataclass(frozen=True, kw_only=True)
class TimeConfig:
    """When sessions arrive: a window, a time zone, daily and weekly profiles."""

    #: window length in days
    days: float = 7.0
    #: window start (tz-aware, or naive read as UTC); None means the window ends now
    start: dt.datetime | None = None
    timezone: str = "UTC"
    #: mean sessions per user per day, averaged over the profiles
    sessions_per_user_per_day: float = 0.5
    hourly_profile: tuple[float, ...] = DEFAULT_HOURLY
    weekly_profile: tuple[float, ...] = DEFAULT_WEEKLY
    gap: GapConfig = field(default_factory=GapConfig)

    def __post_init__(self) -> None:
        _number(self.days, "days", low=0.0, strict=True)
        object.__setattr__(self, "days", float(self.days))
        if isinstance(self.start, str):
            try:
                object.__setattr__(self, "start", dt.datetime.fromisoformat(self.start))
            except ValueError:
                raise ConfigError(
                    "start", self.start, "an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z"
                ) from None
        if isinstance(self.start, dt.date) and not isinstance(self.start, dt.datetime):
            start = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.timezone.utc)
            object.__setattr__(self, "start", start)
        _check(
            self.start is None or isinstance(self.start, dt.datetime),
            "start",
            self.start,
            "a datetime, an ISO 8601 string or None (window ending now)",
        )
        if self.start is not None and self.start.tzinfo is None:
            object.__setattr__(self, "start", self.start.replace(tzinfo=dt.timezone.utc))
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ConfigError(
                "timezone", self.timezone, "an IANA time zone name, e.g. Europe/Paris"
            ) from None
        _number(self.sessions_per_user_per_day, "sessions_per_user_per_day", low=0.0)
        object.__setattr__(
            self, "hourly_profile", _profile(self.hourly_profile, "hourly_profile", 24)
        )
        object.__setattr__(
            self, "weekly_profile", _profile(self.weekly_profile, "weekly_profile", 7)
        )


# ------------------------------------------------------------------------------------------
# funnel


@dataclass(frozen=True, kw_only=True)
class EventTypeConfig:
    """One event type of the funnel.

    ``new_item`` types pick an item (organically or from a slate); the others act on the
    item of the session's previous ``new_item`` event (add it to the cart, buy it, rate it).
    ``value`` says what ``EVENT_VALUE`` holds: ``none`` (NaN), ``price``, ``rating`` (1–5)
    or ``watch_time`` (seconds).
    """

    name: str
    new_item: bool = False
    value: str = "none"

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _check(self.name != EXIT, "name", self.name, f"any name but {EXIT!r} (it ends a session)")
        _check(isinstance(self.new_item, bool), "new_item", self.new_item, "true or false")
        _check(self.value in VALUE_KINDS, "value", self.value, f"one of {', '.join(VALUE_KINDS)}")


@dataclass(frozen=True, kw_only=True)
class FunnelConfig:
    """A Markov chain over event types; ``exit`` ends the session."""

    event_types: tuple[EventTypeConfig, ...] = (
        EventTypeConfig(name="View", new_item=True),
        EventTypeConfig(name="AddToCart"),
        EventTypeConfig(name="Purchase", value="price"),
    )
    #: first event type of a session -> probability (only ``new_item`` types)
    start: Mapping[str, float] = field(default_factory=lambda: {"View": 1.0})
    #: event type -> {next event type or "exit" -> probability}
    transitions: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {
            "View": {"View": 0.6, "AddToCart": 0.1, EXIT: 0.3},
            "AddToCart": {"View": 0.3, "Purchase": 0.4, EXIT: 0.3},
            "Purchase": {"View": 0.3, EXIT: 0.7},
        }
    )
    #: sessions are cut after this many events
    max_events: int = 200

    def __post_init__(self) -> None:
        _check(
            isinstance(self.event_types, tuple) and len(self.event_types) > 0,
            "event_types",
            self.event_types,
            "at least one event type",
        )
        names = [e.name for e in self.event_types]
        _check(len(set(names)) == len(names), "event_types", names, "unique event type names")
        known = ", ".join(names)
        by_name = {e.name: e for e in self.event_types}
        _check(isinstance(self.start, Mapping), "start", self.start, "a mapping")
        for name in self.start:
            _check(name in by_name, f"start.{name}", name, f"one of the event types: {known}")
            _check(
                by_name[name].new_item,
                f"start.{name}",
                name,
                "a new_item event type (a session's first event must pick an item)",
            )
        _distribution(self.start.values(), "start")
        _check(isinstance(self.transitions, Mapping), "transitions", self.transitions, "a mapping")
        for name in self.transitions:
            _check(name in by_name, f"transitions.{name}", name, f"one of the event types: {known}")
        for name in names:
            row = self.transitions.get(name)
            _check(
                isinstance(row, Mapping),
                f"transitions.{name}",
                row,
                f"a mapping from next event type (or {EXIT!r}) to probability",
            )
            assert isinstance(row, Mapping)
            for target in row:
                _check(
                    target in by_name or target == EXIT,
                    f"transitions.{name}.{target}",
                    target,
                    f"one of the event types or {EXIT!r}: {known}, {EXIT}",
                )
            _distribution(row.values(), f"transitions.{name}")
        _count(self.max_events, "max_events", low=1)
        object.__setattr__(self, "start", dict(self.start))
        object.__setattr__(self, "transitions", {k: dict(v) for k, v in self.transitions.items()})
        # every event type must be able to reach the exit, or sessions only end at max_events
        try:
            self.expected_visits()
        except ArithmeticError:
            raise ConfigError(
                "transitions", dict(self.transitions), f"{EXIT!r} reachable from every event type"
            ) from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.event_types)

    def matrix(self) -> tuple[list[float], list[list[float]], list[float]]:
        """(start vector, transition matrix between event types, exit vector), in type order."""
        names = self.names
        start = [float(self.start.get(n, 0.0)) for n in names]
        matrix = [[float(self.transitions[a].get(b, 0.0)) for b in names] for a in names]
        exits = [float(self.transitions[a].get(EXIT, 0.0)) for a in names]
        return start, matrix, exits

    def expected_visits(self) -> list[float]:
        """Expected number of events of each type per session (ignoring ``max_events``)."""
        import numpy as np

        start, matrix, _ = self.matrix()
        q = np.asarray(matrix)
        system = np.eye(len(start)) - q.T
        if abs(np.linalg.det(system)) < 1e-12:
            raise ArithmeticError("the exit is unreachable")
        visits = np.linalg.solve(system, np.asarray(start))
        if not np.all(np.isfinite(visits)) or np.any(visits < -1e-9):
            raise ArithmeticError("the exit is unreachable")
        return [float(v) for v in visits]


# ------------------------------------------------------------------------------------------
# exposure


@dataclass(frozen=True, kw_only=True)
class ArmConfig:
    """One arm of the A/B test: a share of users and the recommender they see.

    ``recommender`` is ``none`` (no slates), ``popular``, ``random``, ``personalized``
    (``quality`` 0 = popularity, 1 = the user's true preferences), or a callable
    ``f(context) -> int array (n, k)`` of item indices (see ``exposure.SlateContext``).
    """

    name: str
    weight: float = 1.0
    recommender: str | Callable[..., Any] = "popular"
    quality: float = 0.8
    #: EVENT_ATTRIBUTION_SOURCE of the events this arm's slates lead to
    attribution_source: str | None = None

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _number(self.weight, "weight", low=0.0, strict=True)
        _check(
            callable(self.recommender) or self.recommender in RECOMMENDERS,
            "recommender",
            self.recommender,
            f"one of {', '.join(RECOMMENDERS)}, or a callable",
        )
        _probability(self.quality, "quality")
        if self.attribution_source is not None:
            from .. import limits

            rule = limits.put_events().field("eventList[].metricAttribution.eventAttributionSource")
            ok = isinstance(self.attribution_source, str) and bool(
                rule.regex and rule.regex.match(self.attribution_source)
            )
            ok = ok and (rule.max is None or len(self.attribution_source) <= rule.max)
            _check(
                ok,
                "attribution_source",
                self.attribution_source,
                f"printable ASCII of at most {rule.max} characters (pattern {rule.pattern})",
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
    arms: tuple[ArmConfig, ...] = (
        ArmConfig(name="popular", weight=0.5, recommender="popular", attribution_source="popular"),
        ArmConfig(
            name="personalized",
            weight=0.5,
            recommender="personalized",
            attribution_source="recommended-for-you",
        ),
    )

    def __post_init__(self) -> None:
        from .. import limits

        most = limits.put_events().field("eventList[].impression").max
        _count(self.slate_size, "slate_size", low=1)
        _check(
            most is None or self.slate_size <= most,
            "slate_size",
            self.slate_size,
            f"at most {most} items (the PutEvents impression limit)",
        )
        _probability(self.slate_probability, "slate_probability")
        _check(
            self.click_model in CLICK_MODELS,
            "click_model",
            self.click_model,
            f"one of {', '.join(CLICK_MODELS)}",
        )
        _number(self.examination_decay, "examination_decay", low=0.0)
        if self.examination is not None:
            exam = tuple(
                _probability(v, f"examination[{i}]") for i, v in enumerate(self.examination)
            )
            _check(
                len(exam) >= self.slate_size,
                "examination",
                list(exam),
                f"one probability per slate position ({self.slate_size})",
            )
            object.__setattr__(self, "examination", exam)
        _probability(self.click_scale, "click_scale")
        _number(self.organic_horizon, "organic_horizon", low=0.0)
        if self.click_model == "position":
            # one click per slate: the position probabilities must leave room for "no click"
            total = self.click_scale * math.fsum(self.examination_curve())
            _check(
                total <= 1.0 + 1e-12,
                "click_scale",
                self.click_scale,
                f"at most {1 / math.fsum(self.examination_curve()):.4g} with the position model "
                f"and this examination curve (the slate's click probabilities sum to {total:.3g})",
            )
        _check(
            isinstance(self.arms, tuple) and len(self.arms) > 0,
            "arms",
            self.arms,
            "at least one arm",
        )
        names = [a.name for a in self.arms]
        _check(len(set(names)) == len(names), "arms", names, "unique arm names")

    def examination_curve(self) -> tuple[float, ...]:
        """Examination probability of each slate position, top first."""
        if self.examination is not None:
            return tuple(self.examination[: self.slate_size])
        return tuple(1.0 / (1 + i) ** self.examination_decay for i in range(self.slate_size))

    @property
    def arm_shares(self) -> tuple[float, ...]:
        total = math.fsum(a.weight for a in self.arms)
        return tuple(a.weight / total for a in self.arms)


# ------------------------------------------------------------------------------------------
# properties


@dataclass(frozen=True, kw_only=True)
class PropertyConfig:
    """An extra UPPER_SNAKE column sent as an event property (e.g. DEVICE, DISCOUNT).

    ``scope`` is ``session`` (one value per session) or ``event`` (drawn per event).
    """

    name: str
    values: tuple[str, ...]
    probabilities: tuple[float, ...]
    scope: str = "event"

    def __post_init__(self) -> None:
        ok = isinstance(self.name, str) and bool(_UPPER_SNAKE.match(self.name))
        _check(ok, "name", self.name, "an UPPER_SNAKE_CASE column name such as DEVICE")
        _check(
            self.name not in _RESERVED_COLUMNS,
            "name",
            self.name,
            "a name that is not an events-frame column",
        )
        from .. import limits
        from ..schema import camel_case

        key = camel_case(self.name) or ""
        _check(
            key.lower() not in limits.RESERVED_PROPERTY_KEYS,
            "name",
            self.name,
            "a name whose property key is not reserved by Personalize",
        )
        _check(
            isinstance(self.values, tuple)
            and len(self.values) > 0
            and all(isinstance(v, str) and v for v in self.values),
            "values",
            self.values,
            "a non-empty list of non-empty strings",
        )
        _check(
            len(self.probabilities) == len(self.values),
            "probabilities",
            self.probabilities,
            f"one probability per value ({len(self.values)})",
        )
        object.__setattr__(
            self, "probabilities", _distribution(self.probabilities, "probabilities")
        )
        _check(self.scope in ("session", "event"), "scope", self.scope, "session or event")


# ------------------------------------------------------------------------------------------
# the whole simulation


_SHORTHANDS = {
    "users": ("population", "users"),
    "days": ("time", "days"),
    "start": ("time", "start"),
    "timezone": ("time", "timezone"),
    "items": ("catalog", "items"),
    "slate_size": ("exposure", "slate_size"),
}


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """Everything that defines a simulated site; with a seed it defines the events exactly.

    Build one from keywords, :meth:`preset`, :meth:`from_yaml` or :meth:`from_dict`;
    :meth:`replace` accepts shorthands (``users``, ``days``, ``start``, ``timezone``,
    ``items``, ``slate_size``, ``seed``) and ``section__field`` paths.
    """

    name: str = "custom"
    #: default seed when ``simulate`` gets no ``rng``; None draws fresh entropy
    seed: int | None = None
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    funnel: FunnelConfig = field(default_factory=FunnelConfig)
    exposure: ExposureConfig = field(default_factory=ExposureConfig)
    properties: tuple[PropertyConfig, ...] = ()

    def __post_init__(self) -> None:
        _name(self.name, "name")
        _check(
            self.seed is None
            or (isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0),
            "seed",
            self.seed,
            "a non-negative integer or null",
        )
        categories = {c.name for c in self.catalog.categories}
        for i, persona in enumerate(self.population.personas):
            for category in persona.affinities:
                _check(
                    category in categories,
                    f"population.personas[{i}].affinities.{category}",
                    category,
                    f"one of the catalog categories: {', '.join(sorted(categories))}",
                )
        initial = self.catalog.initial_items
        _check(
            self.exposure.slate_size <= initial,
            "exposure.slate_size",
            self.exposure.slate_size,
            f"at most the {initial} items on sale at the start (catalog.items, new_item_share)",
        )
        names = [p.name for p in self.properties]
        _check(len(set(names)) == len(names), "properties", names, "unique property names")

    # -- building -----------------------------------------------------------------------

    @classmethod
    def preset(cls, name: str) -> SimulationConfig:
        """A shipped preset by name (see :func:`preset_names`)."""
        found = _preset_files().get(name) if isinstance(name, str) else None
        if found is None:
            raise ConfigError("preset", name, f"one of {', '.join(preset_names())}")
        return cls.from_yaml(found.read_text(encoding="utf-8"))

    @classmethod
    def from_yaml(cls, source: str | Path) -> SimulationConfig:
        """Load from a YAML file path or YAML text."""
        import yaml

        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        if isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml")):
            path = Path(source)
            if not path.is_file():
                raise ConfigError("config", source, "an existing YAML file")
            text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
            raise ConfigError("yaml", str(error).splitlines()[0], f"well-formed YAML{at}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> SimulationConfig:
        """Build from plain data (what YAML gives); unknown keys are errors."""
        _check(isinstance(data, Mapping), "config", data, "a mapping of sections")
        return _build(cls, data, "")

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` turns back into an equal config."""
        return _plain(self, "")

    def to_yaml(self, path: str | Path | None = None) -> str:
        """YAML text of this config; written to ``path`` when given."""
        import yaml

        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=False, width=100)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def replace(self, **changes: Any) -> SimulationConfig:
        """A copy with fields changed: ``users=500``, ``days=3``, ``catalog__zipf_exponent=1.2``."""
        config = self
        for key, value in changes.items():
            path = _SHORTHANDS[key] if key in _SHORTHANDS else tuple(key.split("__"))
            config = _replace_path(config, path, value, key)
        return config


# ------------------------------------------------------------------------------------------
# generic (de)serialisation of the dataclasses above


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(
            f"{prefix}{unknown[0]}", data[unknown[0]], f"a known field: {', '.join(fields)}"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kwargs[name] = _convert(fields[name].type, value, f"{prefix}{name}")
    where = prefix.rstrip(".")
    if where:
        return _prefixed(where, lambda: cls(**kwargs))
    return cls(**kwargs)


_NESTED = {
    "CatalogConfig": CatalogConfig,
    "PopulationConfig": PopulationConfig,
    "TimeConfig": TimeConfig,
    "FunnelConfig": FunnelConfig,
    "ExposureConfig": ExposureConfig,
    "GapConfig": GapConfig,
}
_ITEMS = {
    "tuple[CategoryConfig, ...]": CategoryConfig,
    "tuple[PersonaConfig, ...]": PersonaConfig,
    "tuple[EventTypeConfig, ...]": EventTypeConfig,
    "tuple[ArmConfig, ...]": ArmConfig,
    "tuple[PropertyConfig, ...]": PropertyConfig,
}


def _convert(annotation: Any, value: Any, path: str) -> Any:
    kind = str(annotation)
    if kind in _NESTED:
        _check(isinstance(value, Mapping), path, value, "a mapping")
        return _build(_NESTED[kind], value, path + ".")
    if kind in _ITEMS:
        _check(isinstance(value, list | tuple), path, value, "a list")
        out = []
        for i, item in enumerate(value):
            _check(isinstance(item, Mapping), f"{path}[{i}]", item, "a mapping")
            out.append(_build(_ITEMS[kind], item, f"{path}[{i}]."))
        return tuple(out)
    if kind.startswith("tuple") and isinstance(value, list):
        return tuple(value)
    return value


def _plain(obj: Any, path: str) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: _plain(getattr(obj, f.name), f"{path}{f.name}.")
            for f in dataclasses.fields(obj)
        }
    if isinstance(obj, tuple | list):
        return [_plain(v, path) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): _plain(v, path) for k, v in obj.items()}
    if isinstance(obj, dt.datetime):
        return obj.isoformat()
    if callable(obj):
        raise ConfigError(
            path.rstrip("."), obj, "a named recommender (a callable cannot be saved to YAML)"
        )
    return obj


def _replace_path(config: Any, path: tuple[str, ...], value: Any, key: str) -> Any:
    names = {f.name for f in dataclasses.fields(config)}
    head = path[0]
    if head not in names:
        allowed = sorted(names | set(_SHORTHANDS)) if config is not None else sorted(names)
        raise ConfigError(key, value, f"a field or shorthand: {', '.join(allowed)}")
    if len(path) == 1:
        if isinstance(value, list):
            value = tuple(value)
        try:
            return dataclasses.replace(config, **{head: value})
        except ConfigError as error:
            if error.field == head:
                raise ConfigError(key, error.value, error.allowed) from None
            raise
    child = getattr(config, head)
    _check(dataclasses.is_dataclass(child), key, value, f"{head} has no sub-fields")
    return dataclasses.replace(config, **{head: _replace_path(child, path[1:], value, key)})


# ------------------------------------------------------------------------------------------
# presets


def _preset_files() -> dict[str, Any]:
    """The shipped presets (``personalize_sim/simulation/presets/*.yaml``), by name."""
    from importlib.resources import files

    folder = files("personalize_sim.simulation").joinpath("presets")
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def preset_names() -> list[str]:
    """Names of the shipped presets.

    >>> preset_names()
    ['retail', 'video-on-demand']
    """
    return sorted(_preset_files())
