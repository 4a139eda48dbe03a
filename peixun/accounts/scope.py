"""The one helper that restricts what a user may see (conventions: scope first).

A region-department user sees the whole region; a city bureau its own city and the counties and
zones under it (not 满洲里/二连浩特, which report directly to the region); a county bureau its county;
an institution, evaluation body or platform only its own records; a trainee only themself.
Every view and API endpoint fetches through `restrict()` or `get_scoped_or_404()`, so a foreign
object answers 404 exactly as a missing one does.
"""

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Model, QuerySet
from django.http import Http404

from peixun.core.models import Area

from .models import Organisation
from .roles import Role


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    area_ids: frozenset[int] = frozenset()
    organisation_id: int | None = None
    person_id: int | None = None

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.area_ids or self.organisation_id or self.person_id)


def areas_covered(area: Area) -> frozenset[int]:
    """The area itself and what reports to it in HR matters."""
    if area.kind == Area.Kind.REGION:
        return frozenset(Area.objects.values_list("id", flat=True))
    if area.kind == Area.Kind.CITY:
        below = Area.objects.filter(parent=area).exclude(kind=Area.Kind.COUNTY_DIRECT)
        return frozenset([area.id, *below.values_list("id", flat=True)])
    return frozenset([area.id])


def scope_of(user) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_peixun_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    user._peixun_scope = scope
    return scope


def _compute_scope(user) -> Scope:
    if user.role == Role.TRAINEE:
        return Scope(person_id=user.person_id)
    org = user.organisation
    if org is None:
        return Scope()
    if org.kind == Organisation.Kind.REGION_DEPT:
        return Scope(everything=True)
    if org.kind in (Organisation.Kind.CITY_BUREAU, Organisation.Kind.COUNTY_BUREAU):
        return Scope(area_ids=areas_covered(org.area))
    return Scope(organisation_id=org.id)


def restrict(queryset: QuerySet, user) -> QuerySet:
    """The rows of `queryset` that `user` may see, following the model's `scope_paths`."""
    scope = scope_of(user)
    paths = getattr(queryset.model, "scope_paths", None)
    if paths is None:
        raise TypeError(f"{queryset.model.__name__} declares no scope_paths; it cannot be shown to users")
    if scope.everything:
        return queryset
    if scope.area_ids and paths.area:
        return queryset.filter(**{f"{paths.area}__in": scope.area_ids})
    if scope.organisation_id and paths.organisation:
        return _filter_distinct(queryset, paths.organisation, scope.organisation_id)
    if scope.person_id and paths.person:
        return queryset.filter(**{paths.person: scope.person_id})
    return queryset.none()


def _filter_distinct(queryset: QuerySet, path: str, value) -> QuerySet:
    if "__" in path:
        # A path through a to-many relation would repeat rows; filter by id instead of joining.
        ids = queryset.model._default_manager.filter(**{path: value}).values("pk")
        return queryset.filter(pk__in=ids)
    return queryset.filter(**{path: value})


def get_scoped_or_404(queryset: QuerySet, user, **lookup) -> Model:
    try:
        return restrict(queryset, user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError) as exc:
        raise Http404("对象不存在或无权查看") from exc


class ScopeMixin:
    """For class-based views: `self.scope` and `self.scoped(qs)`."""

    @cached_property
    def scope(self) -> Scope:
        return scope_of(self.request.user)

    def scoped(self, queryset: QuerySet) -> QuerySet:
        return restrict(queryset, self.request.user)
