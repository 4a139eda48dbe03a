"""数据采集: devices, platform filing and review, and the signed batch APIs (docs/api-guide.md)."""

import datetime as dt
import json
import re
import time

import pytest
from django.urls import reverse

from peixun.accounts.models import Organisation
from peixun.accounts.roles import Role
from peixun.accounts.services import organisation_create, user_create
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.core.models import Area
from peixun.institutions.services import institution_register
from peixun.intake import services
from peixun.intake.models import Device, Nonce, Platform
from peixun.training.models import Enrollment, TrainingClass
from tests.conftest import PASSWORD, new_id_number
from tests.test_findings_ui import uscc

pytestmark = pytest.mark.django_db

ATTENDANCE = "/api/v1/devices/attendance"
SESSIONS = "/api/v1/platforms/sessions"


def make_class(code, institution, area_code="150102"):
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
        online_hours=40,
    )


class Setup:
    def __init__(self, world):
        self.world = world
        self.hongxiang = institution_register(
            code=uscc("52150102MJY000011"),
            name="呼和浩特市鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150102"),
            actor=world.hohhot_admin,
        )
        self.qingcheng = institution_register(
            code=uscc("52150103MJY000022"),
            name="青城家政职业培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150103"),
            actor=world.hohhot_admin,
        )
        self.operator = user_create(
            username="hx_operator",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.hongxiang.organisation,
            actor=None,
        )
        self.klass = make_class("HX2026-0301", self.hongxiang)
        self.other_class = make_class("QC2026-0301", self.qingcheng, "150103")
        for klass in (self.klass, self.other_class):
            for person in (world.li_ming, world.chen_jing):
                Enrollment.objects.create(
                    training_class=klass, person=person, category="REGISTERED_UNEMPLOYED"
                )
        self.li_id = world.li_ming.reveal_id_number()
        self.chen_id = world.chen_jing.reveal_id_number()
        self.device, self.secret = services.device_register(
            institution=self.hongxiang,
            actor=self.operator,
            name="一号教室人脸考勤机",
            site_address="呼和浩特市新城区新华大街1号",
            site_lat=40.84,
            site_lon=111.75,
        )


@pytest.fixture
def s(world):
    return Setup(world)


def post(client, path, payload, *, key, secret, timestamp=None, nonce=None, sign_body=None, sign_secret=None):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = services.signed_headers(
        sign_secret or secret,
        key,
        "POST",
        path,
        body if sign_body is None else sign_body,
        timestamp=timestamp,
        nonce=nonce,
    )
    return client.post(path, data=body, content_type="application/json", headers=headers)


def att(class_code, id_number, day=2, hour=8, minute=0, **extra):
    item = {
        "class_code": class_code,
        "id_number": id_number,
        "check_in": f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00",
        "check_out": f"2026-03-{day:02d}T{hour + 4:02d}:{minute:02d}:00",
        "method": "FACE",
        "photo_sha256": "ab" * 32,
        "lat": 40.84,
        "lon": 111.75,
    }
    item.update(extra)
    return item


def push(client, s, items, **kw):
    return post(client, ATTENDANCE, {"items": items}, key=s.device.code, secret=s.secret, **kw)


# --- devices: the signed API --------------------------------------------------------------------


def test_good_signature_accepted_and_records_created(client, s):
    items = [att("HX2026-0301", s.li_id), att("HX2026-0301", s.chen_id), att("HX2026-0301", s.li_id, day=3)]
    r = push(client, s, items)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["duplicates"], body["errors"]) == (3, 0, 0)
    assert [x["status"] for x in body["results"]] == ["created"] * 3
    records = AttendanceRecord.objects.filter(training_class=s.klass).order_by("check_in")
    assert records.count() == 3
    first = records.first()
    assert first.check_in == dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)  # 08:00 Asia/Shanghai
    assert first.source == "DEVICE" and first.device_code == s.device.code
    s.device.refresh_from_db()
    assert s.device.last_used_at is not None


def test_re_push_same_batch_creates_nothing_new(client, s):
    items = [att("HX2026-0301", s.li_id), att("HX2026-0301", s.chen_id)]
    assert push(client, s, items).json()["created"] == 2
    body = push(client, s, items).json()  # a new nonce and signature, same content
    assert (body["created"], body["duplicates"], body["errors"]) == (0, 2, 0)
    assert {x["status"] for x in body["results"]} == {"duplicate"}
    assert AttendanceRecord.objects.count() == 2
    # the same item twice in one batch: one created, one duplicate
    body = push(client, s, [att("HX2026-0301", s.li_id, day=4)] * 2).json()
    assert [x["status"] for x in body["results"]] == ["created", "duplicate"]


