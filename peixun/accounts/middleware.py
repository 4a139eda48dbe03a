from django.http import JsonResponse
from django.shortcuts import redirect

from .second_factor import confirmed_device, second_factor_required

# Reachable before the second factor: the code pages themselves, signing out, and what is public.
EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/portal/",
    "/certificates/verify/",
    "/subsidies/notices/",
    "/supervision/public/",
)


class SecondFactorMiddleware:
    """An official signed in with a password only is sent to enter (or first set up) the TOTP code
    before any page or API call answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and second_factor_required(user)
            and not user.is_verified()
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "second_factor_required", "message": "请先在网页上输入动态口令完成登录"},
                    status=401,
                )
            target = "otp_verify" if confirmed_device(user) else "otp_setup"
            return redirect(target)
        return self.get_response(request)
