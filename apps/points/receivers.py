"""Points follow the review of service records: approval posts, reopening or revoking reverses."""

from . import services


def post_on_approval(sender, *, record, actor=None, **kwargs):
    services.points_post_for_record(record=record, actor=actor)


def reverse_on_unapproval(sender, *, record, actor=None, reason="", **kwargs):
    services.points_reverse_for_record(record=record, actor=actor, reason=reason)
