"""The contract end to end: generate → import_package / import_registry / import_history →
crosscheck → export_findings, compared with the generator's labels.csv (precision and recall 100 %),
and the two paths (set-wise SQL, interactive Python) giving one answer."""

import csv
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from peixun.checks.catalog import PACKAGE_RULES
from peixun.checks.engine import run_python
from peixun.checks.facts import RuleParams
from peixun.checks.generator import generate
from peixun.checks.sql import run_sql
from peixun.core.services import current_rule_settings

pytestmark = pytest.mark.django_db


def keys(path: Path) -> set[tuple[str, str, str]]:
    with open(path, encoding="utf-8") as fh:
        return {(r["rule_code"], r["class_code"], r["id_number"]) for r in csv.DictReader(fh)}


@pytest.fixture
def imported(reference_data, tmp_path):
    data = tmp_path / "package"
    generate(trainees=400, out=data, seed=7)
    call_command("import_package", str(data), stdout=StringIO())
    for path in sorted((data / "registries").glob("*.csv")):
        call_command("import_registry", path.stem, str(path), stdout=StringIO())
    call_command("import_history", str(data / "history.csv"), stdout=StringIO())
    return data


def test_every_planted_finding_is_found_and_nothing_else(imported, tmp_path):
    """第十五、二十、二十二条: recall and precision 100 % on generated data with near misses."""
    call_command("crosscheck", stdout=StringIO())
    out = tmp_path / "findings.csv"
    call_command("export_findings", str(out), stdout=StringIO())
    found, labels = keys(out), keys(imported / "labels.csv")
    assert {k[0] for k in labels} == set(PACKAGE_RULES)  # every rule is exercised
    missing, extra = labels - found, found - labels
    assert not missing, f"missed: {sorted(missing)[:10]} by rule {Counter(k[0] for k in missing)}"
    assert not extra, f"false findings: {sorted(extra)[:10]} by rule {Counter(k[0] for k in extra)}"


def test_the_set_wise_and_the_interactive_paths_give_the_same_findings(imported):
    params = RuleParams.from_settings(current_rule_settings())
    assert {h.key for h in run_sql(params=params)} == {h.key for h in run_python(params=params)}


def test_a_second_run_keeps_decisions_and_duplicates_nothing(imported, tmp_path):
    from peixun.checks.models import Finding
    from peixun.checks.services import finding_decide

    call_command("crosscheck", stdout=StringIO())
    total = Finding.objects.count()
    finding = Finding.objects.filter(rule_code="DECEASED").first()
    finding_decide(finding=finding, action="dismiss", actor=None, reason="户籍系统误报，已核实本人在世")
    call_command("crosscheck", stdout=StringIO())
    assert Finding.objects.count() == total
    finding.refresh_from_db()
    assert finding.status == Finding.Status.DISMISSED and finding.is_current
