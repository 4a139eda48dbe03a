"""Face photos and the two face rules of rules.md.

- FACE_MISMATCH (REVIEW, 第十九条): a check-in photo's face is farther than `tolerance` from the
  trainee's enrolment photo (the latest one with a face). No enrolment photo: not judged.
- FACE_SHARED (BLOCK, 第二十二条): two photos, of any kind, of two different persons (ID numbers) are
  within `tolerance`. Every person carrying it is reported: in the class of each of their check-in
  photos involved, and for an enrolment photo in each class the person is enrolled in.

Embeddings are dlib's 128-dimensional face descriptors (face_recognition); two photos of one person
are usually within 0.6 of each other (the library's own default tolerance), two people farther.
Distances are computed set-wise with numpy, in blocks, never pair by pair in Python.
"""

import datetime as dt
import hashlib
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from peixun.accounts.scope import restrict, scope_of
from peixun.checks.catalog import Hit
from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError
from peixun.core.identity import mask_name
from peixun.core.models import Person
from peixun.training.models import Enrollment, TrainingClass

from .models import EMBEDDING_DIM, EMBEDDING_DTYPE, FacePhoto

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Larger photos are scaled down before face detection: a phone's 12-megapixel selfie takes seconds
# at full size, and a face that fills a selfie is still far above the detector's minimum there.
DETECT_MAX_SIDE = 1600
DEFAULT_TOLERANCE = 0.6
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# At most this many photo pairs are spelled out in one finding's evidence; the rest are counted.
EVIDENCE_ITEMS = 10


class FacePhotoRejected(PeixunError):
    code = "face_photo_rejected"


# --- adding a photo ---------------------------------------------------------------------------------


def photo_type(image_bytes: bytes) -> str:
    """The type ("jpg" or "png") by the file's content (magic bytes) and size; anything else is refused."""
    if not image_bytes:
        raise FacePhotoRejected("照片文件为空，请重新选择照片")
    if len(image_bytes) > MAX_PHOTO_BYTES:
        size = len(image_bytes) / 1024 / 1024
        raise FacePhotoRejected(f"照片超过5MB（{size:.1f}MB），请压缩后上传")
    if image_bytes.startswith(JPEG_MAGIC):
        return "jpg"
    if image_bytes.startswith(PNG_MAGIC):
        return "png"
    raise FacePhotoRejected("文件不是JPEG或PNG格式的照片（按文件内容判断，与扩展名无关），请上传JPG或PNG照片")


