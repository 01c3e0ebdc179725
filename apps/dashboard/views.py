from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.scoping import get_object_for_user, get_user_scope, user_can_manage
from apps.organizations import services
from apps.organizations.models import Membership, OrganizationKind, PartyOrganization
from apps.organizations.selectors import organization_list

from .forms import OrganizationForm


def _require_staff(request):
    """The dashboard is for people with an organisation role; volunteers get 403."""
    if not get_user_scope(request.user).can_view_any:
        raise PermissionDenied


@require_GET
def organization_list_view(request):
    _require_staff(request)
    search = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    page = Paginator(organization_list(user=request.user, search=search, kind=kind), 50).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "search": search, "kind": kind, "kinds": OrganizationKind.choices}
    template = "dashboard/organization_list.html"
    if request.htmx:
        template = "dashboard/fragments/organization_rows.html"
    return render(request, template, context)


@require_GET
def organization_detail(request, pk):
    _require_staff(request)
    organization = get_object_for_user(PartyOrganization, request.user, pk=pk)
    members = (
        Membership.objects.active()
        .filter(organization=organization)
        .select_related("user")
        .order_by("user__real_name")
    )
    children = organization_list(user=request.user).filter(parent=organization)
    return render(
        request,
        "dashboard/organization_detail.html",
        {
            "organization": organization,
            "ancestors": organization.ancestors(),
            "members": members,
            "children": children,
            "can_change": user_can_manage(request.user, organization),
        },
    )


@require_http_methods(["GET", "POST"])
def organization_edit(request, pk):
    _require_staff(request)
    organization = get_object_for_user(PartyOrganization, request.user, change=True, pk=pk)
    form = OrganizationForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_save(actor=request.user, organization=form.instance)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The organisation has been saved."))
            return redirect("dashboard:organization-detail", pk=organization.pk)
    return render(
        request, "dashboard/organization_form.html", {"form": form, "organization": organization}
    )
