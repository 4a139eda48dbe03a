"""core.paging.keyed_page gives the pages a plain Paginator gives, read on keys first."""

import pytest
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, When

from peixun.core.models import Area
from peixun.core.paging import keyed_page
from peixun.core.reference import load_areas

pytestmark = pytest.mark.django_db


def test_every_page_holds_the_rows_of_the_plain_paginator_in_its_order():
    load_areas(Area)
    # An order on an annotation and a related column, as the findings list sorts.
    areas = (
        Area.objects.select_related("parent")
        .annotate(
            _cities_first=Case(When(kind=Area.Kind.CITY, then=0), default=1, output_field=IntegerField())
        )
        .order_by("_cities_first", "parent__code", "-code")
    )
    plain = Paginator(areas, 7)
    assert plain.num_pages > 3
    for number in [*range(1, plain.num_pages + 1), "", "x", 9999]:
        expected = plain.get_page(number)
        page = keyed_page(areas, number, 7)
        assert [a.pk for a in page] == [a.pk for a in expected]
        assert (page.number, page.paginator.count, page.paginator.num_pages) == (
            expected.number,
            plain.count,
            plain.num_pages,
        )
        # The rows are read with their relations and annotations.
        assert all(hasattr(a, "_cities_first") for a in page)


def test_an_empty_scope_gives_one_empty_page():
    page = keyed_page(Area.objects.none(), 1, 50)
    assert list(page) == [] and page.number == 1 and page.paginator.count == 0
