"""The whole simulation's config: its sections, YAML and dict (de)serialisation, presets.

Each section's config lives with its concept (``CatalogConfig`` in ``_catalog``,
``TimeConfig`` in ``_arrivals``…); :class:`SimulationConfig` joins them, checks what
spans sections, and reads and writes them. Every value is checked when the object is
built; a bad one raises :class:`~personalize_sim.errors.ConfigError` naming the field
(as a path such as ``funnel.transitions.View``), the value and what is allowed.

>>> cfg = SimulationConfig.preset("retail").replace(users=500, days=2)
>>> cfg.population.users, cfg.time.days
(500, 2.0)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checks import check, instance
from ..errors import ConfigError
from ._actions import ActionsConfig
from ._arrivals import TimeConfig
from ._catalog import CatalogConfig
from ._config_checks import unique_names, valid_name
from ._exposure import ExposureConfig
from ._funnel import FunnelConfig
from ._population import PopulationConfig
from ._traffic import TrafficConfig
from ._values import PropertyConfig

__all__ = ["SimulationConfig", "preset_names"]


_SHORTHANDS = {
    "users": ("population", "users"),
    "days": ("time", "days"),
    "start": ("time", "start"),
    "end": ("time", "end"),
    "timezone": ("time", "timezone"),
    "items": ("catalog", "items"),
    "slate_size": ("exposure", "slate_size"),
}


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """Everything that defines a simulated site; with a seed it defines the events exactly.

    Build one from keywords, :meth:`preset`, :meth:`from_yaml` or :meth:`from_dict`;
    :meth:`replace` accepts shorthands (``users``, ``days``, ``start``, ``end``, ``timezone``,
    ``items``, ``slate_size``, ``rng``) and ``section__field`` paths.
    """

    name: str = "custom"
    #: the seed used when a call passes no ``rng`` (an int; None draws fresh entropy)
    rng: int | None = None
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    funnel: FunnelConfig = field(default_factory=FunnelConfig)
    exposure: ExposureConfig = field(default_factory=ExposureConfig)
    properties: tuple[PropertyConfig, ...] = ()
    #: fitted traffic (sessions per user, lengths, idle times); None: Poisson arrivals
    traffic: TrafficConfig | None = None
    #: the actions of Next Best Action and how users respond to them
    actions: ActionsConfig = field(default_factory=ActionsConfig)

    def __post_init__(self) -> None:
        valid_name(self.name, "name")
        check(
            self.rng is None
            or (isinstance(self.rng, int) and not isinstance(self.rng, bool) and self.rng >= 0),
            "rng",
            self.rng,
            "a non-negative integer or null",
        )
        categories = {c.name for c in self.catalog.categories}
        for i, persona in enumerate(self.population.personas):
            for category in persona.affinities:
                check(
                    category in categories,
                    f"population.personas[{i}].affinities.{category}",
                    category,
                    f"one of the catalog categories: {', '.join(sorted(categories))}",
                )
        initial = self.catalog.initial_items
        check(
            self.exposure.slate_size <= initial,
            "exposure.slate_size",
            self.exposure.slate_size,
            f"at most the {initial} items on sale at the start (catalog.items, new_item_share)",
        )
        unique_names(self.properties, "properties", "property")
        personas = {p.name for p in self.population.personas}
        for i, action in enumerate(self.actions.actions):
            for name in action.propensity:
                check(
                    name in personas,
                    f"actions.actions[{i}].propensity.{name}",
                    name,
                    f"one of the personas: {', '.join(sorted(personas))}",
                )
        for i, arm in enumerate(self.exposure.arms):
            check(
                arm.lift == 0 or arm.lift_event_type in self.funnel.names,
                f"exposure.arms[{i}].lift_event_type",
                arm.lift_event_type,
                f"one of the funnel's event types: {', '.join(self.funnel.names)}",
            )

    def expected_events_per_day(self) -> float:
        """Mean events per day with every user present (ignores max_events and the window end).

        >>> round(SimulationConfig().expected_events_per_day(), 1)
        1592.2
        """
        per_session = math.fsum(self.funnel.expected_visits())
        return self.population.users * self.time.sessions_per_user_per_day * per_session

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

        text = _read_text(source) if isinstance(source, Path) else source
        if isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml")):
            path = Path(source)
            if not path.is_file():
                raise ConfigError("config", source, "an existing YAML file")
            text = _read_text(path)
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
        instance(data, "config", Mapping, "a mapping of sections")
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


def _prefixed(prefix: str, build: Callable[[], Any]) -> Any:
    """Build a nested config, re-raising its ConfigError with the full field path."""
    try:
        return build()
    except ConfigError as error:
        raise type(error)(f"{prefix}.{error.field}", error.value, error.allowed) from None


#: fields renamed since a saved config may have been written, with what to write instead
_RENAMED = {"seed": "rng: the seed is named rng everywhere (a non-negative integer or null)"}


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    hints = _hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in hints]
    if unknown:
        key = unknown[0]
        allowed = _RENAMED.get(key) or f"a known field: {', '.join(fields)}"
        raise ConfigError(f"{prefix}{key}", data[key], allowed)
    kwargs = {name: _convert(hints[name], value, f"{prefix}{name}") for name, value in data.items()}
    where = prefix.rstrip(".")
    if where:
        return _prefixed(where, lambda: cls(**kwargs))
    return cls(**kwargs)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved types of a config's fields (annotations are strings under PEP 563),
    read in the namespace of the module that defines the class: its ``__module__`` is
    the public package (``_public.expose``), which does not hold every name; the
    ``__init__`` that ``dataclass`` made there has that module's globals."""
    names = {f.name for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls, globalns=vars(cls)["__init__"].__globals__)
    return {k: v for k, v in hints.items() if k in names}


def _convert(annotation: Any, value: Any, path: str) -> Any:
    """``value`` as read from YAML or JSON, made into what the field's type needs: nested
    configs built, lists made tuples. Dispatches on the resolved type, so ``X | None`` and
    ``Optional[X]`` read alike."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        return _convert(options[0], value, path) if len(options) == 1 else value
    if dataclasses.is_dataclass(annotation):
        instance(value, path, Mapping, "a mapping")
        return _build(annotation, value, path + ".")  # type: ignore[arg-type]
    if origin is tuple:
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if dataclasses.is_dataclass(item):
            instance(value, path, (list, tuple), "a list")
            out = []
            for i, entry in enumerate(value):
                instance(entry, f"{path}[{i}]", Mapping, "a mapping")
                out.append(_build(item, entry, f"{path}[{i}]."))  # type: ignore[arg-type]
            return tuple(out)
        if isinstance(value, list | tuple):
            nested = typing.get_origin(item) is tuple
            return tuple(tuple(v) if nested and isinstance(v, list) else v for v in value)
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
                raise type(error)(key, error.value, error.allowed) from None
            raise
    child = getattr(config, head)
    check(dataclasses.is_dataclass(child), key, value, f"{head} has no sub-fields")
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


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        where = f"byte 0x{error.object[error.start]:02x} at offset {error.start}"
        raise ConfigError("config", str(path), f"a YAML file in UTF-8 (not {where})") from None
