"""``personalize-sim stream``: send a dataset file to a tracker at a controlled rate.

INPUT is a file of any dataset (``.parquet``, ``.csv``, ``.json``/``.jsonl`` rows: events,
items, users, actions or action interactions, as ``generate --datasets`` writes them; the
dataset is read from its columns or given with ``--dataset``; items, users and actions
need ``--dataset-group-arn``, except with ``--local``) or a JSONL file of request bodies
(what ``--dry-run`` writes), so a dry run can be replayed. Exactly one destination:
``--endpoint-url URL``, ``--local`` (a local tracker emulator for the run), ``--profile NAME
--region R`` (real AWS), or ``--dry-run FILE``.

Exit status: 0 only when every event was delivered; 1 when some were dead-lettered, left
pending or rejected, or the delivery log could not be written; 2 for bad input or settings,
including an output path (``--log``, ``--dry-run``, ``--checkpoint``) that cannot be written
or a checkpoint of another input (nothing was sent).

SIGTERM is handled like Ctrl-C: nothing more is sent, requests on the wire finish, the
checkpoint is flushed, the summary is printed (then the log written) and the ``--local``
tracker and its temporary folder are removed. A second signal stops waiting for the wire.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from personalize_sim.errors import ConfigError, PersonalizeSimError
from personalize_sim.payloads.internal import DATASET_OPERATIONS

from ._failures import UsageError
from ._inputs import events_path, json_line, parquet_parts, read_file
from ._outputs import output_file

__all__ = ["add_arguments", "run"]

#: the dataset group a --local run puts items, users and actions in
LOCAL_GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/local"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="a dataset file, or JSONL of request bodies")
    parser.add_argument("--tracking-id", help="the event tracker's tracking id")
    parser.add_argument(
        "--dataset", choices=tuple(DATASET_OPERATIONS), help="what INPUT holds (default: columns)"
    )
    parser.add_argument(
        "--dataset-group-arn", metavar="ARN",
        help="the dataset group of items, users and actions (--local, --dry-run: a local one)",
    )  # fmt: skip
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint-url", metavar="URL", help="send to this PutEvents endpoint")
    where.add_argument(
        "--local", action="store_true", help="start a local tracker emulator for this run"
    )
    where.add_argument("--profile", metavar="NAME", help="AWS profile (real AWS; with --region)")
    where.add_argument("--dry-run", metavar="FILE", help="write request bodies to FILE (JSONL)")
    parser.add_argument("--region", metavar="R", help="AWS region (default: from the profile/env)")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="target rate per second (default 100)"
    )
    parser.add_argument(
        "--per", choices=("requests", "events"), default="requests", help="unit of --rate"
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument(
        "--ramp", nargs=2, type=float, metavar=("TO", "SECONDS"), help="ramp from --rate to TO"
    )
    shape.add_argument(
        "--steps", metavar="R:S,R:S", help="piecewise rates, e.g. 100:10,500:30,1000:60"
    )
    shape.add_argument("--poisson", action="store_true", help="Poisson arrivals at --rate")
    shape.add_argument(
        "--replay", type=float, metavar="SPEEDUP", help="replay event times, SPEEDUP× faster"
    )
    parser.add_argument(
        "--transport",
        choices=("boto3", "fast", "crt", "aiohttp"),
        default="boto3",
        help="boto3 client (default); fast: the fastest signed transport installed (crt if "
        "awscrt is, else aiohttp); crt: native, on awscrt (personalize-sim[crt]); aiohttp",
    )
    parser.add_argument(
        "--max-in-flight", type=int, default=64, help="requests on the wire at once"
    )
    parser.add_argument(
        "--max-lag",
        type=float,
        default=1.0,
        help="seconds behind schedule before sends count as missed",
    )
    parser.add_argument(
        "--connections", type=int, default=None, metavar="N",
        help="the transport's connections (fast, default 64) or threads (boto3, default 16)",
    )  # fmt: skip
    parser.add_argument(
        "--max-attempts", type=int, default=None,
        help="cap on attempts per request (default: none, retry until --retry-deadline)",
    )  # fmt: skip
    parser.add_argument(
        "--retry-deadline", type=float, default=120.0,
        help="seconds after a request's intended send to keep retrying (default 120)",
    )  # fmt: skip
    parser.add_argument(
        "--retry-mode", choices=("standard", "adaptive"), default="standard",
        help="adaptive: slow the send rate while the tracker throttles, then probe back up",
    )  # fmt: skip
    parser.add_argument("--checkpoint", metavar="PATH", help="resume file of delivered requests")
    parser.add_argument("--processes", type=int, default=1, help="sender processes (default 1)")
    parser.add_argument(
        "--skip-invalid", action="store_true", help="report invalid rows and send the rest"
    )
    parser.add_argument(
        "--time-unit",
        choices=("s", "ms", "us", "ns"),
        help="unit of numeric TIMESTAMP values (default: the one their size says, s for 1.7e9)",
    )
    parser.add_argument("--log", metavar="FILE", help="write the delivery log (.parquet or .csv)")
    parser.add_argument("--seed", type=int, default=None, help="seed of jitter and Poisson gaps")
    parser.add_argument("--local-max-tps", type=float, default=1000.0, help="--local quota")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


#: Python names of settings whose flag is not simply ``--name-with-dashes``
FLAGS = {
    "deadline": "--retry-deadline",
    "mode": "--retry-mode",
    "speedup": "--replay",
    "invalid": "--skip-invalid",
    "threads": "--connections",
}


def run(args: argparse.Namespace) -> int:
    _check_outputs(args)
    args.input_notes = []  # what reading the input assumed, printed with the summary
    source, tracking_id = _read_input(args, args.input_notes)
    schedule = _schedule(args)
    settings = _settings(args)  # checked before a local tracker starts or anything is sent
    with _sigterm_as_interrupt():
        try:
            if args.local:
                return _stream_to_local_tracker(args, source, tracking_id, schedule, settings)
            return _stream(args, source, tracking_id, schedule, _target(args), settings)
        except KeyboardInterrupt:  # before the first send: there is nothing to summarise
            print("personalize-sim stream: interrupted before sending", file=sys.stderr)
            return 1


class _Terminated(KeyboardInterrupt):
    """SIGTERM, taken down the same path as Ctrl-C."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Terminated` in the main thread while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; a caller elsewhere keeps its own handling
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse output paths that cannot be written, or that would overwrite the input."""
    outputs = {"--log": args.log, "--dry-run": args.dry_run, "--checkpoint": args.checkpoint}
    seen: dict[Path, str] = {}
    for flag, name in outputs.items():
        if not name:
            continue
        path = output_file(flag, name, inputs=[args.input])
        key = path.resolve()
        if key in seen and (path.is_file() or not path.exists()):  # two streams into a pipe: ok
            raise UsageError(f"{flag} and {seen[key]} name the same file {name}")
        seen[key] = flag


def _target(args: argparse.Namespace) -> Any:
    """Where to send, from --dry-run, --transport, --endpoint-url, --profile and --region."""
    from personalize_sim.streaming import Boto3Target, JsonlTarget

    if args.dry_run:
        return JsonlTarget(args.dry_run)
    # a custom endpoint (an emulator) still needs a region to sign for
    region = args.region or ("us-east-1" if args.endpoint_url else None)
    where = {"endpoint_url": args.endpoint_url, "region": region, "profile": args.profile}
    if args.transport != "boto3":
        return _signed(args.transport, **where, **_pool(args, "connections"))
    return Boto3Target(**where, **_pool(args, "threads"))


def _signed(transport: str, **settings: Any) -> Any:
    """The signed transport --transport names: fast (crt when installed), crt or aiohttp."""
    from personalize_sim.streaming import CrtTarget, FastTarget
    from personalize_sim.streaming.internal import fast_target

    make: dict[str, Any] = {"fast": fast_target, "crt": CrtTarget, "aiohttp": FastTarget}
    return make[transport](**settings)


def _pool(args: argparse.Namespace, name: str) -> dict[str, Any]:
    return {} if args.connections is None else {name: args.connections}


def _stream_to_local_tracker(
    args: argparse.Namespace,
    source: Any,
    tracking_id: str | None,
    schedule: Any,
    settings: dict[str, Any],
) -> int:
    from personalize_sim.streaming import Boto3Target
    from personalize_sim.tracker import LocalTracker

    with LocalTracker(max_tps=args.local_max_tps or None, process=True) as tracker:
        print(f"local tracker at {tracker.endpoint_url}", file=sys.stderr)
        if args.transport != "boto3":
            config = tracker.config
            target: Any = _signed(
                args.transport,
                endpoint_url=tracker.endpoint_url, region="us-east-1",
                access_key_id=config.access_key_id, secret_access_key=config.secret_access_key,
                **_pool(args, "connections"),
            )  # fmt: skip
        else:  # the stream retries, and logs each attempt
            threads = 16 if args.connections is None else args.connections
            client = tracker.client(retries={"total_max_attempts": 1}, max_pool_connections=threads)
            target = Boto3Target(client, threads=threads)
        code = _stream(args, source, tracking_id or tracker.tracking_id, schedule, target, settings)
        stats = tracker.stats()
        stored = ", ".join(
            f"{stats.get('accepted_' + name, 0)} {name.replace('_', ' ')}"
            for name in ("events", "items", "users", "actions", "action_interactions")
            if stats.get("accepted_" + name) or name == "events"
        )
        duplicates = stats.get("duplicates", 0) + stats.get("action_interaction_duplicates", 0)
        print(f"local tracker: {stored} stored, {duplicates} duplicates ignored", file=sys.stderr)
        return code


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The stream's retry, pacing and conversion settings from the flags."""
    from personalize_sim.streaming import Conversion, Pacing, RetryPolicy

    if args.connections is not None and args.connections < 1:  # as every transport says
        raise ConfigError("connections", args.connections, "an integer >= 1")
    return {
        "retry": RetryPolicy(
            max_attempts=args.max_attempts, deadline=args.retry_deadline, mode=args.retry_mode
        ),
        "pacing": Pacing(max_in_flight=args.max_in_flight, max_lag=args.max_lag),
        "conversion": Conversion(
            invalid="skip" if args.skip_invalid else "raise",
            time_unit=args.time_unit,
            dataset=args.dataset,
            dataset_group_arn=args.dataset_group_arn
            or (LOCAL_GROUP if args.local or args.dry_run else None),
        ),
    }


