"""The abstract base of every peixun model."""

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language

# (field, language) → {value: translated label}; choices are static classes (TextChoices), so a
# field's labels in one language never change while the process runs.
_LABELS: dict[tuple, dict] = {}


class BaseModel(models.Model):
    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        """`get_<field>_display()`, with each field's labels translated once per language.

        Django builds a dict of the field's choices at every call, and building it hashes each
        lazy label, which translates it. A list of 50 classes showing a status and a level
        translated about 1,000 labels per page. The answer is the same: the label of the value in
        the active language, or the value itself when it is not one of the choices."""
        key = (field, get_language())
        labels = _LABELS.get(key)
        if labels is None:
            labels = {make_hashable(value): force_str(label) for value, label in field.flatchoices}
            _LABELS[key] = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)
