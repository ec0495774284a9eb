"""``personalize-sim demo``: a real tracker process, a real stream, a checked result and a PNG."""

from __future__ import annotations

import re

from personalize_sim.cli import main


def test_demo_streams_checks_and_saves_the_plots(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--seconds", "1.5", "--rate", "40", "--out", str(out), "--seed", "3"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    # --rate × --seconds bounds what is sent: 60 requests at 40/s
    assert re.search(
        r"streaming 60 PutEvents requests \(([\d,]+) events\) at 40 requests/s", printed
    )
    events = int(re.search(r"\((\d[\d,]*) events\) at 40", printed).group(1).replace(",", ""))
    assert f"done: {events:,} of {events:,} events delivered in 60 requests" in printed
    assert re.search(
        r"local tracker emulator running in its own process at http://127\.0\.0\.1:\d+", printed
    )
    assert (
        f"cross-check: the tracker stored {events:,} events, the stream delivered {events:,}: "
        "match; event ids match" in printed
    )
    png = out / "delivery.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"saved to {png}" in printed
    assert printed.rstrip().endswith("done.")


def test_demo_refuses_bad_options_before_starting_anything(tmp_path, capsys):
    assert main(["demo", "--seconds", "0", "--out", str(tmp_path)]) == 2
    assert "--seconds must be > 0, got 0.0" in capsys.readouterr().err
    assert main(["demo", "--rate", "-5", "--out", str(tmp_path)]) == 2
    assert "--rate must be > 0" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    assert "cannot create --out" in capsys.readouterr().err
