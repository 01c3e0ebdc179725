"""Portal pages for residence reports, posts and pledges (members) and for community staff."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import ServiceCategory
from apps.communities import selectors, services
from apps.communities.models import (
    Community,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
)
from apps.core.scoping import get_object_for_user

# Forms ---------------------------------------------------------------------------------------


class ResidenceReportForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community where I live"), queryset=Community.objects.none()
    )
    home_address = forms.CharField(
        label=gettext_lazy("Home address"),
        max_length=255,
        help_text=gettext_lazy("Only the community's staff see it."),
    )
    skills_offered = forms.CharField(
        label=gettext_lazy("What I can offer"), max_length=255, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = selectors.community_directory()


class PledgeForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    content = forms.CharField(label=gettext_lazy("My pledge"), widget=forms.Textarea({"rows": 3}))
    target = forms.CharField(
        label=gettext_lazy("Target"),
        max_length=255,
        help_text=gettext_lazy("How keeping it is measured, e.g. 24 services a year."),
    )


class EvidenceForm(forms.Form):
    evidence = forms.CharField(
        label=gettext_lazy("How I kept it"), widget=forms.Textarea({"rows": 4})
    )


class PostForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=128)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea({"rows": 3})
    )
    slots = forms.IntegerField(label=gettext_lazy("Places"), min_value=1, max_value=1000)
    starts_on = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput({"type": "date"}), required=False
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Until"), widget=forms.DateInput({"type": "date"}), required=False
    )
    service_category = forms.ModelChoiceField(
        label=gettext_lazy("Service category"),
        queryset=ServiceCategory.objects.filter(is_active=True),
        required=False,
    )


def _apply(form: forms.Form, call) -> bool:
    """Run a service for a valid form; its refusal becomes the form's errors."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return False
    return True


# Members -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def residence_report(request):
    current = selectors.residence_report_current(user=request.user)
    form = ResidenceReportForm(request.POST or None)
    created = []
    if request.method == "POST" and _apply(
        form,
        lambda data: created.append(
            services.residence_report_submit(
                user=request.user,
                community=data["community"],
                home_address=data["home_address"],
                skills_offered=data["skills_offered"],
            )
        ),
    ):
        messages.success(request, _("Your report has been submitted."))
        return redirect("portal:residence-report-receipt", pk=created[0].pk)
    return render(
        request, "portal/communities/residence_report.html", {"form": form, "current": current}
    )


@require_GET
def residence_report_receipt(request, pk):
    report = get_object_for_user(
        ResidenceReport.objects.select_related("user", "community"), request.user, pk=pk
    )
    return render(request, "portal/communities/receipt.html", {"report": report})


@require_GET
def my_community(request):
    user = request.user
    report = selectors.residence_report_current(user=user)
    confirmed = report is not None and report.status == ResidenceReportStatus.CONFIRMED
    posts = []
    if confirmed:
        posts = list(selectors.community_posts(community=report.community, published_only=True))
    claims = list(selectors.member_claims(user=user))
    claimed_post_ids = {c.post_id for c in claims if c.status in ("pending", "approved")}
    return render(
        request,
        "portal/communities/my_community.html",
        {
            "report": report,
            "confirmed": confirmed,
            "posts": posts,
            "claims": claims,
            "claimed_post_ids": claimed_post_ids,
            "pledges": list(selectors.member_pledges(user=user)),
        },
    )


