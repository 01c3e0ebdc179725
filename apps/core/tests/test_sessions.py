"""``core.sessions``: a view may write the session inside its own transaction, so the request
commits once; the middleware's save after the view then writes only what changed since, and
writes as usual when that transaction rolled back or the session's row is gone."""

import datetime
import re

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core import prepared
from apps.core.sessions import SessionStore, save_in_transaction, session_write

# Real commits: what is known as written is known so only once the transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _stored(key: str) -> dict:
    return SessionStore().decode(Session.objects.get(session_key=key).session_data)


def _existing(**data) -> SessionStore:
    created = SessionStore()
    created.update(data)
    created.create()
    store = SessionStore(session_key=created.session_key)
    assert store["visits"] == data["visits"]  # loaded, as a request's session is
    return store


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_session_written_in_the_transaction_is_not_written_again():
    store = _existing(visits=1)
    store["visits"] = 2
    with transaction.atomic():
        assert store.write_in_transaction()
    with CaptureQueriesContext(connection) as queries:
        store.save()  # the middleware's save after the view
    assert queries.captured_queries == []
    assert _stored(store.session_key) == {"visits": 2}


def test_the_write_renews_the_expiry():
    store = _existing(visits=1)
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=5)
    )
    with transaction.atomic():
        store.write_in_transaction()
    expiry = Session.objects.get(session_key=store.session_key).expire_date
    assert expiry > timezone.now() + datetime.timedelta(seconds=store.get_expiry_age() - 60)
    # Stored as the ORM stores it: found by the lookup the middleware's load makes.
    found = Session.objects.filter(session_key=store.session_key, expire_date__gt=timezone.now())
    assert found.exists()
    # In the same form as Django's own store writes it (text on SQLite, compared as text).
    theirs = _existing(visits=1)
    theirs.save()
    assert _shape(store.session_key) == _shape(theirs.session_key)


def _shape(key: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST(expire_date AS TEXT) FROM django_session WHERE session_key = %s", [key]
        )
        text = re.sub(r"\.[0-9]+", "", cursor.fetchone()[0])  # fractions of a second vary
        return re.sub(r"[0-9]", "0", text)


def test_a_change_after_the_write_is_saved_by_the_middleware():
    store = _existing(visits=1)
    with transaction.atomic():
        store.write_in_transaction()
    store["visits"] = 3
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert len(_writes(queries)) == 1
    assert _stored(store.session_key) == {"visits": 3}


def test_a_write_rolled_back_is_written_by_the_middleware():
    store = _existing(visits=1)
    store["visits"] = 4

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        store.write_in_transaction()
        raise Refused
    assert _stored(store.session_key) == {"visits": 1}  # nothing kept
    store.save()
    assert _stored(store.session_key) == {"visits": 4}


def test_a_session_whose_row_is_gone_is_not_written_and_the_middleware_says_so():
    store = _existing(visits=1)
    Session.objects.filter(session_key=store.session_key).delete()
    store["visits"] = 5
    with transaction.atomic():
        assert not store.write_in_transaction()
    assert not Session.objects.filter(session_key=store.session_key).exists()
    with pytest.raises(UpdateError):  # the middleware answers SessionInterrupted, as always
        store.save()


def test_a_new_session_is_left_to_the_middleware():
    store = SessionStore()
    store["visits"] = 1
    with transaction.atomic():
        assert not store.write_in_transaction()
    assert Session.objects.count() == 0
    store.save()  # creates it, as Django's store does
    assert _stored(store.session_key) == {"visits": 1}


def test_outside_a_transaction_the_session_is_left_to_the_middleware():
    request = RequestFactory().get("/")
    request.session = _existing(visits=1)
    request.session["visits"] = 6
    with CaptureQueriesContext(connection) as queries:
        save_in_transaction(request)
    assert queries.captured_queries == []
    assert _stored(request.session.session_key) == {"visits": 1}


def test_a_request_without_this_store_is_left_to_the_middleware():
    from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieStore

    request = RequestFactory().get("/")
    request.session = CookieStore()
    request.session["visits"] = 1
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        save_in_transaction(request)
    assert _writes(queries) == []


