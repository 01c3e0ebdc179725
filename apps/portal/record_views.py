"""Portal pages for service records: a volunteer's records and logging service (on a phone, in
under a minute), the review queue, a team's records and entry for many volunteers at once,
and the public rating pages for the people served (no account).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.activities.models import Activity
from apps.core.prefetch import prefetch
from apps.core.scoping import get_object_for_user, get_user_scope, scope_cache_keys
from apps.core.sessions import session_write
from apps.core.workdays import working_days_after
from apps.notifications.selectors import unread_cache_key
from apps.organizations.models import paths_q
from apps.service_records import checks, evaluations, evidence, selectors, services
from apps.service_records.models import (
    Evaluation,
    RaterKind,
    RecordStatus,
    ServiceRecord,
)
from apps.teams.models import Team, leads_team_q

from .forms_records import RateForm, RecordForm, RejectForm, TeamEntryForm, apply_service

PAGE_SIZE = 50
#: "My records" on a phone: a short page, and no COUNT(*) (one row more tells if there is a next).
MY_PAGE_SIZE = 20
QUEUE_SIZE = 100
#: The last team, category, place and person responsible, to prefill the next record.
SESSION_KEY = "records_last_used"
REMEMBERED = ("team", "category", "place", "responsible_person")
EDITABLE_STATUSES = (RecordStatus.SUBMITTED, RecordStatus.REJECTED)
#: The query parameter with which a new record's page says it was just recorded.
JUST_RECORDED = "recorded"


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _year(request, default: int) -> int:
    year = _int(request.GET.get("year"))
    return year if year and 2000 <= year <= 2100 else default


def _status(request) -> str:
    status = request.GET.get("status", "")
    return status if status in RecordStatus.values else ""


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _hours(minutes) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(Decimal("0.1"))


class ShortPage:
    """A page of a list read without counting the whole list: one row more shows a next page."""

    def __init__(self, queryset, *, number: int, size: int):
        self.number = max(1, number)
        offset = (self.number - 1) * size
        rows = list(queryset[offset : offset + size + 1])
        self.has_next = len(rows) > size
        self.object_list = rows[:size]
        self.has_previous = self.number > 1
        self.has_other_pages = self.has_next or self.has_previous
        self.next_page_number = self.number + 1
        self.previous_page_number = self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def late_before(today: datetime.date, *, limit: int | None = None) -> datetime.date | None:
    """The latest service date that is already a late entry (补录) today.

    Working days after a date only grow as the date moves back, so a binary search over the
    last few weeks finds it in a handful of calendar reads. The page uses it to show the
    late-entry reason field; the rule itself is applied by the service.
    """
    from django.conf import settings

    limit = settings.RECORDING_DEADLINE_WORKING_DAYS if limit is None else limit
    low = today - datetime.timedelta(days=limit * 3 + 21)  # surely late
    high = today  # surely not late
    if working_days_after(low, today) <= limit:
        return None
    while (high - low).days > 1:
        middle = low + datetime.timedelta(days=(high - low).days // 2)
        if working_days_after(middle, today) > limit:
            low = middle
        else:
            high = middle
    return low


def _flags(record: ServiceRecord) -> list[dict]:
    """The stored flags, their reasons rendered in the reader's language."""
    return [{**flag, "reason": checks.flag_reason(flag)} for flag in record.flags or []]


def _is_reviewer(user, record: ServiceRecord) -> bool:
    return ServiceRecord.objects.manageable_by(user).filter(pk=record.pk).exists()


# A volunteer's own records ------------------------------------------------------------------


#: How long a volunteer's rendered page body is kept. The key changes with every change to
#: their records; the time only bounds how long a renamed team or category shows its old name.
ROWS_CACHE_SECONDS = 300


