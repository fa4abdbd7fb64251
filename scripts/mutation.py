#!/usr/bin/env python3
"""Mutation testing of the modules that hold our rules and guards, in bounded time per module.

Why: a suite can pass while asserting too little. A mutant is the code changed in one small way (a
comparison flipped, a constant changed, a check removed); the tests that cover the module should fail
on it. The share of mutants they catch is the module's score; a survivor is either equivalent (no
behaviour changed) or a missing test. docs/testing.md lists the scores and every survivor.

How: the modules, their covering tests and a time budget each are in pyproject.toml under
[tool.hardtech.mutation]. For each module this script copies the project into `.mutation/<module>/`
(never touching the work tree), points mutmut (configured in [tool.mutmut]) at that module and those
tests only, runs it under the module's time budget, and reads the verdicts mutmut records as it goes
(a run cut short by its budget reports what it finished; running the script again resumes it). The
Jinja2 templates are not Python, so the `templates` module is mutated here: each template with
autoescape switched off, and each output expression marked `|safe`, each run against its tests.
Mutants judged equivalent are listed, with the reason, in the file named by `equivalents`; they leave
the denominator of the "non-equivalent" score and a listed one that no longer exists is reported.

Usage:
  .venv/bin/python scripts/mutation.py                 # every module, each in its budget
  .venv/bin/python scripts/mutation.py money dates     # some modules
  .venv/bin/python scripts/mutation.py --list          # the modules, paths, tests and budgets
  .venv/bin/python scripts/mutation.py --budget 600 star   # override the budget (seconds per module)
  .venv/bin/python scripts/mutation.py --fresh money   # forget earlier verdicts for the module
  .venv/bin/python scripts/mutation.py --survivors money   # after adding tests: retest the survivors only
                                                         # (earlier kills are kept: add tests, never remove them;
                                                         # the survivors are remembered in result.json, so a
                                                         # rerun cut short or after a test-list change resumes)
  .venv/bin/python scripts/mutation.py --report        # only print the scores of earlier runs
  .venv/bin/python scripts/mutation.py --report --markdown docs/testing.md   # rewrite its results section
  .venv/bin/python scripts/mutation.py --report --markdown docs/testing.md fx   # rewrite fx's rows only
Needs mutmut (pinned in the `test` extra). Exit code: 0 after a run (scores are printed, not judged),
2 on a usage error. The results per module are also written to .mutation/<module>/result.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
COPY = ("src", "tests", "pyproject.toml", "evaluation")
KILLED = {1, 3}  # mutmut: a failing test run (3: pytest internal error) kills the mutant
STATUS = {1: "killed", 3: "killed", 0: "survived", 33: "no tests", 5: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "type check", None: "not run"}


def settings() -> dict:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    try:
        return cfg["tool"]["hardtech"]["mutation"]
    except KeyError:
        sys.exit("pyproject.toml has no [tool.hardtech.mutation] table")


def equivalents(conf: dict) -> dict[str, dict]:
    path = ROOT / conf.get("equivalents", "tests/mutation_equivalents.toml")
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {e["mutant"]: e for e in data.get("equivalent", [])}


# ------------------------------------------------------------------------------------------ copies


def fresh_copy(dest: Path) -> None:
    """The project's source, tests and config under `dest` (the earlier mutmut state kept unless --fresh)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPY:
        src, dst = ROOT / name, dest / name
        if not src.exists():
            continue
        if dst.exists():
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
        else:
            shutil.copy2(src, dst)


