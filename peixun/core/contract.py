"""The data contract (../shared/contract.md) in one place: the files other systems hand to peixun
and take from it, and their columns. Importers, the generator and the exports all read these;
changing one is changing a public interface (add columns only as optional ones)."""

PACKAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "institutions.csv": (
        "institution_code",
        "name",
        "type",
        "area_code",
        "address",
        "licensed_occupations",
        "listed",
    ),
    "teachers.csv": ("id_number", "name", "institution_code", "qualification"),
    "classes.csv": (
        "class_code",
        "institution_code",
        "area_code",
        "occupation_code",
        "occupation_name",
        "level",
        "training_type",
        "start_date",
        "end_date",
        "total_hours",
        "online_hours",
        "site_address",
        "site_lat",
        "site_lon",
    ),
    "lessons.csv": ("class_code", "date", "start_time", "end_time", "hours", "mode", "teacher_id_number"),
    "enrollments.csv": ("class_code", "id_number", "name", "phone", "category"),
    "attendance.csv": (
        "class_code",
        "id_number",
        "check_in",
        "check_out",
        "method",
        "photo_sha256",
        "lat",
        "lon",
    ),
    "online_sessions.csv": (
        "class_code",
        "id_number",
        "platform_code",
        "start_at",
        "end_at",
        "ip",
        "face_checks_passed",
        "face_checks_failed",
    ),
    "exams.csv": (
        "class_code",
        "id_number",
        "exam_date",
        "score",
        "passed",
        "certificate_type",
        "certificate_no",
    ),
}

REGISTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "death": ("id_number", "name", "death_date"),
    "public_payroll": ("id_number", "name", "unit_name", "start_date", "end_date"),
    "business_license": ("id_number", "name", "uscc", "business_name", "established_date", "revoked_date"),
    "hospitalization": ("id_number", "name", "hospital", "admit_date", "discharge_date"),
    "social_insurance": ("id_number", "name", "employer_uscc", "employer_name", "start_month", "end_month"),
    "employment_filing": ("id_number", "name", "employer_uscc", "start_date", "end_date"),
    "unemployment_registration": ("id_number", "name", "registered_date", "end_date"),
    "skill_certificate": ("id_number", "name", "occupation_code", "level", "certificate_no", "issue_date"),
}

HISTORY_COLUMNS: tuple[str, ...] = (
    "id_number",
    "name",
    "occupation_code",
    "level",
    "training_type",
    "completed_on",
    "institution_code",
    "subsidy_amount",
)

FINDINGS_COLUMNS: tuple[str, ...] = (
    "rule_code",
    "severity",
    "class_code",
    "id_number",
    "status",
    "evidence",
    "article",
    "rules_version",
)
