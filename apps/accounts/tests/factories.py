import random

import factory

from apps.accounts.demo import demo_id_number
from apps.accounts.models import User

_rng = random.Random(11643)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:04d}")
    real_name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"1380{n:07d}")
    id_number = factory.LazyFunction(lambda: demo_id_number(_rng, female=_rng.random() < 0.5))
    password = factory.django.Password("secret-pass-123")
