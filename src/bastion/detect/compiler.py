"""A Sigma rule's detection → one vectorised Polars predicate over a batch.

The rule has already been through Bastion's pySigma pipeline (fields renamed to the
common schema). Each named detection compiles to one expression; the condition
(``and``/``or``/``not``, parentheses, ``1 of``/``all of`` with patterns and ``them``)
combines them, so a rule is one Boolean expression that Polars evaluates for the
whole batch at once. The per-detection expressions are kept too: the workbench shows
which selection fired.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sigma.conditions import (
    ConditionAND,
    ConditionIdentifier,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionSelector,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaNull

from bastion.detect.values import (
    Anchor,
    Needs,
    Pred,
    Unsupported,
    all_of,
    any_of,
    keyword_pred,
    none_of,
    value_pred,
)


@dataclass(frozen=True)
class CompiledDetection:
    """One rule's detection as predicates: the whole condition and each named selection."""

    predicate: pl.Expr
    anchors: frozenset[Anchor] | None
    selections: dict[str, pl.Expr]
    needs: Needs
    never: bool = False  # no event can satisfy it (it needs fields Bastion lacks)


def _item(item: SigmaDetectionItem | SigmaDetection, needs: Needs) -> Pred:
    if isinstance(item, SigmaDetection):
        return _detection(item, needs)
    if item.field is None:
        preds = [keyword_pred(v, needs) for v in item.value]
    elif not item.value:
        preds = [value_pred(item.field, _null(), needs)]
    else:
        preds = [value_pred(item.field, v, needs) for v in item.value]
    pred = all_of(preds) if item.value_linking is ConditionAND else any_of(preds)
    return none_of(pred) if item.negated else pred


def _null() -> SigmaNull:
    return SigmaNull()


def _detection(detection: SigmaDetection, needs: Needs) -> Pred:
    preds = [_item(i, needs) for i in detection.detection_items]
    if not preds:
        # pySigma drops a detection emptied by a transformation; it then matches nothing.
        return Pred(pl.lit(value=False), frozenset())
    return all_of(preds) if detection.item_linking is ConditionAND else any_of(preds)


def _condition(node: object, rule: SigmaRule, preds: dict[str, Pred]) -> Pred:
    detections = rule.detection
    if isinstance(node, ConditionIdentifier):
        name = node.identifier
        if name not in preds:
            msg = f"condition names detection {name!r}, which the rule does not define"
            raise Unsupported(msg)
        return preds[name]
    if isinstance(node, ConditionSelector):
        ids = node.resolve_referenced_detections(detections)
        if not ids:
            msg = f"'{node.args[0]} of {node.pattern}' matches no detection"
            raise Unsupported(msg)
        parts = [preds[i.identifier] for i in ids]
        return all_of(parts) if node.cond_class is ConditionAND else any_of(parts)
    if isinstance(node, ConditionNOT):
        return none_of(_condition(node.args[0], rule, preds))
    if isinstance(node, ConditionAND | ConditionOR):
        parts = [_condition(a, rule, preds) for a in node.args]
        return all_of(parts) if isinstance(node, ConditionAND) else any_of(parts)
    msg = f"condition element {type(node).__name__} is not supported"
    raise Unsupported(msg)


def compile_detection(rule: SigmaRule) -> CompiledDetection:
    """Compile a (pipeline-processed) rule's detection; raise ``Unsupported`` with the reason."""
    needs = Needs()
    preds = {name: _detection(d, needs) for name, d in rule.detection.detections.items()}
    conditions: list[Pred] = []
    for condition in rule.detection.parsed_condition:
        try:
            tree = condition.parse(postprocess=False)
        except SigmaError as exc:
            raise Unsupported(str(exc)) from exc
        if not isinstance(tree, ConditionItem):
            msg = f"condition {condition.condition!r} is empty"
            raise Unsupported(msg)
        conditions.append(_condition(tree, rule, preds))
    # Several conditions in one rule are alternatives (Sigma 1.0 allows a list).
    whole = any_of(conditions)
    return CompiledDetection(
        predicate=pl.lit(value=False) if whole.never else whole.expr,
        anchors=frozenset() if whole.never else whole.anchors,
        never=whole.never,
        selections={
            name: pred.expr for name, pred in preds.items() if not name.startswith("_filt_")
        },
        needs=needs,
    )
