from django.db import migrations


def forwards(apps, schema_editor):
    from peixun.catalog.reference import load_occupations

    load_occupations(apps.get_model("catalog", "Occupation"))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