def _my_records(request, *, year: int, status: str, page_number: int) -> dict:
    """The rendered rows and page body of "my records", cached under the volunteer's record
    stamp (see ``selectors.hours_in_year``, which reads it with the hours in one statement):
    a visit costs that statement and one cache round trip."""
    today = timezone.localdate()
    totals = selectors.hours_in_year(user=request.user, year=year, with_stamp=True)
    key = (
        f"records:my:{request.user.pk}:{totals['stamp']}:{today.year}:{year}:{status}:"
        f"{page_number}:{translation.get_language()}"
    )
    # One round trip for everything cached the page needs: its body, and the scope and
    # unread count the navigation bar shows.
    entry = prefetch(
        request.user,
        [key, *scope_cache_keys(request.user), unread_cache_key(request.user.pk)],
    ).get(key)
    if entry is None:
        rows = selectors.service_record_list(user=request.user, year=year, status=status or None)
        # The list shows the category and team only: fewer joins, a narrower sort.
        rows = rows.select_related(None).select_related("category", "team")
        page = ShortPage(rows, number=page_number, size=MY_PAGE_SIZE)
        rows_html = render_to_string(
            "portal/records/fragments/record_rows.html",
            {
                "page": page,
                "query": f"year={year}&status={status}",
                # One reverse() for the page, not one per row.
                "detail_url": reverse("portal:record-detail", args=[0]).removesuffix("0/"),
            },
        )
        body_html = render_to_string(
            "portal/records/fragments/list_body.html",
            {
                "rows": mark_safe(rows_html),  # rendered just above, autoescaped
                "year": year,
                "years": range(today.year, today.year - 6, -1),
                "status": status,
                "statuses": RecordStatus.choices,
                "approved_hours": _hours(totals["approved_minutes"]),
                "pending_hours": _hours(totals["pending_minutes"]),
                "stars": selectors.star_level(hours=totals["total_approved_hours"]),
            },
        )
        entry = {"rows": rows_html, "body": body_html}
        cache.set(key, entry, ROWS_CACHE_SECONDS)
    # Both were rendered by the templates above, autoescaped.
    return {name: mark_safe(html) for name, html in entry.items()}


@require_GET
def record_list(request):
    page = _my_records(
        request,
        year=_year(request, timezone.localdate().year),
        status=_status(request),
        page_number=max(1, _int(request.GET.get("page")) or 1),
    )
    if request.htmx:
        return HttpResponse(page["rows"])
    return render(request, "portal/records/list.html", {"body": page["body"]})


def _initial_from_session(request) -> dict:
    last = request.session.get(SESSION_KEY) or {}
    initial = {"service_date": timezone.localdate()}
    initial.update({key: last[key] for key in REMEMBERED if last.get(key)})
    return initial


def _remembered(data: dict) -> dict:
    """What the form remembers of a submit for the next one."""
    return {
        "team": data["team"].pk if data.get("team") else None,
        "category": data["category"].pk if data.get("category") else None,
        "place": data.get("place", ""),
        "responsible_person": data.get("responsible_person", ""),
    }


def _remember(request, data: dict) -> None:
    last = _remembered(data)
    if request.session.get(SESSION_KEY) != last:  # the same as last time: nothing to write
        request.session[SESSION_KEY] = last


def _form_context(form, **extra) -> dict:
    cutoff = late_before(timezone.localdate())
    return {"form": form, "late_before": cutoff.isoformat() if cutoff else "", **extra}


@require_http_methods(["GET", "POST"])
def record_new(request):
    """Log service: date and times, what, where; the service time follows the times."""
    form = RecordForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        user=request.user,
        # A posted form shows what was posted: what the session remembers is for a new one.
        initial=_initial_from_session(request) if request.method == "GET" else None,
    )
    if request.method == "GET" and "team" not in form.initial:
        teams = list(form.fields["team"].queryset[:2])
        if len(teams) == 1:
            form.initial["team"] = teams[0].pk
    created = []

    def submit():
        # The session (renewed, with the choices to remember) goes in the record's own
        # statement: one commit and one round trip for both. A store that cannot is saved by
        # the middleware after the view, as on any page.
        write = session_write(request, {SESSION_KEY: _remembered(form.cleaned_data)})
        created.append(
            services.service_record_submit(
                actor=request.user,
                volunteer=request.user,
                photos=form.cleaned_data["photos"],
                alongside=(write,) if write is not None else (),
                **form.record_fields(),
            )
        )
        if write is None:
            _remember(request, form.cleaned_data)

    if request.method == "POST" and apply_service(form, submit):
        # The record's page says it was just recorded (``?recorded=1``), rather than a
        # one-time message signed into a cookie here and read back and cleared there.
        detail = reverse("portal:record-detail", args=[created[0].pk])
        return redirect(f"{detail}?{JUST_RECORDED}=1")
    return render(request, "portal/records/form.html", _form_context(form, record=None))


