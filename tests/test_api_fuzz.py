"""The JSON API under generated input (schemathesis over the OpenAPI schema at /api/openapi.json):
whatever a client sends — wrong types, odd strings, unknown codes, both valid and invalid shapes —
the answer is never a server error. Run as a region admin (the widest scope) with a valid session
and CSRF token; the signed device and platform endpoints answer 401 without a signature, as they
must. (schemathesis's own pytest plugin does not run under pytest 9; the operations are driven
through their Hypothesis strategies here.)"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

CSRF = "k" * 32


@pytest.fixture
def keep_connection():
    """Requests go through the WSGI application, whose end-of-request signal would close the
    database connection the test's transaction lives on (Django's own test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_input_makes_the_api_fail(db, world, client, keep_connection):
    from peixun.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    client.force_login(world.region_admin)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}
    failures, operations, calls = [], 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def run(case):
                response = case.call(cookies=cookies, headers={"X-CSRFToken": CSRF})
                calls.append(response.status_code)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except Exception as exc:  # collect every operation's failure, not just the first
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert operations >= 10 and len(calls) >= operations * 5
    assert failures == []
    # The generated requests reached the views, not only the authentication in front of them.
    assert {200, 400, 404, 422} & set(calls) and 401 in calls
