from django.contrib.auth.backends import BaseBackend

from .scoping import get_user_scope


class CityAdministratorBackend(BaseBackend):
    """The city's administrators hold every model permission, like superusers do.

    They run the programme city-wide, including the admin pages of the libraries we use (sign-in
    lock-outs, task schedules). Everyone else's reach is decided by the scoping rules instead.
    """

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and get_user_scope(user_obj).is_city_admin

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and get_user_scope(user_obj).is_city_admin