def _recorded_notice(request, record: ServiceRecord, *, is_owner: bool) -> str:
    """What the volunteer's record page says right after they logged it (``record_new``)."""
    if not is_owner or request.GET.get(JUST_RECORDED) != "1":
        return ""
    if record.status != RecordStatus.SUBMITTED:
        return ""  # reviewed since: the page says how
    return _("Recorded: %(name)s, %(hours)s hours. It now waits for review.") % {
        "name": record.activity_name,
        "hours": record.hours,
    }


@require_GET
def record_detail(request, pk):
    record = get_object_for_user(
        ServiceRecord.objects.select_related(
            "volunteer", "category", "team", "activity", "community", "organization", "reviewed_by"
        ),
        request.user,
        pk=pk,
    )
    user = request.user
    is_owner = record.volunteer_id == user.pk
    is_reviewer = not is_owner and _is_reviewer(user, record)
    evaluation_list = list(record.evaluations.order_by("created_at"))
    resident_rated = any(e.rater_kind == RaterKind.RESIDENT for e in evaluation_list)
    rate_url = rate_qr = ""
    rateable = record.status in evaluations.RATEABLE_STATUSES
    if (is_owner or is_reviewer) and rateable and not resident_rated:
        rate_url = request.build_absolute_uri(
            reverse("portal:record-rate", args=[record.evaluation_token])
        )
        rate_qr = segno.make(rate_url, error="m").svg_inline(scale=4, border=2)
    return render(
        request,
        "portal/records/detail.html",
        {
            "record": record,
            "recorded_notice": _recorded_notice(request, record, is_owner=is_owner),
            "is_owner": is_owner,
            "is_reviewer": is_reviewer,
            "can_edit": is_owner and record.status in EDITABLE_STATUSES,
            "flags": _flags(record) if is_reviewer else [],
            "evidence": list(record.evidence.all()),
            "evaluations": evaluation_list,
            "rate_url": rate_url,
            "rate_qr": rate_qr,
            "staff_may_rate": evaluations.is_community_staff_of(user, record)
            and not any(e.rater_kind == RaterKind.COMMUNITY_STAFF for e in evaluation_list),
            "reject_form": RejectForm(),
        },
    )


def _initial_from_record(record: ServiceRecord) -> dict:
    start = timezone.localtime(record.started_at)
    end = timezone.localtime(record.ended_at)
    return {
        "activity_name": record.activity_name,
        "category": record.category_id,
        "service_date": start.date(),
        "start_time": start.time().replace(second=0, microsecond=0),
        "end_time": end.time().replace(second=0, microsecond=0),
        "duration_hours": (Decimal(record.duration_minutes) / 60).quantize(Decimal("0.01")),
        "place": record.place,
        "content": record.content,
        "team": record.team_id,
        "care_recipient": record.care_recipient_id,
        "responsible_person": record.responsible_person,
        "late_reason": record.late_reason,
    }


@require_http_methods(["GET", "POST"])
def record_edit(request, pk):
    """The volunteer corrects a record awaiting review or one sent back."""
    record = get_object_for_user(ServiceRecord, request.user, pk=pk)
    if record.volunteer_id != request.user.pk:
        raise PermissionDenied
    if record.status not in EDITABLE_STATUSES:
        messages.error(
            request, _("Only records awaiting review or sent back can be changed by you.")
        )
        return redirect("portal:record-detail", pk=pk)
    form = RecordForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        user=request.user,
        record=record,
        initial=_initial_from_record(record),
    )
    if request.method == "POST" and apply_service(form, lambda: _correct(request, record, form)):
        messages.success(request, _("The record is corrected and waits for review."))
        return redirect("portal:record-detail", pk=pk)
    return render(request, "portal/records/form.html", _form_context(form, record=record))


