"""`peixun seed_demo`: every role gets a login that reaches its home page, and reviewers find real
work (classes and findings) in their own county. Running it twice changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from peixun.accounts.models import User
from peixun.accounts.roles import Role
from peixun.checks.models import Finding
from peixun.core.models import AuditEntry
from peixun.institutions.models import Institution
from peixun.web.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_every_role_a_working_login_and_real_findings(reference_data, client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert DEMO_PASSWORD in out.getvalue()
    assert {u.role for u in User.objects.all()} == set(Role.values)
    for user in User.objects.all():
        assert client.login(username=user.username, password=DEMO_PASSWORD), user.username
        assert client.get(reverse("home")).status_code == 200
        client.logout()
    statuses = set(Institution.objects.values_list("status", flat=True))
    assert {"LISTED", "UNLISTED", "SUSPENDED"} <= statuses
    reviewer = User.objects.get(username="xincheng_reviewer")
    client.force_login(reviewer)
    page = client.get(reverse("checks:findings")).content.decode()
    assert Finding.objects.filter(training_class__area__code="150102").exists()
    assert (
        Finding.objects.filter(training_class__area__code="150102").first().rule_code in page
        or "问题线索" in page
    )
    entries = AuditEntry.objects.count()
    call_command("seed_demo", "--quiet-logins", stdout=StringIO())
    assert AuditEntry.objects.count() == entries
