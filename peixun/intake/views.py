"""Pages of 数据采集: devices (institutions register, officials of the area see) and online platform
filing (platforms file; CITY_ADMIN / REGION_ADMIN of the area filed with review).

A secret is shown once: the action that issues it keeps it in the session and redirects to the
detail page, which takes it out of the session as it shows it (a reload no longer shows it).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from peixun.accounts.http import require_perm
from peixun.accounts.roles import OFFICIAL_ROLES, Perm, Role
from peixun.accounts.scope import get_scoped_or_404, restrict
from peixun.core.errors import PeixunError
from peixun.institutions.models import Institution

from . import services
from .forms import DeviceForm, PlatformForm, ReasonForm
from .models import Device, Platform

SECRET_SESSION_KEY = "intake_secret_once"


def _remember_secret(request, kind: str, pk: int, code: str, secret: str) -> None:
    request.session[SECRET_SESSION_KEY] = {"kind": kind, "pk": pk, "code": code, "secret": secret}


def _take_secret(request, kind: str, pk: int) -> dict | None:
    held = request.session.get(SECRET_SESSION_KEY)
    if held and held.get("kind") == kind and held.get("pk") == pk:
        del request.session[SECRET_SESSION_KEY]
        return held
    return None


def _own_institution(user) -> Institution | None:
    if user.role != Role.INSTITUTION_OPERATOR or user.organisation_id is None:
        return None
    return Institution.objects.filter(organisation_id=user.organisation_id).first()


# --- devices ------------------------------------------------------------------------------------


@require_perm(Perm.VIEW_INSTITUTIONS)
def device_list(request):
    devices = restrict(Device.objects.select_related("institution", "institution__area"), request.user)
    status = request.GET.get("status", "")
    if status in Device.Status.values:
        devices = devices.filter(status=status)
    return render(
        request,
        "intake/device_list.html",
        {
            "devices": devices.order_by("institution__name", "code")[:500],
            "status": status,
            "statuses": Device.Status.choices,
            "can_register": _own_institution(request.user) is not None,
        },
    )


@require_perm(Perm.EDIT_OWN_INSTITUTION)
def device_create(request):
    institution = _own_institution(request.user)
    if institution is None:
        raise Http404("页面不存在")
    form = DeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, secret = services.device_register(
                institution=institution, actor=request.user, **form.cleaned_data
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            _remember_secret(request, "device", device.pk, device.code, secret)
            return redirect("intake:device_detail", device.pk)
    return render(request, "intake/device_form.html", {"form": form, "institution": institution})


@require_perm(Perm.VIEW_INSTITUTIONS)
def device_detail(request, pk: int):
    device = get_scoped_or_404(
        Device.objects.select_related("institution", "registered_by"), request.user, pk=pk
    )
    return render(
        request,
        "intake/device_detail.html",
        {
            "device": device,
            "secret": _take_secret(request, "device", device.pk),
            "can_revoke": services.can_revoke_device(request.user, device),
            "form": ReasonForm(),
        },
    )


@require_POST
@require_perm(Perm.VIEW_INSTITUTIONS)
def device_revoke(request, pk: int):
    device = get_scoped_or_404(Device.objects.select_related("institution"), request.user, pk=pk)
    if not services.can_revoke_device(request.user, device):
        raise Http404("页面不存在")
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.device_revoke(device=device, actor=request.user, reason=form.cleaned_data.get("reason", ""))
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"设备{device.code}已吊销，此后该设备的上传请求将被拒绝。")
    return redirect("intake:device_detail", device.pk)


# --- platforms ----------------------------------------------------------------------------------


def _platform_user(view):
    """Officials (to review and look) and platform operators (their own filings); others 404."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if request.user.role not in OFFICIAL_ROLES and request.user.role != Role.PLATFORM_OPERATOR:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _scoped_platform(request, pk: int) -> Platform:
    return get_scoped_or_404(
        Platform.objects.select_related("filed_with", "organisation"), request.user, pk=pk
    )


