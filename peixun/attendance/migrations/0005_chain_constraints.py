from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("attendance", "0004_chain_existing")]

    operations = [
        migrations.AddConstraint(
            model_name="attendancerecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(("corrects__isnull", True)),
                fields=("training_class", "person", "check_in"),
                name="uniq_attendance",
            ),
        ),
        migrations.AddConstraint(
            model_name="attendancerecord",
            constraint=models.UniqueConstraint(fields=("training_class", "seq"), name="uniq_attendance_seq"),
        ),
        migrations.AddConstraint(
            model_name="onlinesession",
            constraint=models.UniqueConstraint(
                condition=models.Q(("corrects__isnull", True)),
                fields=("training_class", "person", "start_at"),
                name="uniq_online_session",
            ),
        ),
        migrations.AddConstraint(
            model_name="onlinesession",
            constraint=models.UniqueConstraint(fields=("training_class", "seq"), name="uniq_online_session_seq"),
        ),
    ]