def test_bad_signature_401(client, s):
    r = push(client, s, [att("HX2026-0301", s.li_id)], sign_body=b'{"items": []}')
    assert r.status_code == 401
    assert r.json()["code"] == "bad_signature" and "签名" in r.json()["message"]
    r = push(client, s, [att("HX2026-0301", s.li_id)], sign_secret="not-the-secret")
    assert r.status_code == 401
    assert AttendanceRecord.objects.count() == 0


def test_unknown_device_401(client, s):
    r = post(
        client, ATTENDANCE, {"items": [att("HX2026-0301", s.li_id)]}, key="DV0000000000", secret=s.secret
    )
    assert r.status_code == 401
    assert r.json()["code"] == "unknown_key" and "未登记" in r.json()["message"]
    r = client.post(ATTENDANCE, data=b'{"items": []}', content_type="application/json")
    assert r.status_code == 401 and r.json()["code"] == "missing_headers"


def test_stale_timestamp_401(client, s):
    # Well outside the ±300 s window: a loaded machine may take seconds between signing and checking.
    for skew in (-330, 330):
        r = push(client, s, [att("HX2026-0301", s.li_id)], timestamp=int(time.time()) + skew)
        assert r.status_code == 401
        assert r.json()["code"] == "stale_timestamp"
    assert push(client, s, [att("HX2026-0301", s.li_id)], timestamp=int(time.time()) - 270).status_code == 200


def test_reused_nonce_409(client, s):
    assert push(client, s, [att("HX2026-0301", s.li_id)], nonce="nonce-0001-abcdef").status_code == 200
    r = push(client, s, [att("HX2026-0301", s.li_id, day=5)], nonce="nonce-0001-abcdef")
    assert r.status_code == 409
    assert r.json()["code"] == "nonce_reused" and "重放" in r.json()["message"]
    assert AttendanceRecord.objects.count() == 1
    # old nonces are pruned once they can no longer be replayed
    Nonce.objects.update(at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert services.nonce_prune() == 1


def test_revoked_device_403(client, s):
    services.device_revoke(device=s.device, actor=s.operator, reason="设备丢失")
    r = push(client, s, [att("HX2026-0301", s.li_id)])
    assert r.status_code == 403
    assert r.json()["code"] == "device_revoked" and "吊销" in r.json()["message"]
    assert AttendanceRecord.objects.count() == 0


def test_mixed_batch_per_item_errors_valid_items_kept(client, s, world):
    stranger = new_id_number("150102", dt.date(1990, 1, 1), True, seed=99)
    items = [
        att("HX2026-0301", s.li_id),  # 0 good
        att("HX2026-0301", stranger),  # 1 unknown trainee
        att("NO-SUCH-CLASS", s.li_id),  # 2 unknown class
        att("HX2026-0301", s.chen_id, check_out="2026-03-02T07:00:00"),  # 3 ends before it starts
        att("QC2026-0301", s.li_id),  # 4 another institution's class
        att("HX2026-0301", "150102199001011234"),  # 5 invalid ID number
        att("HX2026-0301", s.chen_id, check_in="yesterday"),  # 6 bad time
        att("HX2026-0301", s.chen_id, day=6),  # 7 good
        att("HX2026-0301", s.chen_id, day=7, method="IRIS"),  # 8 bad method
    ]
    r = push(client, s, items)
    assert r.status_code == 200
    body = r.json()
    status = [x["status"] for x in body["results"]]
    assert status == ["created", "error", "error", "error", "error", "error", "error", "created", "error"]
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 0, 7)
    msg = {x["index"]: x["message"] for x in body["results"]}
    assert "未在系统登记" in msg[1] and "*" in msg[1] and stranger not in msg[1]
    assert "不存在" in msg[2]
    assert "早于" in msg[3]
    assert "不属于本设备" in msg[4]
    assert "校验位" in msg[5]
    assert "格式" in msg[6]
    assert "FACE" in msg[8]
    assert AttendanceRecord.objects.filter(training_class=s.klass).count() == 2
    assert AttendanceRecord.objects.filter(training_class=s.other_class).count() == 0