def _decode(image_bytes: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(image_bytes)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise FacePhotoRejected("照片像素过大（超过4000万像素），请缩小后上传")
        image = Image.open(io.BytesIO(image_bytes))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FacePhotoRejected("照片文件已损坏或无法识别，请重新拍摄后上传") from exc
    # Phones store the camera's orientation in EXIF instead of rotating the pixels.
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    if max(image.size) > DETECT_MAX_SIDE:
        image.thumbnail((DETECT_MAX_SIDE, DETECT_MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def face_embedding(image: Image.Image) -> tuple[np.ndarray | None, int]:
    """The descriptor of the largest face and how many faces were found ((None, 0) for none)."""
    import face_recognition  # loads dlib's models: only when a photo is actually analysed

    pixels = np.asarray(image)
    locations = face_recognition.face_locations(pixels, number_of_times_to_upsample=1, model="hog")
    if not locations:
        return None, 0
    largest = max(locations, key=lambda box: (box[2] - box[0]) * (box[1] - box[3]))
    encodings = face_recognition.face_encodings(pixels, known_face_locations=[largest], model="large")
    if not encodings:
        return None, 0
    return np.asarray(encodings[0], dtype=EMBEDDING_DTYPE), len(locations)


def face_photo_add(
    *,
    person: Person,
    image_bytes: bytes,
    kind: str,
    actor=None,
    training_class: TrainingClass | None = None,
    taken_at: dt.datetime | None = None,
) -> FacePhoto:
    """Store a photo as evidence with its face embedding. A photo without a face is stored too
    (face_found False, `face_message` says why it cannot be compared); an invalid file is refused."""
    kind = FacePhoto.Kind(kind)
    if kind == FacePhoto.Kind.CHECKIN:
        if training_class is None:
            raise PeixunError("签到照片必须指明培训班")
        if not Enrollment.objects.filter(training_class=training_class, person=person).exists():
            raise PeixunError(f"{person.name}不在{training_class.code}班的花名册中，不能上传签到照片")
    elif training_class is not None:
        raise PeixunError("入学照片属于学员本人，不指明培训班")
    ext = photo_type(image_bytes)
    image = _decode(image_bytes)
    vector, count = face_embedding(image)
    taken_at = taken_at or timezone.now()
    photo = FacePhoto(
        person=person,
        kind=kind,
        training_class=training_class,
        taken_at=taken_at,
        sha256=hashlib.sha256(image_bytes).hexdigest(),
        embedding=vector.tobytes() if vector is not None else None,
        face_found=vector is not None,
        face_count=count,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    photo.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(image_bytes), save=False)
    try:
        with transaction.atomic():
            photo.save()
            audit_record(
                actor=actor,
                action="face_photo.added",
                obj=photo,
                object_repr=f"{person.name} {photo}",
                area=training_class.area if training_class else person.area,
                organisation=training_class.institution.organisation
                if training_class
                else getattr(actor, "organisation", None),
                after={
                    "person": str(person.public_id),
                    "kind": kind.value,
                    "class": training_class.code if training_class else None,
                    "taken_at": taken_at,
                    "sha256": photo.sha256,
                    "face_found": photo.face_found,
                    "face_count": count,
                },
            )
    except BaseException:
        photo.image.delete(save=False)  # no row, no file
        raise
    return photo


# --- who sees which photos --------------------------------------------------------------------------


def face_photos_visible(user) -> QuerySet:
    """A check-in photo through its class; an enrolment photo through any class the person is
    enrolled in; a trainee their own photos."""
    classes = restrict(TrainingClass.objects.all(), user).values("pk")
    condition = Q(kind=FacePhoto.Kind.CHECKIN, training_class__in=classes) | Q(
        kind=FacePhoto.Kind.ENROLMENT,
        person__in=Enrollment.objects.filter(training_class__in=classes).values("person_id"),
    )
    person_id = scope_of(user).person_id
    if person_id:
        condition |= Q(person_id=person_id)
    return FacePhoto.objects.filter(condition)


# --- the rules --------------------------------------------------------------------------------------


@dataclass
class _Photos:
    """Every photo with a face, as parallel arrays (row i of `vectors` is photo `ids[i]`)."""

    ids: np.ndarray
    person: np.ndarray
    is_checkin: np.ndarray
    class_id: np.ndarray  # -1 for enrolment photos
    taken_us: np.ndarray  # taken_at as microseconds since the epoch, for ordering
    taken_at: list[dt.datetime]
    vectors: np.ndarray


def _load_photos() -> _Photos | None:
    rows = list(
        FacePhoto.objects.filter(face_found=True, embedding__isnull=False)
        .order_by("id")
        .values_list("id", "person_id", "kind", "training_class_id", "taken_at", "embedding")
    )
    if not rows:
        return None
    ids, persons, kinds, classes, taken, blobs = zip(*rows, strict=True)
    vectors = np.frombuffer(b"".join(bytes(b) for b in blobs), dtype=EMBEDDING_DTYPE)
    return _Photos(
        ids=np.asarray(ids, dtype=np.int64),
        person=np.asarray(persons, dtype=np.int64),
        is_checkin=np.asarray([k == FacePhoto.Kind.CHECKIN for k in kinds], dtype=bool),
        class_id=np.asarray([c if c is not None else -1 for c in classes], dtype=np.int64),
        taken_us=np.asarray([round(t.timestamp() * 1_000_000) for t in taken], dtype=np.int64),
        taken_at=list(taken),
        vectors=vectors.reshape(len(rows), EMBEDDING_DIM).astype(np.float64),
    )


def _chunks(values, size: int = 2000):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _close_pairs(
    vectors: np.ndarray, rows: np.ndarray, person: np.ndarray, tolerance: float, *, block: int = 4096
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j, distance) with i in `rows`, any j, different persons and distance ≤ tolerance.

    Squared distances come from one matrix product per block (|a|² + |b|² − 2ab); the few
    candidates are then measured again in float64, so rounding never decides a case at the boundary.
    """
    n = len(vectors)
    # float32 products (the stored precision) with a margin; candidates are re-measured in float64
    fast = vectors.astype(np.float32)
    squares = np.einsum("ij,ij->i", fast, fast)
    limit = np.float32((tolerance + 1e-3) ** 2)
    found_i, found_j = [], []
    for start in range(0, len(rows), block):
        a = rows[start : start + block]
        for col in range(0, n, block):
            b = np.arange(col, min(col + block, n))
            d2 = squares[a][:, None] + squares[b][None, :] - 2.0 * (fast[a] @ fast[b].T)
            r, c = np.nonzero((d2 <= limit) & (person[a][:, None] != person[b][None, :]))
            found_i.append(a[r])
            found_j.append(b[c])
    i = np.concatenate(found_i) if found_i else np.empty(0, dtype=np.int64)
    j = np.concatenate(found_j) if found_j else np.empty(0, dtype=np.int64)
    distance = np.linalg.norm(vectors[i] - vectors[j], axis=1)
    keep = distance <= tolerance
    # each unordered pair once
    i, j, distance = i[keep], j[keep], distance[keep]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    _pairs, first = (
        np.unique(np.stack([lo, hi], axis=1), axis=0, return_index=True) if len(lo) else (None, [])
    )
    first = np.sort(np.asarray(first, dtype=np.int64))
    return lo[first], hi[first], distance[first]


def _mismatches(photos: _Photos, checkin_rows: np.ndarray, tolerance: float):
    """(check-in rows, reference enrolment rows, distances) of the check-in photos too far from the
    trainee's latest enrolment photo. Trainees without an enrolment photo are not judged."""
    enrol = np.nonzero(~photos.is_checkin)[0]
    rows = np.nonzero(checkin_rows)[0]
    empty = np.empty(0, dtype=np.int64)
    if not len(enrol) or not len(rows):
        return empty, empty, np.empty(0)
    # the latest enrolment photo of each person: last of each person's group after sorting
    order = enrol[np.lexsort((photos.ids[enrol], photos.taken_us[enrol], photos.person[enrol]))]
    persons = photos.person[order]
    last = np.r_[persons[1:] != persons[:-1], True]
    ref_person, ref_row = persons[last], order[last]
    at = np.searchsorted(ref_person, photos.person[rows])
    at_clipped = np.minimum(at, len(ref_person) - 1)
    judged = ref_person[at_clipped] == photos.person[rows]
    rows, refs = rows[judged], ref_row[at_clipped[judged]]
    distance = np.linalg.norm(photos.vectors[rows] - photos.vectors[refs], axis=1)
    far = distance > tolerance
    return rows[far], refs[far], distance[far]


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _join(items: list[tuple]) -> str:
    """Evidence items in order of their sort key, spelled out up to EVIDENCE_ITEMS."""
    texts = list(dict.fromkeys(text for _key, text in sorted(items)))
    shown = "；".join(texts[:EVIDENCE_ITEMS])
    if len(texts) > EVIDENCE_ITEMS:
        shown += f"；……共{len(texts)}处"
    return shown


def _enrolments(person_ids, class_ids) -> dict[int, list[int]]:
    """person id -> the classes (ids, ascending) they are enrolled in, within class_ids if given."""
    enrolled: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(person_ids):
        rows = Enrollment.objects.filter(person_id__in=chunk)
        if class_ids is not None:
            rows = rows.filter(training_class_id__in=class_ids)
        for person_id, class_id in rows.values_list("person_id", "training_class_id"):
            enrolled[person_id].append(class_id)
    return {p: sorted(cs) for p, cs in enrolled.items()}


def face_hits(*, class_ids: list[int] | None = None, tolerance: float = DEFAULT_TOLERANCE) -> list[Hit]:
    """FACE_MISMATCH and FACE_SHARED hits for the given classes (None: every class).

    With class_ids, the photos of those classes (their check-in photos and the enrolment photos of
    their trainees) are still compared against every photo in peixun, but only findings in those
    classes are returned.
    """
    photos = _load_photos()
    if photos is None:
        return []
    wanted = None if class_ids is None else sorted(set(class_ids))
    if wanted is None:
        checkin_rows = photos.is_checkin
        subject_rows = np.arange(len(photos.ids))
    else:
        trainees = Enrollment.objects.filter(training_class_id__in=wanted).values_list("person_id", flat=True)
        checkin_rows = photos.is_checkin & np.isin(photos.class_id, wanted)
        enrolment_rows = ~photos.is_checkin & np.isin(
            photos.person, np.fromiter(set(trainees), dtype=np.int64)
        )
        subject_rows = np.nonzero(checkin_rows | enrolment_rows)[0]

    mismatch = _mismatches(photos, checkin_rows, tolerance)
    pairs = _close_pairs(photos.vectors, subject_rows, photos.person, tolerance)
    if not len(mismatch[0]) and not len(pairs[0]):
        return []

    # The people and classes the evidence names, fetched once.
    rows = np.concatenate([mismatch[0], mismatch[1], pairs[0], pairs[1]])
    involved = {int(p) for p in photos.person[rows]}
    enrolment_sides = {int(p) for p in photos.person[rows[~photos.is_checkin[rows]]]}
    enrolled = _enrolments(enrolment_sides, wanted)
    people = {}
    for chunk in _chunks(involved):
        for pid, hmac, masked, name in Person.objects.filter(pk__in=chunk).values_list(
            "pk", "id_hmac", "id_masked", "name"
        ):
            people[pid] = (hmac, masked, name)
    class_ids_named = {int(c) for c in photos.class_id[rows] if c >= 0}
    class_ids_named |= {c for cs in enrolled.values() for c in cs}
    class_codes = {}
    for chunk in _chunks(class_ids_named):
        class_codes.update(TrainingClass.objects.filter(pk__in=chunk).values_list("pk", "code"))

    def describe(row: int, own: bool) -> str:
        whose = "本人" if own else ""
        number = int(photos.ids[row])
        if photos.is_checkin[row]:
            code = class_codes.get(int(photos.class_id[row]), "")
            return f"{whose}签到照片（{_local(photos.taken_at[row])}，{code}班，编号{number}）"
        return f"{whose}入学照片（{_local(photos.taken_at[row])}，编号{number}）"

    # (rule, class id, person id) -> [(sort key, text)]
    evidence: dict[tuple[str, int, int], list[tuple]] = defaultdict(list)
    for row, ref, distance in zip(*mismatch, strict=True):
        key = ("FACE_MISMATCH", int(photos.class_id[row]), int(photos.person[row]))
        text = f"{describe(row, False)}与{describe(ref, True)}人脸不符，距离{distance:.2f}（阈值{tolerance:.2f}）"
        evidence[key].append(((int(photos.taken_us[row]), int(photos.ids[row])), text))

    wanted_set = None if wanted is None else set(wanted)
    for i, j, distance in zip(*pairs, strict=True):
        for own, other in ((i, j), (j, i)):
            person_id = int(photos.person[own])
            if photos.is_checkin[own]:
                classes = [int(photos.class_id[own])]
            else:
                classes = enrolled.get(person_id, [])
            if wanted_set is not None:
                classes = [c for c in classes if c in wanted_set]
            _hmac, masked, name = people[int(photos.person[other])]
            text = (
                f"{describe(own, True)}与另一身份证号{masked}（{mask_name(name)}）的"
                f"{describe(other, False)}为同一人脸，距离{distance:.2f}（阈值{tolerance:.2f}）"
            )
            sort_key = (int(photos.taken_us[own]), int(photos.ids[own]), int(photos.ids[other]))
            for class_id in classes:
                evidence[("FACE_SHARED", class_id, person_id)].append((sort_key, text))

    return sorted(
        Hit(rule, class_codes[class_id], people[person_id][0], _join(items))
        for (rule, class_id, person_id), items in evidence.items()
    )
