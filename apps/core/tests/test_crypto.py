import pytest

from apps.core import crypto


@pytest.mark.parametrize(
    ("value", "start", "end", "masked"),
    [
        ("420106199001011234", 4, 4, "4201**********1234"),
        ("张三丰", 1, 0, "张**"),
        ("王五", 0, 0, "**"),
        ("123", 4, 4, "***"),
        ("", 4, 4, ""),
    ],
)
def test_mask_never_shows_more_than_asked(value, start, end, masked):
    assert crypto.mask(value, keep_start=start, keep_end=end) == masked


def test_encryption_round_trip_and_blind_index_is_stable(settings):
    token = crypto.encrypt("社区矫正中")
    assert "社区矫正中" not in token
    assert crypto.decrypt(token) == "社区矫正中"
    assert crypto.blind_index("13900001111") == crypto.blind_index("13900001111")
    assert crypto.blind_index("13900001111") != crypto.blind_index("13900001112")