def write_mutmut_config(dest: Path, paths: list[str], tests: list[str]) -> None:
    """[tool.mutmut] of the copy: the project's settings plus this module's paths and tests."""
    text = (dest / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
    base = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {}).get("mutmut", {})
    conf = dict(base) | {"only_mutate": paths, "pytest_add_cli_args_test_selection": tests}
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in conf.items()]
    (dest / "pyproject.toml").write_text(text.rstrip() + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def run_bounded(cmd: list[str], cwd: Path, budget: float, log: Path, env: dict) -> tuple[int | None, float]:
    """Run `cmd` in its own process group; stop the whole group when the budget is spent."""
    started = time.monotonic()
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            rc = proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            rc = None
    return rc, time.monotonic() - started


def test_env(conf: dict) -> dict:
    env = dict(os.environ)
    env.setdefault("HARDTECH_SHARED", str(ROOT.parent / "shared" / "data"))
    if not conf.get("shared_data", False):  # third-party-data tests skip: slower, and rarely the only killer
        env["HARDTECH_SHARED"] = str(WORK / "no-shared-data")
    env.pop("CI", None)  # a skip is not a failure inside a mutation run
    return env


# ------------------------------------------------------------------------------------------ python modules


def mutmut_verdicts(dest: Path) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in (dest / "mutants").rglob("*.meta"):
        try:
            out.update(json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
        except (OSError, json.JSONDecodeError):
            continue
    return out


DIFFS = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
out = {}
for n in json.load(sys.stdin):
    try:
        out[n] = get_diff_for_mutant(n, path=find_mutant(n).path)
    except Exception as exc:  # noqa: BLE001 - a diff we cannot show is reported, not fatal
        out[n] = f"(no diff: {exc})"
print(json.dumps(out))
"""


def mutmut_diffs(dest: Path, names: list[str]) -> dict[str, str]:
    """The changed lines of each mutant, from mutmut's own diff (one process for all of them)."""
    if not names:
        return {}
    r = subprocess.run([sys.executable, "-c", DIFFS], cwd=dest, input=json.dumps(names), capture_output=True,
                       text=True, timeout=600)
    try:
        full = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {n: "(no diff: " + (r.stderr.strip().splitlines() or ["mutmut failed"])[-1] + ")" for n in names}
    return {n: "\n".join(ln for ln in d.splitlines() if ln.startswith(("-", "+")) and not ln.startswith(("---", "+++")))
            for n, d in full.items()}


def _earlier_verdicts(dest: Path) -> dict:
    """The verdicts of the module's last run (result.json, else mutmut's own files)."""
    try:
        return json.loads((dest / "result.json").read_text(encoding="utf-8"))["verdicts"]
    except (OSError, KeyError, json.JSONDecodeError):
        return mutmut_verdicts(dest) if (dest / "mutants").exists() else {}


def survivor_names(earlier: dict, current: dict, skip=frozenset()) -> list[str]:
    """The mutants a --survivors run retests: each whose latest verdict is neither a kill nor missing.

    The latest verdict is mutmut's own (`current`) where it has one, else the last result.json's
    (`earlier`). mutmut resets every verdict to None when a module's test selection changes, so once one
    rerun has started (and perhaps been cut by its budget), its files alone no longer know the survivors.
    `skip`: mutants listed as equivalent, which no test can kill (their verdict stands; each would cost a full
    run of the module's covering tests).
    """
    latest = {k: current.get(k) if current.get(k) is not None else earlier.get(k) for k in set(earlier) | set(current)}
    return sorted(k for k, v in latest.items() if v is not None and v not in KILLED and k not in skip)


def carry_verdicts(earlier: dict, now: dict) -> dict:
    """mutmut's verdicts after a --survivors run, each mutant mutmut now has none for keeping its earlier one.

    Sound when tests were only added (a kill stays a kill; a survivor not yet retested is still one);
    after the code changed, run --fresh. Mutants that no longer exist are not carried.
    """
    return {k: (v if v is not None else earlier.get(k)) for k, v in now.items()}


def mutmut_command(jobs: int, survivors: list[str] | None) -> list[str] | None:
    """The mutmut run: every mutant (survivors None), the named ones, or nothing when none is named
    (mutmut given no names would run every mutant)."""
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)]
    if survivors is None:
        return cmd
    return cmd + survivors if survivors else None


