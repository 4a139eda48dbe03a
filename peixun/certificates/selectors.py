"""Which certificates a user may see.

`Certificate.scope_paths` names one area path, the issuer area, which is the city (培训合格证) or the
region (创业培训合格证): through `restrict()` alone a county bureau would see none of the certificates
of its own classes and a city bureau none of the 创业培训合格证 it hands out (第十二条: 各盟市…负责管理和
发放). So, like `faces.services.face_photos_visible`, the rule is spelled out here, built on the
user's scope from `accounts.scope`:

- officials: certificates of classes trained in their area, and those recorded by evaluation bodies
  of their area;
- an institution: certificates of its own classes; an evaluation body: those it recorded;
- a trainee: their own.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from peixun.accounts.scope import scope_of

from .models import Certificate


def certificates_visible(user, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Certificate.objects.all() if queryset is None else queryset
    scope = scope_of(user)
    if scope.everything:
        return queryset
    if scope.area_ids:
        return queryset.filter(
            Q(training_class__area_id__in=scope.area_ids)
            | Q(training_class__isnull=True, issuer_area_id__in=scope.area_ids)
        )
    if scope.organisation_id:
        return queryset.filter(
            Q(training_class__institution__organisation_id=scope.organisation_id)
            | Q(evaluation_body__organisation_id=scope.organisation_id)
        )
    if scope.person_id:
        return queryset.filter(person_id=scope.person_id)
    return queryset.none()


def certificate_get_visible_or_404(user, queryset: QuerySet | None = None, **lookup) -> Certificate:
    """A certificate outside the user's scope answers 404 exactly like one that does not exist."""
    try:
        return certificates_visible(user, queryset).get(**lookup)
    except (Certificate.DoesNotExist, ValueError) as exc:
        raise Http404("证书不存在或无权查看") from exc


def certificate_related(queryset: QuerySet | None = None) -> QuerySet:
    """What the list, detail, PDF and verification pages show of a certificate, in one query."""
    queryset = Certificate.objects.all() if queryset is None else queryset
    return queryset.select_related(
        "person",
        "training_class",
        "training_class__institution",
        "training_class__area",
        "evaluation_body",
        "issuer_area",
        "revoked_by",
    )
