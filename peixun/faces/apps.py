from django.apps import AppConfig


class FacesConfig(AppConfig):
    name = "peixun.faces"
    label = "faces"
    verbose_name = "人脸核验"

    def ready(self) -> None:
        from peixun.checks.run import register_hit_source

        from .services import face_hits

        # FACE_MISMATCH and FACE_SHARED are stored by every check run, interactive and province-wide.
        register_hit_source(face_hits)
