"""The options of one emulator, in one place: :class:`TrackerConfig`.

:class:`~personalize_sim.tracker.LocalTracker` takes them as keyword arguments,
``personalize-sim serve`` builds its flags from the field metadata (``flag``,
``help``, ``metavar``, ``parse``, ``choices``, ``repeat``; or ``env`` for the key
pair, which never appears on a command line), and the emulator process receives
them as JSON on its stdin (:meth:`TrackerConfig.to_dict`). The rule for binding lives in
:mod:`._binding`.

>>> config = TrackerConfig(max_tps=100, latency_ms="2..8", rng=0)
>>> config.latency_ms, config.tracking_id
(Latency(kind='uniform', a=2.0, b=8.0), 'local-tracker')
>>> TrackerConfig.from_dict(config.to_dict()) == config
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from personalize_sim._checks import count, instance, number, one_of, positive, probability
from personalize_sim.errors import ConfigError, ConfigTypeError

from ._faults import Latency

__all__ = [
    "DEFAULT_HEADER_TIMEOUT_S",
    "DEFAULT_IDLE_TIMEOUT_S",
    "DEFAULT_MAX_TPS",
    "DEFAULT_TRACKING_ID",
    "ERROR_STATUSES",
    "THROTTLE_STATUSES",
    "TrackerConfig",
]

#: PutEvents quota per tracker (Developer Guide, limits: 1000 requests/s per dataset group)
DEFAULT_MAX_TPS = 1000.0
#: the tracking id handed out when any id is accepted
DEFAULT_TRACKING_ID = "local-tracker"
#: HTTP statuses of ThrottlingException: 400 as AWS documents it, or 429
THROTTLE_STATUSES = (400, 429)
#: the 5xx answers the fault plan may inject
ERROR_STATUSES = (500, 503)
#: seconds to send a request's headers (slow clients are dropped, so they cannot pile up)
DEFAULT_HEADER_TIMEOUT_S = 10.0
#: seconds an idle keep-alive connection is kept (uvicorn's default too)
DEFAULT_IDLE_TIMEOUT_S = 5.0


def _cli(
    help: str,
    *,
    flag: str | None = None,
    metavar: str | None = None,
    parse: Callable[[str], Any] | None = None,
    choices: tuple[Any, ...] | None = None,
    repeat: bool = False,
    env: str | None = None,
) -> dict[str, Any]:
    """Field metadata: a command-line spelling (``flag``) or, for secrets, a variable (``env``)."""
    metadata = {"help": help, "flag": flag, "metavar": metavar, "parse": parse}
    return metadata | {"choices": choices, "repeat": repeat, "env": env}


@dataclass(frozen=True, kw_only=True)
class TrackerConfig:
    """Options of one emulator: quota, faults, known tracking ids, signature check,
    binding, connection timeouts, rng.

    ``tracking_ids=None`` accepts any tracking id (a single string is one id);
    ``max_tps=None`` (or 0) turns the quota off (``dataset_max_tps``: PutItems, PutUsers and
    PutActions, per dataset; off by default); ``latency_ms`` is a
    :class:`~personalize_sim.tracker._faults.Latency` or its spec (``5``, ``"2..8"``,
    ``"exp:5"``, ``"lognormal:5,50"``); ``rng`` (a seed) drives the fault plan and request ids.
    ``recommenders`` declares what the runtime API serves (``NAME=KIND`` strings or a
    ``{name: kind}`` dict; :attr:`recommender_arns` gives their ARNs), ``runtime_max_tps``
    its quota per campaign or recommender, ``trending_half_life`` the trending kind's decay.
    ``allow_unsigned_remote`` lets a non-loopback host serve without ``verify_signature``;
    ``header_timeout`` bounds the time to send a request's headers, ``idle_timeout``
    an idle keep-alive connection; ``tls_cert`` and ``tls_key`` (PEM files) serve HTTPS.
    A bad value raises :class:`~personalize_sim.errors.ConfigError` naming it.
    """

    tracking_ids: tuple[str, ...] | None = field(
        default=None,
        metadata=_cli(
            "a known tracking id (repeatable); others get ResourceNotFoundException. "
            "Default: accept any",
            flag="--tracking-id",
            metavar="ID",
            repeat=True,
        ),
    )
    max_tps: float | None = field(
        default=DEFAULT_MAX_TPS,
        metadata=_cli(
            "PutEvents quota per tracking id, requests/s (default 1000 as AWS; 0 = none)",
            flag="--max-tps",
            parse=float,
        ),
    )
    dataset_max_tps: float | None = field(
        default=None,
        metadata=_cli(
            "PutItems, PutUsers and PutActions quota per dataset, requests/s (AWS documents "
            "10 for PutItems and PutUsers; default and 0: none)",
            flag="--dataset-max-tps",
            parse=float,
        ),
    )
    throttle_status: int = field(
        default=400,
        metadata=_cli(
            "HTTP status of ThrottlingException (default 400 as AWS documents)",
            flag="--throttle-status",
            parse=int,
            choices=THROTTLE_STATUSES,
        ),
    )
    latency_ms: Latency | None = field(
        default=None,
        metadata=_cli(
            "added latency: 5, 2..8 (uniform), exp:MEAN or lognormal:MEDIAN,P99",
            flag="--latency-ms",
            metavar="SPEC",
        ),
    )
    error_rate: float = field(
        default=0.0,
        metadata=_cli("share of 500/503 answers", flag="--error-rate", metavar="P", parse=float),
    )
    error_statuses: tuple[int, ...] = field(
        default=ERROR_STATUSES,
        metadata=_cli(
            "a status of the injected errors (repeatable; default 500 and 503)",
            flag="--error-status",
            metavar="STATUS",
            parse=int,
            choices=ERROR_STATUSES,
            repeat=True,
        ),
    )
    verify_signature: bool = field(
        default=False,
        metadata=_cli("check SigV4 signatures (403 if bad)", flag="--verify-signature"),
    )
    access_key_id: str = field(
        default="testing",
        metadata=_cli("access key id of signed requests", env="PERSONALIZE_SIM_ACCESS_KEY_ID"),
    )
    secret_access_key: str = field(
        default="testing",
        repr=False,
        metadata=_cli("secret key of signed requests", env="PERSONALIZE_SIM_SECRET_ACCESS_KEY"),
    )
    allow_unsigned_remote: bool = field(
        default=False,
        metadata=_cli(
            "allow a non-loopback --host without --verify-signature (anyone who can reach "
            "it can then write events)",
            flag="--allow-unsigned-remote",
        ),
    )
    header_timeout: float = field(
        default=DEFAULT_HEADER_TIMEOUT_S,
        metadata=_cli(
            "seconds a connection has to send a request's headers before it is closed "
            f"(default {DEFAULT_HEADER_TIMEOUT_S:g})",
            flag="--header-timeout",
            metavar="S",
            parse=float,
        ),
    )
    idle_timeout: float = field(
        default=DEFAULT_IDLE_TIMEOUT_S,
        metadata=_cli(
            "seconds an idle keep-alive connection stays open "
            f"(default {DEFAULT_IDLE_TIMEOUT_S:g})",
            flag="--idle-timeout",
            metavar="S",
            parse=float,
        ),
    )
    rng: int | None = field(
        default=None, metadata=_cli("seed of the fault plan", flag="--seed", parse=int)
    )
    recommenders: tuple[str, ...] | None = field(
        default=None,
        metadata=_cli(
            "a recommender the runtime API serves, NAME=KIND or campaign/NAME=KIND "
            "(repeatable); KIND: popularity, trending, similar-items, user-personalization, "
            "random; campaign/NAME=personalized-actions. Its ARN is "
            "arn:aws:personalize:us-east-1:000000000000:recommender/NAME",
            flag="--recommender",
            metavar="NAME=KIND",
            repeat=True,
        ),
    )
    filters: tuple[str, ...] | None = field(
        default=None,
        metadata=_cli(
            "a filter the runtime API applies, NAME='EXPRESSION' in the filter expression "
            "language (repeatable; docs/reference/filters.md). Its ARN is "
            "arn:aws:personalize:us-east-1:000000000000:filter/NAME",
            flag="--filter",
            metavar="NAME=EXPRESSION",
            repeat=True,
        ),
    )
    runtime_max_tps: float | None = field(
        default=None,
        metadata=_cli(
            "GetRecommendations/GetPersonalizedRanking quota per campaign or recommender, "
            "requests/s (default: none)",
            flag="--runtime-max-tps",
            parse=float,
        ),
    )
    trending_half_life: float = field(
        default=3600.0,
        metadata=_cli(
            "half-life of the trending recommenders' counts, seconds of event time (default 3600)",
            flag="--trending-half-life",
            metavar="S",
            parse=float,
        ),
    )
    tls_cert: str | None = field(
        default=None,
        metadata=_cli(
            "serve HTTPS with this PEM certificate (chain) file; needs --tls-key",
            flag="--tls-cert",
            metavar="PEM",
        ),
    )
    tls_key: str | None = field(
        default=None,
        metadata=_cli("the PEM private key of --tls-cert", flag="--tls-key", metavar="PEM"),
    )

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "tracking_ids", _tracking_ids(self.tracking_ids))
        for name in ("max_tps", "dataset_max_tps"):
            if getattr(self, name) is not None:  # 0 means no quota, spelled None
                set_(self, name, number(getattr(self, name), name, low=0.0) or None)
        status = one_of(self.throttle_status, "throttle_status", THROTTLE_STATUSES)
        set_(self, "throttle_status", int(status))
        if self.latency_ms is not None:
            set_(self, "latency_ms", Latency.parse(self.latency_ms))
        set_(self, "error_rate", probability(self.error_rate, "error_rate"))
        set_(self, "error_statuses", _error_statuses(self.error_statuses))
        instance(self.verify_signature, "verify_signature", bool, "True or False")
        instance(self.allow_unsigned_remote, "allow_unsigned_remote", bool, "True or False")
        for name in ("header_timeout", "idle_timeout"):
            set_(self, name, positive(getattr(self, name), name))
        for name in ("access_key_id", "secret_access_key"):
            if not isinstance(getattr(self, name), str):  # the type only: never echo a secret
                raise ConfigTypeError(name, type(getattr(self, name)), "a string")
        if self.rng is not None:
            count(self.rng, "rng", low=0)
        set_(self, "recommenders", _recommenders(self.recommenders))
        set_(self, "filters", _filters(self.filters))
        if self.runtime_max_tps is not None:
            set_(
                self,
                "runtime_max_tps",
                number(self.runtime_max_tps, "runtime_max_tps", low=0.0) or None,
            )
        set_(
            self,
            "trending_half_life",
            positive(self.trending_half_life, "trending_half_life"),
        )
        _check_tls(self)

    @property
    def recommender_arns(self) -> dict[str, str]:
        """The ARN of every declared recommender or campaign, by name."""
        from personalize_sim.online import RecommenderSpec

        return {spec.name: spec.arn for spec in map(RecommenderSpec.parse, self.recommenders or ())}

    @property
    def filter_arns(self) -> dict[str, str]:
        """The ARN of every declared filter, by name."""
        from ._filters import FilterSpec

        return {spec.name: spec.arn for spec in map(FilterSpec.parse, self.filters or ())}

    @property
    def tracking_id(self) -> str:
        """The tracking id clients should use: the first known one, or a default."""
        return self.tracking_ids[0] if self.tracking_ids else DEFAULT_TRACKING_ID

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON values (secrets included: for a pipe, never a log)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Any) -> TrackerConfig:
        """The config :meth:`to_dict` gave, after a trip through JSON."""
        if not isinstance(values, dict):
            raise ConfigTypeError("config", values, "a JSON object of TrackerConfig fields")
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError("config", unknown, "TrackerConfig fields only")
        latency = values.get("latency_ms")
        if isinstance(latency, dict):
            values = {**values, "latency_ms": Latency(**latency)}
        return cls(**values)


def _check_tls(config: TrackerConfig) -> None:
    """``tls_cert`` and ``tls_key``: both or neither, readable files (kept as path strings)."""
    import os

    given = [name for name in ("tls_cert", "tls_key") if getattr(config, name) is not None]
    if len(given) == 1:
        missing = "tls_key" if given == ["tls_cert"] else "tls_cert"
        raise ConfigError(
            missing, None, "both tls_cert and tls_key (--tls-cert and --tls-key) to serve HTTPS"
        )
    for name in given:
        path = getattr(config, name)
        if not isinstance(path, str | os.PathLike):
            raise ConfigTypeError(name, path, "the path of a PEM file")
        if not os.path.isfile(path):
            raise ConfigError(name, str(path), "the path of an existing PEM file")
        object.__setattr__(config, name, os.fspath(path))


def _tracking_ids(ids: Any) -> tuple[str, ...] | None:
    if ids is None:
        return None
    allowed = "non-empty strings (or None to accept any)"
    if isinstance(ids, str):
        ids = (ids,)
    if not isinstance(ids, tuple | list | set | frozenset):
        raise ConfigTypeError("tracking_ids", ids, allowed)
    ids = tuple(ids)
    if any(not isinstance(i, str) for i in ids):
        raise ConfigTypeError("tracking_ids", ids, allowed)
    if not ids or not all(ids):
        raise ConfigError("tracking_ids", ids, allowed)
    return ids


def _recommenders(specs: Any) -> tuple[str, ...] | None:
    """``NAME=KIND`` strings (or a {name: kind} mapping, or RecommenderSpecs), checked."""
    from personalize_sim.online import RecommenderSpec

    parsed = _named(specs, "recommenders", "NAME=KIND", RecommenderSpec.parse)
    return (
        tuple(
            ("campaign/" if spec.resource == "campaign" else "") + f"{spec.name}={spec.kind}"
            for spec in parsed
        )
        or None
    )


def _filters(specs: Any) -> tuple[str, ...] | None:
    """``NAME=EXPRESSION`` strings (or a {name: expression} dict), parsed when declared."""
    from ._filters import FilterSpec

    return tuple(map(str, _named(specs, "filters", "NAME=EXPRESSION", FilterSpec.parse))) or None


def _named(specs: Any, field: str, form: str, parse: Any) -> list[Any]:
    """``form`` strings, one or several, or a {name: value} dict, each parsed; distinct names."""
    if specs is None:
        return []
    specs = (specs,) if isinstance(specs, str) else specs
    if isinstance(specs, dict):
        specs = [f"{name}={value}" for name, value in specs.items()]
    if not isinstance(specs, tuple | list):
        raise ConfigTypeError(field, specs, f"{form} strings or a {{name: value}} dict")
    parsed = [parse(spec) for spec in specs]
    names = [spec.name for spec in parsed]
    if len(set(names)) != len(names):
        raise ConfigError(field, names, "distinct names")
    return parsed


def _error_statuses(statuses: Any) -> tuple[int, ...]:
    allowed = "a non-empty list of " + " and ".join(map(str, ERROR_STATUSES))
    if not isinstance(statuses, tuple | list):
        raise ConfigTypeError("error_statuses", statuses, allowed)
    if not statuses or any(s not in ERROR_STATUSES or isinstance(s, bool) for s in statuses):
        raise ConfigError("error_statuses", statuses, allowed)
    return tuple(int(s) for s in statuses)