@transaction.atomic
def _correct(request, record: ServiceRecord, form: RecordForm) -> None:
    """The correction and any new photos: both or neither."""
    fields = {
        key: value for key, value in form.record_fields().items() if key in services.EDITABLE_FIELDS
    }
    services.service_record_update(actor=request.user, record=record, **fields)
    if form.cleaned_data["photos"]:
        record.refresh_from_db()
        evidence.evidence_add(actor=request.user, record=record, photos=form.cleaned_data["photos"])


# Review ---------------------------------------------------------------------------------------


def _queue_rows(user) -> list:
    rows = list(selectors.review_queue(user=user)[:QUEUE_SIZE])
    for row in rows:
        row.flag_list = _flags(row)
    return rows


@require_http_methods(["GET", "POST"])
def review_queue(request):
    """Records the user may review, flagged first. POST approves the ticked ones at once."""
    if not selectors.may_review_any(request.user):
        raise PermissionDenied
    if request.method == "POST":
        ids = [i for i in (_int(v) for v in request.POST.getlist("records")) if i]
        if not ids:
            messages.error(request, _("Tick the records to approve."))
        else:
            chosen = ServiceRecord.objects.manageable_by(request.user).filter(pk__in=ids)
            approved, refused = services.service_record_bulk_approve(
                actor=request.user, records=list(chosen)
            )
            if approved:
                messages.success(request, _("%(count)d records approved.") % {"count": approved})
            for record, message in refused:
                messages.error(request, f"{record.activity_name}: {message}")
        if not request.htmx:
            return redirect("portal:review-queue")
    rows = _queue_rows(request.user)
    template = (
        "portal/records/fragments/review_list.html"
        if request.htmx
        else "portal/records/review_queue.html"
    )
    return render(request, template, {"rows": rows, "row_error": ""})


def _after_review(request, record: ServiceRecord, *, error: str = ""):
    if request.htmx:
        row = ServiceRecord.objects.select_related("volunteer", "category", "team").get(
            pk=record.pk
        )
        row.flag_list = _flags(row)
        return render(
            request, "portal/records/fragments/review_row.html", {"row": row, "row_error": error}
        )
    if error:
        messages.error(request, error)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("portal:record-detail", pk=record.pk)


def _review(request, pk, action):
    record = get_object_for_user(ServiceRecord, request.user, change=True, pk=pk)
    try:
        record = action(record)
    except ValidationError as error:
        return _after_review(request, record, error=" ".join(error.messages))
    if not request.htmx:
        messages.success(
            request,
            _("%(name)s: %(status)s")
            % {"name": record.activity_name, "status": record.get_status_display()},
        )
    return _after_review(request, record)


@require_POST
def record_approve(request, pk):
    return _review(
        request,
        pk,
        lambda record: services.service_record_approve(actor=request.user, record=record),
    )


@require_POST
def record_reject(request, pk):
    return _review(
        request,
        pk,
        lambda record: services.service_record_reject(
            actor=request.user, record=record, reason=_reason(request, pk)
        ),
    )


def _reason(request, pk) -> str:
    """The reason typed on the detail page (``reason``) or on the queue's row (``reason-<pk>``)."""
    return request.POST.get("reason") or request.POST.get(f"reason-{pk}", "")


@require_POST
def record_reopen(request, pk):
    return _review(
        request,
        pk,
        lambda record: services.service_record_reopen(
            actor=request.user, record=record, reason=request.POST.get("reason", "")
        ),
    )


# A team's records -----------------------------------------------------------------------------


def _overseen_team(user, team_pk) -> Team:
    """A team whose records the user oversees: its leaders and its organisations' roles.

    Members see the team but not each other's records (403); others do not see it (404).
    """
    team = get_object_for_user(Team, user, pk=team_pk)
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return team
    reach = paths_q("organization__path", scope.view_paths) | leads_team_q(user)
    if not Team.objects.filter(reach, pk=team.pk).exists():
        raise PermissionDenied
    return team