def _stream(
    args: argparse.Namespace,
    source: Any,
    tracking_id: str | None,
    schedule: Any,
    target: Any,
    settings: dict[str, Any],
) -> int:
    from personalize_sim import stream

    from ._report import describe, progress

    handle = stream(
        source, rate=schedule, tracking_id=tracking_id, target=target, **settings,
        checkpoint=args.checkpoint, processes=args.processes, rng=args.seed, wait=False,
    )  # fmt: skip
    try:
        progress(handle, enabled=not args.no_progress)
    except KeyboardInterrupt as e:
        why = "terminated" if isinstance(e, _Terminated) else "interrupted"
        print(f"{why}: stopping, finishing requests on the wire…", file=sys.stderr)
        handle.stop()
    try:
        summary = handle.wait()
    except KeyboardInterrupt:  # a second signal: stop waiting for the wire, keep the record
        print("stopped waiting for requests on the wire; they count as pending", file=sys.stderr)
        summary = handle.summary
    except PersonalizeSimError:  # the run ended early: its record, then main's one line
        print(json.dumps(handle.summary.to_dict()), flush=True)
        raise
    print("\n".join(describe(summary)), file=sys.stderr)
    for note in args.input_notes:
        print(f"note: {note}", file=sys.stderr)
    print(json.dumps(summary.to_dict()), flush=True)
    code = 0 if summary.complete else 1
    if args.log:
        try:  # a batch at a time (bounded memory)
            handle.delivery_log.write(args.log)
        except (OSError, ValueError) as e:
            print(f"personalize-sim stream: the delivery log could not be written to "
                  f"{args.log}: {e}", file=sys.stderr)  # fmt: skip
            return 1
    return code


