"""``flambeau simulate``'s options: what it refuses before it starts, and what it offers."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flambeau.cli.main import app

runner = CliRunner()


def test_help_lists_the_rehearsal_options() -> None:
    result = runner.invoke(app, ["simulate", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in ("--target", "--key-file", "--status-file", "--state-dir", "--seed", "--day",
                   "--speed", "--rate-multiplier", "--incidents", "--start", "--end",
                   "--duration"):  # fmt: skip
        assert option in result.output


def test_a_key_is_required_once(tmp_path: Path) -> None:
    target = ["simulate", "--target", "http://127.0.0.1:9"]
    missing = runner.invoke(app, target)
    assert missing.exit_code == 2
    assert "API key" in missing.output
    key_file = tmp_path / "sim.key"
    key_file.write_text("fbk_a_b\n")
    both = runner.invoke(app, [*target, "--key", "k", "--key-file", str(key_file)])
    assert both.exit_code == 2
    assert "not both" in both.output
    empty = tmp_path / "empty.key"
    empty.write_text("")
    refused = runner.invoke(app, [*target, "--key-file", str(empty)])
    assert refused.exit_code == 2
    assert "empty" in refused.output


def test_bad_times_days_and_scripts_are_refused_naming_them(tmp_path: Path) -> None:
    base = ["simulate", "--target", "http://127.0.0.1:9", "--key", "k"]
    start = runner.invoke(app, [*base, "--start", "7pm"], terminal_width=200)
    assert start.exit_code == 2
    assert "--start" in start.output
    day = runner.invoke(app, [*base, "--day", "04/08/2024"], terminal_width=200)
    assert day.exit_code == 2
    assert "YYYY-MM-DD" in day.output
    script = tmp_path / "incidents.toml"
    script.write_text('[[incident]]\nat = "18:00"\nkind = "meteor"\n')
    bad = runner.invoke(app, [*base, "--incidents", str(script)], terminal_width=200)
    assert bad.exit_code == 2
    assert "meteor" in bad.output
    speed = runner.invoke(app, [*base, "--speed", "0"], terminal_width=200)
    assert speed.exit_code == 2