def test_a_session_the_middleware_would_not_save_is_not_written(settings):
    settings.SESSION_SAVE_EVERY_REQUEST = False
    request = RequestFactory().get("/")
    request.session = _existing(visits=1)  # read, not changed
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        save_in_transaction(request)
    assert _writes(queries) == []
    request.session["visits"] = 7  # changed: written, as the middleware would
    with transaction.atomic():
        save_in_transaction(request)
    assert _stored(request.session.session_key) == {"visits": 7}


def _run(write) -> None:
    """What ``insert_audited`` does with a write alongside its row."""
    sql, params = write.statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        write.done(cursor.rowcount)


def test_a_session_written_alongside_takes_its_changes_and_is_not_written_again():
    request = RequestFactory().post("/")
    request.session = _existing(visits=1)
    write = session_write(request, {"last": {"place": "社区"}})
    assert "last" not in request.session  # not before the statement has written them
    with transaction.atomic():
        _run(write)
    assert request.session["last"] == {"place": "社区"}
    assert _stored(request.session.session_key) == {"visits": 1, "last": {"place": "社区"}}
    with CaptureQueriesContext(connection) as queries:
        request.session.save()  # the middleware's save after the view
    assert queries.captured_queries == []


def test_a_session_written_alongside_and_rolled_back_is_written_by_the_middleware():
    request = RequestFactory().post("/")
    request.session = _existing(visits=1)
    write = session_write(request, {"last": {"place": "社区"}})

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        _run(write)
        raise Refused
    assert _stored(request.session.session_key) == {"visits": 1}  # nothing kept
    request.session.save()  # the middleware's save after the view, as for any page
    assert _stored(request.session.session_key) == {"visits": 1, "last": {"place": "社区"}}


def test_a_session_whose_row_is_gone_is_left_to_the_middleware_alongside_too():
    request = RequestFactory().post("/")
    request.session = _existing(visits=1)
    Session.objects.filter(session_key=request.session.session_key).delete()
    write = session_write(request, {"last": 1})
    with transaction.atomic():
        _run(write)
    assert "last" not in request.session
    with pytest.raises(UpdateError):  # SessionInterrupted, as Django answers
        request.session.save()


def test_no_session_write_alongside_where_the_store_cannot(settings):
    from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieStore

    request = RequestFactory().post("/")
    request.session = CookieStore()
    assert session_write(request, {"last": 1}) is None
    request.session = SessionStore()  # new: the middleware creates it
    assert session_write(request, {"last": 1}) is None
    settings.SESSION_SAVE_EVERY_REQUEST = False
    request.session = _existing(visits=1, last=1)
    assert session_write(request, {"last": 1}) is None  # nothing to save
    assert session_write(request, {"last": 2}) is not None


# Loading --------------------------------------------------------------------------------------


def test_a_session_loads_in_one_statement_by_key_and_expiry():
    store = _existing(visits=3, name="张三")
    loaded = SessionStore(session_key=store.session_key)
    with CaptureQueriesContext(connection) as sent:
        assert dict(loaded.items()) == {"visits": 3, "name": "张三"}
    [statement] = [q["sql"] for q in sent.captured_queries]
    if prepared.enabled(connection):  # prepared when the first store loaded
        assert statement.startswith("EXECUTE vp_statement_")
    else:
        assert re.search(r'WHERE "session_key" = .* AND "expire_date" > ', statement)
    assert loaded.session_key == store.session_key


def test_an_expired_session_loads_empty_and_forgets_its_key():
    store = _existing(visits=4)
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    loaded = SessionStore(session_key=store.session_key)
    assert loaded.get("visits") is None
    assert loaded.session_key is None  # a new one is created when it is saved, as Django does


def test_an_unknown_session_loads_empty_and_forgets_its_key():
    loaded = SessionStore(session_key="x" * 32)
    assert dict(loaded.items()) == {}
    assert loaded.session_key is None
