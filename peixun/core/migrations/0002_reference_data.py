from django.db import migrations


def forwards(apps, schema_editor):
    from peixun.core.reference import ensure_rule_settings, load_areas, seed_calendar_days

    load_areas(apps.get_model("core", "Area"))
    ensure_rule_settings(apps.get_model("core", "RuleSettings"))
    seed_calendar_days(apps.get_model("core", "CalendarYear"), apps.get_model("core", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