def run_python_module(name: str, spec: dict, budget: float, fresh: bool, conf: dict, jobs: int,
                      survivors_only: bool = False) -> dict:
    dest = WORK / name
    if fresh and dest.exists():
        shutil.rmtree(dest)
    earlier = _earlier_verdicts(dest) if survivors_only else {}
    selection = survivor_names(earlier, mutmut_verdicts(dest), frozenset(equivalents(conf))) if survivors_only else None
    fresh_copy(dest)
    write_mutmut_config(dest, spec["paths"], spec["tests"])
    log = dest / "mutmut.log"
    cmd = mutmut_command(jobs, selection)
    if cmd is None:
        print("  no earlier survivors to retest", flush=True)
        rc, took = 0, 0.0
    else:
        if selection is not None:
            print(f"  retesting {len(selection)} earlier survivor(s)", flush=True)
        rc, took = run_bounded(cmd, dest, budget, log, test_env(conf))
    verdicts = mutmut_verdicts(dest)
    if survivors_only:  # mutmut may have reset the verdicts (the test selection changed): keep the earlier ones
        verdicts = carry_verdicts(earlier, verdicts) if verdicts else dict(earlier)
    survivors = mutmut_diffs(dest, [k for k, v in sorted(verdicts.items()) if v not in KILLED and v is not None])
    return {"module": name, "kind": "mutmut", "seconds": round(took, 1), "finished": rc == 0,
            "verdicts": verdicts, "survivors": survivors}


# ------------------------------------------------------------------------------------------ templates

OUTPUT = re.compile(r"{{(?P<expr>.*?)}}", re.S)
TRANSLATION = re.compile(r"^\s*t\('[\w.]+'\)\s*$")  # our own strings from the translation files


