"""证书 (第十二、十三条): the city numbers 培训合格证 and the region 创业培训合格证, gap-free per issuer, year
and kind; certificates are issued once per passed trainee; revoked certificates say so on the public
verification page, which shows masked data only; evaluation bodies record their own certificates."""

import datetime as dt
import io
import re
import threading
import time
import zlib
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from peixun.accounts.roles import Role
from peixun.accounts.services import person_register, user_create
from peixun.certificates.models import Certificate, CertificateCounter
from peixun.certificates.pdf import certificate_context
from peixun.certificates.services import (
    certificate_record_external,
    certificate_revoke,
    certificate_verify,
    certificates_issue_for_class,
)
from peixun.core.audit import audit_record, verify_chain
from peixun.core.errors import PeixunError, PermissionDeniedError
from peixun.core.models import Area, AuditEntry
from peixun.faces.models import FacePhoto
from peixun.institutions.services import evaluation_body_register, institution_register
from peixun.training.models import Enrollment, ExamResult, TrainingClass
from tests.conftest import PASSWORD, new_id_number
from tests.test_findings_ui import uscc

ISSUED_ON = dt.date(2026, 3, 20)
ELDERLY_CARE = "4-10-01-05"


class Certify:
    """Institutions in 新城区 (呼和浩特), 东河区 (包头) and 满洲里市, and a way to build a finished class
    with its exam results."""

    def __init__(self, world):
        self.world = world
        self.hongxiang = self.institution("52150102MJY000031", "呼和浩特市鸿翔职业技能培训学校", "150102")
        self.baotou_school = self.institution("52150202MJY000041", "包头市北方职业培训学校", "150202")
        self.manzhouli_school = self.institution("52150781MJY000051", "满洲里市口岸职业培训学校", "150781")
        self.operator = user_create(
            username="hx_certificates",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.hongxiang.organisation,
            actor=None,
        )
        self._seed = 100

    def institution(self, first17, name, area_code):
        return institution_register(
            code=uscc(first17),
            name=name,
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code=area_code),
            actor=self.world.region_admin,
        )

    def person(self, name):
        self._seed += 1
        person, _ = person_register(
            id_number=new_id_number("150102", dt.date(1990, 1, 1), True, seed=self._seed),
            name=name,
            actor=None,
        )
        return person

    def klass(
        self, code, *, area="150102", institution=None, training_type="EMPLOYMENT", level="5", trainees=()
    ):
        """A finished class; `trainees` are (person, passed) pairs, a person given by name is created."""
        klass = TrainingClass.objects.create(
            code=code,
            institution=institution or self.hongxiang,
            area=Area.objects.get(code=area),
            occupation_code=ELDERLY_CARE,
            occupation_name="养老护理员",
            level=level,
            training_type=training_type,
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 3, 13),
            total_hours=Decimal("80"),
        )
        for person, passed in trainees:
            self.sit_exam(klass, person, passed)
        return klass

    def sit_exam(self, klass, person, passed=True):
        person = self.person(person) if isinstance(person, str) else person
        Enrollment.objects.create(training_class=klass, person=person, category="RURAL_MIGRANT")
        ExamResult.objects.create(
            training_class=klass,
            person=person,
            exam_date=dt.date(2026, 3, 13),
            score=Decimal("80"),
            passed=passed,
        )
        return person

    def issue(self, klass, actor=None, issued_on=ISSUED_ON):
        with transaction.atomic():
            return certificates_issue_for_class(
                training_class=klass, actor=actor or self.world.xincheng_reviewer, issued_on=issued_on
            )


@pytest.fixture
def certify(world):
    return Certify(world)


@pytest.fixture
def issued(certify):
    """李明 and 陈静 passed 鸿翔's class in 新城区 and hold 培训合格证."""
    world = certify.world
    klass = certify.klass("HX2026-0401", trainees=[(world.li_ming, True), (world.chen_jing, True)])
    certificates = certify.issue(klass)
    return klass, {c.person.name: c for c in certificates}


def numbers(certificates):
    return [c.number for c in certificates]


