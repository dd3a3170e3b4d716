"""`saga prove`: the long proof under faults, with live progress and a report table."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from saga.cli.output import make_console

if TYPE_CHECKING:
    # Imported when the command runs, so `saga --help` stays fast.
    from saga.proof.report import ProofReport
    from saga.proof.run import Progress as ProofProgress
    from saga.proof.run import ProofConfig

console = make_console()


def prove_command(
    minutes: Annotated[float, typer.Option(help="How long the load and faults last.")] = 5.0,
    order_rate: Annotated[float, typer.Option(help="Orders submitted per second.")] = 4.0,
    balance_rate: Annotated[float, typer.Option(help="Balance gRPC calls per second.")] = 40.0,
    fault_interval: Annotated[
        float, typer.Option(help="Seconds between two SIGKILLs (jittered by 30%).")
    ] = 10.0,
    targets: Annotated[
        str,
        typer.Option(help="Comma-separated parts to kill (services and temporal/postgres/valkey)."),
    ] = "worker,edge,relay,gateway,temporal,postgres,valkey",
    seed: Annotated[int | None, typer.Option(help="Random seed, to repeat a run.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where proof_report.json goes and bad_input.json is read from."),
    ] = None,
    fuzz_tests: Annotated[
        str | None,
        typer.Option(help="pytest path of the fuzz tests to run first, writing bad_input.json."),
    ] = None,
    keep: Annotated[
        bool, typer.Option(help="Keep the platform's SAGA_HOME (data and logs) afterwards.")
    ] = False,
    cluster: Annotated[
        bool,
        typer.Option(
            help="Redis as a 3-master Valkey Cluster with a replica each; `valkey` kills a master."
        ),
    ] = False,
) -> None:
    """Run orders and balance calls for minutes while SIGKILLing parts; prove nothing is lost."""
    from saga.proof.platform import PlatformError
    from saga.proof.run import ProofConfig

    proof_dir = (out or Path(os.environ.get("SAGA_PROOF_DIR", ".saga/proof"))).resolve()
    proof_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SAGA_PROOF_DIR"] = str(proof_dir)
    if fuzz_tests:
        _run_fuzz(fuzz_tests, proof_dir)
    command = "saga prove " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "saga prove"
    config = ProofConfig(
        seconds=minutes * 60,
        order_rate=order_rate,
        balance_rate=balance_rate,
        fault_interval=fault_interval,
        targets=tuple(t.strip() for t in targets.split(",") if t.strip()),
        seed=seed,
        command=command,
        cluster=cluster,
    )
    home = Path(tempfile.mkdtemp(prefix="saga-proof-"))
    try:
        report = asyncio.run(_with_progress(config, home))
    except PlatformError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    finally:
        if keep:
            console.print(f"platform data and logs kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    if fuzz_tests and report.bad_inputs is not None:
        # They ran just now and passed: every bad input was refused cleanly.
        report.bad_inputs = replace(report.bad_inputs, failures=0)
    console.print(f"[bold]{command}[/]")
    console.print(report.table())
    console.print(report.checks_table())
    (proof_dir / "proof_report.json").write_text(report.to_json())
    console.print(f"report written to {proof_dir / 'proof_report.json'}")
    if not report.passed:
        console.print("[bold red]an invariant failed[/]")
        raise typer.Exit(code=1)
    console.print("[bold green]nothing lost[/]")


async def _with_progress(config: ProofConfig, home: Path) -> ProofReport:
    from saga.proof.run import prove

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[figures]}"),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("starting", total=config.seconds, figures="")

        def show(progress: ProofProgress) -> None:
            bar.update(
                task,
                description=progress.phase,
                completed=progress.elapsed,
                figures=_figures(progress),
            )
            while progress.log:
                bar.console.print(progress.log.pop(0))

        return await prove(config, home, show)


def _figures(progress: ProofProgress) -> str:
    parts = []
    if progress.orders is not None:
        orders = progress.orders
        parts.append(f"orders {len(orders.submissions)} ({len(orders.accepted())} accepted)")
    if progress.balance is not None:
        parts.append(f"balance calls {progress.balance.acknowledged}")
    if progress.faults is not None:
        parts.append(f"kills {len(progress.faults.faults)}")
    return ", ".join(parts)


def _run_fuzz(path: str, proof_dir: Path) -> None:
    """Run the fuzz tests, which write what they tried to $SAGA_PROOF_DIR/bad_input.json."""
    console.print(f"running the fuzz tests: pytest {path}")
    # A file left by an earlier run must not stand in for this one's figures.
    (proof_dir / "bad_input.json").unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", path, "-q", "-p", "no:cacheprovider"],
        env={**os.environ, "SAGA_PROOF_DIR": str(proof_dir)},
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        console.print(f"[red]the fuzz tests failed (exit {result.returncode})[/]")
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add `saga prove` to the app."""
    app.command("prove")(prove_command)
