"""培训班: the classes in the user's scope, each with its attendance, findings and photos."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render

from peixun.accounts.http import require_perm
from peixun.accounts.roles import Perm
from peixun.accounts.scope import restrict

from .models import TrainingClass


@require_perm(Perm.VIEW_PEOPLE)
def class_list(request):
    classes = restrict(TrainingClass.objects.select_related("institution", "area"), request.user)
    q = request.GET.get("q", "").strip()
    if q:
        classes = classes.filter(
            Q(code__icontains=q) | Q(occupation_name__contains=q) | Q(institution__name__contains=q)
        )
    classes = classes.annotate(
        trainee_count=Count("enrollments", distinct=True),
        open_findings=Count(
            "findings", filter=Q(findings__is_current=True, findings__status="OPEN"), distinct=True
        ),
    ).order_by("-start_date", "code")
    page = Paginator(classes, 50).get_page(request.GET.get("page"))
    return render(request, "training/class_list.html", {"page": page, "q": q})
