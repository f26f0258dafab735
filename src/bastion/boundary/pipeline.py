"""The boundary pipeline: sources through the pure stages, then the sinks.

``boundary.stages.transform`` is the pure part: a chunk's lines and the detector's
correlation state in, events, rejects, alert candidates and the new correlation
state out, all columnar. ``Pipeline`` drives sources through it and commits each batch: archive
and dead-letter files first (idempotent by batch id), then one SQL transaction for
alerts, the correlation state, the batch mark and the checkpoint, then the archive
files are published — so a crash anywhere loses nothing, a rerun doubles nothing,
and readers see only committed batches (see ``boundary.pending``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from bastion.alerts import record_alerts
from bastion.boundary.archive import publish, stage_batch
from bastion.boundary.attribute import NetworkIndex
from bastion.boundary.checkpoints import (
    Checkpoint,
    batch_done,
    get_checkpoint,
    list_sources,
    mark_batch,
    save_checkpoint,
)
from bastion.boundary.compaction import CompactionStats, compact
from bastion.boundary.crashpoints import crash_point
from bastion.boundary.deadletter import write_rejects
from bastion.boundary.lines import Lines, count_lines, split_lines
from bastion.boundary.parsers import ParseContext, Parser, detect_format, get_parser
from bastion.boundary.pending import pending_files, settle
from bastion.boundary.sources import (
    FINGERPRINT_BYTES,
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
from bastion.core.errors import ConflictError, InputError
from bastion.core.settings import Settings, time_zone
from bastion.detect import CorrelationState, Detector
from bastion.intel import (
    MatchIndex,
    active_indicator_frame,
    indicator_frame,
    load_indicator_file,
    refresh_index,
)
from bastion.intel.sightings import record_sightings
from bastion.orgs import all_networks, get_organisation
from bastion.store import Store

# Hits on the same indicator by the same host of the same organisation within a day
# are one alert with a count: an analyst triages the beacon, not each of its packets.
ALERT_WINDOW = timedelta(hours=24)


@dataclass
class SourceStats:
    """What ingesting one source did.

    Every line read is counted once: ``lines == events + rejects + blank``, where
    ``blank`` counts blank lines and a format's header lines (Zeek's ``#`` lines). A
    source that could not be read at all has status ``skipped``, one read before as another
    format ``refused``; each says why in ``reason``.
    """

    source: str
    format: str
    status: str = "ingested"  # ingested | resumed | already ingested | refused | skipped
    lines: int = 0
    events: int = 0
    rejects: int = 0
    blank: int = 0
    matches: int = 0
    unattributed_matches: int = 0
    alerts_created: int = 0
    alerts_extended: int = 0
    batches: int = 0
    batches_already_done: int = 0
    bytes: int = 0
    seconds: float = 0.0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  # why a skipped source could not be read, or a refused one was not


class Pipeline:
    """Runs sources through ``transform`` and commits each batch to the sinks.

    ``detector_state`` is the correlation state after the last batch it committed.
    """

    def __init__(
        self,
        store: Store,
        *,
        archive_root: Path,
        deadletter_root: Path,
        networks: NetworkIndex,
        index: MatchIndex,
        window: timedelta = ALERT_WINDOW,
        default_org: str | None = None,
        segment_bytes: int = Settings().ingest_segment_bytes,
        chunk_bytes: int = Settings().ingest_chunk_bytes,
        compact_after: timedelta = timedelta(hours=Settings().archive_compact_after_hours),
        detector: Detector | None = None,
        detector_state: CorrelationState | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.detector = detector
        self.timezone = timezone  # of device times without an offset (ParseContext.timezone)
        self.detector_state = CorrelationState() if detector_state is None else detector_state
        self.store = store
        self.compact_after = compact_after
        self.segment_bytes = segment_bytes
        self.chunk_bytes = chunk_bytes
        self.default_org = default_org
        self.archive_root = archive_root
        self.deadletter_root = deadletter_root
        self.networks = networks
        self.index = index
        self.window = window
        self.group_window = Settings().alert_group_window
        self.live: LiveIndicators | None = None  # set by ``open``: the store's indicators

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
            checkpoint = get_checkpoint(session, key) or _smaller_self(session, path)
        if checkpoint is not None and not fmt:
            fmt = checkpoint.format  # a source is read on as it was first read
        parser = get_parser(fmt) if fmt else detect_format(sample_lines(path), str(path))
        stats = stats if stats is not None else SourceStats(str(path), parser.name)
        stats.format = parser.name
        if checkpoint is not None and checkpoint.format != parser.name:
            stats.status, stats.reason = "refused", _other_format(checkpoint, parser.name)
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
        written = _file_time(path)
        ctx = ParseContext(
            source=str(path), default_year=written.year, received=written, timezone=self.timezone
        )
        first_line = 1
        if start:
            _prime(parser, ctx, path)
            first_line = _lines_before(path, start) + 1
        with open_source(path) as stream:
            chunks = _numbered(
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
        self._run(_numbered(chunks), parser, ctx, key, stats, segment_bytes=0)
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
        """Commit consecutive chunks as one batch: files first, then one SQL transaction.

        A file per organisation per day costs the same whether it holds ten events or
        ten thousand, so a file's chunks are committed together in segments. Where
        a segment starts and ends depends only on where it starts, so a rerun after
        a crash rewrites the same files and counts a batch already committed once.

        The correlation state is threaded, never changed in place: a segment's first
        chunk is transformed from ``detector_state`` (the state after the last committed
        batch), each later one from its predecessor's, and the next segment only after
        this commit. The segment's last state is saved in the batch's transaction and
        becomes ``detector_state`` once that has committed; a batch committed already
        (a redelivery, another worker's commit) just drops it, so each batch counts once
        whatever crashed where, with no special case and nothing read back from SQL.
        """
        results = [result for _, result in segment]
        events = pl.concat([r.events for r in results])
        rejects = pl.concat([r.rejects for r in results])
        batch_id = batch_id_for(key, segment[0][0].offset)
        crash_point("after-parse")
        with self.store.session() as session:
            done = batch_done(session, batch_id)
        # A batch committed already (redelivered) is not written again: it may be compacted
        # since. Its files are published below, in case its writer died before publishing.
        pending = (
            pending_files(self.archive_root, batch_id)
            if done
            else stage_batch(events, self.archive_root, batch_id)
        )
        write_rejects(rejects, self.deadletter_root, batch_id)
        crash_point("after-write")
        state = segment[-1][1].state
        committed = False
        try:
            with self.store.session() as session:
                if batch_done(session, batch_id):
                    stats.batches_already_done += 1
                else:
                    mark_batch(
                        session,
                        batch_id,
                        source_key=key,
                        events=events.height,
                        rejects=rejects.height,
                    )
                    candidates = pl.concat([r.candidates for r in results])
                    alerts = record_alerts(
                        session, candidates, window=self.window, group_window=self.group_window
                    )
                    record_sightings(session, candidates)
                    stats.alerts_created += alerts.created
                    stats.alerts_extended += alerts.extended
                    if self.detector is not None:
                        self.detector.save_state(session, state)
                    committed = True
                save_checkpoint(
                    session,
                    key,
                    path=stats.source,
                    format=parser.name,
                    offset=segment[-1][0].end,
                    size=None,
                    done=False,
                )
        except ConflictError:
            # Another worker committed this very batch a moment ago: it counts once, there.
            stats.batches_already_done += 1
            committed = False
        if committed:
            self.detector_state = state
        crash_point("after-commit")
        publish(pending)
        stats.batches += 1
        stats.bytes += sum(len(chunk.data) for chunk, _ in segment)
        stats.lines += sum(r.lines for r in results)
        stats.events += events.height
        stats.rejects += rejects.height
        stats.blank += sum(r.blank for r in results)
        stats.matches += sum(r.matches for r in results)
        stats.unattributed_matches += sum(r.unattributed for r in results)
        for reason, count in rejects.get_column("reason").value_counts().iter_rows():
            stats.reject_reasons[reason] = stats.reject_reasons.get(reason, 0) + count


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


def batch_id_for(key: str, offset: int) -> str:
    """Name the batch that starts at ``offset`` of source ``key``: the same chunk, the same id."""
    return f"{key[:24]}-{offset:013d}"


def _numbered(chunks: Iterable[Chunk], line: int = 1) -> Iterator[tuple[int, Chunk]]:
    """Pair each chunk with the line number its first line has in the source."""
    for chunk in chunks:
        yield line, chunk
        line += count_lines(chunk.data) + (0 if chunk.data.endswith(b"\n") else 1)


def _smaller_self(session: Session, path: Path) -> Checkpoint | None:
    """Find this file's checkpoint from when it was shorter than its fingerprint.

    A file under 4 KiB is known by all of its content, so once it grows its
    fingerprint changes; its earlier self is the checkpoint of the same path whose
    key is the fingerprint of the bytes it had then.
    """
    earlier = (
        known
        for known in list_sources(session)
        if known.path == str(path) and known.offset < FINGERPRINT_BYTES
    )
    return next((known for known in earlier if fingerprint(path, known.offset) == known.key), None)


def _other_format(checkpoint: Checkpoint, fmt: str) -> str:
    """Say in one line why a source read as one format is not read again as ``fmt``."""
    how = "already ingested" if checkpoint.done else "partly ingested"
    return (
        f"{how} as {checkpoint.format} on {checkpoint.updated_at:%Y-%m-%d}; to read it again "
        f"as {fmt}, forget it first: `bastion boundary forget {checkpoint.key}`"
    )


def _lines_before(path: Path, offset: int) -> int:
    """Count the lines in the first ``offset`` bytes of a source (to number a resumed run's lines)."""
    count = 0
    with open_source(path) as stream:
        while offset > 0:
            block = stream.read(min(offset, 8 << 20))
            if not block:
                break
            count += count_lines(block)
            offset -= len(block)
    return count


def _file_time(path: Path) -> datetime:
    """Return when ``path`` was last written: its syslog dates without a year are before."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def header_lines(path: Path) -> list[str]:
    """Return a source's leading ``#`` header lines (Zeek ``#fields`` and the like)."""
    header = []
    for line in sample_lines(path, 64):
        if not line.startswith("#"):
            break
        header.append(line)
    return header


def _prime(parser: Parser, ctx: ParseContext, path: Path) -> None:
    """Feed a resumed parser the header lines its format needs to read later lines."""
    header = header_lines(path)
    if header:
        parser.parse(pl.Series("line", header, dtype=pl.String), ctx)
