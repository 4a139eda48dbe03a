import datetime as dt

from django.db import transaction

from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError
from peixun.core.models import Area

from .models import Notice


def notice_publish(
    *, category: str, title: str, body: str, area: Area, actor, published_on: dt.date, document_no: str = ""
) -> Notice:
    if category not in Notice.Category.values:
        raise PeixunError("栏目无效")
    if not title.strip() or not body.strip():
        raise PeixunError("标题和正文不能为空")
    with transaction.atomic():
        notice = Notice.objects.create(
            category=category,
            title=title.strip(),
            body=body.strip(),
            area=area,
            published_on=published_on,
            document_no=document_no.strip(),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="notice.published",
            obj=notice,
            area=area,
            after={"title": notice.title, "category": category, "document_no": notice.document_no},
        )
    return notice


def notice_withdraw(*, notice: Notice, actor) -> Notice:
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if not locked.published:
            raise PeixunError("该通知已撤下")
        locked.published = False
        locked.save(update_fields=["published"])
        audit_record(actor=actor, action="notice.withdrawn", obj=locked, area=locked.area)
    return locked
