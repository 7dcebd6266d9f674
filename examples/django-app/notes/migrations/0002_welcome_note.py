from django.db import migrations


def welcome(apps, schema_editor):
    Note = apps.get_model("notes", "Note")
    Note.objects.create(title="Welcome", body="Written by a data migration when the database was created.")


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [migrations.RunPython(welcome, migrations.RunPython.noop)]