def test_device_registration_page_shows_secret_once(client, s, world):
    client.login(username="hx_operator", password=PASSWORD)
    r = client.post(
        reverse("intake:device_create"),
        {
            "name": "二号教室指纹机",
            "site_address": "呼和浩特市新城区新华大街1号",
            "site_lat": "40.8",
            "site_lon": "111.7",
        },
    )
    assert r.status_code == 302
    device = Device.objects.get(name="二号教室指纹机")
    page = client.get(r["Location"]).content.decode()
    secret = re.search(r'data-testid="credential-secret">([^<]+)<', page).group(1)
    assert services.decrypt_secret(device.secret_cipher, kind="device", code=device.code) == secret
    assert secret not in device.secret_cipher
    assert "credential-secret" not in client.get(r["Location"]).content.decode()  # only once
    # it works
    ok = post(client, ATTENDANCE, {"items": [att("HX2026-0301", s.li_id)]}, key=device.code, secret=secret)
    assert ok.status_code == 200 and ok.json()["created"] == 1
    # officials of the area see the device; another city does not
    client.login(username="zhang_hohhot", password=PASSWORD)
    assert device.code in client.get(reverse("intake:devices")).content.decode()
    client.login(username="liu_baotou", password=PASSWORD)
    assert device.code not in client.get(reverse("intake:devices")).content.decode()
    assert client.get(reverse("intake:device_detail", args=[device.pk])).status_code == 404
    # another institution's operator cannot see or revoke it
    client.login(username="he_qingcheng", password=PASSWORD)
    assert client.post(reverse("intake:device_revoke", args=[device.pk]), {"reason": "x"}).status_code == 404


# --- platforms ----------------------------------------------------------------------------------

FILING = {
    "filed_with": "",
    "name": "北疆技能在线",
    "operator_name": "内蒙古北疆网络科技有限公司",
    "uscc": "91150100MA0000001X",
    "address": "呼和浩特市赛罕区敕勒川大街8号",
    "website": "https://www.example.cn",
    "contact_name": "乌兰",
    "contact_phone": "0471-1234567",
    "security_level": "3",
    "security_cert_no": "15010013001-24001",
    "stability_info": "双机房部署，每日异地备份",
    "courses_text": "4-10-01-05|养老护理基础|16|养老护理员国家职业技能标准（2019年版）\n4-10-01-05|失能老人照护|24|同上",
    "cap_real_name": "on",
    "cap_identity_category": "on",
    "cap_course_time_control": "on",
    "cap_assessment": "on",
    "cap_process_record": "on",
    "cap_learning_archive": "on",
}


@pytest.fixture
def platform_operator(world):
    org = organisation_create(
        name="内蒙古北疆网络科技有限公司",
        kind=Organisation.Kind.ONLINE_PLATFORM,
        area=Area.objects.get(code="150100"),
        actor=None,
    )
    return user_create(
        username="bj_platform",
        password=PASSWORD,
        role=Role.PLATFORM_OPERATOR,
        display_name="乌兰",
        organisation=org,
        actor=None,
    )


def session(class_code, id_number, day=2, **extra):
    item = {
        "class_code": class_code,
        "id_number": id_number,
        "start_at": f"2026-03-{day:02d}T19:00:00",
        "end_at": f"2026-03-{day:02d}T21:00:00",
        "ip": "203.0.113.7",
        "face_checks_passed": 4,
        "face_checks_failed": 0,
    }
    item.update(extra)
    return item


