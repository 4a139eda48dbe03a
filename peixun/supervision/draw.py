"""The 双随机 draw as pure functions: anyone holding the published pool text and the revealed seed can
recompute the result (docs/guide/监督检查.md, 抽取算法).

1. The pool is one JSON document (targets, inspectors, declared conflicts, the draw's settings),
   written canonically: keys sorted, no spaces, UTF-8, lists sorted by key. Its SHA-256 and the
   SHA-256 of a random 64-hex-digit seed are published when the draw is created; the pool can no
   longer change.
2. Every target gets the score HMAC-SHA256(key=seed, message="target|" + target key), in hex. In
   each stratum the targets are ordered by score and the first ceil(share × stratum size) are drawn
   (at least one when the stratum is not empty).
3. For each drawn target, in the order drawn, the eligible inspectors (not of the target's own
   organisation, no declared conflict with it) are ordered by (assignments so far in this draw, then
   HMAC-SHA256(seed, "inspector|" + target key + "|" + inspector key)) and the first k are assigned.
   Counting assignments first spreads the work evenly; the HMAC decides among equals.

Nothing here reads the database or the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

POOL_VERSION = 1
ALL = "ALL"
HIGH = "HIGH"
NORMAL = "NORMAL"
STRATUM_LABELS = {ALL: "不分层", HIGH: "高风险", NORMAL: "一般"}


class DrawImpossible(ValueError):
    """The pool cannot give every target its inspectors; the message names the targets, in Chinese."""


@dataclass(frozen=True)
class Target:
    key: str  # "I<institution id>" or "C<class id>"
    name: str
    organisation: str  # "O<organisation id>" of the institution
    area: str  # area code
    risk: Decimal | None  # findings per 100 trainees; None without trainees
    stratum: str


@dataclass(frozen=True)
class PoolInspector:
    key: str  # "P<inspector id>"
    name: str
    organisation: str  # "O<organisation id>"
    organisation_name: str
    area: str


@dataclass(frozen=True)
class DrawnTarget:
    rank: int
    key: str
    stratum: str
    score: str
    inspectors: tuple[tuple[str, str], ...]  # (inspector key, score)


@dataclass(frozen=True)
class DrawResult:
    targets: tuple[DrawnTarget, ...]

    def as_json(self) -> list:
        return [
            {
                "rank": t.rank,
                "target": t.key,
                "stratum": t.stratum,
                "inspectors": [k for k, _s in t.inspectors],
            }
            for t in self.targets
        ]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(_canonical(self.as_json()).encode()).hexdigest()


# --- seeds and scores ---------------------------------------------------------------------------------


def new_seed() -> str:
    return secrets.token_hex(32)


def seed_sha256(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def score(seed: str, message: str) -> str:
    return hmac.new(seed.encode(), message.encode(), hashlib.sha256).hexdigest()


def target_score(seed: str, target_key: str) -> str:
    return score(seed, f"target|{target_key}")


def inspector_score(seed: str, target_key: str, inspector_key: str) -> str:
    return score(seed, f"inspector|{target_key}|{inspector_key}")


def sample_size(count: int, share: Decimal) -> int:
    """ceil(count × share), at least one of a non-empty stratum, never more than there are."""
    if count <= 0:
        return 0
    n = int((Decimal(count) * Decimal(share)).to_integral_value(rounding=ROUND_CEILING))
    return min(count, max(1, n))


def stratum_of(risk: Decimal | None, *, stratify: bool, threshold: Decimal | None) -> str:
    if not stratify:
        return ALL
    return HIGH if risk is not None and threshold is not None and risk >= threshold else NORMAL


# --- the pool ----------------------------------------------------------------------------------------


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _share(value) -> str:
    return f"{Decimal(value):.4f}"


def build_pool(
    *,
    code: str,
    area: str,
    target_kind: str,
    sample_share: Decimal,
    inspectors_per_target: int,
    stratify: bool,
    high_risk_threshold: Decimal | None,
    high_risk_share: Decimal | None,
    targets: list[Target],
    inspectors: list[PoolInspector],
    conflicts: list[tuple[str, str]],
) -> dict:
    """The pool document. Shares are text with four decimals and risks text with two, so that the
    document reads the same in every language that recomputes it."""
    strata = (
        {HIGH: _share(high_risk_share), NORMAL: _share(sample_share)}
        if stratify
        else {ALL: _share(sample_share)}
    )
    return {
        "version": POOL_VERSION,
        "draw": code,
        "area": area,
        "target_kind": target_kind,
        "settings": {
            "sample_share": _share(sample_share),
            "inspectors_per_target": inspectors_per_target,
            "stratify": stratify,
            "high_risk_threshold": None
            if high_risk_threshold is None
            else f"{Decimal(high_risk_threshold):.2f}",
            "strata": strata,
        },
        "targets": sorted(
            (
                {
                    "key": t.key,
                    "name": t.name,
                    "organisation": t.organisation,
                    "area": t.area,
                    "risk": None if t.risk is None else f"{Decimal(t.risk):.2f}",
                    "stratum": t.stratum,
                }
                for t in targets
            ),
            key=lambda t: t["key"],
        ),
        "inspectors": sorted(
            (
                {
                    "key": i.key,
                    "name": i.name,
                    "organisation": i.organisation,
                    "organisation_name": i.organisation_name,
                    "area": i.area,
                }
                for i in inspectors
            ),
            key=lambda i: i["key"],
        ),
        "conflicts": sorted([list(pair) for pair in set(conflicts)]),
    }


def canonical_pool(pool: dict) -> str:
    return _canonical(pool)


def pool_sha256(pool: dict) -> str:
    return hashlib.sha256(canonical_pool(pool).encode()).hexdigest()


def parse_pool(text: str) -> dict:
    return json.loads(text)


def eligible_inspectors(pool: dict, target: dict) -> list[dict]:
    """回避: not of the target institution's own organisation, no declared conflict with the target."""
    conflicts = {(i, t) for i, t in pool["conflicts"]}
    return [
        i
        for i in pool["inspectors"]
        if i["organisation"] != target["organisation"] and (i["key"], target["key"]) not in conflicts
    ]


