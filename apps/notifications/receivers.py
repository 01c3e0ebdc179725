"""Keep the cached unread counts honest when a notification is saved one by one."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Notification
from .services import forget_unread_counts


@receiver(post_save, sender=Notification, dispatch_uid="notifications.forget_unread_count")
def forget_unread_count(sender, instance, **kwargs):
    forget_unread_counts([instance.user_id])
