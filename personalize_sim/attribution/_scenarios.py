"""Scenario presets: a simulated site, a metric attribution, and what the scenario shows.

Each preset (``attribution/scenarios/*.yaml``) names a simulation preset with a few
overrides and arms, the ``CreateMetricAttribution`` metrics, and optionally: an arm to
switch off for the true effect (``switch_off``), a creation time after the start
(``created_after_hours``), a report made after the run (``report_after_hours``), a
share of recommendation ids the client fails to send (``drop_recommendation_ids``).

>>> scenario_names()[:3]
['ab-test', 'case-variants', 'mid-run-creation']
>>> result = scenario("mid-run-creation").run(rng=0, users=300)
>>> int(result.report.counts.loc[0, "before_creation"]) > 0
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import number, probability
from .._schema import RECOMMENDATION_ID, RECOMMENDER_ARN
from ..errors import ConfigError
from ._effects import EffectReport, true_effects
from ._metrics import MetricAttribution
from ._output import AttributionReport
from ._report import attribution_report

if TYPE_CHECKING:
    import pandas as pd

    from ..simulation import SimulationConfig

__all__ = ["Scenario", "ScenarioResult", "scenario", "scenario_names"]

_KEYS = {
    "description",
    "simulation",
    "metrics",
    "switch_off",
    "created_after_hours",
    "report_after_hours",
    "drop_recommendation_ids",
}


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario's events, its report, and (with ``switch_off``) the true effects."""

    scenario: Scenario
    frame: pd.DataFrame
    report: AttributionReport
    effects: EffectReport | None


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One attribution scenario; :meth:`run` simulates it and makes the report."""

    name: str
    description: str
    config: SimulationConfig
    attribution: MetricAttribution
    switch_off: str | None = None
    created_after_hours: float | None = None
    report_after_hours: float = 0.0
    drop_recommendation_ids: float = 0.0

    def __post_init__(self) -> None:
        if self.created_after_hours is not None:
            number(self.created_after_hours, "created_after_hours", low=0.0)
        number(self.report_after_hours, "report_after_hours", low=0.0)
        probability(self.drop_recommendation_ids, "drop_recommendation_ids")

    def times(self, config: SimulationConfig) -> tuple[dt.datetime, dt.datetime | None]:
        """When the report is made, and when the attribution was created (or None)."""
        start = config.time.start
        if start is None:
            raise ConfigError("simulation.start", None, "a fixed start time for a scenario")
        end = start + dt.timedelta(days=config.time.days)
        now = end + dt.timedelta(hours=self.report_after_hours)
        created = None
        if self.created_after_hours is not None:
            created = start + dt.timedelta(hours=self.created_after_hours)
        return now, created

    def run(self, *, rng: np.random.Generator | int | None = 0, **overrides: Any) -> ScenarioResult:
        """Simulate (``overrides`` such as ``users=`` go to the config), report, and with
        ``switch_off`` run the counterfactual for the true effects."""
        import dataclasses

        from ..simulation import simulate

        config = self.config.replace(**overrides) if overrides else self.config
        now, created = self.times(config)
        attribution = dataclasses.replace(self.attribution, created_at=created)
        effects = None
        if self.switch_off is not None:
            effects = true_effects(config, attribution, arm=self.switch_off, rng=rng, now=now)
            frame = effects.runs.factual
            report = effects.factual
        else:
            frame = self._dropped(simulate(config, rng=rng), rng)
            report = attribution_report(frame, attribution, now=now)
        return ScenarioResult(scenario=self, frame=frame, report=report, effects=effects)

    def _dropped(self, frame: pd.DataFrame, rng: Any) -> pd.DataFrame:
        """The frame with a share of its recommendation ids (whole clicks) not sent."""
        if not self.drop_recommendation_ids:
            return frame
        ids = frame[RECOMMENDATION_ID].dropna().unique()
        generator = np.random.default_rng(rng)
        lost = ids[generator.random(len(ids)) < self.drop_recommendation_ids]
        frame = frame.copy()
        # the id is not sent, so nothing says who issued it
        frame.loc[frame[RECOMMENDATION_ID].isin(lost), [RECOMMENDATION_ID, RECOMMENDER_ARN]] = None
        return frame


def _files() -> dict[str, Any]:
    from importlib.resources import files

    folder = files("personalize_sim.attribution").joinpath("scenarios")
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def scenario_names() -> list[str]:
    """The shipped attribution scenarios."""
    return sorted(_files())


def scenario(name: str) -> Scenario:
    """A shipped scenario by name (see :func:`scenario_names`)."""
    import yaml

    found = _files().get(name) if isinstance(name, str) else None
    if found is None:
        raise ConfigError("scenario", name, f"one of {', '.join(scenario_names())}")
    data = yaml.safe_load(found.read_text(encoding="utf-8"))
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"scenario {name}: {unknown[0]}", data[unknown[0]], f"one of {_KEYS}")
    return Scenario(
        name=name,
        description=data["description"],
        config=_config(dict(data["simulation"])),
        attribution=MetricAttribution.from_json({"name": name, "metrics": data["metrics"]}),
        switch_off=data.get("switch_off"),
        created_after_hours=data.get("created_after_hours"),
        report_after_hours=data.get("report_after_hours", 0.0),
        drop_recommendation_ids=data.get("drop_recommendation_ids", 0.0),
    )


def _config(section: dict[str, Any]) -> SimulationConfig:
    from ..simulation import ArmConfig, SimulationConfig

    config = SimulationConfig.preset(section.pop("preset"))
    arms = section.pop("arms", None)
    if arms is not None:
        section["exposure__arms"] = tuple(ArmConfig(**arm) for arm in arms)
    return config.replace(**section)
