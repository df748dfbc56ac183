"""`gilkit`: parse, plan, measure, present. Bad input ends in one line and exit status 2."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.table import Table

from gilkit import cli_claims, cli_probe, metadata, native, options, results
from gilkit.calibrate import calibrated_sizes
from gilkit.compare import format_comparison
from gilkit.console import make_console, make_progress, writable_path, writing
from gilkit.interpreters import InterpreterError, describe
from gilkit.kernels import (
    IMPLS,
    IN_CALL_PARALLEL,
    KERNELS,
    SOURCES,
    impl_unavailable_reason,
    load_entry_points,
)
from gilkit.machine import usable_cpus
from gilkit.markdown import (
    format_benchmark_markdown,
    format_claims_markdown,
    format_run_markdown,
    is_claims,
    is_pytest_benchmark,
)
from gilkit.measure import check_results, measure
from gilkit.multirun import format_side_by_side, load_runs, run_each
from gilkit.options import DEFAULT_KERNELS, UsageError
from gilkit.plan import (
    DEFAULT_REPEATS,
    DEFAULT_RUNNERS,
    DEFAULT_WARMUPS,
    Cell,
    Plan,
    cells_for,
    checks_for,
    default_workers,
)
from gilkit.plot import PlotUnavailable, plot_run
from gilkit.report import format_run
from gilkit.results import RunResult, write_atomically
from gilkit.runners import RUNNERS, START_METHODS, default_start_method
from gilkit.splitting import SPLITS
from gilkit.stats import flag_noisy
from gilkit.threadpools import pin_native_threads

EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
RESULTS_DIR = Path("gilkit-results")


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) through UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> Parser:
    parser = Parser(
        prog="gilkit",
        description="Measure, on this machine, the ways around CPython's GIL: threads and "
        "processes, compiled code that releases the GIL, a free-threaded interpreter.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = commands.add_parser("run", help="measure the matrix and print a table per kernel")
    run.add_argument(
        "--kernel",
        help=f"comma list of {', '.join(KERNELS)} or module:attribute "
        f"(default: {','.join(DEFAULT_KERNELS)})",
    )
    run.add_argument("--impl", help=f"comma list of {', '.join(IMPLS)} (default: all built)")
    run.add_argument(
        "--runner",
        help=f"comma list of {', '.join(RUNNERS)} (default: {','.join(DEFAULT_RUNNERS)})",
    )
    here = ",".join(map(str, default_workers(usable_cpus())))
    run.add_argument("--workers", help=f"comma list of worker counts (default: {here} here)")
    run.add_argument(
        "--size",
        help="n for every kernel, kernel=n,... for some, or auto: sized so that serial pure "
        "Python takes ~0.3 s here (default: per kernel)",
    )
    run.add_argument(
        "--split", help=f"{' or '.join(SPLITS)}, for kernels that offer it (default: per kernel)"
    )
    run.add_argument("--repeat", help=f"timed calls per cell (default: {DEFAULT_REPEATS})")
    run.add_argument("--warmup", help=f"untimed calls per cell first (default: {DEFAULT_WARMUPS})")
    run.add_argument(
        "--start-method",
        help=f"for processes: {', '.join(START_METHODS)} (default: {default_start_method()})",
    )
    run.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help=f"where to write the results (default: {RESULTS_DIR}/run-DATE.json)",
    )
    run.add_argument("--plot", type=Path, metavar="PNG", help="also plot the speedups (matplotlib)")
    run.add_argument(
        "--python",
        action="append",
        metavar="PATH",
        help="run under this interpreter (repeat for several, e.g. a 3.13t beside this one); "
        "each gets a virtual environment in gilkit's cache",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    compare = commands.add_parser("compare", help="two runs side by side, with significance")
    compare.add_argument("a", type=Path, metavar="A.json")
    compare.add_argument("b", type=Path, metavar="B.json")
    plot = commands.add_parser("plot", help="plot a run's speedups to a PNG (matplotlib)")
    plot.add_argument("result", type=Path, metavar="RESULT.json")
    plot.add_argument("-o", "--output", type=Path, metavar="PNG", required=True)
    report = commands.add_parser(
        "report", help="a run, a claims file or a pytest-benchmark file as Markdown"
    )
    report.add_argument("result", type=Path, metavar="RESULT.json")
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="MD",
        help="write here, with the plot beside it (default: print)",
    )
    cli_claims.add_parser(commands)
    cli_probe.add_parser(commands)
    commands.add_parser("list", help="kernels, impls and runners, and why any is unavailable")
    commands.add_parser("info", help="the interpreter, its GIL, the cpus and the build")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        commands = {
            "run": cmd_run,
            "list": cmd_list,
            "info": cmd_info,
            "compare": cmd_compare,
            "plot": cmd_plot,
            "report": cmd_report,
            "claims": cli_claims.cmd_claims,
            "probe": cli_probe.cmd_probe,
        }
        return commands[args.command](args)
    except UsageError as error:
        print(f"gilkit: error: {error}", file=sys.stderr)  # one line, never wrapped
        return EXIT_USAGE


def plan_from(args: argparse.Namespace) -> Plan:
    kernels = options.parse_kernels(args.kernel)
    impls, unavailable = options.parse_impls(args.impl)
    runners = options.parse_runners(args.runner)
    workers = options.parse_workers(args.workers)
    splits = options.parse_splits(args.split, kernels)
    if args.size == "auto":
        sizes = calibrated_sizes(kernels, impls, splits)
    else:
        sizes = options.parse_sizes(args.size, kernels, impls)
    cells = cells_for(kernels, impls, runners, workers, sizes, usable_cpus())
    plan = Plan(
        cells=tuple(cells),
        checks=tuple(checks_for(cells)),
        splits=splits,
        n_repeats=options.parse_count("--repeat", args.repeat, DEFAULT_REPEATS, 1),
        n_warmups=options.parse_count("--warmup", args.warmup, DEFAULT_WARMUPS, 0),
        start_method=options.parse_start_method(args.start_method),
        unavailable=unavailable,
    )
    if not plan.cells:
        raise UsageError("nothing to run: no selected kernel has the selected impls")
    return plan


def json_path_from(path: Path | None) -> Path:
    if path is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return RESULTS_DIR / f"run-{stamp}.json"
    return writable_path("--json", path)


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise UsageError(
            '--plot needs matplotlib; install it with: pip install "gilkit[plot]"'
        ) from error


def load_result(path: Path) -> RunResult:
    try:
        return results.load(path)
    except OSError as error:
        raise UsageError(f"cannot read {str(path)!r}: {error.strerror}") from error
    except results.ResultFileError as error:
        raise UsageError(
            f"{str(path)!r}: {error}; valid: a JSON file written by gilkit run"
        ) from error


def options_record(plan: Plan, args: argparse.Namespace) -> dict[str, object]:
    return {
        "argv": sys.argv[1:],
        "sizes": sorted(plan.sizes),
        "splits": plan.splits,
        "n_repeats": plan.n_repeats,
        "n_warmups": plan.n_warmups,
        "start_method": plan.start_method or default_start_method(),
        "unavailable_impls": plan.unavailable,
    }


def cmd_run_interpreters(args: argparse.Namespace) -> int:
    """`--python A --python B`: check everything first, then run under each and merge."""
    json_path = json_path_from(args.json)
    plan_from(args)  # bad options fail here, before any interpreter is set up
    try:
        interpreters = [describe(path) for path in dict.fromkeys(args.python)]
    except InterpreterError as error:
        raise UsageError(f"--python: {error}; valid: paths of Python 3 interpreters") from error
    console = make_console(stderr=True, quiet=args.quiet)
    try:
        done, status = run_each(interpreters, args, json_path, console.print)
    except InterpreterError as error:
        console.print(f"gilkit: {error}", markup=False)
        return EXIT_WRONG
    if not done:
        return max(status, EXIT_WRONG)
    out = make_console()
    for renderable in format_side_by_side(load_runs(done)):
        out.print(renderable, markup=isinstance(renderable, Table), highlight=False)
    for _, path in done:
        out.print(f"results: {path}", markup=False, highlight=False)
    return status


def cmd_run(args: argparse.Namespace) -> int:
    if args.python:
        return cmd_run_interpreters(args)
    json_path = json_path_from(args.json)
    if args.plot is not None:
        writable_path("--plot", args.plot)
        require_matplotlib()
    plan = plan_from(args)
    console = make_console(stderr=True, quiet=args.quiet)
    out = make_console()
    for reason in sorted(set(plan.unavailable.values())):
        impls = [impl for impl, why in plan.unavailable.items() if why == reason]
        console.print(f"note: {', '.join(impls)} not run: {reason}", markup=False)

    pinned = pin_native_threads()
    result = RunResult(metadata.collect_metadata(), options_record(plan, args))
    result.metadata["native_threads"] = pinned
    status = EXIT_OK
    progress = make_progress(console, 42)
    try:
        with progress:  # no refresh thread: forking a process that has threads is unsafe
            task = progress.add_task("starting", total=plan.n_calls)

            def on_call(cell: Cell) -> None:
                progress.update(task, advance=1, description=cell.label)
                progress.refresh()

            measure(plan, result.cells, result.checks, on_call)
        result.complete = True
    except KeyboardInterrupt:
        console.print("interrupted: keeping the cells measured so far", markup=False)
        status = EXIT_INTERRUPTED
    finally:
        result.references = check_results(result.cells, result.checks)
        flag_noisy(result.cells)
        result.metadata["cpu"]["load_average_after"] = metadata.load_average()
        result.metadata["cpu"]["cpu_seconds_after"] = metadata.cpu_seconds()
        unwritten = None
        try:
            with writing("--json", json_path):
                write_atomically(result, json_path)
        except UsageError as error:
            unwritten = error  # said after the tables, which keep what was measured on screen
    if result.cells:
        for renderable in format_run(result):
            out.print(renderable, markup=isinstance(renderable, Table), highlight=False)
    if unwritten is not None:
        raise unwritten
    bad = [r for r in result.cells if not r.ok]
    if bad and status == EXIT_OK:
        console.print(f"[red]{len(bad)} cell(s) failed or disagree with the reference result[/]")
        status = EXIT_WRONG
    out.print(f"results: {json_path}", markup=False, highlight=False)
    if args.plot is not None and result.cells:
        with writing("--plot", args.plot):  # the results are written already
            out.print(f"plot: {plot_run(result, args.plot)}", markup=False, highlight=False)
    return status


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = load_result(args.a), load_result(args.b)
    out = make_console()
    for renderable in format_comparison(a, b, str(args.a), str(args.b)):
        out.print(renderable, markup=isinstance(renderable, Table), highlight=False)
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    result = load_result(args.result)
    writable_path("--output", args.output)
    try:
        with writing("--output", args.output):
            print(f"plot: {plot_run(result, args.output)}")
    except PlotUnavailable as error:
        raise UsageError(str(error)) from error
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    try:
        document = json.loads(args.result.read_text())
    except OSError as error:
        raise UsageError(f"cannot read {str(args.result)!r}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{str(args.result)!r} is not JSON ({error.msg}); valid: a file "
            "written by gilkit run or pytest --benchmark-json"
        ) from error
    if is_pytest_benchmark(document):
        lines = list(format_benchmark_markdown(document))
    elif is_claims(document):
        lines = list(format_claims_markdown(document))
    else:
        try:
            result = results.RunResult.from_json(document)
        except results.ResultFileError as error:
            raise UsageError(
                f"{str(args.result)!r}: {error}; valid: a file written by gilkit "
                "run or pytest --benchmark-json"
            ) from error
        plot_file = None
        if args.output is not None:
            writable_path("--output", args.output)
            try:
                with writing("--output", args.output.with_suffix(".png")):
                    plot_file = plot_run(result, args.output.with_suffix(".png")).name
            except PlotUnavailable as error:
                print(f"note: no plot in the report: {error}", file=sys.stderr)
        lines = list(format_run_markdown(result, plot_file))
    text = "\n".join(lines) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        with writing("--output", args.output):
            args.output.write_text(text)
        print(f"report: {args.output}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    out = make_console()
    broken = load_entry_points()
    kernels = Table(
        "kernel",
        "n counts",
        "default n: python / others",
        "splits",
        "from",
        "what",
        title="kernels",
        title_justify="left",
    )
    for kernel in KERNELS.values():
        kernels.add_row(
            kernel.name,
            kernel.unit,
            f"{kernel.python_size():,} / {kernel.native_size():,}",
            ", ".join(kernel.splits),
            SOURCES.get(kernel.name, "?"),
            kernel.summary,
        )
    for name, error in broken.items():
        kernels.add_row(name, "", "", "", f"entry point, [red]broken: {error}[/]", "")
    impls = Table("impl", "what", "available", title="impls", title_justify="left")
    for impl, what in IMPLS.items():
        reason = impl_unavailable_reason(impl)
        note = " (serial runner; workers = OpenMP threads)" if impl in IN_CALL_PARALLEL else ""
        impls.add_row(impl, what + note, "yes" if reason is None else f"no: {reason}")
    runners = Table("runner", "what", title="runners", title_justify="left")
    for runner in RUNNERS.values():
        runners.add_row(runner.name, runner.description)
    for table in (kernels, impls, runners):
        out.print(table)
    out.print(
        f"start methods for processes: {', '.join(START_METHODS)} "
        f"(default here: {default_start_method()})",
        highlight=False,
    )
    return EXIT_OK


def describe_gil(python: dict[str, object]) -> str:
    state = "enabled" if python["gil_enabled"] else "disabled"
    if python["gil_forced"]:
        return f"{state} (forced by {python['gil_forced']})"
    if python["free_threaded_build"] and python["gil_enabled"]:
        culprits = ", ".join(python["gil_reenabled_by"]) or "an extension imported by the caller"  # type: ignore[arg-type]
        return f"{state}: turned back on by {culprits} (not declared free-threading compatible)"
    return state


def cmd_info(args: argparse.Namespace) -> int:
    meta = metadata.collect_metadata()
    python, cpu, build = meta["python"], meta["cpu"], meta["build"]
    rows = [
        ("interpreter", f"{python['implementation']} {python['version']} ({python['executable']})"),
        ("build", "free-threaded (--disable-gil)" if python["free_threaded_build"] else "with GIL"),
        ("GIL now", describe_gil(python)),
        ("cpu", cpu["model"]),
        (
            "usable cpus",
            f"{cpu['usable_cpus']} of {cpu['logical_cpus']}: ideal speedup = "
            f"min(workers, {usable_cpus()})",
        ),
        ("last-level cache", f"{cpu['last_level_cache_bytes'] / 2**20:.0f} MiB"),
        ("numpy", build["numpy"] or "not installed"),
        (
            "extensions",
            build["extensions"]
            if not build["extensions_built_with"]
            else "built with Cython {cython}, {compile_args}".format(
                **build["extensions_built_with"]
            ),
        ),
        (
            "openmp",
            build["openmp"]
            if native.unavailable_reason("_prange")
            else f"built, {build['openmp_max_threads']} threads by default",
        ),
        ("compiler", build["cc"] or "unknown"),
        ("start method", default_start_method()),
    ]
    table = Table(show_header=False, box=None)
    for name, value in rows:
        table.add_row(f"[bold]{name}[/]", value)
    make_console().print(table, highlight=False)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