@_platform_user
def platform_list(request):
    platforms = restrict(Platform.objects.select_related("filed_with", "organisation"), request.user)
    status = request.GET.get("status", "")
    if status in Platform.Status.values:
        platforms = platforms.filter(status=status)
    return render(
        request,
        "intake/platform_list.html",
        {
            "platforms": platforms.order_by("-created_at")[:500],
            "status": status,
            "statuses": Platform.Status.choices,
            "can_file": request.user.role == Role.PLATFORM_OPERATOR,
        },
    )


def _split(cleaned: dict) -> tuple[dict, dict]:
    fields = {f: cleaned[f] for f in services.PLATFORM_FIELDS}
    capabilities = {f: cleaned.get(f, False) for f in Platform.CAPABILITIES}
    return fields, capabilities


@_platform_user
def platform_file(request):
    if request.user.role != Role.PLATFORM_OPERATOR:
        raise Http404("页面不存在")
    form = PlatformForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields, capabilities = _split(form.cleaned_data)
        try:
            platform = services.platform_file(
                actor=request.user,
                filed_with=form.cleaned_data["filed_with"],
                fields=fields,
                capabilities=capabilities,
                courses_text=form.cleaned_data["courses_text"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "平台备案已提交，请等待备案机关审核。")
            return redirect("intake:platform_detail", platform.pk)
    return render(request, "intake/platform_form.html", {"form": form, "platform": None})


@_platform_user
def platform_edit(request, pk: int):
    platform = _scoped_platform(request, pk)
    if (
        not services.is_platform_operator(request.user, platform)
        or platform.status != Platform.Status.RETURNED
    ):
        raise Http404("页面不存在")
    initial = {f: getattr(platform, f) for f in (*services.PLATFORM_FIELDS, *Platform.CAPABILITIES)}
    initial["filed_with"] = platform.filed_with
    initial["courses_text"] = "\n".join(
        f"{c.occupation_code}|{c.name}|{c.hours.normalize():f}|{c.standard}" for c in platform.courses.all()
    )
    form = PlatformForm(request.POST or None, initial=initial, fixed_area=True)
    if request.method == "POST" and form.is_valid():
        fields, capabilities = _split(form.cleaned_data)
        try:
            services.platform_update(
                platform=platform,
                actor=request.user,
                fields=fields,
                capabilities=capabilities,
                courses_text=form.cleaned_data["courses_text"],
            )
        except PeixunError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "备案信息已修改。修改完毕后请点击“重新提交”。")
            return redirect("intake:platform_detail", platform.pk)
    return render(request, "intake/platform_form.html", {"form": form, "platform": platform})


@_platform_user
def platform_detail(request, pk: int):
    platform = _scoped_platform(request, pk)
    operator = services.is_platform_operator(request.user, platform)
    return render(
        request,
        "intake/platform_detail.html",
        {
            "platform": platform,
            "courses": platform.courses.all(),
            "events": platform.events.select_related("actor"),
            "transitions": services.platform_transitions_for(request.user, platform),
            "is_operator": operator,
            "can_take_secret": operator and platform.status == Platform.Status.APPROVED,
            "secret": _take_secret(request, "platform", platform.pk),
        },
    )


@_platform_user
def platform_transition(request, pk: int, transition: str):
    platform = _scoped_platform(request, pk)
    spec = next(
        (t for t in services.platform_transitions_for(request.user, platform) if t.name == transition), None
    )
    if spec is None:
        # not the user's to do (an institution operator, a reviewer of another area) or not now
        raise Http404("页面不存在")
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.platform_transition(
                platform=platform,
                transition=spec.name,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except PeixunError as exc:
            form.add_error("reason" if spec.needs_reason else None, exc.message)
        else:
            messages.success(request, f"已{spec.label}。")
            return redirect("intake:platform_detail", platform.pk)
    return render(
        request, "intake/platform_transition.html", {"platform": platform, "spec": spec, "form": form}
    )


@require_POST
@_platform_user
def platform_secret(request, pk: int):
    platform = _scoped_platform(request, pk)
    if not services.is_platform_operator(request.user, platform):
        raise Http404("页面不存在")
    try:
        secret = services.platform_issue_secret(platform=platform, actor=request.user)
    except PeixunError as exc:
        messages.error(request, exc.message)
    else:
        platform.refresh_from_db(fields=["code"])
        _remember_secret(request, "platform", platform.pk, platform.code, secret)
    return redirect("intake:platform_detail", platform.pk)
