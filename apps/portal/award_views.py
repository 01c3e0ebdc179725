"""A volunteer's awards (Order 67 Art. 9: name, date, awarding unit) and nominations, and the
public publicity page (公示) where anyone signed in may raise an objection."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.awards import nominations as services
from apps.awards.award_selectors import my_awards, my_nominations, publicity_list
from apps.awards.models import Nomination

from .forms_awards import ObjectionForm

PUBLICITY_PER_PAGE = 20


@require_GET
def award_list(request):
    user = request.user
    return render(
        request,
        "portal/awards/mine.html",
        {"awards": my_awards(user=user), "nominations": my_nominations(user=user)},
    )


def _publicity_page(request, *, failed=None, form=None, status=200):
    page = Paginator(publicity_list(), PUBLICITY_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/awards/publicity.html",
        {"page": page, "failed": failed, "form": form},
        status=status,
    )


@login_not_required
@require_GET
def publicity(request):
    return _publicity_page(request)


@require_POST
def objection_create(request, pk):
    # Only nominations that have been publicised are public; the period is the service's rule.
    nomination = get_object_or_404(
        Nomination.objects.filter(publicity_starts_on__isnull=False), pk=pk
    )
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.objection_create(
                actor=request.user,
                nomination=nomination,
                text=form.cleaned_data["text"],
                contact=form.cleaned_data["contact"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(
                request,
                _("Thank you: your objection has been passed on and will be looked into."),
            )
            return redirect("portal:publicity")
    return _publicity_page(request, failed=nomination.pk, form=form, status=400)
