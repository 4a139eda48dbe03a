"""The authentication backend: Django's, reading the signed-in user with what every page needs."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ModelBackendWithOrganisation(ModelBackend):
    """Django's ModelBackend (passwords, active flag, permissions). The user of each request is
    read together with their organisation and its area. Every page computes the user's scope
    (accounts.scope) from those two, which were two more queries per request."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("organisation__area").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
