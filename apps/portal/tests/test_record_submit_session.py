"""A record submit on the portal commits once: the record, its audit entry and the visitor's
session (renewed on every request, and holding the choices the form remembers) go in the
record's transaction, so the session middleware after the view has nothing left to write.
A refused submit still renews the session, after the view, as every other page does."""

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.portal.tests.test_records_pages import form_data, w  # noqa: F401
from apps.portal.tests.test_records_permissions import recworld  # noqa: F401
from apps.service_records.models import ServiceRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _session(client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def _soon(client) -> None:
    """Let the session's row expire in a minute, as an idle one would."""
    Session.objects.filter(pk=_session(client).pk).update(
        expire_date=timezone.now() + datetime.timedelta(minutes=1)
    )


def _renewed(client) -> bool:
    return _session(client).expire_date > timezone.now() + datetime.timedelta(minutes=10)


def _writes_session(sql: str) -> bool:
    return "django_session" in sql and not sql.lstrip().upper().startswith("SELECT")


def _post(client, data):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("portal:record-new"), data)
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_submit_commits_the_record_and_the_session_together(client_as, w):  # noqa: F811
    client = client_as(w.cast.volunteer)
    _soon(client)
    response, statements = _post(client, form_data(w, responsible_person="李明"))
    assert response.status_code == 302
    commit = statements.index("COMMIT")
    transaction, after = statements[:commit], statements[commit + 1 :]
    record_written = [sql for sql in transaction if "清理楼道杂物" in sql]
    session_writes = [sql for sql in statements if _writes_session(sql)]
    assert record_written and len(session_writes) == 1
    # Written with the record, in its transaction: on PostgreSQL in the record's own statement
    # (one round trip for both), elsewhere right after it; nothing left for after the view
    # (the checks against formalism that the tests run on commit, in the same request, write
    # no session).
    assert transaction.index(session_writes[0]) >= transaction.index(record_written[0])
    if connection.vendor == "postgresql":
        assert session_writes == record_written
    assert not [sql for sql in after if _writes_session(sql)]
    assert _renewed(client)
    # The form's remembered choices are in the committed session.
    client.get(reverse("portal:record-new"))
    page = client.get(reverse("portal:record-new")).content.decode()
    assert 'value="李明"' in page
    assert ServiceRecord.objects.filter(activity_name="清理楼道杂物").count() == 1


def test_a_refused_submit_saves_nothing_and_still_renews_the_session(client_as, w):  # noqa: F811
    client = client_as(w.cast.volunteer)
    assert _post(client, form_data(w, responsible_person="李明"))[0].status_code == 302
    _soon(client)
    before = ServiceRecord.objects.count()
    # Refused by the recording rules once the volunteer is locked: the transaction is rolled
    # back, the session with it, and the middleware writes the session after the view.
    overlapping = form_data(
        w, start_time="15:00", end_time="17:00", content="另一次服务", responsible_person="王芳"
    )
    response, statements = _post(client, overlapping)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["start_time"]
    assert ServiceRecord.objects.count() == before
    assert "ROLLBACK" in statements
    rollback = statements.index("ROLLBACK")
    assert len([sql for sql in statements[rollback:] if _writes_session(sql)]) == 1
    assert _renewed(client)
    # The refused submit's choices are not remembered: the form offers the last record's.
    page = client.get(reverse("portal:record-new")).content.decode()
    assert 'value="李明"' in page and "王芳" not in page
