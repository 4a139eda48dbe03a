"""Face verification (第十九条 人脸识别、过程拍照; 第二十二条): enrolment and check-in photos, FACE_MISMATCH
and FACE_SHARED, on real face photos that ship inside scikit-image (never fetched at run time).

- skimage.data.astronaut(): Eileen Collins, a frontal portrait — "the trainee".
- skimage.data.camera(): the cameraman; his face, cropped and enlarged — "another person".
- skimage.data.coffee(): a cup of coffee — no face at all.
Copies of the astronaut resized, rotated a few degrees, brightened/darkened and re-encoded as JPEG
stand for later photos of the same person; a mirrored copy is still the same person.
"""

import datetime as dt
import functools
import io
import re

import numpy as np
import pytest
import skimage.data
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageEnhance

from peixun.accounts.roles import Role
from peixun.accounts.services import person_register, user_create
from peixun.checks.catalog import RULES, Hit
from peixun.checks.models import Finding
from peixun.checks.services import findings_store
from peixun.core.errors import PeixunError
from peixun.core.models import Area, AuditEntry
from peixun.core.uscc import uscc_complete as uscc
from peixun.faces import services
from peixun.faces.models import FacePhoto
from peixun.faces.services import face_hits, face_photo_add
from peixun.institutions.services import institution_register
from peixun.training.models import Enrollment, TrainingClass
from tests.conftest import PASSWORD, new_id_number

pytestmark = pytest.mark.django_db

ENROLMENT = FacePhoto.Kind.ENROLMENT
CHECKIN = FacePhoto.Kind.CHECKIN


# --- images -------------------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@functools.cache
def astronaut() -> Image.Image:
    return Image.fromarray(skimage.data.astronaut())


@functools.cache
def cameraman() -> Image.Image:
    """The cameraman's head, enlarged: at the original size the face is too small to detect."""
    return (
        Image.fromarray(skimage.data.camera()[60:220, 140:300])
        .resize((480, 480), Image.LANCZOS)
        .convert("RGB")
    )


def astronaut_png() -> bytes:
    return _encode(astronaut())


# Later photos of the same person: each a transformed copy of the enrolment photo.
ASTRONAUT_VARIANTS = {
    "resized": lambda a: _encode(a.resize((384, 384), Image.LANCZOS), "JPEG", quality=90),
    "rotated_4_degrees": lambda a: _encode(
        a.rotate(4, resample=Image.BICUBIC, fillcolor=(128, 128, 128)), "JPEG", quality=90
    ),
    "darker": lambda a: _encode(ImageEnhance.Brightness(a).enhance(0.7), "JPEG", quality=90),
    "brighter": lambda a: _encode(ImageEnhance.Brightness(a).enhance(1.3), "JPEG", quality=90),
    "jpeg_quality_60": lambda a: _encode(a, "JPEG", quality=60),
    "all_at_once": lambda a: _encode(
        ImageEnhance.Brightness(
            a.resize((420, 420), Image.LANCZOS).rotate(-3, resample=Image.BICUBIC)
        ).enhance(1.2),
        "JPEG",
        quality=75,
    ),
}


def astronaut_jpeg() -> bytes:
    return _encode(ImageEnhance.Brightness(astronaut()).enhance(1.15), "JPEG", quality=70)


def astronaut_mirrored() -> bytes:
    return _encode(astronaut().transpose(Image.FLIP_LEFT_RIGHT), "JPEG", quality=90)


def cameraman_jpeg() -> bytes:
    return _encode(cameraman(), "JPEG", quality=85)


def coffee_png() -> bytes:
    return _encode(Image.fromarray(skimage.data.coffee()))


# --- setting ------------------------------------------------------------------------------------


def at(day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC) - dt.timedelta(hours=8)  # Beijing time


