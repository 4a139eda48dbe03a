"""Cross-check benchmark (issue: real-name cross-checks at province scale).

Generates a data package of N trainees (or reuses --data), imports it with the contract's commands,
runs the province-wide cross-check (set-wise path), re-checks one class of ~50 trainees through the
interactive path, and prints times, peak memory and precision/recall per rule against labels.csv.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/peixun_bench \\
      .venv/bin/python bench/crosscheck.py --trainees 100000 --seed 1

The database named by DATABASE_URL (or var/bench.sqlite3) is emptied first. Not a test: it prints
figures for docs/performance.md.
"""

import argparse
import csv
import os
import platform
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainees", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="an existing generated directory")
    args = parser.parse_args()

    os.environ.setdefault("PEIXUN_DEBUG", "true")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores; python {platform.python_version()}"
    )
    print(f"database: {connection.vendor}")
    data = args.data
    if data is None:
        from peixun.checks.generator import generate

        data = Path(tempfile.mkdtemp(prefix="peixun-bench-"))
        started = time.monotonic()
        generate(trainees=args.trainees, out=data, seed=args.seed)
        print(f"generate {args.trainees} trainees: {time.monotonic() - started:.1f} s → {data}")

    call_command("flush", "--noinput", verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("load_reference", stdout=open(os.devnull, "w"))

    started = time.monotonic()
    call_command("import_package", str(data), stdout=open(os.devnull, "w"))
    package_seconds = time.monotonic() - started
    started = time.monotonic()
    registries = data / "registries"
    for path in sorted(registries.glob("*.csv")):
        call_command("import_registry", path.stem, str(path), stdout=open(os.devnull, "w"))
    if (data / "history.csv").exists():
        call_command("import_history", str(data / "history.csv"), stdout=open(os.devnull, "w"))
    registry_seconds = time.monotonic() - started
    print(f"import package: {package_seconds:.1f} s; registries + history: {registry_seconds:.1f} s")

    from peixun.checks.run import crosscheck_run
    from peixun.training.models import Enrollment, TrainingClass

    started = time.monotonic()
    result = crosscheck_run()
    bulk_seconds = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"crosscheck (set-wise, all {TrainingClass.objects.count()} classes): {bulk_seconds:.1f} s, "
        f"{result.hits} findings, peak RSS {peak_mb:.0f} MB"
    )

    # one class of about 50 trainees, re-checked through the interactive path
    from django.db.models import Count

    cls = TrainingClass.objects.annotate(n=Count("enrollments")).order_by("-n").first()
    timings = []
    for _ in range(5):
        started = time.monotonic()
        crosscheck_run(class_ids=[cls.id])
        timings.append(time.monotonic() - started)
    print(
        f"one class ({cls.code}, {Enrollment.objects.filter(training_class=cls).count()} trainees) re-checked: "
        f"best {min(timings) * 1000:.0f} ms, median {sorted(timings)[2] * 1000:.0f} ms"
    )

    out = data / "findings.csv"
    call_command("export_findings", str(out), stdout=open(os.devnull, "w"))
    found = {
        (r["rule_code"], r["class_code"], r["id_number"]) for r in csv.DictReader(open(out, encoding="utf-8"))
    }
    labels = {
        (r["rule_code"], r["class_code"], r["id_number"])
        for r in csv.DictReader(open(data / "labels.csv", encoding="utf-8"))
    }
    per_rule = defaultdict(lambda: [0, 0, 0])  # true positives, false positives, false negatives
    for key in found | labels:
        rule = key[0]
        if key in found and key in labels:
            per_rule[rule][0] += 1
        elif key in found:
            per_rule[rule][1] += 1
        else:
            per_rule[rule][2] += 1
    print(f"{'rule':<28}{'labels':>8}{'found':>8}{'recall':>9}{'precision':>11}")
    for rule in sorted(per_rule):
        tp, fp, fn = per_rule[rule]
        recall = tp / (tp + fn) if tp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(f"{rule:<28}{tp + fn:>8}{tp + fp:>8}{recall:>9.1%}{precision:>11.1%}")


if __name__ == "__main__":
    main()