def _schedule(args: argparse.Namespace) -> Any:
    from personalize_sim import streaming as schedules

    per = args.per
    if args.ramp:
        return schedules.ramp(args.rate, args.ramp[0], over=args.ramp[1], per=per)
    if args.steps:
        try:
            levels = [tuple(float(x) for x in part.split(":")) for part in args.steps.split(",")]
        except ValueError:
            raise UsageError(f"--steps must look like 100:10,500:30; got {args.steps!r}") from None
        return schedules.steps(levels, per=per)  # type: ignore[arg-type]
    if args.poisson:
        return schedules.poisson(args.rate, per=per, rng=args.seed)
    if args.replay is not None:
        return schedules.replay(args.replay)
    return schedules.constant(args.rate, per=per)


def _read_input(args: argparse.Namespace, notes: list[str]) -> tuple[Any, str | None]:
    """A frame (or frames, one per Parquet part), or the requests of a ``--dry-run`` file;
    ``notes`` receives what the reading assumed, to print with the summary."""
    path = events_path(args.input, "INPUT")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") and path.is_file():
        requests = _requests(path)
        if requests is not None:
            return requests, args.tracking_id
    tracking_id = args.tracking_id or ("dry-run" if args.dry_run else None)

    def events(part: Path) -> Any:
        return _with_sessions(read_file(part, "INPUT", time_unit=args.time_unit), notes)

    def check_tracking_id(frame: Any) -> None:  # items, users and actions carry none
        from personalize_sim.payloads.internal import dataset_type

        records = (args.dataset or dataset_type(frame)) in ("items", "users", "actions")
        if tracking_id is None and not (args.local or records):
            raise ConfigError("tracking_id", None, "the event tracker's id for an events file")

    if path.is_dir():  # part by part: memory stays bounded by one part
        first, *rest = parquet_parts(path, "INPUT")
        head = events(first)
        check_tracking_id(head)
        return itertools.chain([head], map(events, rest)), tracking_id
    frame = events(path)
    check_tracking_id(frame)
    return frame, tracking_id


