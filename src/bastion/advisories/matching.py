"""Exposure matching: components against affected ranges, columnar, per distinct version.

Pure functions over Polars frames; no I/O. The same function serves the full
match (every inventory against every advisory) and both incremental ones (a new
inventory against all advisories, a new advisory against all inventories): it
only ever compares the versions of packages that appear on both sides, once per
distinct version, and joins the hits back to the component rows.

Frames:

* components: ``component_id`` (Int64), ``ecosystem``, ``package``, ``version``
  (String, may be null), any other columns are carried through untouched.
* affected: ``affected_id`` and ``vuln_id`` (Int64), ``ecosystem``, ``package``, ``lo``/``hi``
  (String bounds, null for unbounded), ``lo_incl``/``hi_incl`` (Boolean) and
  ``precision``: ``version`` (the bounds decide) or ``product`` (every version of
  the product is affected, as the KEV catalogue lists it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from bastion.advisories.versions import rank_versions

KEY = ["ecosystem", "package"]

COMPONENT_SCHEMA = {
    "component_id": pl.Int64,
    "ecosystem": pl.String,
    "package": pl.String,
    "version": pl.String,
}
AFFECTED_SCHEMA = {
    "affected_id": pl.Int64,
    "vuln_id": pl.Int64,
    "ecosystem": pl.String,
    "package": pl.String,
    "lo": pl.String,
    "lo_incl": pl.Boolean,
    "hi": pl.String,
    "hi_incl": pl.Boolean,
    "precision": pl.String,
}
HITS_SCHEMA = {"component_id": pl.Int64, "affected_id": pl.Int64}


def _rank_table(pairs: pl.DataFrame) -> pl.DataFrame:
    ranks = rank_versions(zip(pairs["ecosystem"], pairs["v"], strict=True))
    return pl.DataFrame(
        {
            "ecosystem": [k[0] for k in ranks],
            "v": [k[1] for k in ranks],
            "rank": list(ranks.values()),
        },
        schema={"ecosystem": pl.String, "v": pl.String, "rank": pl.Float64},
    )


def match(components: pl.DataFrame, affected: pl.DataFrame) -> pl.DataFrame:
    """Return (component_id, affected_id) for every component inside an affected range."""
    if components.is_empty() or affected.is_empty():
        return pl.DataFrame(schema=HITS_SCHEMA)
    affected = affected.select(list(AFFECTED_SCHEMA))
    product = affected.filter(pl.col("precision") == "product")
    ranged = affected.filter(pl.col("precision") != "product")
    parts = []
    if not product.is_empty():
        parts.append(
            components.select("component_id", *KEY)
            .join(product.select("affected_id", *KEY), on=KEY)
            .select("component_id", "affected_id")
        )
    if not ranged.is_empty():
        parts.append(_match_ranges(components, ranged))
    # Product and ranged hits come from disjoint affected rows, and each is unique
    # per (component, affected row): no de-duplication needed.
    return pl.concat(parts) if parts else pl.DataFrame(schema=HITS_SCHEMA)


def _match_ranges(components: pl.DataFrame, ranged: pl.DataFrame) -> pl.DataFrame:
    # Packages that have ranges get a small integer id; components keep only those.
    packages = ranged.select(KEY).unique().with_row_index("pkg", offset=0)
    relevant = (
        components.select("component_id", *KEY, "version")
        .join(packages, on=KEY)
        .select("component_id", "pkg", "version")
    )
    distinct = relevant.select("pkg", "version").drop_nulls().unique()
    if distinct.is_empty():
        return pl.DataFrame(schema=HITS_SCHEMA)
    # Rank only the bounds of packages some component has: a 1,000-component SBOM must
    # not pay for parsing every bound of every advisory.
    held = packages.join(distinct.select("pkg").unique(), on="pkg", how="semi")
    bounds = ranged.join(held, on=KEY)
    distinct = distinct.join(held.select("pkg", "ecosystem"), on="pkg")
    wanted = (
        pl.concat(
            [
                distinct.select("ecosystem", pl.col("version").alias("v")),
                bounds.select("ecosystem", pl.col("lo").alias("v")),
                bounds.select("ecosystem", pl.col("hi").alias("v")),
            ]
        )
        .drop_nulls()
        .unique()
    )
    ranks = _rank_table(wanted)
    versions = distinct.join(
        ranks.rename({"v": "version", "rank": "v_rank"}), on=["ecosystem", "version"], how="left"
    )
    bounds = bounds.join(
        ranks.rename({"v": "lo", "rank": "lo_rank"}), on=["ecosystem", "lo"], how="left"
    ).join(ranks.rename({"v": "hi", "rank": "hi_rank"}), on=["ecosystem", "hi"], how="left")
    v, lo, hi = pl.col("v_rank"), pl.col("lo_rank"), pl.col("hi_rank")
    above = pl.col("lo").is_null() | pl.when(pl.col("lo_incl")).then(v >= lo).otherwise(v > lo)
    below = pl.col("hi").is_null() | pl.when(pl.col("hi_incl")).then(v <= hi).otherwise(v < hi)
    hits = (
        versions.select("pkg", "version", "v_rank")
        .join(
            bounds.select(
                "pkg", "affected_id", "lo", "lo_incl", "hi", "hi_incl", "lo_rank", "hi_rank"
            ),
            on="pkg",
        )
        .filter(v.is_not_null() & above.fill_null(False) & below.fill_null(False))
        .select("pkg", "version", "affected_id")
        # Overlapping ranges of one vulnerability: keep one per distinct version, the
        # lowest affected row, here where rows are few rather than per component.
        .join(bounds.select("affected_id", "vuln_id"), on="affected_id")
        .sort("affected_id")
        .unique(["pkg", "version", "vuln_id"], keep="first", maintain_order=False)
        .select("pkg", "version", "affected_id")
    )
    return relevant.join(hits, on=["pkg", "version"]).select("component_id", "affected_id")


def explain(components: pl.DataFrame, hits: pl.DataFrame, affected: pl.DataFrame) -> pl.DataFrame:
    """Return one hit per (component, vulnerability): component_id, vuln_id, affected_id.

    The affected row is the explanation (its range and source record); joining its
    text is left to the caller, so the millions of rows of a full match stay integers.
    Ranged hits are already one per (distinct version, vulnerability); a component can
    still hit one vulnerability twice only through two package keys (a purl and a CPE)
    or a product-wide and a versioned range, so only those components are
    de-duplicated, a versioned range winning.
    """
    joined = hits.join(
        affected.select(
            "affected_id", "vuln_id", (pl.col("precision") == "product").alias("product")
        ),
        on="affected_id",
    )
    several = components.filter(pl.col("component_id").is_duplicated()).select("component_id")
    product_hit = joined.filter(pl.col("product")).select("component_id")
    doubtful = pl.concat([several, product_hit]).unique()
    if doubtful.is_empty():
        return joined.drop("product")
    clear = joined.join(doubtful, on="component_id", how="anti")
    checked = (
        joined.join(doubtful, on="component_id", how="semi")
        .sort(["product", "affected_id"])
        .unique(["component_id", "vuln_id"], keep="first", maintain_order=False)
    )
    return pl.concat([clear, checked]).drop("product")


@dataclass
class ComponentIndex:
    """Components grouped by package, so one advisory finds its candidates by slicing.

    Rows are sorted by package id; ``offsets[i]:offsets[i+1]`` are package ``i``'s rows.
    Building costs one sort; a lookup costs a dictionary hit per package.
    """

    frame: pl.DataFrame
    package_ids: dict[tuple[str, str], int]
    offsets: np.ndarray

    @classmethod
    def build(cls, components: pl.DataFrame) -> ComponentIndex:
        packages = components.select(KEY).unique(maintain_order=True).with_row_index("pkg_id")
        ordered = components.join(packages, on=KEY).sort("pkg_id")
        ids = ordered["pkg_id"].to_numpy()
        offsets = np.searchsorted(ids, np.arange(len(packages) + 1), side="left")
        mapping = {
            (e, p): int(i)
            for i, e, p in zip(
                packages["pkg_id"], packages["ecosystem"], packages["package"], strict=True
            )
        }
        return cls(ordered.drop("pkg_id"), mapping, offsets)

    def __len__(self) -> int:
        return self.frame.height

    def for_packages(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Return the components of the packages in ``keys`` (columns ecosystem, package)."""
        slices = []
        for ecosystem, package in keys.select(KEY).unique().iter_rows():
            pkg = self.package_ids.get((ecosystem, package))
            if pkg is not None:
                start, end = int(self.offsets[pkg]), int(self.offsets[pkg + 1])
                slices.append(self.frame.slice(start, end - start))
        if not slices:
            return self.frame.clear()
        return pl.concat(slices)

    def match(self, affected: pl.DataFrame) -> pl.DataFrame:
        """Match ``affected`` against the indexed components, touching only its packages."""
        return match(self.for_packages(affected), affected)
