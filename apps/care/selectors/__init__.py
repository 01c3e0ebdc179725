"""Reads with rules: households, pairings and visits (``recipients``); requests (``requests``)."""

from .recipients import *  # noqa: F403
from .requests import *  # noqa: F403
