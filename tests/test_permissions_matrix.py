"""Every URL of peixun — pages and the JSON API — visited as every role and anonymously, against the
matrix declared in tests/permissions_matrix.py: allowed, 404, the login page, or public. A foreign
object (another county's, another institution's) answers 404 exactly like a missing one; a refused
POST changes nothing; a list shows none of them to a stranger. A URL without a matrix entry fails, and
so does an entry whose URL is gone.

The world is built once for the module inside a transaction that is rolled back at the end; every
single visit runs in its own savepoint, so what one role's POST does is never seen by the next.
"""

import json
import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse

from peixun.api import api
from peixun.core.models import Area, AuditEntry, CalendarDay, CalendarYear, PersonAccessLog, RuleSettings
from peixun.core.reference import ensure_rule_settings, load_areas, seed_calendar_days
from peixun.inbox.models import Notification
from tests import permissions_matrix as pm
from tests.factories import Clock

# The module's world lives in one outer transaction; each test (and each visit) nests inside it.
pytestmark = pytest.mark.django_db

# Not operations of the API: the schema, the Swagger page and the root that points to it.
API_DOCUMENTS = frozenset({"api:openapi-json", "api:openapi-view", "api:api-root"})
DENIALS = frozenset({"login", "404", "403", "401", "405", "denied"})


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


def routes() -> dict[str, str]:
    """Every URL pattern of the root URLconf: its name (with namespaces), or its path if unnamed."""
    return dict(_walk(get_resolver().url_patterns))


# --- the world, once for the module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def w(django_db_setup, django_db_blocker, tmp_path_factory):
    patch = pytest.MonkeyPatch()
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load_areas(Area)
            ensure_rule_settings(RuleSettings)
            seed_calendar_days(CalendarYear, CalendarDay)
            # The photo is evidence; whether dlib finds a face in it does not matter for access.
            patch.setattr("peixun.faces.services.face_embedding", lambda image: (None, 0))
            # Downloads are checked for who gets them, not for their content: the PDF templates are
            # rendered, the layout into a PDF (a second per document) is skipped.
            patch.setattr("weasyprint.HTML.write_pdf", lambda self, *args, **kwargs: b"%PDF-1.4 not laid out")
            clock = Clock(patch)
            world = pm.MatrixWorld(clock)
            clock.travel(pm.TODAY)
            # One session per role for the whole module: a visit only presents its cookie (a visit
            # that logs out or writes to the session is undone with its savepoint).
            world.client, world.sessions = Client(), {}
            for role, user in world.users.items():
                client = Client()
                client.force_login(user)
                world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            patch.undo()


# --- one visit ---------------------------------------------------------------------------------------