@require_POST
def post_claim(request, pk):
    post = get_object_for_user(Post.objects.all(), request.user, pk=pk)
    try:
        services.post_claim(user=request.user, post=post, note=request.POST.get("note", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("You have claimed this post; the community will confirm it."))
    return redirect("portal:my-community")


def _confirmed_report(user):
    report = selectors.residence_report_current(user=user)
    if report is not None and report.status == ResidenceReportStatus.CONFIRMED:
        return report
    return None


@require_http_methods(["GET", "POST"])
def pledge_make(request):
    report = _confirmed_report(request.user)
    form = PledgeForm(request.POST or None, initial={"year": timezone.localdate().year})
    if (
        request.method == "POST"
        and report is not None
        and _apply(
            form,
            lambda data: services.pledge_make(
                user=request.user,
                community=report.community,
                year=data["year"],
                content=data["content"],
                target=data["target"],
            ),
        )
    ):
        messages.success(request, _("Your pledge has been recorded."))
        return redirect("portal:my-community")
    return render(request, "portal/communities/pledge_form.html", {"form": form, "report": report})


@require_http_methods(["GET", "POST"])
def pledge_report_kept(request, pk):
    pledge = get_object_for_user(Pledge.objects.select_related("community"), request.user, pk=pk)
    if pledge.user_id != request.user.pk:
        raise PermissionDenied
    form = EvidenceForm(request.POST or None)
    if request.method == "POST" and _apply(
        form,
        lambda data: services.pledge_report_kept(
            user=request.user, pledge=pledge, evidence=data["evidence"]
        ),
    ):
        messages.success(request, _("Thank you. The community will confirm it."))
        return redirect("portal:my-community")
    return render(request, "portal/communities/pledge_kept.html", {"form": form, "pledge": pledge})


# Community staff -----------------------------------------------------------------------------


@require_GET
def community_list(request):
    communities = selectors.community_managed_list(user=request.user)
    return render(request, "portal/communities/community_list.html", {"communities": communities})


def _row(queryset, request):
    try:
        return queryset.get(pk=int(request.POST.get("id", "")))
    except (ValueError, queryset.model.DoesNotExist):
        raise Http404 from None


def _manage_action(request, community, action):
    """The decision a POST on the manage page asks for; returns the success message."""
    actor = request.user
    reason = request.POST.get("reason", "")
    reports = ResidenceReport.objects.filter(community=community)
    claims = PostClaim.objects.filter(post__community=community)
    pledges = Pledge.objects.filter(community=community)
    posts = Post.objects.filter(community=community)
    if action == "confirm-report":
        services.residence_report_confirm(actor=actor, report=_row(reports, request))
        return _("The report has been confirmed.")
    if action == "return-report":
        services.residence_report_return(actor=actor, report=_row(reports, request), reason=reason)
        return _("The report has been returned.")
    if action == "close-post":
        services.post_close(actor=actor, post=_row(posts, request))
        return _("The post has been closed.")
    if action == "approve-claim":
        services.post_claim_approve(actor=actor, claim=_row(claims, request))
        return _("The claim has been approved.")
    if action == "reject-claim":
        services.post_claim_reject(actor=actor, claim=_row(claims, request), reason=reason)
        return _("The claim has been rejected.")
    if action == "confirm-pledge":
        services.pledge_confirm(actor=actor, pledge=_row(pledges, request))
        return _("The pledge has been confirmed as kept.")
    if action == "not-kept-pledge":
        services.pledge_mark_not_kept(actor=actor, pledge=_row(pledges, request), reason=reason)
        return _("The pledge has been marked as not kept.")
    raise Http404


@require_http_methods(["GET", "POST"])
def community_manage(request, pk):
    community = get_object_for_user(Community, request.user, change=True, pk=pk)
    post_form = PostForm(initial={"starts_on": timezone.localdate(), "slots": 1})
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "publish-post":
            post_form = PostForm(request.POST)
            if _apply(
                post_form,
                lambda data: services.post_publish(actor=request.user, community=community, **data),
            ):
                messages.success(request, _("The post has been published."))
                return redirect("portal:community-manage", pk=community.pk)
        else:
            try:
                message = _manage_action(request, community, action)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, message)
            return redirect("portal:community-manage", pk=community.pk)
    return render(
        request,
        "portal/communities/community_manage.html",
        {
            "community": community,
            "reports": selectors.community_pending_reports(community=community),
            "posts": selectors.community_posts(community=community),
            "claims": selectors.community_pending_claims(community=community),
            "pledges": selectors.community_pledges_to_review(community=community),
            "post_form": post_form,
        },
    )
