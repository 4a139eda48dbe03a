"""Indexes the set-wise checks (checks/sql.py) need on other apps' tables.

They live here, with the queries that need them, as plain CREATE INDEX IF NOT EXISTS (same text on
SQLite and PostgreSQL). The numbering follows the brief that asked for it; it depends on the
latest checks migration so the graph stays linear.
"""

from django.db import migrations

INDEXES = (
    # TEACHER_DOUBLE_BOOKED: a teacher's lessons by date
    ("checks_sql_lesson_teacher_date", "training_lesson", '(teacher_id, "date")'),
    # INSTITUTION_NOT_LISTED: the latest listing on or before a date
    ("checks_sql_listing_inst_date", "institutions_institutionlisting", "(institution_id, effective_date)"),
    # BATCH_CHECKIN and the per-class attendance scans
    ("checks_sql_att_class_checkin", "attendance_attendancerecord", "(training_class_id, check_in)"),
)


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0003_findingevent"),
        ("training", "0001_initial"),
        ("institutions", "0001_initial"),
        ("attendance", "0002_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