def classify(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return "login" if urlsplit(response["Location"]).path == reverse("login") else "ok"
    if status == 200:
        return "200"
    if 200 < status < 300:
        return "ok"
    if status == 400 and response.get("Content-Type", "").startswith("application/json"):
        return f"400:{json.loads(response.content).get('code', '')}"
    return str(status)


def fingerprint(w, entry):
    """What a refused request must leave as it was: the audit chain, the personal-data access log,
    the messages, and whatever the entry names."""
    state = entry.state(w) if entry is not None and entry.state is not None else None
    return (AuditEntry.objects.count(), PersonAccessLog.objects.count(), Notification.objects.count(), state)


def signed_in(w, role: str) -> Client:
    # One client for the module: a new one would load the middleware again (whitenoise scans the
    # static files each time); a visit is told apart by its cookies alone.
    client = w.client
    client.cookies.clear()
    if role != pm.ANON:
        client.cookies[settings.SESSION_COOKIE_NAME] = w.sessions[role]
    return client


def visit(w, role: str, method: str, url: str, entry=None) -> tuple[str, bool, str | None]:
    """The answer's class, whether the database is as it was, and the page's text; the visit is undone
    afterwards in any case."""
    with transaction.atomic():
        client = signed_in(w, role)
        before = fingerprint(w, entry)
        try:
            if method == "GET":
                response = client.get(url)
            elif entry.json:
                response = client.post(url, json.dumps(entry.data(w)), content_type="application/json")
            else:
                response = client.post(url, entry.data(w))
        except Exception as exc:  # a crash is an answer too: name it
            transaction.set_rollback(True)
            return f"500 {type(exc).__name__}: {exc}"[:300], True, None
        unchanged = fingerprint(w, entry) == before
        transaction.set_rollback(True)
    return classify(response), unchanged, _text(response)


def _text(response) -> str | None:
    """The page or JSON answer as text; None for files (their content is not checked)."""
    if response.status_code != 200 or response.streaming:
        return None
    if not response.get("Content-Type", "").startswith(("text/html", "application/json")):
        return None
    return response.content.decode()


def matches(expected: str, got: str, method: str, unchanged: bool) -> bool:
    if expected == "public":
        return got == "200"
    if expected in ("ok", "noop"):
        passed = got in ("200", "ok") or (
            # a refused form or business rule: the gate let the user through
            method == "POST"
            and (got in ("400", "422") or (got.startswith("400:") and got != "400:permission_denied"))
        )
        return passed and (unchanged or expected == "ok")
    if expected == "denied":
        return got in ("403", "404") and unchanged
    return got == expected and unchanged


def get_of_a_post_only(role: str, got: str, unchanged: bool) -> bool:
    """A GET of a POST-only action is refused: 405, 404, or the login page (401 for the API)."""
    allowed = {"405", "404", "login", "401"} if role == pm.ANON else {"405", "404"}
    return got in allowed and unchanged


# --- the tests ------------------------------------------------------------------------------------------


def test_every_url_has_a_matrix_entry_and_every_entry_a_url():
    found = routes()
    missing = sorted(set(found) - set(pm.MATRIX))
    stale = sorted(set(pm.MATRIX) - set(found))
    assert not missing, "URLs without an entry in tests/permissions_matrix.py MATRIX: " + ", ".join(
        f"{name} (/{found[name]})" for name in missing
    )
    assert not stale, "MATRIX entries whose URL no longer exists: " + ", ".join(stale)


def test_every_api_operation_is_declared_with_its_method():
    found = routes()
    schema = api.get_openapi_schema()
    operations = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    declared = {
        (entry.method, "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", found[name]))
        for name, entry in pm.MATRIX.items()
        if name.startswith("api:") and name not in API_DOCUMENTS and name in found
    }
    assert operations - declared == set(), "API operations not in the matrix (or with another method)"
    assert declared - operations == set(), "matrix API entries that are not operations of the schema"


def test_the_matrix_speaks_of_known_roles_and_outcomes():
    for name, entry in pm.MATRIX.items():
        assert set(entry.expect) <= set(pm.ROLES), name
        for role in pm.ROLES:
            outcome = entry.outcome(role)
            value = outcome.expected if isinstance(outcome, pm.Known) else outcome
            assert value in pm.OUTCOMES, (name, role, value)
        assert entry.method in ("GET", "POST"), name


