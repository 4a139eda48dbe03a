"""站内消息: the user's own messages; nobody reads anyone else's."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import Notification
from .services import mark_read


@login_required
def inbox(request):
    messages = Notification.objects.filter(user=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    page = Paginator(messages, 30).get_page(request.GET.get("page"))
    return render(request, "inbox/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def read(request, pk: int):
    """Mark one message read and follow its link (only the user's own: another's id does nothing)."""
    message = Notification.objects.filter(user=request.user, pk=pk).first()
    if message is None:
        return redirect("inbox:inbox")
    mark_read(request.user, [pk])
    # Only our own paths: a message link never sends the user off-site.
    return redirect(
        message.url if message.url.startswith("/") and not message.url.startswith("//") else "inbox:inbox"
    )


@login_required
@require_POST
def read_all(request):
    mark_read(request.user)
    return redirect("inbox:inbox")
