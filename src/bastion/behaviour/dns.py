"""DNS tunnelling and DGA scores per (member host, registered domain), in Polars.

A query frame has one row per archived DNS query: ``org``, ``host``, ``qname``
(lower-case, no trailing dot), ``rcode`` and ``ts``. The registered domain is
the last two labels of the name, three under a known second-level suffix
(``nhs.uk``, ``co.uk`` …); the subdomain is what comes before it.

Parts of the score, each 0–1, over the unique subdomains ``u`` a host asked for
under one registered domain in the window:

* ``subdomains`` = min(1, ln(1 + u) / ln(1 + 500));
* ``length`` = min(1, mean subdomain length / 40);
* ``entropy`` = min(1, mean Shannon entropy of a subdomain's characters / 4 bits);
* ``nxdomain`` = share of the queries answered NXDOMAIN.

Total = 0.4·subdomains + 0.2·length + 0.3·entropy + 0.1·nxdomain; pairs with
fewer than ``dns_min_subdomains`` unique subdomains are not scored. ``new_domain``
says the host did not ask for the registered domain in the lookback days (a
domain first seen today); it is shown, not weighed.
"""

from __future__ import annotations

import polars as pl

from bastion.behaviour.config import BehaviourConfig

SECOND_LEVEL = (
    "co.uk", "org.uk", "nhs.uk", "ac.uk", "gov.uk", "net.uk", "ltd.uk", "plc.uk", "me.uk",
    "com.au", "net.au", "org.au", "co.nz", "co.jp", "com.br", "com.cn", "co.in",
)  # fmt: skip
WEIGHTS = {"subdomains": 0.4, "length": 0.2, "entropy": 0.3, "nxdomain": 0.1}
PARTS = [*WEIGHTS, "new_domain"]
PAIR = ["org", "host", "dest"]


def registered_domain(name: pl.Expr) -> pl.Expr:
    """Return the registered domain of a DNS name: two labels, three under a known suffix."""
    labels = name.str.split(".")
    last_two = labels.list.slice(-2, 2).list.join(".")
    last_three = labels.list.slice(-3, 3).list.join(".")
    return pl.when(last_two.is_in(SECOND_LEVEL)).then(last_three).otherwise(last_two)


def subdomain_entropy(names: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Add ``entropy``: the Shannon entropy (bits per character) of each row's ``column``.

    Characters are counted over an exploded frame, never in a Python loop.
    """
    indexed = names.with_row_index("_row")
    chars = (
        indexed.select("_row", pl.col(column).str.split("").alias("_char"))
        .explode("_char", empty_as_null=True)
        .filter(pl.col("_char").is_not_null() & (pl.col("_char") != ""))
        .group_by("_row", "_char")
        .agg(pl.len().alias("_k"))
        .with_columns((pl.col("_k") / pl.col("_k").sum().over("_row")).alias("_p"))
        .group_by("_row")
        .agg((-(pl.col("_p") * pl.col("_p").log(2)).sum()).alias("entropy"))
    )
    return (
        indexed.join(chars, on="_row", how="left")
        .with_columns(pl.col("entropy").fill_null(0.0))
        .drop("_row")
    )


def score_queries(
    queries: pl.LazyFrame, config: BehaviourConfig, known: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """Return one row per (org, host, registered domain) with enough unique subdomains.

    ``known`` lists the (``org``, ``host``, ``dest``) registered domains of the lookback days.
    """
    named = queries.filter(pl.col("qname").is_not_null() & (pl.col("qname") != "")).with_columns(
        registered_domain(pl.col("qname")).alias("dest")
    )
    named = named.with_columns(
        pl.col("qname")
        .str.slice(0, pl.col("qname").str.len_chars() - pl.col("dest").str.len_chars() - 1)
        .alias("sub")
    )
    counted = (
        named.filter(pl.col("sub").str.len_chars() > 0)
        .group_by(PAIR)
        .agg(pl.col("sub").n_unique().alias("u"))
        .filter(pl.col("u") >= config.dns_min_subdomains)
        .select(PAIR)
    )
    busy = named.join(counted, on=PAIR, how="semi")
    unique = subdomain_entropy(
        busy.filter(pl.col("sub").str.len_chars() > 0).select(*PAIR, "sub").unique(), "sub"
    )
    shape = unique.group_by(PAIR).agg(
        pl.len().alias("unique_subdomains"),
        pl.col("sub").str.len_chars().mean().alias("mean_length"),
        pl.col("entropy").mean().alias("mean_entropy"),
    )
    totals = busy.group_by(PAIR).agg(
        pl.len().alias("connections"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        (pl.col("rcode") == "NXDOMAIN").mean().fill_null(0.0).alias("nxdomain"),
        pl.col("remote").drop_nulls().first().alias("remote"),
    )
    scored = totals.join(shape, on=PAIR).with_columns(
        ((pl.col("unique_subdomains") + 1).log() / pl.lit(config.dns_full_subdomains + 1).log())
        .clip(0, 1)
        .alias("subdomains"),
        (pl.col("mean_length") / config.dns_full_length).clip(0, 1).alias("length"),
        (pl.col("mean_entropy") / config.dns_full_entropy).clip(0, 1).alias("entropy"),
    )
    if known is None:
        scored = scored.with_columns(pl.lit(1.0).alias("new_domain"))
    else:
        seen = known.select(PAIR).unique().with_columns(pl.lit(0.0).alias("new_domain"))
        scored = scored.join(seen, on=PAIR, how="left").with_columns(
            pl.col("new_domain").fill_null(1.0)
        )
    total = pl.sum_horizontal(pl.col(n) * w for n, w in WEIGHTS.items())
    return scored.with_columns(total.alias("score"))
