"""The boundary pipeline: sources through the pure stages, then the sinks.

``boundary.stages.transform`` is the pure part: a chunk's lines and the detector's
correlation state in, events, rejects, alert candidates and the new correlation
state out, all columnar. ``Pipeline`` drives sources through it and commits each batch: archive
and dead-letter files first (idempotent by batch id), then one SQL transaction for
alerts, the correlation state, the batch mark and the checkpoint, then the archive
files are published — so a crash anywhere loses nothing, a rerun doubles nothing,
and readers see only committed batches (see ``boundary.pending``).

The commit itself is ``boundary.commit``; reading a file on from its checkpoint,
``boundary.resume``; what a source's ingest did, ``boundary.source_stats``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from bastion.boundary.attribute import NetworkIndex
from bastion.boundary.checkpoints import batch_done, get_checkpoint, save_checkpoint
from bastion.boundary.commit import commit_segment
from bastion.boundary.compaction import CompactionStats, compact
from bastion.boundary.lines import Lines, split_lines
from bastion.boundary.parsers import ParseContext, Parser, detect_format, get_parser
from bastion.boundary.pending import settle
from bastion.boundary.resume import (
    file_time,
    lines_before,
    numbered,
    other_format,
    prime,
    smaller_self,
)
from bastion.boundary.source_stats import SourceStats
from bastion.boundary.sources import (
    UNREADABLE,
    Chunk,
    compression,
    expand_paths,
    fingerprint,
    follow,
    open_source,
    read_chunks,
    sample_lines,
    unreadable_reason,
)
from bastion.boundary.stages import Transformed, transform
from bastion.core.errors import InputError
from bastion.core.settings import Settings, time_zone
from bastion.detect import CorrelationState, Detector
from bastion.intel import (
    MatchIndex,
    active_indicator_frame,
    indicator_frame,
    load_indicator_file,
    refresh_index,
)
from bastion.orgs import all_networks, get_organisation
from bastion.store import Store

# Hits on the same indicator by the same host of the same organisation within a day
# are one alert with a count: an analyst triages the beacon, not each of its packets.
ALERT_WINDOW = timedelta(hours=24)


@dataclass(eq=False)
class Pipeline:
    """Runs sources through ``transform`` and commits each batch to the sinks.

    ``detector_state`` is the correlation state after the last batch it committed.
    """

    store: Store
    _: KW_ONLY
    archive_root: Path
    deadletter_root: Path
    networks: NetworkIndex
    index: MatchIndex
    window: timedelta = ALERT_WINDOW
    default_org: str | None = None
    segment_bytes: int = Settings().ingest_segment_bytes
    chunk_bytes: int = Settings().ingest_chunk_bytes
    compact_after: timedelta = timedelta(hours=Settings().archive_compact_after_hours)
    detector: Detector | None = None
    detector_state: CorrelationState = field(default_factory=CorrelationState)
    timezone: str = "UTC"  # of device times without an offset (ParseContext.timezone)
    group_window: timedelta = field(
        init=False, default_factory=lambda: Settings().alert_group_window
    )
    # set by ``open``: the store's indicators, caught up with between batches
    live: LiveIndicators | None = field(init=False, default=None)

    @classmethod
    def open(
        cls,
        store: Store,
        settings: Settings,
        *,
        indicator_files: Iterable[Path] = (),
        window: timedelta = ALERT_WINDOW,
        default_org: str | None = None,
        timezone: str | None = None,
    ) -> Pipeline:
        """Build the pipeline from the federation's networks and the active indicators.

        Indicators from ``indicator_files`` (CSV or JSON) are matched as well as those stored.
        ``timezone`` (an IANA name; default the ``boundary_timezone`` setting) is the zone
        of the sources' device times that carry no offset.
        """
        try:
            zone = time_zone(settings.boundary_timezone if timezone is None else timezone)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        with store.session() as session:
            if default_org is not None:
                default_org = get_organisation(session, default_org).code
            networks = NetworkIndex.build(all_networks(session))
            opened = datetime.now(UTC)
            stored = active_indicator_frame(session, opened)
            # a pipeline for one organisation's logs keeps its own correlation windows
            partition = f"org:{default_org}" if default_org else "default"
            detector = Detector.open(session, settings, partition=partition)
            detector_state = detector.load_state(session)
        from_files = [i for path in indicator_files for i in load_indicator_file(path)]
        pipeline = cls(
            store,
            archive_root=settings.archive_dir,
            deadletter_root=settings.data_dir / "deadletter",
            networks=networks,
            index=MatchIndex.from_frame(pl.concat([stored, indicator_frame(from_files)])),
            window=window,
            default_org=default_org,
            segment_bytes=settings.ingest_segment_bytes,
            chunk_bytes=settings.ingest_chunk_bytes,
            compact_after=timedelta(hours=settings.archive_compact_after_hours),
            detector=detector,
            detector_state=detector_state,
            timezone=zone,
        )
        if not from_files:  # indicators from files are fixed for the run; the store's are live
            pipeline.live = LiveIndicators(opened, settings.intel_refresh_seconds)
        pipeline.group_window = settings.alert_group_window
        pipeline.settle_pending()
        return pipeline

    def settle_pending(self) -> None:
        """Publish batches a crash left committed but unpublished; drop old uncommitted ones."""
        with self.store.session() as session:
            settle(
                self.archive_root,
                committed=lambda batch: batch_done(session, batch),
                now=datetime.now(UTC),
            )

    def refresh_indicators(self, *, force: bool = False) -> None:
        """Pick up indicators changed in the store since the last look (every few seconds).

        Called between batches: a feed's update goes live in a running ingest, listener or
        worker without a restart, compiled incrementally rather than rebuilt.
        """
        live = self.live
        if live is None or not (force or live.due()):
            return
        with self.store.session() as session:
            self.index, live.mark = refresh_index(
                session, self.index, live.mark, now=datetime.now(UTC)
            )
        live.looked()

    def ingest_file(
        self, path: Path, fmt: str | None = None, *, stats: SourceStats | None = None
    ) -> SourceStats:
        """Ingest one file from where its checkpoint says; a finished file is skipped.

        A file is read in the format it was first read in: asked for another, it is
        refused (status ``refused``, ``reason`` saying how to read it again).

        ``stats``, when given, is filled as the file is read, so a caller still has what
        was committed when reading fails partway.
        """
        started = time.perf_counter()
        key = fingerprint(path)
        with self.store.session() as session:
            checkpoint = get_checkpoint(session, key) or smaller_self(session, path)
        if checkpoint is not None and not fmt:
            fmt = checkpoint.format  # a source is read on as it was first read
        parser = get_parser(fmt) if fmt else detect_format(sample_lines(path), str(path))
        stats = stats if stats is not None else SourceStats(str(path), parser.name)
        stats.format = parser.name
        if checkpoint is not None and checkpoint.format != parser.name:
            stats.status, stats.reason = "refused", other_format(checkpoint, parser.name)
            return stats
        if checkpoint is not None:
            key = checkpoint.key
        start = 0
        if checkpoint is not None:
            grown = compression(path) == "none" and path.stat().st_size > checkpoint.offset
            if checkpoint.done and not grown:
                stats.status = "already ingested"
                return stats
            start, stats.status = checkpoint.offset, "resumed"
        written = file_time(path)
        ctx = ParseContext(
            source=str(path), default_year=written.year, received=written, timezone=self.timezone
        )
        first_line = 1
        if start:
            prime(parser, ctx, path)
            first_line = lines_before(path, start) + 1
        with open_source(path) as stream:
            chunks = numbered(
                read_chunks(stream, start=start, chunk_size=self.chunk_bytes), first_line
            )
            self._run(chunks, parser, ctx, key, stats)
        with self.store.session() as session:
            save_checkpoint(
                session,
                key,
                path=str(path),
                format=parser.name,
                offset=start + stats.bytes,
                size=start + stats.bytes,
                done=True,
            )
        stats.seconds = time.perf_counter() - started
        return stats

    def follow_file(
        self,
        path: Path,
        fmt: str,
        *,
        poll: float = 0.5,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SourceStats:
        """Ingest ``path`` as it grows, like ``tail -F``, until ``should_stop`` says so.

        Each file behind the name (a rotation brings a new one) is its own source,
        keyed by path and inode, so a restart resumes it from its checkpoint.
        """
        started = time.perf_counter()
        parser = get_parser(fmt)
        stats = SourceStats(str(path), parser.name)
        ctx = self._context(str(path))

        def key() -> str:
            return (
                "follow-"
                + hashlib.sha256(f"{path.resolve()}:{path.stat().st_ino}".encode()).hexdigest()[:32]
            )

        current, generation = key() if path.exists() else "", 0
        start = 0
        if current:
            with self.store.session() as session:
                checkpoint = get_checkpoint(session, current)
            start = checkpoint.offset if checkpoint else 0
        for gen, chunk in follow(path, start=start, poll=poll, should_stop=should_stop):
            if gen != generation or not current:
                generation, current = gen, key()
                ctx = self._context(str(path))
            lines = split_lines(chunk.data, chunk.offset)
            self.process_chunk(chunk, lines, parser, ctx, current, stats)
        stats.seconds = time.perf_counter() - started
        return stats

    def compact(self, *, every_day: bool = False) -> CompactionStats:
        """Move committed staged batches into their organisations' archive partitions.

        Only days that ended ``compact_after`` ago, unless ``every_day``: today's
        events stay staged (and hunted there) until the day is over.
        """
        closed_before = None if every_day else datetime.now(UTC) - self.compact_after
        with self.store.session() as session:
            return compact(
                self.archive_root,
                committed=lambda batch: batch_done(session, batch),
                closed_before=closed_before,
            )

    def ingest_paths(self, paths: Iterable[Path], fmt: str | None = None) -> list[SourceStats]:
        """Ingest files and directories (recursively), one source each.

        A file that cannot be read — its format not told, no permission, corrupt
        compression — does not stop the others: its stats say ``skipped`` and why; nor does
        one read before as another format (``refused``). What
        such a file gave before failing partway stays committed, and a rerun resumes it.
        """
        if fmt is not None:
            get_parser(fmt)  # an unknown format is the caller's mistake, not the files'
        return [self._ingest_or_skip(path, fmt) for path in expand_paths(paths)]

    def _ingest_or_skip(self, path: Path, fmt: str | None) -> SourceStats:
        stats = SourceStats(str(path), fmt or "-")
        try:
            return self.ingest_file(path, fmt, stats=stats)
        except UNREADABLE as exc:
            stats.status = "skipped"
            stats.reason = unreadable_reason(exc, path, stats.bytes)
            return stats

    def ingest_chunks(
        self, chunks: Iterable[Chunk], *, source: str, key: str, fmt: str
    ) -> SourceStats:
        """Ingest a stream (stdin, a followed file, a listener) that has no resumable size."""
        started = time.perf_counter()
        parser = get_parser(fmt)
        stats = SourceStats(source, parser.name)
        ctx = self._context(source)
        # A stream commits every chunk as it comes: its lines should not wait for more.
        self._run(numbered(chunks), parser, ctx, key, stats, segment_bytes=0)
        stats.seconds = time.perf_counter() - started
        return stats

    def _context(self, source: str) -> ParseContext:
        """Return a new source's parse context: this year, this pipeline's time zone."""
        return ParseContext(
            source=source, default_year=datetime.now(UTC).year, timezone=self.timezone
        )

    def _run(
        self,
        chunks: Iterator[tuple[int, Chunk]],
        parser: Parser,
        ctx: ParseContext,
        key: str,
        stats: SourceStats,
        segment_bytes: int | None = None,
    ) -> None:
        limit = self.segment_bytes if segment_bytes is None else segment_bytes
        segment: list[tuple[Chunk, Transformed]] = []
        for first_line, chunk in chunks:
            lines = split_lines(chunk.data, chunk.offset)
            # a segment's chunks chain their state; a new segment starts from the committed one
            state = segment[-1][1].state if segment else self.detector_state
            segment.append((chunk, self._transform(lines, parser, ctx, first_line, state)))
            if sum(len(c.data) for c, _ in segment) >= limit:
                self._commit(segment, parser, key, stats)
                segment = []
        if segment:
            self._commit(segment, parser, key, stats)

    def _transform(
        self,
        lines: Lines,
        parser: Parser,
        ctx: ParseContext,
        first_line: int | None,
        state: CorrelationState,
    ) -> Transformed:
        self.refresh_indicators()
        return transform(
            lines,
            parser,
            ctx,
            networks=self.networks,
            index=self.index,
            first_line=first_line,
            default_org=self.default_org,
            detector=self.detector,
            state=state,
        )

    def process_chunk(
        self,
        chunk: Chunk,
        lines: Lines,
        parser: Parser,
        ctx: ParseContext,
        key: str,
        stats: SourceStats,
        *,
        first_line: int | None = None,
    ) -> None:
        """Transform one chunk and commit it at once (a stream's chunk, a queued message)."""
        result = self._transform(lines, parser, ctx, first_line, self.detector_state)
        self._commit([(chunk, result)], parser, key, stats)

    def _commit(
        self,
        segment: list[tuple[Chunk, Transformed]],
        parser: Parser,
        key: str,
        stats: SourceStats,
    ) -> None:
        """Commit consecutive chunks as one batch (see ``boundary.commit.commit_segment``)."""
        commit_segment(self, segment, parser, key, stats)


@dataclass
class LiveIndicators:
    """When a pipeline last caught up with the store's indicators, and how often it looks."""

    mark: datetime  # changes after this are not in the index yet
    every_seconds: float
    last_look: float = field(default_factory=time.monotonic)

    def due(self) -> bool:
        return time.monotonic() - self.last_look >= self.every_seconds

    def looked(self) -> None:
        self.last_look = time.monotonic()
