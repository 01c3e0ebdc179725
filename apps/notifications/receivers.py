"""Keep the cached unread counts honest when a notification is saved one by one; tell
volunteers about their awards and the city about objections."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.awards.models import Award, Objection

from . import reminders
from .models import Notification
from .services import forget_unread_counts


@receiver(post_save, sender=Notification, dispatch_uid="notifications.forget_unread_count")
def forget_unread_count(sender, instance, **kwargs):
    forget_unread_counts([instance.user_id])


# Awards (layer 7) tell nobody; notifications listen to their rows being created.


@receiver(post_save, sender=Award, dispatch_uid="notifications.award_granted")
def award_granted(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        reminders.notify_award_granted(instance)


@receiver(post_save, sender=Objection, dispatch_uid="notifications.objection_raised")
def objection_raised(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        reminders.notify_objection_raised(instance)