@require_GET
def team_records(request, team_pk):
    team = _overseen_team(request.user, team_pk)
    today = timezone.localdate()
    year = _year(request, today.year)
    status = _status(request)
    rows = selectors.team_records(user=request.user, team=team, year=year, status=status or None)
    totals = rows.order_by().aggregate(
        count=Count("pk"),
        approved=Sum("duration_minutes", filter=Q(status=RecordStatus.APPROVED)),
        pending=Sum("duration_minutes", filter=Q(status=RecordStatus.SUBMITTED)),
        volunteers=Count("volunteer", distinct=True),
        flagged=Count("pk", filter=~Q(flags=[])),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/records/team.html",
        {
            "team": team,
            "page": page,
            "year": year,
            "years": range(today.year, today.year - 6, -1),
            "status": status,
            "statuses": RecordStatus.choices,
            "totals": totals,
            "approved_hours": _hours(totals["approved"]),
            "pending_hours": _hours(totals["pending"]),
            "can_enter": Team.objects.manageable_by(request.user).filter(pk=team.pk).exists(),
            "query": f"year={year}&status={status}",
        },
    )


@require_http_methods(["GET", "POST"])
def team_record_entry(request, team_pk):
    """A leader enters one activity for many of the team's volunteers at once: all or none."""
    team = get_object_for_user(Team, request.user, change=True, pk=team_pk)
    form = TeamEntryForm(
        request.POST if request.method == "POST" else None,
        team=team,
        initial={
            "service_date": timezone.localdate(),
            "responsible_person": request.user.get_full_name(),
        },
    )
    created = []
    if request.method == "POST" and apply_service(
        form,
        lambda: created.extend(
            services.service_record_enter_for_team(
                actor=request.user,
                team=team,
                volunteers=list(form.cleaned_data["volunteers"]),
                **form.record_fields(),
            )
        ),
    ):
        messages.success(
            request,
            _("%(count)d records entered for %(team)s.") % {"count": len(created), "team": team},
        )
        return redirect("portal:team-records", team_pk=team.pk)
    return render(request, "portal/records/team_entry.html", _form_context(form, team=team))


# Ratings by the people served (no account) ----------------------------------------------------


def _apply_rating(form, call) -> bool:
    return apply_service(form, call)


@login_not_required
@require_http_methods(["GET", "POST"])
def record_rate(request, token):
    record = get_object_or_404(
        ServiceRecord.objects.select_related("volunteer", "community"), evaluation_token=token
    )
    kind = evaluations.rater_kind_for(request.user, record)
    rated = Evaluation.objects.filter(record=record, rater_kind=kind).first()
    form = RateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and _apply_rating(
        form,
        lambda: evaluations.evaluation_submit(
            record=record,
            stars=form.cleaned_data["stars"],
            comment=form.cleaned_data["comment"],
            rater_kind=kind,
            rated_by=request.user if request.user.is_authenticated else None,
        ),
    ):
        return redirect("portal:record-rate", token=token)
    return render(
        request,
        "portal/records/rate.html",
        {
            "record": record,
            "volunteer_name": _masked_name(record.volunteer.get_full_name()),
            "form": form,
            "rated": rated,
            "as_staff": kind == RaterKind.COMMUNITY_STAFF,
            "can_rate": rated is None and record.status in evaluations.RATEABLE_STATUSES,
        },
    )


def _masked_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


@login_not_required
@require_http_methods(["GET", "POST"])
def activity_rate(request, token):
    activity = get_object_or_404(
        Activity.objects.select_related("community"), evaluation_token=token
    )
    form = RateForm(request.POST if request.method == "POST" else None)
    rated = []
    if request.method == "POST" and _apply_rating(
        form,
        lambda: rated.append(
            evaluations.activity_evaluation_submit(
                activity=activity,
                stars=form.cleaned_data["stars"],
                comment=form.cleaned_data["comment"],
                rated_by=request.user if request.user.is_authenticated else None,
            )
        ),
    ):
        messages.success(
            request,
            _("Thank you: your rating was recorded for %(count)d volunteers.")
            % {"count": rated[0]},
        )
        return redirect("portal:activity-rate", token=token)
    open_records = (
        ServiceRecord.objects.filter(activity=activity, status__in=evaluations.RATEABLE_STATUSES)
        .exclude(evaluations__rater_kind=RaterKind.RESIDENT)
        .count()
    )
    return render(
        request,
        "portal/records/activity_rate.html",
        {"activity": activity, "form": form, "open_records": open_records},
    )