@pytest.mark.parametrize("name", sorted(pm.MATRIX))
def test_each_role_gets_the_declared_answer(w, name):
    entry = pm.MATRIX[name]
    url = reverse(name, kwargs=entry.kwargs(w))
    if entry.query:
        url += "?" + entry.query
    failures, known = [], []
    for role in pm.ROLES:
        expected = entry.outcome(role)
        # A POST-only action must refuse a GET, above all from those whose POST it accepts.
        if entry.method == "POST" and (role == pm.ANON or expected in ("ok", "noop")):
            got, unchanged, _body = visit(w, role, "GET", url, entry)
            if not get_of_a_post_only(role, got, unchanged):
                failures.append(
                    f"{role}: GET of a POST-only action answered {got} (changed: {not unchanged})"
                )
        got, unchanged, body = visit(w, role, entry.method, url, entry)
        secrets = entry.secrets(w) if entry.secrets is not None else {}
        leaked = [
            marker
            for marker, hidden_from in secrets.items()
            if role in hidden_from and body and marker in body
        ]
        if leaked:
            failures.append(f"{role}: the page shows {leaked}, of objects outside what this user may see")
        if secrets and role in entry.shown_to:
            missing = [marker for marker in secrets if not body or marker not in body]
            if missing:
                failures.append(f"{role}: the page should show {missing} (the markers of the leak check)")
        if isinstance(expected, pm.Known):
            if matches(expected.actual, got, entry.method, unchanged):
                got = f"{got} (nothing changed)" if expected.actual == "noop" else got
                known.append(f"{role}: expected {expected.expected}, got {got} — {expected.reason}")
            elif matches(expected.expected, got, entry.method, unchanged):
                failures.append(f"{role}: now answers {expected.expected} as it should: drop the Known entry")
            else:
                failures.append(f"{role}: expected {expected.expected} (known: {expected.actual}), got {got}")
        elif not matches(expected, got, entry.method, unchanged):
            changed = "" if unchanged or expected not in DENIALS else " and changed the database"
            failures.append(f"{role}: expected {expected}, got {got}{changed}")
    assert not failures, f"{entry.method} {url}\n" + "\n".join(failures)
    if known:
        pytest.xfail(f"{entry.method} {url}: " + " | ".join(known))


# --- security headers and cookies ----------------------------------------------------------------------------


def _directive(policy: str, name: str) -> str | None:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return " ".join(words[1:])
    return None


def test_a_page_and_an_api_answer_carry_the_security_headers(w):
    with transaction.atomic():
        client = signed_in(w, pm.REVIEWER)
        for url in (reverse("training:detail", args=[w.klass.pk]), reverse("api:me")):
            response = client.get(url)
            assert response.status_code == 200, url
            policy = response["Content-Security-Policy"]
            scripts = _directive(policy, "script-src") or _directive(policy, "default-src")
            assert scripts is not None and "'unsafe-inline'" not in scripts, (url, policy)
            assert response["X-Content-Type-Options"] == "nosniff", url
            assert response["Referrer-Policy"] == settings.SECURE_REFERRER_POLICY == "same-origin", url
            frame_ancestors = _directive(policy, "frame-ancestors")
            assert response.get("X-Frame-Options") == "DENY" or frame_ancestors == "'none'", url
            assert response["Cache-Control"] == "no-store", url  # personal data stays out of caches
        transaction.set_rollback(True)


def test_the_session_and_csrf_cookies_are_set_as_configured(w):
    """settings.py: the session cookie HttpOnly and SameSite=Lax, the CSRF cookie SameSite=Lax; both
    Secure outside development and tests (PEIXUN_SECURE_COOKIES)."""
    from tests.conftest import PASSWORD

    with transaction.atomic():
        client = Client()
        csrf = client.get(reverse("login")).cookies[settings.CSRF_COOKIE_NAME]
        response = client.post(reverse("login"), {"username": "zhao_xincheng", "password": PASSWORD})
        assert response.status_code == 302 and urlsplit(response["Location"]).path == reverse("home")
        session = response.cookies[settings.SESSION_COOKIE_NAME]
        transaction.set_rollback(True)
    assert session["httponly"] is True and settings.SESSION_COOKIE_HTTPONLY
    assert session["samesite"] == settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert bool(session["secure"]) == settings.SESSION_COOKIE_SECURE
    assert csrf["samesite"] == settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert bool(csrf["secure"]) == settings.CSRF_COOKIE_SECURE
    # Not configured: CSRF_COOKIE_HTTPONLY (Django's default, False). The pages take the token from
    # the template (hx-headers on <body>), so nothing needs to read the cookie from JavaScript.
    assert bool(csrf["httponly"]) == settings.CSRF_COOKIE_HTTPONLY
