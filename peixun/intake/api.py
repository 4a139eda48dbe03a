"""Signed batch APIs for attendance devices and online training platforms (docs/api-guide.md).

Both endpoints authenticate with the device's or platform's own key and an HMAC signature of the
request (services.authenticate), not with a login session. A refused request answers 401 / 403 /
409 with {"code", "message"}; an accepted one answers 200 with the outcome of every item.
"""

import json

from django.http import HttpResponse, JsonResponse
from ninja import Field, Router
from ninja.security import APIKeyHeader
from pydantic import BaseModel

from . import services

SIGNATURE_HELP = (
    "请求须带 X-Peixun-Key（设备/平台编码）、X-Peixun-Timestamp（Unix秒）、X-Peixun-Nonce、"
    "X-Peixun-Signature = hex(HMAC-SHA256(密钥, 方法\\n路径\\n时间戳\\n随机数\\nsha256_hex(请求体)))。"
    "详见 docs/api-guide.md。"
)


class SignedKey(APIKeyHeader):
    """X-Peixun-Key plus timestamp, nonce and signature headers, checked against the raw body."""

    param_name = "X-Peixun-Key"

    def __init__(self, kind: str):
        self.kind = kind
        super().__init__()
        self.openapi_description = SIGNATURE_HELP

    def __call__(self, request):
        return services.authenticate(
            kind=self.kind,
            method=request.method,
            path=request.path,
            headers=request.headers,
            body=request.body,
        )

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the whole check
        return None


def on_intake_auth_error(request, exc: services.IntakeAuthError):
    return JsonResponse(
        {"code": exc.code, "message": exc.message},
        status=exc.status,
        json_dumps_params={"ensure_ascii": False},
    )


class AttendanceIn(BaseModel):
    class_code: str = Field("", description="班级编号")
    id_number: str = Field("", description="学员居民身份证号（18位）")
    check_in: str = Field(
        "", description="签到时间 YYYY-MM-DDTHH:MM:SS（北京时间）", examples=["2026-03-02T08:01:12"]
    )
    check_out: str | None = Field(None, description="签退时间，同上；可为空")
    method: str = Field("", description="FACE / FINGERPRINT / CARD / MANUAL")
    photo_sha256: str = Field("", description="签到照片的SHA-256（64位小写十六进制），可为空")
    lat: float | None = Field(None, description="纬度")
    lon: float | None = Field(None, description="经度")


class SessionIn(BaseModel):
    class_code: str = Field("", description="班级编号")
    id_number: str = Field("", description="学员居民身份证号（18位）")
    platform_code: str = Field("", description="平台编码；可省略，填写时须与 X-Peixun-Key 相同")
    start_at: str = Field("", description="开始时间 YYYY-MM-DDTHH:MM:SS（北京时间）")
    end_at: str = Field("", description="结束时间，同上")
    ip: str | None = Field(None, description="学员IP地址")
    face_checks_passed: int | str | None = Field(0, description="人脸核验通过次数")
    face_checks_failed: int | str | None = Field(0, description="人脸核验失败次数")


class AttendanceBatchIn(BaseModel):
    items: list[AttendanceIn] = Field(..., max_length=services.MAX_ITEMS)


class SessionBatchIn(BaseModel):
    items: list[SessionIn] = Field(..., max_length=services.MAX_ITEMS)


class ItemOut(BaseModel):
    index: int = Field(..., description="该条在 items 中的位置（从0开始）")
    status: str = Field(..., description="created 已接收 / duplicate 重复（未重复写入）/ error 错误")
    field: str = Field("", description="出错的字段")
    message: str


class BatchOut(BaseModel):
    created: int
    duplicates: int
    errors: int
    results: list[ItemOut]


class RefusedOut(BaseModel):
    code: str
    message: str


RESPONSES = {200: BatchOut, 401: RefusedOut, 403: RefusedOut, 409: RefusedOut}

intake_router = Router(tags=["数据采集（设备与平台签名接口）"])


def _out(result: services.IntakeResult) -> HttpResponse:
    """BatchOut, serialised directly: the per-item list is built by us and needs no re-validation
    (response validation of 1,000 items would cost more than the signature check and lookups)."""
    body = {
        "created": result.created,
        "duplicates": result.duplicates,
        "errors": result.errors,
        "results": [
            {"index": r.index, "status": r.status, "field": r.field, "message": r.message}
            for r in result.results
        ],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json; charset=utf-8")


@intake_router.post(
    "/devices/attendance",
    auth=SignedKey("device"),
    response=RESPONSES,
    summary="考勤设备批量上传考勤记录",
    description="attendance.csv 的字段，每批最多2000条。同一班级+身份证号+签到时间重复上传不会重复写入。"
    + SIGNATURE_HELP,
)
def device_attendance(request, payload: AttendanceBatchIn):
    items = [item.model_dump() for item in payload.items]
    return _out(services.device_attendance_ingest(device=request.auth, items=items))


@intake_router.post(
    "/platforms/sessions",
    auth=SignedKey("platform"),
    response=RESPONSES,
    summary="线上培训平台批量上传学习记录",
    description="online_sessions.csv 的字段，每批最多2000条。同一班级+身份证号+开始时间重复上传不会重复写入。"
    + SIGNATURE_HELP,
)
def platform_sessions(request, payload: SessionBatchIn):
    items = [item.model_dump() for item in payload.items]
    return _out(services.platform_sessions_ingest(platform=request.auth, items=items))