class Setup:
    """Class A (新城区, institution 鸿翔) with 李明 and 王芳; class B (回民区, institution 青城) with 陈静."""

    def __init__(self, world):
        self.world = world
        self.inst_a = institution_register(
            code=uscc("52150102MJY000011"),
            name="呼和浩特市鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150102"),
            actor=world.hohhot_admin,
        )
        self.inst_b = institution_register(
            code=uscc("52150103MJY000022"),
            name="呼和浩特市青城家政职业培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150103"),
            actor=world.hohhot_admin,
        )
        self.operator_a = user_create(
            username="hx_faces",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.inst_a.organisation,
            actor=None,
        )
        self.operator_b = user_create(
            username="qc_faces",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="何春雨",
            organisation=self.inst_b.organisation,
            actor=None,
        )
        self.class_a = self.klass("HX2026-0301", self.inst_a, "150102")
        self.class_b = self.klass("QC2026-0302", self.inst_b, "150103")
        self.li_ming = world.li_ming
        self.chen_jing = world.chen_jing
        self.wang_fang, _ = person_register(
            id_number=new_id_number("150102", dt.date(1992, 7, 21), False, seed=3),
            name="王芳",
            actor=None,
            organisation=self.inst_a.organisation,
        )
        self.enrol(self.class_a, self.li_ming)
        self.enrol(self.class_a, self.wang_fang)
        self.enrol(self.class_b, self.chen_jing)

    @staticmethod
    def klass(code, institution, area_code) -> TrainingClass:
        return TrainingClass.objects.create(
            code=code,
            institution=institution,
            area=Area.objects.get(code=area_code),
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 3, 20),
            total_hours=120,
        )

    @staticmethod
    def enrol(klass, person):
        Enrollment.objects.create(training_class=klass, person=person, category="REGISTERED_UNEMPLOYED")

    def enrolment_photo(self, person, image_bytes, day=1):
        return face_photo_add(
            person=person, image_bytes=image_bytes, kind=ENROLMENT, actor=self.operator_a, taken_at=at(day, 9)
        )

    def checkin(self, person, klass, image_bytes, day=3, minute=0):
        return face_photo_add(
            person=person,
            image_bytes=image_bytes,
            kind=CHECKIN,
            training_class=klass,
            actor=self.operator_a,
            taken_at=at(day, 8, minute),
        )


@pytest.fixture(scope="module", autouse=True)
def face_models():
    """dlib's models load once (a few seconds), not inside the first test."""
    import face_recognition  # noqa: F401


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def s(world):
    return Setup(world)


def keys(hits):
    return {h.key for h in hits}


# --- the same face, transformed: a match -----------------------------------------------------------


@pytest.mark.parametrize("variant", ASTRONAUT_VARIANTS)
def test_the_same_face_transformed_matches(s, variant):
    enrolment = s.enrolment_photo(s.li_ming, astronaut_png())
    assert enrolment.face_found and enrolment.face_count >= 1
    assert len(enrolment.vector) == 128
    checkin = s.checkin(s.li_ming, s.class_a, ASTRONAUT_VARIANTS[variant](astronaut()))
    assert checkin.face_found
    assert float(np.linalg.norm(checkin.vector - enrolment.vector)) < 0.3
    assert face_hits() == []


def test_a_mirrored_copy_is_still_the_same_person(s):
    s.enrolment_photo(s.li_ming, astronaut_png())
    s.checkin(s.li_ming, s.class_a, astronaut_mirrored())
    assert face_hits() == []


# --- a different face: FACE_MISMATCH --------------------------------------------------------------


def test_a_check_in_photo_of_someone_else_is_a_face_mismatch(s):
    enrolment = s.enrolment_photo(s.li_ming, astronaut_png())
    s.checkin(s.li_ming, s.class_a, astronaut_jpeg(), day=3)
    stranger = s.checkin(s.li_ming, s.class_a, cameraman_jpeg(), day=4, minute=5)
    hits = face_hits()
    assert keys(hits) == {("FACE_MISMATCH", "HX2026-0301", s.li_ming.id_hmac)}
    evidence = hits[0].evidence
    # names both photos (kind, date and time in Beijing time, number) and the distance
    assert f"签到照片（2026-03-04 08:05，HX2026-0301班，编号{stranger.pk}）" in evidence
    assert f"本人入学照片（2026-03-01 09:00，编号{enrolment.pk}）" in evidence
    assert re.search(r"人脸不符，距离0\.[6-9]\d（阈值0\.60）", evidence)
    assert "2026-03-03" not in evidence  # the matching check-in is not named