def test_platform_filing_approval_credentials_suspension(client, s, world, platform_operator):
    client.login(username="bj_platform", password=PASSWORD)
    # missing capability: refused with every missing one named
    incomplete = FILING | {"filed_with": Area.objects.get(code="150100").pk}
    incomplete.pop("cap_assessment")
    r = client.post(reverse("intake:platform_file"), incomplete)
    assert r.status_code == 200 and "考核" in r.content.decode()
    r = client.post(
        reverse("intake:platform_file"), FILING | {"filed_with": Area.objects.get(code="150100").pk}
    )
    assert r.status_code == 302
    platform = Platform.objects.get(name="北疆技能在线")
    assert platform.status == "SUBMITTED" and platform.courses.count() == 2 and platform.code is None
    # no credentials before approval
    assert client.post(reverse("intake:platform_secret", args=[platform.pk])).status_code == 302
    platform.refresh_from_db()
    assert platform.secret_cipher == ""

    # the city reviews: returned with reasons, corrected and resubmitted, approved
    client.login(username="zhang_hohhot", password=PASSWORD)
    url = reverse("intake:platform_transition", args=[platform.pk, "return"])
    assert "须填写理由" in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "等保备案证明编号有误"}).status_code == 302
    client.login(username="bj_platform", password=PASSWORD)
    edited = FILING | {"filed_with": platform.filed_with_id, "security_cert_no": "15010013001-24009"}
    assert client.post(reverse("intake:platform_edit", args=[platform.pk]), edited).status_code == 302
    client.post(reverse("intake:platform_transition", args=[platform.pk, "resubmit"]), {"reason": ""})
    platform.refresh_from_db()
    assert platform.status == "SUBMITTED" and platform.security_cert_no == "15010013001-24009"
    client.login(username="zhang_hohhot", password=PASSWORD)
    client.post(reverse("intake:platform_transition", args=[platform.pk, "approve"]), {"reason": ""})
    platform.refresh_from_db()
    assert platform.status == "APPROVED" and platform.code.startswith("PF")
    assert (
        "credential-secret"
        not in client.get(reverse("intake:platform_detail", args=[platform.pk])).content.decode()
    )

    # the platform takes its secret, shown once
    client.login(username="bj_platform", password=PASSWORD)
    detail = client.post(reverse("intake:platform_secret", args=[platform.pk]), follow=True).content.decode()
    secret = re.search(r'data-testid="credential-secret">([^<]+)<', detail).group(1)
    assert (
        "credential-secret"
        not in client.get(reverse("intake:platform_detail", args=[platform.pk])).content.decode()
    )

    items = [
        session("HX2026-0301", s.li_id),
        session("QC2026-0301", s.chen_id),  # a platform may serve any class
        session("HX2026-0301", s.chen_id, end_at="2026-03-02T18:00:00"),  # ends before it starts
        session("HX2026-0301", s.li_id, day=3, platform_code="PFOTHER"),  # another platform's code
        session("NO-SUCH", s.li_id),
    ]
    r = post(client, SESSIONS, {"items": items}, key=platform.code, secret=secret)
    assert r.status_code == 200, r.content
    assert [x["status"] for x in r.json()["results"]] == ["created", "created", "error", "error", "error"]
    assert set(OnlineSession.objects.values_list("platform_code", flat=True)) == {platform.code}
    again = post(client, SESSIONS, {"items": items[:2]}, key=platform.code, secret=secret).json()
    assert (again["created"], again["duplicates"]) == (0, 2)
    # a device key is not a platform key, and the reverse
    assert post(client, SESSIONS, {"items": items[:1]}, key=s.device.code, secret=s.secret).status_code == 401
    assert push(client, s, [], sign_secret=secret).status_code == 401

    # suspension refuses the platform's requests; resuming lets them in again
    client.login(username="zhang_hohhot", password=PASSWORD)
    client.post(
        reverse("intake:platform_transition", args=[platform.pk, "suspend"]),
        {"reason": "学时数据异常，暂停核查"},
    )
    r = post(
        client,
        SESSIONS,
        {"items": [session("HX2026-0301", s.li_id, day=9)]},
        key=platform.code,
        secret=secret,
    )
    assert r.status_code == 403
    assert r.json()["code"] == "platform_not_approved" and "暂停" in r.json()["message"]
    client.post(reverse("intake:platform_transition", args=[platform.pk, "resume"]), {"reason": ""})
    r = post(
        client,
        SESSIONS,
        {"items": [session("HX2026-0301", s.li_id, day=9)]},
        key=platform.code,
        secret=secret,
    )
    assert r.status_code == 200 and r.json()["created"] == 1
    # renewing the secret stops the old one
    client.login(username="bj_platform", password=PASSWORD)
    client.post(reverse("intake:platform_secret", args=[platform.pk]))
    r = post(
        client,
        SESSIONS,
        {"items": [session("HX2026-0301", s.li_id, day=10)]},
        key=platform.code,
        secret=secret,
    )
    assert r.status_code == 401
    labels = list(platform.events.order_by("id").values_list("label", flat=True))
    assert labels[:5] == ["提交备案", "退回修改", "重新提交", "备案通过", "领取接口密钥"]


