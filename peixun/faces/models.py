import numpy as np
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.base import BaseModel
from peixun.core.models import Person
from peixun.core.scoping import ScopePaths
from peixun.training.models import TrainingClass

EMBEDDING_DIM = 128
# 128 little-endian float32 (512 bytes): plenty for distances compared at two decimals.
EMBEDDING_DTYPE = np.dtype("<f4")


def _upload_to(photo: "FacePhoto", filename: str) -> str:
    # The name carries no personal data: kind, month and a random name (set by the service).
    return f"faces/{photo.kind.lower()}/{photo.taken_at:%Y/%m}/{filename}"


class FacePhoto(BaseModel):
    """一张人脸照片: a trainee's enrolment photo (入学照片, the reference) or a check-in photo (签到照片)
    taken in a class. Kept as archive evidence, never edited; the face embedding is computed once.

    Visibility is by kind (see faces.services.face_photos_visible): a check-in photo through its class,
    an enrolment photo through the classes the person is enrolled in. `restrict()` alone would not
    know that difference, so the declared paths let only the trainee see their own photos.
    """

    class Kind(models.TextChoices):
        ENROLMENT = "ENROLMENT", _("入学照片")
        CHECKIN = "CHECKIN", _("签到照片")

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="face_photos"
    )
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="face_photos",
        help_text=_("签到照片所属的班级；入学照片属于学员本人，不属于某个班级"),
    )
    taken_at = models.DateTimeField(_("拍摄时间"), db_index=True)
    image = models.FileField(_("照片"), upload_to=_upload_to)
    sha256 = models.CharField(_("照片哈希"), max_length=64, db_index=True)
    embedding = models.BinaryField(_("人脸特征"), null=True, blank=True, editable=False)
    face_found = models.BooleanField(_("检测到人脸"))
    face_count = models.PositiveSmallIntegerField(_("人脸数"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    scope_paths = ScopePaths(person="person")

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["person", "kind", "taken_at"], name="facephoto_person_kind")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="ENROLMENT", training_class__isnull=True)
                | models.Q(kind="CHECKIN", training_class__isnull=False),
                name="facephoto_class_by_kind",
            )
        ]
        verbose_name = _("人脸照片")
        verbose_name_plural = _("人脸照片")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def vector(self) -> np.ndarray | None:
        if self.embedding is None:
            return None
        return np.frombuffer(bytes(self.embedding), dtype=EMBEDDING_DTYPE)

    @property
    def face_message(self) -> str:
        """What the uploader and the reviewer are told about the face in this photo ("" when fine)."""
        if not self.face_found:
            return (
                "照片中未检测到人脸：照片已存档，但不能用于人脸比对。"
                "请上传本人正面、免冠、光线充足、无遮挡的清晰照片。"
            )
        if self.face_count > 1:
            return f"照片中检测到{self.face_count}张人脸，已按面积最大的一张比对；照片中应只有学员本人。"
        return ""
