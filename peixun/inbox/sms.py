"""短信: a pluggable sender. Production plugs in the operator's gateway by naming a class in
`PEIXUN_SMS_SENDER`; the default writes each message to the log, which is what a government intranet
without a gateway can do."""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from peixun.core.identity import mask_phone

logger = logging.getLogger("peixun.sms")


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsSender:
    """Writes the message to the `peixun.sms` log with the number masked (the log is not a place
    for personal data)."""

    def send(self, phone: str, text: str) -> None:
        logger.info("短信 %s：%s", mask_phone(phone), text)


def sms_sender() -> SmsSender:
    return import_string(getattr(settings, "PEIXUN_SMS_SENDER", "peixun.inbox.sms.LoggingSmsSender"))()