def template_mutants(folder: Path) -> list[tuple[str, str, str]]:
    """(name, template file, mutated text): autoescape off per template, `|safe` per data expression."""
    out = []
    for path in sorted(folder.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        if "{% extends" in text and "{% block content %}" in text:  # a page: its content block
            off = text.replace("{% block content %}", "{% block content %}{% autoescape false %}", 1)
            # the last {% endblock %} closes the content block: end the autoescape region just inside it
            off = off[::-1].replace("{% endblock %}"[::-1], "{% endautoescape %}{% endblock %}"[::-1], 1)[::-1]
        else:
            off = "{% autoescape false %}" + text + "{% endautoescape %}"
        out.append((f"templates.{path.stem}.autoescape_off", path.name, off))
        for i, m in enumerate(OUTPUT.finditer(text), start=1):
            expr = m.group("expr")
            if TRANSLATION.match(expr) or "|tojson" in expr or "|safe" in expr:
                continue
            mutated = text[:m.start()] + "{{" + f"({expr.strip()})|safe" + "}}" + text[m.end():]
            out.append((f"templates.{path.stem}.safe_{i}", path.name, mutated))
    from jinja2 import Environment, TemplateSyntaxError

    def compiles(src: str) -> bool:  # a mutant that is not a template would be "killed" by any page test
        try:
            Environment(autoescape=True).parse(src)
            return True
        except TemplateSyntaxError:
            return False

    kept = [m for m in out if compiles(m[2])]
    if len(kept) < len(out):  # a mutant the script cannot build is said, never dropped silently
        dropped = sorted(m[0] for m in out if m not in kept)
        print(f"  {len(dropped)} template mutant(s) do not compile and are not run: {', '.join(dropped)}", flush=True)
    out = kept
    return sorted(out, key=lambda m: not m[0].endswith("autoescape_off"))  # the broadest mutants first


def run_templates(name: str, spec: dict, budget: float, fresh: bool, conf: dict, jobs: int,
                  survivors_only: bool = False) -> dict:
    dest = WORK / name
    if fresh and dest.exists():
        shutil.rmtree(dest)
    fresh_copy(dest)
    folder = dest / spec["paths"][0]
    state_file = dest / "verdicts.json"
    verdicts = json.loads(state_file.read_text()) if state_file.exists() and not fresh else {}
    mutants = template_mutants(folder)
    listed = frozenset(equivalents(conf))
    diffs = {}
    started = time.monotonic()
    env = test_env(conf) | {"PYTHONPATH": str(dest / "src")}
    log = dest / "templates.log"
    # built once: a template mutant leaves the store unchanged, so its guard run copies this one
    base = demo_base(dest, folder, env, budget - (time.monotonic() - started), log)
    if base is None:
        print("  the demo store could not be built within the budget; see " + str(log), flush=True)
    else:
        env[DEMO_BASE_ENV] = str(base)
    for mname, fname, mutated in mutants:
        target = folder / fname
        original = target.read_text(encoding="utf-8")
        diffs[mname] = _line_diff(original, mutated)
        if verdicts.get(mname) is not None and not (survivors_only and verdicts[mname] not in KILLED
                                                    and mname not in listed):  # an equivalent's verdict stands
            continue
        left = budget - (time.monotonic() - started)
        if left <= 0:
            verdicts.setdefault(mname, None)
            continue
        target.write_text(mutated, encoding="utf-8")
        try:
            rc, _ = run_bounded([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *spec["tests"]],
                                dest, left, log, env)
        finally:
            target.write_text(original, encoding="utf-8")
        verdicts[mname] = None if rc is None else (1 if rc == 1 else (0 if rc == 0 else 3))
        state_file.write_text(json.dumps(verdicts, indent=1))
    verdicts = {k: verdicts.get(k) for k, _, _ in mutants}
    survivors = {k: diffs[k] for k, v in verdicts.items() if v not in KILLED and v is not None}
    took = time.monotonic() - started
    return {"module": name, "kind": "templates", "seconds": round(took, 1),
            "finished": all(v is not None for v in verdicts.values()), "verdicts": verdicts, "survivors": survivors}


DEMO_BASE_ENV = "HARDTECH_GUARD_DEMO_BASE"  # read by tests/test_guard_escaping.py: a demo store to copy, not build
BUILD_DEMO = "import sys; from pathlib import Path; from hardtech.demo import build_demo_store; " \
             "build_demo_store(Path(sys.argv[1]), shared=None)"


def code_key(src: Path, leave_out: Path) -> str:
    """A hash of every file under `src` except those under `leave_out` (the templates being mutated)."""
    h = hashlib.sha256()
    for path in sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        if leave_out in path.parents:
            continue
        h.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def demo_base(dest: Path, templates: Path, env: dict, budget: float, log: Path) -> Path | None:
    """The demo store (no ../shared) the escaping guard starts from, built once per version of the code.

    Every template mutant's guard run would otherwise build it again (most of a minute, several under load):
    the templates do not take part in building a store, so one build from the unmutated copy serves them all.
    Kept under `.mutation/<module>/demo-base/<hash of the code>.duckdb`, so a resumed run reuses it and a change
    to the code builds a new one."""
    folder = dest / "demo-base"
    path = folder / f"{code_key(dest / 'src', templates)}.duckdb"
    if path.exists():
        return path
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    partial = folder / "building.duckdb"
    rc, took = run_bounded([sys.executable, "-c", BUILD_DEMO, str(partial)], dest, budget, log, env)
    if rc != 0:
        return None
    partial.rename(path)
    print(f"  demo store built once for every mutant in {took:.0f} s", flush=True)
    return path


def _line_diff(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for x, y in zip(la, lb):
        if x != y:
            return f"- {x.strip()[:200]}\n+ {y.strip()[:200]}"
    return ""


# ------------------------------------------------------------------------------------------ scores


def score(result: dict, equiv: dict[str, dict]) -> dict:
    v = result["verdicts"]
    counted = {k: c for k, c in v.items() if c is not None and c not in (34, 37)}
    killed = sum(1 for c in counted.values() if c in KILLED)
    eq = [k for k in counted if k in equiv and counted[k] not in KILLED]
    modules = {_module_of(k) for k in v}
    stale = [k for k in equiv if _module_of(k) in modules and k not in v]
    non_eq = len(counted) - len(eq)
    return {"mutants": len(v), "run": len(counted), "not_run": len(v) - len(counted), "killed": killed,
            "equivalent": len(eq), "survived": len(counted) - killed - len(eq),
            "no_tests": sum(1 for c in counted.values() if c in (5, 33)),
            "score": round(100 * killed / len(counted), 1) if counted else None,
            "score_non_equivalent": round(100 * killed / non_eq, 1) if non_eq else None,
            "stale_equivalents": stale}


def _module_of(mutant: str) -> str:
    """'hardtech.sources.money' for 'hardtech.sources.money.x_parse_unit__mutmut_9' (and for a method,
    'hardtech.sources.fx' for 'hardtech.sources.fx.xǁFXTableǁrate__mutmut_35'); 'templates' for templates."""
    for sep in (".x_", ".xǁ"):
        if sep in mutant:
            return mutant.split(sep)[0]
    return mutant.split(".")[0]


def print_table(rows: list[tuple[str, dict, dict]]) -> None:
    print(f"{'module':<14}{'mutants':>8}{'run':>6}{'killed':>8}{'equiv':>7}{'survived':>9}{'no tests':>9}"
          f"{'score %':>9}{'non-eq %':>10}{'time s':>8}")
    for name, res, s in rows:
        print(f"{name:<14}{s['mutants']:>8}{s['run']:>6}{s['killed']:>8}{s['equivalent']:>7}{s['survived']:>9}"
              f"{s['no_tests']:>9}{_pct(s['score']):>9}{_pct(s['score_non_equivalent']):>10}{res['seconds']:>8}")


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    conf = settings()
    modules: dict = conf["modules"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modules", nargs="*", help=f"modules to run (default: all): {', '.join(modules)}")
    ap.add_argument("--budget", type=float, help="seconds per module (default: each module's budget_s)")
    ap.add_argument("--jobs", type=int, default=int(conf.get("jobs", 2)), help="mutants tested at once")
    ap.add_argument("--fresh", action="store_true", help="forget earlier verdicts of the modules")
    ap.add_argument("--survivors", action="store_true", help="test only the earlier survivors again (after adding "
                                                                 "tests); the other verdicts stand")
    ap.add_argument("--report", action="store_true", help="print the scores of earlier runs, run nothing")
    ap.add_argument("--list", action="store_true", help="list the modules and exit")
    ap.add_argument("--markdown", type=Path, help="write the scores and survivors between the markers "
                                                   "<!-- mutation:start --> and <!-- mutation:end --> of this file")
    args = ap.parse_args(argv)
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        print(f"unknown module(s) {unknown}; modules: {', '.join(modules)}", file=sys.stderr)
        return 2
    if args.list:
        for n, spec in modules.items():
            print(f"{n}: {', '.join(spec['paths'])}  ←  {', '.join(spec['tests'])}  (budget {spec.get('budget_s')} s)")
        return 0
    if not args.report:
        try:
            import mutmut  # noqa: F401
        except ImportError:
            print("mutmut is not installed: pip install -e '.[test]' (it is pinned there)", file=sys.stderr)
            return 2
    equiv = equivalents(conf)
    rows = []
    for name in args.modules or list(modules):
        spec = modules[name]
        dest = WORK / name
        if args.report:
            if not (dest / "result.json").exists():
                continue
            res = json.loads((dest / "result.json").read_text())
        else:
            budget = args.budget or float(spec.get("budget_s", 1800))
            print(f"== {name}: mutating {', '.join(spec['paths'])} (budget {budget:.0f} s)", flush=True)
            runner = run_templates if spec.get("kind") == "templates" else run_python_module
            res = runner(name, spec, budget, args.fresh, conf, args.jobs, args.survivors)
            res["score"] = score(res, equiv)
            (dest / "result.json").write_text(json.dumps(res, indent=1, default=str))
        s = score(res, equiv)
        rows.append((name, res, s))
        for k, diff in res["survivors"].items():
            tag = "equivalent" if k in equiv else STATUS.get(res["verdicts"][k], str(res["verdicts"][k]))
            print(f"  {tag}: {k}\n    " + diff.replace("\n", "\n    "))
        if s["stale_equivalents"]:
            print(f"  listed as equivalent but no longer a mutant: {', '.join(s['stale_equivalents'])}")
    print()
    print_table(rows)
    if args.markdown:  # named modules: only their rows and survivors are rewritten
        write_markdown(args.markdown, rows, equiv, list(modules) if args.modules else None)
    return 0


def write_markdown(path: Path, rows: list[tuple[str, dict, dict]], equiv: dict[str, dict],
                   order: list[str] | None = None) -> None:
    """The scores table and every survivor (with its diff and, when equivalent, the reason) into `path`.

    With `order` (every module, in the configured order) only the modules in `rows` are rewritten: the rows and
    survivor lists the file already holds for the other modules are kept, so scoring one module does not need
    the other modules' run state on this machine."""
    table: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    for name, res, s in rows:
        table[name] = (f"| {name} | {s['mutants']} | {s['run']} | {s['killed']} | {s['equivalent']} | {s['survived']} | "
                       f"{s['no_tests']} | {_pct(s['score'])} | {_pct(s['score_non_equivalent'])} | {res['seconds']} |")
        if not res["survivors"]:
            continue
        block = ["", f"#### Survivors: {name}", "", "| mutant | verdict | change |", "|---|---|---|"]
        for k, diff in res["survivors"].items():
            verdict = ("equivalent: " + equiv[k]["reason"]) if k in equiv else STATUS.get(res["verdicts"][k], "?")
            change = "<br>".join("`" + ln.strip().replace("|", "\\|").replace("`", "'")[:160] + "`"
                                 for ln in diff.splitlines()[:4])
            block.append(f"| `{k.split('.', 1)[-1]}` | {verdict} | {change} |")
        blocks[name] = block
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- mutation:start -->", "<!-- mutation:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{path} lacks the markers {start} and {end}")
    head, rest = text.split(start, 1)
    if order is not None:  # keep what the file says of the modules not rewritten now
        old_table, old_blocks = _markdown_sections(rest.split(end, 1)[0])
        table = {n: table.get(n) or old_table.get(n) for n in order if table.get(n) or old_table.get(n)}
        blocks = {n: blocks[n] if n in blocks else old_blocks[n] for n in order
                  if n in blocks or (n in old_blocks and n not in {r[0] for r in rows})}
    out = ["| module | mutants | run | killed | equivalent | survived | no tests | score % | non-equivalent % | time s |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"] + list(table.values())
    for block in blocks.values():
        out += block
    path.write_text(head + start + "\n" + "\n".join(out) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")


def _markdown_sections(section: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The module rows of the scores table and the survivor lists ("#### Survivors: <module>"), as written."""
    table: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    current = None
    for line in section.strip("\n").splitlines():
        if line.startswith("#### Survivors: "):
            current = line.removeprefix("#### Survivors: ").strip()
            blocks[current] = ["", line]
        elif current is not None:
            blocks[current].append(line)
        elif line.startswith("| ") and not line.startswith(("| module ", "|---")):
            table[line.split("|")[1].strip()] = line
    for b in blocks.values():  # the blank line before the next heading belongs to the next block
        while b and not b[-1].strip():
            b.pop()
    return table, blocks


if __name__ == "__main__":
    sys.exit(main())
