"""SMS backends: an interface, a logging backend for development, a provider by setting."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class BaseSmsBackend:
    def send(self, phone: str, text: str) -> None:
        """Send one message; raise an exception when the provider refuses it."""
        raise NotImplementedError


class LoggingSmsBackend(BaseSmsBackend):
    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone[:3] + "****" + phone[-4:], text)


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