def test_without_an_enrolment_photo_check_ins_are_not_judged(s):
    s.checkin(s.li_ming, s.class_a, astronaut_png())
    s.checkin(s.li_ming, s.class_a, cameraman_jpeg(), day=4)
    assert face_hits() == []


def test_the_latest_enrolment_photo_is_the_reference(s):
    s.enrolment_photo(s.li_ming, cameraman_jpeg(), day=1)
    s.enrolment_photo(s.li_ming, astronaut_png(), day=2)  # re-uploaded: the first one was wrong
    s.checkin(s.li_ming, s.class_a, astronaut_jpeg(), day=3)
    assert face_hits() == []


# --- one face under two ID numbers: FACE_SHARED ------------------------------------------------------


def test_the_same_face_under_two_id_numbers_is_reported_for_both(s):
    s.enrolment_photo(s.li_ming, astronaut_png())
    s.enrolment_photo(s.chen_jing, astronaut_jpeg())
    s.enrolment_photo(s.wang_fang, cameraman_jpeg())
    hits = face_hits()
    assert keys(hits) == {
        ("FACE_SHARED", "HX2026-0301", s.li_ming.id_hmac),
        ("FACE_SHARED", "QC2026-0302", s.chen_jing.id_hmac),
    }
    by_class = {h.class_code: h.evidence for h in hits}
    assert f"与另一身份证号{s.chen_jing.id_masked}（陈*）的入学照片" in by_class["HX2026-0301"]
    assert f"与另一身份证号{s.li_ming.id_masked}（李*）的入学照片" in by_class["QC2026-0302"]
    assert re.search(r"为同一人脸，距离0\.[0-3]\d（阈值0\.60）", by_class["HX2026-0301"])


def test_a_check_in_photo_shared_with_another_person_is_reported_in_the_class_of_the_photo(s):
    """陈静's check-in photo in class B shows 李明's face: FACE_SHARED for 陈静 in B (the class of the
    photo) and for 李明 in A (the class of his enrolment); and a FACE_MISMATCH for 陈静."""
    s.enrolment_photo(s.li_ming, astronaut_png())
    s.enrolment_photo(s.chen_jing, cameraman_jpeg())
    s.checkin(s.chen_jing, s.class_b, astronaut_jpeg())
    assert keys(face_hits()) == {
        ("FACE_SHARED", "HX2026-0301", s.li_ming.id_hmac),
        ("FACE_SHARED", "QC2026-0302", s.chen_jing.id_hmac),
        ("FACE_MISMATCH", "QC2026-0302", s.chen_jing.id_hmac),
    }
    # one class checked: compared with every photo in peixun, reported only in that class
    assert keys(face_hits(class_ids=[s.class_b.pk])) == {
        ("FACE_SHARED", "QC2026-0302", s.chen_jing.id_hmac),
        ("FACE_MISMATCH", "QC2026-0302", s.chen_jing.id_hmac),
    }
    assert keys(face_hits(class_ids=[s.class_a.pk])) == {("FACE_SHARED", "HX2026-0301", s.li_ming.id_hmac)}


def test_face_hits_output_is_what_crosscheck_run_stores(s):
    """The integration point: face_hits returns checks.catalog.Hit, keyed (rule_code, class_code,
    subject=id_hmac), that findings_store (hence crosscheck_run) takes as they are."""
    s.enrolment_photo(s.li_ming, astronaut_png())
    s.enrolment_photo(s.chen_jing, astronaut_jpeg())
    s.checkin(s.li_ming, s.class_a, cameraman_jpeg())
    hits = face_hits(class_ids=[s.class_a.pk, s.class_b.pk])
    assert all(isinstance(h, Hit) for h in hits)
    assert hits == sorted(hits)
    assert keys(hits) == {
        ("FACE_MISMATCH", "HX2026-0301", s.li_ming.id_hmac),
        ("FACE_SHARED", "HX2026-0301", s.li_ming.id_hmac),
        ("FACE_SHARED", "QC2026-0302", s.chen_jing.id_hmac),
    }
    assert {h.rule_code for h in hits} <= set(RULES)
    assert all(h.evidence for h in hits)
    findings_store(hits=hits, rules_version=1, class_ids=[s.class_a.pk, s.class_b.pk])
    stored = {(f.rule_code, f.training_class.code, f.person_id, f.severity) for f in Finding.objects.all()}
    assert stored == {
        ("FACE_MISMATCH", "HX2026-0301", s.li_ming.pk, "REVIEW"),
        ("FACE_SHARED", "HX2026-0301", s.li_ming.pk, "BLOCK"),
        ("FACE_SHARED", "QC2026-0302", s.chen_jing.pk, "BLOCK"),
    }


