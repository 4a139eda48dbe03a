from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "peixun.inbox"
    label = "inbox"
    verbose_name = "消息通知"
