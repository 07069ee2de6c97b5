"""``flambeau simulate``: drive a running platform with the Paris 2024 rehearsal.

The simulator is a producer outside the platform: it talks to the gateway at ``--target``
over HTTP and WebSocket with its own API key, as the timing systems, payment switches, gate
counters and betting operators of the Games would. ``flambeau up`` starts it as a subprocess;
run it yourself to drive a platform that is already running (on NATS, say).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

import typer

from flambeau.scenario.driver import Driver, DriverConfig
from flambeau.scenario.errors import InvalidScriptError
from flambeau.scenario.generators.incidents import ScriptEntry, parse_script
from flambeau.scenario.schedule import DEFAULT_DAY


def _key(key: str | None, key_file: Path | None) -> str:
    if key and key_file:
        raise typer.BadParameter("give --key or --key-file, not both")
    if key_file is not None:
        try:
            text = key_file.read_text().strip()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read --key-file {key_file}: {exc}") from None
        if not text:
            raise typer.BadParameter(f"--key-file {key_file} is empty")
        return text
    if not key:
        raise typer.BadParameter("an API key is needed: --key KEY or --key-file FILE")
    return key


def _script(path: Path | None, day: date) -> tuple[ScriptEntry, ...]:
    if path is None:
        return ()
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    try:
        return parse_script(path.read_text(), day=day, fmt=fmt)
    except OSError as exc:
        raise typer.BadParameter(f"cannot read --incidents {path}: {exc}") from None
    except InvalidScriptError as exc:
        raise typer.BadParameter(f"--incidents {path}: {exc}") from None


def _time(option: str, value: str | None) -> time | None:
    if value is None:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option} must be HH:MM (Paris time), got {value!r}") from None


async def _run(config: DriverConfig) -> dict[str, Any]:
    driver = Driver(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, driver.stop)
    return await driver.run()


def _print_report(report: dict[str, Any]) -> None:
    lines = [
        f"rehearsal {report['state']} at Games time {report['sim_time']} ({report['sim_day']})",
        f"  sent {report['sent']:,} events: {report['accepted']:,} accepted, "
        f"{report['duplicates']:,} duplicates, {report['rejected']:,} rejected, "
        f"{report['failed']:,} failed, {report['retries']:,} retries",
        f"  by kind: {json.dumps(report['by_kind'], sort_keys=True)}",
    ]
    if report["rejected_by_kind"]:
        lines.append(
            f"  rejected by kind: {json.dumps(report['rejected_by_kind'], sort_keys=True)}"
        )
    for problem in report["problems"]:
        lines.append(f"  refused: {problem}")
    if report["p99_ms"] is not None:
        lines.append(
            f"  end-to-end latency (last 30 s): p50 {report['p50_ms']} ms, "
            f"p99 {report['p99_ms']} ms over {report['latency_samples']:,} reactions"
        )
    if report["unsendable"] or report["bets_without_odds"] or report["shed"]:
        lines.append(
            f"  not sent: {report['unsendable']:,} results the schemas refuse, "
            f"{report['bets_without_odds']:,} bets with no odds seen, "
            f"{report['shed']:,} purchases and bets shed while the platform was behind"
        )
    lines.append(f"  derived events seen: {json.dumps(report['derived'], sort_keys=True)}")
    if report["ledger_results"]:
        lines.append(f"  ledger results: {json.dumps(report['ledger_results'], sort_keys=True)}")
    if report["bets_refused"]:
        lines.append(f"  bets refused: {json.dumps(report['bets_refused'], sort_keys=True)}")
    lines.extend(f"  {incident}" for incident in report["incidents"])
    sys.stderr.write("\n".join(lines) + "\n")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""

    @app.command("simulate")
    def simulate_command(
        target: Annotated[str, typer.Option(help="The gateway's base URL.")],
        key: Annotated[str | None, typer.Option(help="API key of the simulator.")] = None,
        key_file: Annotated[
            Path | None, typer.Option(help="File holding the API key (mode 0600).")
        ] = None,
        status_file: Annotated[
            Path | None, typer.Option(help="Write a JSON status here every second.")
        ] = None,
        state_dir: Annotated[
            Path | None, typer.Option(help="Keep the resume checkpoint here.")
        ] = None,
        seed: Annotated[int, typer.Option(help="Seed of every generator.")] = 0,
        day: Annotated[
            str, typer.Option(help="First Games day to play (YYYY-MM-DD).")
        ] = DEFAULT_DAY.isoformat(),
        speed: Annotated[
            float, typer.Option(help="Games seconds per wall second (60: an hour a minute).")
        ] = 60.0,
        rate_multiplier: Annotated[
            float, typer.Option(help="Scale payments, bets and gate counters.")
        ] = 1.0,
        incidents: Annotated[
            Path | None, typer.Option(help="Incident script (TOML, or JSON by extension).")
        ] = None,
        random_incidents: Annotated[
            bool, typer.Option(help="Also draw one incident of each kind per day.")
        ] = True,
        start: Annotated[
            str | None, typer.Option(help="Start at this Paris time (HH:MM) on the first day.")
        ] = None,
        end: Annotated[
            str | None, typer.Option(help="Stop at this Paris time (HH:MM) on the first day.")
        ] = None,
        duration: Annotated[
            float | None, typer.Option(help="Games seconds to play (default: to the last day).")
        ] = None,
        last_day: Annotated[
            str, typer.Option(help="Last Games day to play (YYYY-MM-DD).")
        ] = "2024-08-11",
        progress_every: Annotated[
            float, typer.Option(help="Seconds between progress lines (0: none).")
        ] = 10.0,
    ) -> None:
        """Play Paris 2024 Games days against a running gateway, as its producers would.

        It reports achieved rates, refused events and end-to-end latency, and resumes from
        its checkpoint in --state-dir when run again with the same options.
        """
        try:
            first, last = date.fromisoformat(day), date.fromisoformat(last_day)
        except ValueError as exc:
            raise typer.BadParameter(f"--day and --last-day are YYYY-MM-DD: {exc}") from None
        if speed <= 0 or rate_multiplier < 0 or (duration is not None and duration <= 0):
            raise typer.BadParameter("--speed and --duration must be positive, the rate >= 0")
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        config = DriverConfig(
            target=target,
            key=_key(key, key_file),
            seed=seed,
            day=first,
            speed=speed,
            rate_multiplier=rate_multiplier,
            script=_script(incidents, first),
            random_incidents=random_incidents,
            start=_time("--start", start),
            end=_time("--end", end),
            duration=duration,
            last_day=last,
            status_file=status_file,
            state_dir=state_dir,
            progress_every=progress_every,
        )
        _print_report(asyncio.run(_run(config)))