# --- no face, invalid files -----------------------------------------------------------------------


def test_a_photo_without_a_face_is_kept_but_not_compared(s):
    s.enrolment_photo(s.li_ming, astronaut_png())
    photo = s.checkin(s.li_ming, s.class_a, coffee_png())
    assert photo.face_found is False and photo.embedding is None and photo.face_count == 0
    assert "未检测到人脸" in photo.face_message
    assert photo.image.name.startswith("faces/checkin/2026/03/") and photo.image.name.endswith(".png")
    assert len(photo.sha256) == 64
    assert face_hits() == []


def test_invalid_files_are_refused_in_chinese(s):
    with pytest.raises(services.FacePhotoRejected, match="不是JPEG或PNG"):
        s.enrolment_photo(s.li_ming, "这不是照片".encode())
    with pytest.raises(services.FacePhotoRejected, match="超过5MB"):
        s.enrolment_photo(s.li_ming, b"\xff\xd8\xff\xe0" + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(services.FacePhotoRejected, match="已损坏"):
        s.enrolment_photo(s.li_ming, b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(services.FacePhotoRejected, match="为空"):
        s.enrolment_photo(s.li_ming, b"")
    assert not FacePhoto.objects.exists()


def test_a_check_in_photo_needs_a_trainee_of_the_class(s):
    with pytest.raises(PeixunError, match="不在QC2026-0302班的花名册中"):
        s.checkin(s.li_ming, s.class_b, astronaut_png())
    with pytest.raises(PeixunError, match="必须指明培训班"):
        face_photo_add(person=s.li_ming, image_bytes=astronaut_png(), kind=CHECKIN)


# --- pages ----------------------------------------------------------------------------------------


def enrolment_url(s, klass=None):
    return reverse("faces:enrolment", args=[(klass or s.class_a).pk])


def upload(client, s, person, content, name="photo.jpg"):
    return client.post(
        enrolment_url(s),
        {
            "person": str(person.public_id),
            "photo": SimpleUploadedFile(name, content, content_type="image/jpeg"),
        },
        follow=True,
    )


def test_the_operator_uploads_an_enrolment_photo_from_the_roster(client, s):
    client.force_login(s.operator_a)
    page = client.get(enrolment_url(s)).content.decode()
    assert "李明" in page and "王芳" in page and "陈静" not in page
    response = upload(client, s, s.li_ming, astronaut_jpeg())
    html = response.content.decode()
    assert "已上传李明的入学照片" in html
    photo = FacePhoto.objects.get()
    assert (photo.person, photo.kind, photo.training_class, photo.uploaded_by) == (
        s.li_ming,
        ENROLMENT,
        None,
        s.operator_a,
    )
    assert reverse("faces:thumbnail", args=[photo.pk]) in html
    assert "<script>" not in html
    entry = AuditEntry.objects.filter(action="face_photo.added").get()
    assert entry.after["sha256"] == photo.sha256 and entry.actor == s.operator_a
    thumb = client.get(reverse("faces:thumbnail", args=[photo.pk]))
    assert thumb["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 120


def test_a_photo_without_a_face_is_explained_on_upload(client, s):
    client.force_login(s.operator_a)
    html = upload(client, s, s.li_ming, coffee_png(), name="coffee.png").content.decode()
    assert "李明：照片中未检测到人脸" in html
    assert FacePhoto.objects.get().face_found is False


def test_a_text_file_renamed_jpg_is_refused_in_chinese(client, s):
    client.force_login(s.operator_a)
    html = upload(
        client, s, s.li_ming, "姓名,身份证号\n李明,1501\n".encode(), name="照片.jpg"
    ).content.decode()
    assert "李明：文件不是JPEG或PNG格式的照片" in html
    assert not FacePhoto.objects.exists()


def test_operators_reach_only_their_own_classes_and_trainees(client, s):
    photo = s.enrolment_photo(s.li_ming, astronaut_png())
    client.force_login(s.operator_b)
    assert client.get(enrolment_url(s)).status_code == 404
    assert client.get(reverse("faces:thumbnail", args=[photo.pk])).status_code == 404
    assert client.get(reverse("faces:photo", args=[photo.pk])).status_code == 404
    assert upload(client, s, s.li_ming, astronaut_jpeg()).status_code == 404
    # nor a trainee of another class through their own class's roster
    response = client.post(
        enrolment_url(s, s.class_b),
        {"person": str(s.li_ming.public_id), "photo": SimpleUploadedFile("a.jpg", astronaut_jpeg())},
    )
    assert response.status_code == 404
    assert FacePhoto.objects.count() == 1
    html = client.get(reverse("faces:classes")).content.decode()
    assert "QC2026-0302" in html and "HX2026-0301" not in html


def test_officials_view_thumbnails_of_their_area_only(client, s):
    photo = s.enrolment_photo(s.li_ming, astronaut_png())
    for official in (s.world.xincheng_reviewer, s.world.hohhot_admin, s.world.region_admin):
        client.force_login(official)
        html = client.get(enrolment_url(s)).content.decode()
        assert reverse("faces:thumbnail", args=[photo.pk]) in html
        assert 'type="file"' not in html  # officials view, they do not upload
        assert client.get(reverse("faces:photo", args=[photo.pk])).status_code == 200
    assert upload(client, s, s.li_ming, astronaut_jpeg()).status_code == 404
    for outsider in (s.world.huimin_reviewer, s.world.baotou_admin, s.world.trainee):
        client.force_login(outsider)
        assert client.get(enrolment_url(s)).status_code == 404
        assert client.get(reverse("faces:thumbnail", args=[photo.pk])).status_code == 404


def test_the_tolerance_boundary_is_inclusive_for_shared_and_exclusive_for_mismatch():
    """distance ≤ tolerance is the same face (rules: FACE_SHARED), > tolerance is not (FACE_MISMATCH)."""
    vectors = np.zeros((3, 128))
    vectors[1, 0] = 0.5
    vectors[2, 0] = 0.5 + 1e-9
    person = np.array([1, 2, 3])
    i, j, distance = services._close_pairs(vectors, np.arange(3), person, 0.5)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert distance[0] == 0.5


def test_both_check_paths_store_the_face_findings(s):
    """第十九条 人脸识别 / 第二十二条 冒名顶替: the interactive run of one class and the province-wide run
    store FACE_MISMATCH and FACE_SHARED like every other rule, and agree."""
    from peixun.checks.run import crosscheck_run

    s.enrolment_photo(s.li_ming, astronaut_png())
    s.enrolment_photo(s.chen_jing, astronaut_jpeg())
    s.checkin(s.li_ming, s.class_a, cameraman_jpeg())
    crosscheck_run(class_ids=[s.class_a.pk])
    face_rules = ("FACE_MISMATCH", "FACE_SHARED")
    one_class = set(
        Finding.objects.filter(rule_code__in=face_rules, is_current=True).values_list(
            "rule_code", "training_class__code", "person_id"
        )
    )
    assert one_class == {
        ("FACE_MISMATCH", "HX2026-0301", s.li_ming.pk),
        ("FACE_SHARED", "HX2026-0301", s.li_ming.pk),
    }
    crosscheck_run()
    everywhere = set(
        Finding.objects.filter(rule_code__in=face_rules, is_current=True).values_list(
            "rule_code", "training_class__code", "person_id"
        )
    )
    assert everywhere == one_class | {("FACE_SHARED", "QC2026-0302", s.chen_jing.pk)}