def test_only_city_or_region_admin_of_the_area_reviews(client, s, world, platform_operator):
    platform = services.platform_file(
        actor=platform_operator,
        filed_with=Area.objects.get(code="150100"),
        fields={f: FILING[f] for f in services.PLATFORM_FIELDS},
        capabilities={f: True for f in Platform.CAPABILITIES},
        courses_text=FILING["courses_text"],
    )
    approve = reverse("intake:platform_transition", args=[platform.pk, "approve"])
    for username in ("ma_hongxiang", "hx_operator", "liu_baotou", "zhao_xincheng", "bj_platform"):
        client.login(username=username, password=PASSWORD)
        assert client.get(approve).status_code == 404, username
        assert client.post(approve, {"reason": ""}).status_code == 404, username
    platform.refresh_from_db()
    assert platform.status == "SUBMITTED"
    with pytest.raises(services.PermissionDeniedError):
        services.platform_transition(platform=platform, transition="approve", actor=s.operator)
    # the region admin may
    client.login(username="wang_region", password=PASSWORD)
    assert client.post(approve, {"reason": ""}).status_code == 302
    platform.refresh_from_db()
    assert platform.status == "APPROVED"
    # an institution operator cannot see the platform list at all
    client.login(username="ma_hongxiang", password=PASSWORD)
    assert client.get(reverse("intake:platforms")).status_code == 404


def test_transitions_table_drives_what_is_offered(s, world, platform_operator):
    platform = services.platform_file(
        actor=platform_operator,
        filed_with=Area.objects.get(code="150000"),
        fields={f: FILING[f] for f in services.PLATFORM_FIELDS},
        capabilities={f: True for f in Platform.CAPABILITIES},
        courses_text=FILING["courses_text"],
    )
    names = lambda user: [t.name for t in services.platform_transitions_for(user, platform)]  # noqa: E731
    assert names(world.region_admin) == ["approve", "return", "reject"]
    assert names(world.hohhot_admin) == []  # filed with the region, not the city
    assert names(platform_operator) == []
    services.platform_transition(
        platform=platform, transition="reject", actor=world.region_admin, reason="不具备资质"
    )
    platform.refresh_from_db()
    assert names(world.region_admin) == [] and platform.status == "REJECTED"
    with pytest.raises(services.TransitionError):
        services.platform_transition(platform=platform, transition="approve", actor=world.region_admin)


def test_signature_matches_the_guide_example():
    """The worked example of docs/api-guide.md."""
    body = (
        b'{"items":[{"class_code":"HX2026-0301","id_number":"150102198803091231",'
        b'"check_in":"2026-03-02T08:01:12","check_out":"2026-03-02T11:58:40","method":"FACE",'
        b'"photo_sha256":"","lat":40.8421,"lon":111.7512}]}'
    )
    secret = "k3J9v-ExampleSecret-DoNotUse-0123456789abcd"
    message = services.string_to_sign("POST", ATTENDANCE, "1772424000", "7f3c9a1e5b2d4c6f", body)
    assert message.split("\n")[:4] == ["POST", ATTENDANCE, "1772424000", "7f3c9a1e5b2d4c6f"]
    guide = open("docs/api-guide.md", encoding="utf-8").read()
    assert message.split("\n")[4] in guide
    assert services.sign(secret, "POST", ATTENDANCE, "1772424000", "7f3c9a1e5b2d4c6f", body) in guide


def test_pages_render(client, s, world, platform_operator):
    platform = services.platform_file(
        actor=platform_operator,
        filed_with=Area.objects.get(code="150100"),
        fields={f: FILING[f] for f in services.PLATFORM_FIELDS},
        capabilities={f: True for f in Platform.CAPABILITIES},
        courses_text=FILING["courses_text"],
    )
    pages = {
        "hx_operator": ["intake:devices", "intake:device_create", ("intake:device_detail", s.device.pk)],
        "bj_platform": ["intake:platforms", "intake:platform_file", ("intake:platform_detail", platform.pk)],
        "zhang_hohhot": [
            "intake:devices",
            "intake:platforms",
            ("intake:platform_detail", platform.pk),
            ("intake:platform_transition", platform.pk, "return"),
        ],
    }
    for username, names in pages.items():
        client.login(username=username, password=PASSWORD)
        for name in names:
            url = reverse(name) if isinstance(name, str) else reverse(name[0], args=name[1:])
            r = client.get(url)
            assert r.status_code == 200, (username, url)
            assert "<script>" not in r.content.decode()
