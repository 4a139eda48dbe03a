"""Chain the rows that existed before the chain (none in production yet), per class in id order."""

from django.db import migrations

from peixun.attendance import chain


def forwards(apps, schema_editor):
    ChainHead = apps.get_model("attendance", "ChainHead")
    for kind, name in ((chain.ATTENDANCE, "AttendanceRecord"), (chain.ONLINE, "OnlineSession")):
        model = apps.get_model("attendance", name)
        class_ids = model.objects.order_by().values_list("training_class_id", flat=True).distinct()
        for class_id in list(class_ids):
            rows = list(model.objects.filter(training_class_id=class_id).order_by("id"))
            last_seq, last_hash = chain.seal(kind, rows, last_seq=0, last_hash=chain.GENESIS)
            model.objects.bulk_update(rows, ["seq", "prev_hash", "hash"], batch_size=1000)
            ChainHead.objects.create(training_class_id=class_id, kind=kind, last_seq=last_seq, last_hash=last_hash)


class Migration(migrations.Migration):
    dependencies = [("attendance", "0003_chain")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
