"""The evidence package of a clue transfer (线索移送, 第二十五条): one ZIP with the case, the sanctions
and their documents, the inspections with their checklists, phone checks and photos, the findings,
the recoveries and any attachment, plus manifest.csv (path, SHA-256, size, content) and
manifest.sha256. Built once when the clue is sent and stored, so "what was sent" never changes.

ID numbers and phone numbers are masked, as in the class archive; the receiving department asks for
more through the formal channel.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from peixun.core.identity import mask_phone
from peixun.core.tabular import write_csv

from .models import Inspection, Violation


def _csv(columns, rows) -> bytes:
    return ("\ufeff" + write_csv(columns, rows)).encode()  # Excel opens UTF-8 CSV only with a BOM


@dataclass(frozen=True)
class Evidence:
    content: bytes
    sha256: str
    manifest_sha256: str
    files: int


def _read(field) -> bytes | None:
    try:
        with field.open("rb") as fh:
            return fh.read()
    except (FileNotFoundError, OSError, ValueError):
        return None


def evidence_inspections(*, institution, violation: Violation | None) -> list[Inspection]:
    """The inspections that go with a clue: the violation's own, else those of the institution that
    found something."""
    if violation is not None and violation.inspection_id:
        return [violation.inspection]
    if institution is None:
        return []
    return list(
        Inspection.objects.filter(institution=institution)
        .exclude(outcome__in=["", Inspection.Outcome.PASS])
        .order_by("inspected_on", "id")
    )


def build_evidence(
    *, code: str, cover: str, institution=None, violation: Violation | None = None, attachments=()
) -> Evidence:
    buffer = io.BytesIO()
    manifest: list[list] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(path: str, data: bytes, content: str) -> None:
            zf.writestr(path, data)
            manifest.append([path, hashlib.sha256(data).hexdigest(), len(data), content])

        add("00_移送函.txt", cover.encode(), "移送函（移送内容、接收单位、移送日期）")
        if violation is not None:
            v = violation
            add(
                "violation.csv",
                _csv(
                    [
                        "案件编号",
                        "培训机构",
                        "违规类型",
                        "违规事实",
                        "发现日期",
                        "责任人",
                        "责任人职务",
                        "责任人身份证号",
                    ],
                    [
                        [
                            v.code,
                            v.institution.name,
                            v.get_type_display(),
                            v.description,
                            v.found_on,
                            v.responsible_name,
                            v.responsible_role,
                            v.responsible_person.id_masked if v.responsible_person_id else "",
                        ]
                    ],
                ),
                "违规案件",
            )
            sanctions = list(v.sanctions.order_by("decided_on", "id"))
            add(
                "sanctions.csv",
                _csv(
                    [
                        "处理措施",
                        "决定日期",
                        "生效日期",
                        "期限至",
                        "文书编号",
                        "决定内容",
                        "罚款金额",
                        "状态",
                        "文书SHA-256",
                    ],
                    [
                        [
                            s.get_kind_display(),
                            s.decided_on,
                            s.effective_from,
                            s.effective_to,
                            s.document_no,
                            s.content,
                            s.fine_amount,
                            s.get_status_display(),
                            s.document_sha256,
                        ]
                        for s in sanctions
                    ],
                ),
                "处理措施",
            )
            for s in sanctions:
                if s.document:
                    data = _read(s.document)
                    if data is not None:
                        add(
                            f"sanctions/{s.pk:05d}_{s.document.name.rsplit('/', 1)[-1]}",
                            data,
                            f"决定文书：{s.document_no}",
                        )
            findings = list(v.findings.select_related("training_class", "person").order_by("rule_code", "id"))
            add(
                "findings.csv",
                _csv(
                    ["规则", "培训班", "人员", "身份证号（脱敏）", "证据", "依据", "状态", "处理意见"],
                    [
                        [
                            f.rule_code,
                            f.training_class.code,
                            f.person.name if f.person_id else "",
                            f.person.id_masked if f.person_id else "",
                            f.evidence,
                            f.article,
                            f.get_status_display(),
                            f.decision_reason,
                        ]
                        for f in findings
                    ],
                ),
                "问题线索（系统核查）",
            )
            recoveries = list(v.recoveries.order_by("ordered_on", "id"))
            add(
                "recoveries.csv",
                _csv(
                    ["追回通知书编号", "下达日期", "缴回期限", "应追回金额", "已追回金额", "状态"],
                    [
                        [
                            r.document_no,
                            r.ordered_on,
                            r.due_date,
                            r.amount_due,
                            r.amount_recovered,
                            r.get_status_display(),
                        ]
                        for r in recoveries
                    ],
                ),
                "资金追回",
            )
        inspections = evidence_inspections(institution=institution, violation=violation)
        add(
            "inspections.csv",
            _csv(
                [
                    "检查编号",
                    "检查方式",
                    "培训机构",
                    "培训班",
                    "检查日期",
                    "检查地点",
                    "实到人数",
                    "花名册人数",
                    "检查情况",
                    "结论",
                    "整改要求",
                ],
                [
                    [
                        i.code,
                        i.get_kind_display(),
                        i.institution.name,
                        i.training_class.code if i.training_class_id else "",
                        i.inspected_on,
                        i.place,
                        i.trainees_present,
                        i.trainees_on_roster,
                        i.summary,
                        i.get_outcome_display(),
                        i.follow_up,
                    ]
                    for i in inspections
                ],
            ),
            "检查记录",
        )
        add(
            "inspection_items.csv",
            _csv(
                ["检查编号", "检查要素", "结果", "情况说明"],
                [
                    [i.code, item.get_item_display(), item.get_result_display(), item.note]
                    for i in inspections
                    for item in i.items.all()
                ],
            ),
            "检查要素（第二十一条）",
        )
        add(
            "phone_checks.csv",
            _csv(
                [
                    "检查编号",
                    "学员",
                    "身份证号（脱敏）",
                    "手机号（脱敏）",
                    "通话时间",
                    "接通",
                    "是否参训",
                    "所述培训内容",
                    "与教学计划相符",
                    "备注",
                ],
                [
                    [
                        i.code,
                        p.enrollment.person.name,
                        p.enrollment.person.id_masked,
                        mask_phone(p.enrollment.phone or p.enrollment.person.phone),
                        p.called_at,
                        "是" if p.reached else "否",
                        p.get_attended_display(),
                        p.taught,
                        {True: "是", False: "否", None: ""}[p.matches_plan],
                        p.note,
                    ]
                    for i in inspections
                    for p in i.phone_checks.select_related("enrollment__person")
                ],
            ),
            "电话抽查记录",
        )
        for i in inspections:
            for photo in i.photos.all():
                data = _read(photo.image)
                if data is not None:
                    add(
                        f"photos/{i.code}_{photo.pk:05d}_{photo.image.name.rsplit('/', 1)[-1]}",
                        data,
                        f"现场照片：{photo.caption}",
                    )
        for n, upload in enumerate(attachments, start=1):
            data = upload.read()
            upload.seek(0)
            add(f"attachments/{n:02d}_{upload.name}", data, "移送附件")
        text = write_csv(["path", "sha256", "size", "content"], manifest)
        manifest_bytes = ("\ufeff" + text).encode()
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        zf.writestr("manifest.csv", manifest_bytes)
        zf.writestr("manifest.sha256", f"{manifest_sha}  manifest.csv\n")
    content = buffer.getvalue()
    return Evidence(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        manifest_sha256=manifest_sha,
        files=len(manifest),
    )