# --- numbering (第十二条) -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_city_numbers_training_certificates_in_sequence_across_its_classes(certify):
    """第十二条: 盟市人社部门负责培训合格证的编号 — one sequence per city and year for all its counties."""
    xincheng = certify.klass("HX2026-0402", trainees=[("赵一", True), ("钱二", True), ("孙三", False)])
    huimin = certify.klass("HX2026-0403", area="150103", trainees=[("李四", True)])

    first = certify.issue(xincheng)
    second = certify.issue(huimin)

    assert numbers(first) == ["PX1501002026000001", "PX1501002026000002"]
    assert numbers(second) == ["PX1501002026000003"]
    assert [c.serial for c in first + second] == [1, 2, 3]
    assert {c.issuer_area.code for c in first + second} == {"150100"}
    assert all(c.kind == Certificate.Kind.TRAINING and c.issued_on == ISSUED_ON for c in first + second)
    # the exam result names its certificate, as in an imported exams.csv
    exam = ExamResult.objects.get(training_class=xincheng, person__name="赵一")
    assert (exam.certificate_type, exam.certificate_no) == ("TRAINING", "PX1501002026000001")
    assert not ExamResult.objects.get(training_class=xincheng, person__name="孙三").certificate_no
    assert (
        CertificateCounter.objects.get(issuer_area__code="150100", year=2026, kind="TRAINING").last_serial
        == 3
    )


@pytest.mark.django_db
def test_each_city_each_year_and_the_region_for_startup_training_keep_their_own_counters(certify):
    """第十二条: 培训合格证 by the city (满洲里市 numbers its own), 创业培训合格证 by the region."""
    hohhot = certify.klass("HX2026-0410", trainees=[("赵一", True)])
    baotou = certify.klass(
        "BT2026-0410", area="150202", institution=certify.baotou_school, trainees=[("钱二", True)]
    )
    manzhouli = certify.klass(
        "MZL2026-0410", area="150781", institution=certify.manzhouli_school, trainees=[("孙三", True)]
    )
    startup_hohhot = certify.klass(
        "HX2026-CY01", training_type="STARTUP", level="STARTUP", trainees=[("李四", True)]
    )
    startup_baotou = certify.klass(
        "BT2026-CY01",
        area="150202",
        institution=certify.baotou_school,
        training_type="STARTUP",
        level="STARTUP",
        trainees=[("周五", True)],
    )
    next_year = certify.klass("HX2027-0101", trainees=[("吴六", True)])

    assert numbers(certify.issue(hohhot)) == ["PX1501002026000001"]
    assert numbers(certify.issue(baotou, actor=certify.world.baotou_admin)) == ["PX1502002026000001"]
    assert numbers(certify.issue(manzhouli, actor=certify.world.region_admin)) == ["PX1507812026000001"]
    startup = certify.issue(startup_hohhot)
    assert numbers(startup) == ["CY1500002026000001"]
    assert startup[0].kind == Certificate.Kind.STARTUP and startup[0].issuer_area.code == "150000"
    assert numbers(certify.issue(startup_baotou, actor=certify.world.baotou_admin)) == ["CY1500002026000002"]
    assert numbers(certify.issue(next_year, issued_on=dt.date(2027, 1, 8))) == ["PX1501002027000001"]


@pytest.mark.django_db
def test_issuing_again_issues_nothing_new_and_a_late_result_gets_the_next_number(certify, issued):
    """第十二条: one certificate per trainee, whatever retries the approval makes."""
    klass, by_name = issued
    entries = AuditEntry.objects.filter(action="certificate.issued").count()

    assert certify.issue(klass) == []
    assert Certificate.objects.filter(training_class=klass).count() == 2
    assert AuditEntry.objects.filter(action="certificate.issued").count() == entries

    late = certify.sit_exam(klass, "王芳", passed=True)
    again = certify.issue(klass)
    assert [(c.person, c.number) for c in again] == [(late, "PX1501002026000003")]


@pytest.mark.django_db
def test_trainees_removed_from_the_roster_or_failed_get_no_certificate(certify):
    """第十条、第十二条: only trainees who stayed on the roster and passed the exam are certified."""
    klass = certify.klass("HX2026-0420", trainees=[("赵一", True), ("钱二", False)])
    removed = certify.sit_exam(klass, "孙三", passed=True)
    Enrollment.objects.filter(training_class=klass, person=removed).update(
        removed_at=timezone.now(), removed_reason="变更申请移出"
    )

    certificates = certify.issue(klass)

    assert [c.person.name for c in certificates] == ["赵一"]


