"""Append-only, hash-chained attendance and online sessions (第二十条): the new columns and the
per-class chain heads. 0004 chains the existing rows, 0005 adds the constraints."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SOURCES = [
    ("DEVICE", "考勤设备"),
    ("IMPORT", "数据包导入"),
    ("MANUAL", "手工补录"),
    ("SELF", "学员自助签到"),
    ("PLATFORM", "线上平台推送"),
]


def chained_fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name,
            name="seq",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="序号"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name=model_name,
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="前序哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name=model_name,
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name=model_name,
            name="source",
            field=models.CharField(choices=SOURCES, default="IMPORT", max_length=8, verbose_name="来源"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="device_code",
            field=models.CharField(blank=True, max_length=64, verbose_name="设备编码"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="corrects",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="corrections",
                to=f"attendance.{model_name}",
                verbose_name="更正的记录",
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="原因"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="录入人",
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="recorded_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="记录时间"),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0002_initial"),
        ("training", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="attendancerecord", name="uniq_attendance"),
        migrations.RemoveConstraint(model_name="onlinesession", name="uniq_online_session"),
        *chained_fields("attendancerecord"),
        *chained_fields("onlinesession"),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("ATTENDANCE", "考勤记录"), ("ONLINE", "线上学习记录")], max_length=12
                    ),
                ),
                ("last_seq", models.PositiveIntegerField(default=0)),
                ("last_hash", models.CharField(default="0" * 64, max_length=64)),
                (
                    "training_class",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="training.trainingclass"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("training_class", "kind"), name="uniq_chain_head")
                ]
            },
        ),
    ]