def _requests(path: Path) -> list[dict[str, Any]] | None:
    """The PutEvents bodies of a ``--dry-run`` file, or None when it holds something else
    (events rows, or what the events reader will refuse with the reason)."""
    with open(path, "rb") as f:
        first = f.readline()
    try:
        head = json.loads(first) if first.strip() else {}
    except ValueError:  # not JSON, or not UTF-8
        return None
    lists = ("eventList", "items", "users", "actions", "actionInteractions")
    if not (isinstance(head, dict) and any(member in head for member in lists)):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return [json_line(path, n, line) for n, line in enumerate(f, 1) if line.strip()]
    except UnicodeDecodeError as e:
        raise UsageError(f"INPUT {path}: not UTF-8 text (at offset {e.start})") from None


def _with_sessions(frame: Any, notes: list[str]) -> Any:
    """An input frame with SESSION_ID, found by inactivity where there is none (a bulk CSV)."""
    from personalize_sim._sessions import DEFAULT_SESSION_GAP, session_ids
    from personalize_sim._timestamps import epoch_us_of

    if "SESSION_ID" not in frame.columns and {"USER_ID", "TIMESTAMP"} <= set(frame.columns):
        stamps = epoch_us_of(frame["TIMESTAMP"], "INPUT: TIMESTAMP")
        frame["SESSION_ID"] = session_ids(frame["USER_ID"].to_numpy(dtype=object), stamps)
        note = (f"no SESSION_ID in the input: a user's session ended after "
                f"{DEFAULT_SESSION_GAP / 60:g} minutes without an event")  # fmt: skip
        if note not in notes:
            notes.append(note)
    return frame