@pytest.mark.django_db
def test_the_issuance_is_one_audit_entry_listing_the_numbers(certify, issued):
    klass, by_name = issued
    entry = AuditEntry.objects.get(action="certificate.issued")
    assert entry.actor == certify.world.xincheng_reviewer
    assert entry.area.code == "150102"
    assert entry.after["numbers"] == ["PX1501002026000001", "PX1501002026000002"]
    assert entry.after["count"] == 2
    assert verify_chain() is None


@pytest.mark.django_db
def test_a_rolled_back_approval_gives_its_numbers_back(certify):
    """第十二条 gap-free: the numbers of an approval that fails later in its transaction are reused."""
    klass = certify.klass("HX2026-0430", trainees=[("赵一", True), ("钱二", True)])
    with pytest.raises(RuntimeError), transaction.atomic():
        certificates_issue_for_class(
            training_class=klass, actor=certify.world.xincheng_reviewer, issued_on=ISSUED_ON
        )
        raise RuntimeError("the completion approval failed after issuing")
    assert not Certificate.objects.exists()

    assert numbers(certify.issue(klass)) == ["PX1501002026000001", "PX1501002026000002"]


# --- verification ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_verification_page_shows_only_masked_personal_data(client, certify, issued):
    li_ming = certify.world.li_ming
    cert = issued[1]["李明"]

    response = client.get(reverse("certificates:verify", args=[cert.verify_token]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "PX1501002026000001" in html and "培训合格证" in html and "证书有效" in html
    assert "李*" in html and li_ming.id_masked in html
    assert "养老护理员" in html and "五级/初级工" in html and "呼和浩特市鸿翔职业技能培训学校" in html
    assert "2026年3月20日" in html
    assert "李明" not in html
    assert li_ming.reveal_id_number() not in html
    assert li_ming.phone not in html
    assert "已撤销" not in html


@pytest.mark.django_db
def test_a_revoked_certificate_verifies_as_revoked_with_date_and_reason(client, certify, issued):
    cert = issued[1]["李明"]

    certificate_revoke(certificate=cert, actor=certify.world.hohhot_admin, reason="考试成绩系伪造")

    assert certificate_verify(cert.verify_token).is_revoked
    html = client.get(reverse("certificates:verify", args=[cert.verify_token])).content.decode()
    assert "已撤销" in html and "考试成绩系伪造" in html
    assert f"本证书已于{timezone.localdate():%Y-%m-%d}撤销" in html
    assert "证书有效" not in html


@pytest.mark.django_db
def test_an_unknown_token_is_a_chinese_404(client, issued):
    response = client.get(reverse("certificates:verify", args=["no-such-token"]))
    assert response.status_code == 404
    assert "未找到该证书" in response.content.decode()
    assert certificate_verify("no-such-token") is None
    assert certificate_verify("") is None


# --- revoking -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_city_admin_revokes_once_with_a_reason_and_it_is_audited(client, certify, issued):
    cert = issued[1]["陈静"]
    client.force_login(certify.world.hohhot_admin)
    url = reverse("certificates:revoke", args=[cert.pk])

    blank = client.post(url, {"reason": "  "})
    assert blank.status_code == 400 and "请填写撤销原因" in blank.content.decode()
    cert.refresh_from_db()
    assert not cert.is_revoked

    done = client.post(url, {"reason": "冒名顶替参加培训"})
    assert done.status_code == 302
    cert.refresh_from_db()
    assert cert.is_revoked and cert.revoked_by == certify.world.hohhot_admin
    assert cert.revoked_reason == "冒名顶替参加培训"
    entry = AuditEntry.objects.get(action="certificate.revoked")
    assert entry.after["reason"] == "冒名顶替参加培训" and entry.object_id == str(cert.pk)
    detail = client.get(reverse("certificates:detail", args=[cert.pk])).content.decode()
    assert "冒名顶替参加培训" in detail and 'action="/certificates/' not in detail  # no second revoke form

    with pytest.raises(PeixunError, match="不能重复撤销"):
        certificate_revoke(certificate=cert, actor=certify.world.region_admin, reason="再撤一次")
    assert AuditEntry.objects.filter(action="certificate.revoked").count() == 1


@pytest.mark.django_db
def test_a_reviewer_cannot_revoke(client, certify, issued):
    cert = issued[1]["李明"]
    reviewer = certify.world.xincheng_reviewer
    with pytest.raises(PermissionDeniedError):
        certificate_revoke(certificate=cert, actor=reviewer, reason="审核员无权撤销")

    client.force_login(reviewer)
    detail = client.get(reverse("certificates:detail", args=[cert.pk]))
    assert detail.status_code == 200 and "撤销证书" not in detail.content.decode()
    assert client.post(reverse("certificates:revoke", args=[cert.pk]), {"reason": "试试"}).status_code == 404
    cert.refresh_from_db()
    assert not cert.is_revoked


@pytest.mark.django_db
def test_another_citys_admin_sees_a_404_and_cannot_revoke(client, certify, issued):
    cert = issued[1]["李明"]
    baotou_admin = certify.world.baotou_admin
    client.force_login(baotou_admin)
    for name in ("certificates:detail", "certificates:pdf"):
        assert client.get(reverse(name, args=[cert.pk])).status_code == 404
    assert client.post(reverse("certificates:revoke", args=[cert.pk]), {"reason": "越权"}).status_code == 404
    assert "PX1501002026000001" not in client.get(reverse("certificates:list")).content.decode()
    with pytest.raises(PermissionDeniedError):
        certificate_revoke(certificate=cert, actor=baotou_admin, reason="越权")


@pytest.mark.django_db
def test_each_role_sees_the_certificates_of_its_own_scope(client, certify, issued):
    """County bureau: classes in its county; institution: its classes; trainee: their own."""
    world = certify.world
    li, chen = issued[1]["李明"], issued[1]["陈静"]
    visible = {
        world.xincheng_reviewer: {li.number, chen.number},
        world.huimin_reviewer: set(),
        world.hohhot_admin: {li.number, chen.number},
        certify.operator: {li.number, chen.number},
        world.inst_b_operator: set(),
        world.trainee: {li.number},
    }
    for user, expected in visible.items():
        client.force_login(user)
        response = client.get(reverse("certificates:list"))
        assert response.status_code == 200
        assert {c.number for c in response.context["page"]} == expected, user.username
        assert client.get(reverse("certificates:detail", args=[chen.pk])).status_code == (
            200 if chen.number in expected else 404
        ), user.username


@pytest.mark.django_db
def test_the_list_searches_by_number(client, certify, issued):
    client.force_login(certify.world.hohhot_admin)
    response = client.get(reverse("certificates:list"), {"q": "2026000002"})
    assert [c.person.name for c in response.context["page"]] == ["陈静"]


# --- PDF ------------------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> bytes:
    """The PDF with every compressed stream inflated: font dictionaries sit in object streams."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


@pytest.mark.django_db
def test_the_pdf_is_a_pdf_with_the_cjk_font_embedded(client, certify, issued):
    cert = issued[1]["李明"]
    client.force_login(certify.operator)

    response = client.get(reverse("certificates:pdf", args=[cert.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    content = pdf_text(response.content)
    fonts = re.findall(rb"/(?:FontName|BaseFont)\s*/([^\s/<>\[\]]+)", content)
    assert any(b"Noto" in f or b"CJK" in f for f in fonts), fonts
    assert re.search(rb"/FontFile[23]?\b", content), "the font must be embedded, not just named"


@pytest.mark.django_db
def test_the_pdf_carries_the_enrolment_photo_and_the_verification_qr(settings, tmp_path, certify, issued):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PEIXUN_PUBLIC_BASE_URL = "https://px.nmgrs.example"
    cert = issued[1]["李明"]
    assert certificate_context(cert)["photo"] is None  # the PDF prints 无照片

    image = io.BytesIO()
    Image.new("RGB", (600, 800), (200, 180, 160)).save(image, "PNG")
    photo = FacePhoto(
        person=cert.person,
        kind=FacePhoto.Kind.ENROLMENT,
        taken_at=timezone.now(),
        sha256="a" * 64,
        face_found=False,
    )
    photo.image.save("enrolment.png", ContentFile(image.getvalue()), save=False)
    photo.save()

    context = certificate_context(cert)
    assert context["photo"].startswith("data:image/jpeg;base64,")
    assert context["verify_url"] == f"https://px.nmgrs.example/certificates/verify/{cert.verify_token}/"
    assert context["qr"].startswith("data:image/svg+xml")
    from peixun.certificates.pdf import certificate_pdf

    assert b"/Subtype /Image" in pdf_text(certificate_pdf(cert))


# --- certificates of evaluation bodies (第十三条) -------------------------------------------------


class Bodies:
    def __init__(self, world):
        self.hohhot_body = evaluation_body_register(
            code=uscc("12150100460012341"),
            name="呼和浩特市职业技能鉴定中心",
            area=Area.objects.get(code="150105"),
            actor=world.region_admin,
            scopes=[(ELDERLY_CARE, "4"), (ELDERLY_CARE, "5")],
        )
        self.baotou_body = evaluation_body_register(
            code=uscc("12150200460012342"),
            name="包头市职业技能鉴定中心",
            area=Area.objects.get(code="150202"),
            actor=world.region_admin,
            scopes=[(ELDERLY_CARE, "4")],
        )
        self.operator = user_create(
            username="jianding_hohhot",
            password=PASSWORD,
            role=Role.EVALUATOR_OPERATOR,
            display_name="白雪",
            organisation=self.hohhot_body.organisation,
            actor=None,
        )


@pytest.fixture
def bodies(world):
    return Bodies(world)


def record(bodies, world, **overrides):
    values = {
        "person": world.li_ming,
        "kind": "SKILL_LEVEL",
        "number": "S000015010500000123",
        "occupation_code": ELDERLY_CARE,
        "occupation_name": "",
        "level": "4",
        "issued_on": dt.date(2026, 4, 2),
        "evaluation_body": bodies.hohhot_body,
        "actor": bodies.operator,
    }
    values.update(overrides)
    return certificate_record_external(**values)


@pytest.mark.django_db
def test_an_evaluation_body_records_a_skill_certificate_of_its_own(world, bodies):
    """第十三条: 职业技能等级认定 after training; the body's number is kept as given."""
    cert = record(bodies, world)
    assert cert.kind == "SKILL_LEVEL" and cert.number == "S000015010500000123"
    assert cert.occupation_name == "养老护理员"  # from the catalog when left blank
    assert cert.issuer_area.code == "150105" and cert.serial is None
    assert cert.evaluation_body == bodies.hohhot_body and cert.recorded_by == bodies.operator
    entry = AuditEntry.objects.get(action="certificate.recorded")
    assert entry.organisation == bodies.hohhot_body.organisation and entry.after["number"] == cert.number


@pytest.mark.django_db
def test_recording_lists_every_problem_at_once(world, bodies):
    record(bodies, world)
    with pytest.raises(PeixunError) as exc:
        record(
            bodies,
            world,
            kind="TRAINING",
            number="S000015010500000123",
            occupation_code="9-99-99-99",
            issued_on=timezone.localdate() + dt.timedelta(days=1),
        )
    message = exc.value.message
    assert "证书类型只能是职业资格证书、职业技能等级证书或专项职业能力证书" in message
    assert "证书编号S000015010500000123已登记" in message
    assert "职业编码“9-99-99-99”不在职业分类目录中" in message
    assert "发证日期不能晚于今天" in message

    with pytest.raises(PeixunError, match="不在呼和浩特市职业技能鉴定中心的评价范围内"):
        record(bodies, world, number="S2", level="3")
    with pytest.raises(PeixunError, match="请选择等级"):
        record(bodies, world, number="S3", level="")
    with pytest.raises(PeixunError, match="专项职业能力证书不分等级"):
        record(bodies, world, number="S4", kind="SPECIAL", level="4")
    assert Certificate.objects.count() == 1


@pytest.mark.django_db
def test_only_the_bodys_own_operator_or_an_official_over_it_may_record(world, bodies):
    with pytest.raises(PermissionDeniedError, match="评价机构经办人只能登记本机构的证书"):
        record(bodies, world, evaluation_body=bodies.baotou_body)
    with pytest.raises(PermissionDeniedError):
        record(bodies, world, actor=world.hohhot_admin, evaluation_body=bodies.baotou_body)
    with pytest.raises(PermissionDeniedError):
        record(bodies, world, actor=world.xincheng_reviewer)
    assert record(bodies, world, actor=world.baotou_admin, evaluation_body=bodies.baotou_body).number


@pytest.mark.django_db
def test_the_record_form_enters_the_holder_and_shows_errors_in_chinese(client, world, bodies):
    client.force_login(bodies.operator)
    url = reverse("certificates:record")
    assert client.get(url).status_code == 200
    form = {
        "evaluation_body": bodies.hohhot_body.pk,
        "id_number": world.chen_jing.reveal_id_number(),
        "name": "陈静",
        "kind": "SKILL_LEVEL",
        "number": "S000015010500000777",
        "occupation_code": ELDERLY_CARE,
        "level": "",
        "issued_on": "2026-04-02",
    }
    missing_level = client.post(url, form)
    assert missing_level.status_code == 200 and "请选择等级（五级至一级）" in missing_level.content.decode()

    done = client.post(url, {**form, "level": "5"})
    cert = Certificate.objects.get(number="S000015010500000777")
    assert done.status_code == 302 and done["Location"] == reverse("certificates:detail", args=[cert.pk])
    assert cert.person == world.chen_jing and cert.level_display == "五级/初级工"
    # the body's operator sees what it recorded, and has no PDF of it to print
    assert client.get(reverse("certificates:detail", args=[cert.pk])).status_code == 200
    assert client.get(reverse("certificates:pdf", args=[cert.pk])).status_code == 404
    public = client.get(reverse("certificates:verify", args=[cert.verify_token])).content.decode()
    assert "职业技能等级证书" in public and "呼和浩特市职业技能鉴定中心" in public and "陈*" in public

    wrong_name = client.post(url, {**form, "level": "5", "number": "S9", "name": "陈晶"})
    assert "已登记为“陈静”" in wrong_name.content.decode()
    client.force_login(world.xincheng_reviewer)
    assert client.get(url).status_code == 404


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simultaneous_approvals_in_one_city_share_one_gap_free_sequence(certify):
    """第十二条: approvals of several classes in one city at the same moment number without gap or
    repeat — the counter row is created once and locked while each class is numbered."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; row locks are tested on PostgreSQL")
    classes = [
        certify.klass(f"HX2026-P{i:02d}", area=area, trainees=[(f"学员{i}-{j}", True) for j in range(3)])
        for i, area in enumerate(["150102", "150103", "150104", "150105", "150102", "150103"])
    ]
    actor = certify.world.hohhot_admin
    barrier = threading.Barrier(len(classes))
    errors = []

    def approve(klass):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                certificates_issue_for_class(training_class=klass, actor=actor, issued_on=ISSUED_ON)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(k,)) for k in classes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    serials = sorted(Certificate.objects.filter(issuer_area__code="150100").values_list("serial", flat=True))
    assert serials == list(range(1, 3 * len(classes) + 1))
    for klass in classes:  # each class got a consecutive block
        own = sorted(Certificate.objects.filter(training_class=klass).values_list("serial", flat=True))
        assert own == list(range(own[0], own[0] + 3))
    assert CertificateCounter.objects.get(issuer_area__code="150100", year=2026).last_serial == 3 * len(
        classes
    )
    assert verify_chain() is None


@pytest.mark.django_db(transaction=True)
def test_an_approval_that_audits_before_issuing_does_not_deadlock_with_another(certify):
    """The completion approval writes its own audit entry (locking the audit chain head) before it
    issues; a second approval issuing at that moment must queue, not deadlock (counter ↔ head)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks to deadlock on")
    first = certify.klass("HX2026-D01", trainees=[("赵一", True)])
    second = certify.klass("HX2026-D02", area="150103", trainees=[("钱二", True)])
    actor = certify.world.hohhot_admin
    audited = threading.Event()
    errors = []

    def approve_auditing_first():
        try:
            with transaction.atomic():
                audit_record(actor=actor, action="class.completion_approved", obj=first)
                audited.set()
                time.sleep(0.5)  # the other approval reaches its locks meanwhile
                certificates_issue_for_class(training_class=first, actor=actor, issued_on=ISSUED_ON)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            audited.set()
            connection.close()

    def approve_plain():
        try:
            audited.wait(timeout=10)
            with transaction.atomic():
                certificates_issue_for_class(training_class=second, actor=actor, issued_on=ISSUED_ON)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve_auditing_first), threading.Thread(target=approve_plain)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sorted(Certificate.objects.values_list("serial", flat=True)) == [1, 2]
    assert verify_chain() is None