def check_feasible(pool: dict) -> None:
    """Every target of the pool must have enough eligible inspectors, whichever targets are drawn."""
    k = pool["settings"]["inspectors_per_target"]
    short = [t for t in pool["targets"] if len(eligible_inspectors(pool, t)) < k]
    if short:
        names = "、".join(t["name"] for t in short[:10]) + ("等" if len(short) > 10 else "")
        raise DrawImpossible(f"以下{len(short)}个对象回避后可派的检查人员少于{k}名：{names}")


# --- the draw ----------------------------------------------------------------------------------------


def select(pool: dict, seed: str) -> DrawResult:
    """The result of drawing `pool` with `seed`: the same pool and seed give the same result."""
    if pool.get("version") != POOL_VERSION:
        raise DrawImpossible(f"不支持的抽取池版本：{pool.get('version')}")
    settings = pool["settings"]
    k = int(settings["inspectors_per_target"])
    drawn: list[tuple[str, dict, str]] = []
    for stratum in sorted(settings["strata"]):
        share = Decimal(settings["strata"][stratum])
        members = [t for t in pool["targets"] if t["stratum"] == stratum]
        ranked = sorted(
            ((target_score(seed, t["key"]), t) for t in members), key=lambda x: (x[0], x[1]["key"])
        )
        drawn.extend((stratum, t, s) for s, t in ranked[: sample_size(len(members), share)])

    load: dict[str, int] = {}
    result = []
    for rank, (stratum, target, target_s) in enumerate(drawn, start=1):
        eligible = eligible_inspectors(pool, target)
        if len(eligible) < k:
            raise DrawImpossible(f"“{target['name']}”回避后可派的检查人员少于{k}名")
        ranked = sorted(
            (
                (load.get(i["key"], 0), inspector_score(seed, target["key"], i["key"]), i["key"])
                for i in eligible
            ),
        )
        chosen = ranked[:k]
        for _load, _s, key in chosen:
            load[key] = load.get(key, 0) + 1
        result.append(
            DrawnTarget(
                rank=rank,
                key=target["key"],
                stratum=stratum,
                score=target_s,
                inspectors=tuple((key, s) for _load, s, key in chosen),
            )
        )
    return DrawResult(targets=tuple(result))


def replacement(pool: dict, seed: str, target_key: str, exclude: set[str]) -> tuple[str, str] | None:
    """The next inspector for a target when one drawn cannot go: the eligible inspector with the lowest
    HMAC score not yet assigned to it (or replaced on it). None when nobody is left."""
    target = next((t for t in pool["targets"] if t["key"] == target_key), None)
    if target is None:
        return None
    ranked = sorted(
        (inspector_score(seed, target_key, i["key"]), i["key"])
        for i in eligible_inspectors(pool, target)
        if i["key"] not in exclude
    )
    return (ranked[0][1], ranked[0][0]) if ranked else None
