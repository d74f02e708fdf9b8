"""Drift rules: thresholds on a :class:`ProfileDiff` that a pipeline fails on.

A rule is ``[COLUMN:]METRIC OP THRESHOLD`` (``psi>0.2``, ``null_ratio>+0.05``,
``amount:mean>0.1``), or a bare count metric (``removed_columns``, ``type_changed``) meaning
``> 0``. OP is one of ``>``, ``>=``, ``<``, ``<=``. A threshold written with a sign (``+0.05``,
``-0.05``) compares the signed change; without a sign, the size of the change (its absolute
value). A rule without a column applies to every column. The metrics read fields the engine
computed (``ProfileDiff``); this module only compares them with the thresholds.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from truthound.errors import ConfigurationError
from truthound.profiler.diff import ColumnDiff, ProfileDiff

__all__ = [
    "COLUMN_METRICS", "TABLE_METRICS", "DriftRule", "FiredRule", "check", "load_rules",
    "parse_rules", "rules_from_option",
]

# metric -> what it reads from a column's diff (documented in --help and the README)
COLUMN_METRICS: dict[str, str] = {
    "psi": "population stability index over the base histogram's bins",
    "ks": "Kolmogorov-Smirnov statistic between the two quantile sketches",
    "null_ratio": "change of the null ratio (current - base)",
    "distinct": "relative change of the distinct count, when beyond both estimates' bounds",
    "mean": "relative change of the mean ((current - base) / |base|)",
    "std": "relative change of the standard deviation",
    "top_share": "largest change of a top value's share of non-null values",
    "pattern": "largest change of a pattern's match ratio",
    "type_changed": "1 when the column's type changed",
    **{f"p{q:02d}": f"change of the {q}th percentile" for q in (1, 5, 10, 25, 50, 75, 90, 95, 99)},
}
TABLE_METRICS: dict[str, str] = {
    "added_columns": "number of columns only the current profile has",
    "removed_columns": "number of columns only the base profile has",
}

_RULE = re.compile(r"^\s*(?:(?P<column>.+):)?(?P<metric>[a-z0-9_]+)\s*"
                   r"(?:(?P<op>>=|<=|>|<)\s*(?P<value>[+-]?[0-9.]+(?:e[+-]?[0-9]+)?))?\s*$",
                   re.IGNORECASE)


@dataclass(frozen=True)
class DriftRule:
    """One rule: ``column`` (None: every column), ``metric``, ``op``, ``threshold`` and whether
    the threshold compares the signed change (``signed``) or its size."""

    text: str
    metric: str
    op: str
    threshold: float
    signed: bool
    column: str | None = None

    def _holds(self, value: float) -> bool:
        v = value if self.signed else abs(value)
        return {">": v > self.threshold, ">=": v >= self.threshold,
                "<": v < self.threshold, "<=": v <= self.threshold}[self.op]


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired: on which column (None for table metrics) and the value it saw."""

    rule: DriftRule
    column: str | None
    value: float

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column is not None else ""
        if math.isnan(self.value):
            return f"{where}only in one of the profiles ({self.rule.text})"
        return f"{where}{self.rule.metric} = {self.value:.6g} ({self.rule.text})"


def parse_rules(texts: Iterable[str]) -> list[DriftRule]:
    """Parse rules from comma-separated texts; ConfigurationError names a bad rule."""
    rules = []
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            m = _RULE.match(part)
            metric = m.group("metric").lower() if m else ""
            if m is None or metric not in COLUMN_METRICS and metric not in TABLE_METRICS:
                raise ConfigurationError(
                    f"--fail-on: cannot read the rule {part.strip()!r}; write [COLUMN:]METRIC>X "
                    f"with METRIC one of {', '.join([*COLUMN_METRICS, *TABLE_METRICS])}")
            column = m.group("column")
            if column is not None and metric in TABLE_METRICS:
                raise ConfigurationError(
                    f"--fail-on: {metric} is a table metric; {part.strip()!r} cannot name a column")
            value = m.group("value")
            if value is None and metric not in ("type_changed", *TABLE_METRICS):
                raise ConfigurationError(
                    f"--fail-on: the rule {part.strip()!r} needs a threshold, as in {metric}>0.1")
            rules.append(DriftRule(
                text=part.strip(), metric=metric, op=m.group("op") or ">",
                threshold=float(value) if value is not None else 0.0,
                signed=value is not None and value[0] in "+-", column=column))
    return rules


def load_rules(path: str) -> list[DriftRule]:
    """Rules from a YAML file: a list of rule texts, or a mapping with a ``rules`` list."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise ConfigurationError(f"--fail-on {path}: cannot read the rules: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"--fail-on {path}: not valid YAML: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("rules")
    if not isinstance(data, list) or not all(isinstance(r, str) for r in data):
        raise ConfigurationError(
            f"--fail-on {path}: expected a list of rules (or 'rules:' with a list), "
            "such as - psi>0.2")
    return parse_rules(data)


def rules_from_option(values: Iterable[str]) -> list[DriftRule]:
    """The rules of ``--fail-on`` values: rule texts, or paths of YAML files of rules."""
    rules: list[DriftRule] = []
    for value in values:
        if value.lower().endswith((".yaml", ".yml")) or os.path.isfile(value):
            rules.extend(load_rules(value))
        else:
            rules.extend(parse_rules([value]))
    return rules


def _column_value(c: ColumnDiff, metric: str) -> float | None:
    d = c.data
    if metric == "psi":
        return c.psi
    if metric == "ks":
        return c.ks
    if metric == "null_ratio":
        return float(d["null_ratio"]["change"])
    if metric == "distinct":
        dc = d.get("distinct_count")
        if dc is None or not dc["beyond_bounds"] or dc["relative_change"] is None:
            return None
        return float(dc["relative_change"])
    if metric in ("mean", "std"):
        m = d.get(metric)
        return None if m is None or m["relative_change"] is None else float(m["relative_change"])
    if metric == "top_share":
        return float(d["top_share_change"])
    if metric == "pattern":
        return float(d["pattern_change"])
    if metric == "type_changed":
        return 1.0 if d["type_changed"] else 0.0
    quantiles = d.get("quantiles")
    return None if quantiles is None else float(quantiles[metric]["change"])


def check(diff: ProfileDiff, rules: Iterable[DriftRule]) -> list[FiredRule]:
    """Every (rule, column) whose value passes the rule's threshold, in rule order. A rule on a
    column that only one profile has fires (value NaN); one on a column neither has raises
    ConfigurationError."""
    fired: list[FiredRule] = []
    names = {c.name for c in diff.columns}
    for rule in rules:
        if rule.column is not None and rule.column not in names:
            if rule.column in diff.added_columns or rule.column in diff.removed_columns:
                # a column the rule watches is gone (or new): that is drift too
                fired.append(FiredRule(rule, rule.column, math.nan))
                continue
            raise ConfigurationError(
                f"--fail-on {rule.text}: no column {rule.column!r} in either profile")
        if rule.metric in TABLE_METRICS:
            n = float(len(getattr(diff, rule.metric)))
            if rule._holds(n):
                fired.append(FiredRule(rule, None, n))
            continue
        for c in diff.columns:
            if rule.column is not None and c.name != rule.column:
                continue
            value = _column_value(c, rule.metric)
            if value is not None and not math.isnan(value) and rule._holds(value):
                fired.append(FiredRule(rule, c.name, value))
    return fired
