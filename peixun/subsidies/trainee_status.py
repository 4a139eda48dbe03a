"""The subsidy status a trainee sees under each class on 我的培训 (registered in apps.ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from peixun.attendance.trainee_status import StatusItem

from .models import Payment, SubsidyLine


def subsidy_status(person_id: int, class_ids: list[int]) -> dict[int, list[StatusItem]]:
    """The person's subsidy lines in these classes, newest application first: state, amount, and
    what the state means for them (公示 end, payment date, why refused)."""
    lines = (
        SubsidyLine.objects.filter(person_id=person_id, enrollment__training_class_id__in=class_ids)
        .select_related("application", "enrollment")
        .order_by("-application__submitted_at")
    )
    paid_on = dict(
        Payment.objects.filter(lines__in=lines, outcome=Payment.Outcome.PAID)
        .values_list("lines__id", "paid_on")
        .order_by("paid_on")
    )
    url = reverse("subsidies:applications")
    items: dict[int, list[StatusItem]] = {}
    for line in lines:
        detail = _("补贴金额%(amount)s元") % {"amount": f"{line.amount:,.2f}"}
        if line.status == SubsidyLine.Status.PAID and line.pk in paid_on:
            detail += _("，%(day)s已拨付") % {"day": paid_on[line.pk].strftime("%Y-%m-%d")}
        elif line.status == SubsidyLine.Status.NOTICE and line.application.notice_end:
            detail += _("，公示至%(day)s") % {"day": line.application.notice_end.strftime("%Y-%m-%d")}
        elif line.status == SubsidyLine.Status.REFUSED and line.problems:
            detail += _("；原因：%(why)s") % {"why": line.problems}
        pending = line.status == SubsidyLine.Status.PENDING
        items.setdefault(line.enrollment.training_class_id, []).append(
            StatusItem(
                label=_("培训补贴（%(kind)s）") % {"kind": line.application.get_applicant_kind_display()},
                status=line.application.status if pending else line.status,
                # A pending line is where its application is: 待审核, or returned for 补正.
                status_label=line.application.get_status_display() if pending else line.get_status_display(),
                detail=detail,
                url=url,
            )
        )
    for class_id in class_ids:
        if class_id not in items:
            items[class_id] = [
                StatusItem(
                    label=_("培训补贴"),
                    status="NONE",
                    status_label=_("尚未申请"),
                    detail=_("结业并取得证书后，由培训机构或本人申请"),
                    url=url,
                )
            ]
    return items
