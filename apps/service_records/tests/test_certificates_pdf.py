"""The printed certificate: Chinese text that poppler can read back, the CJK font embedded, the
QR code and the seal slot; only issued certificates print."""

import io
import shutil
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.service_records import certificates as services
from apps.service_records.certificate_pdf import certificate_html, render_certificate_pdf
from apps.service_records.tests.certificate_fixtures import ISSUE_DAY, cworld  # noqa: F401
from conftest import zh

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils"),
]
VERIFY_URL = "https://zyfw.example.gov.cn/portal/certificates/verify/abc/"


@pytest.fixture
def issued(cworld):  # noqa: F811
    return services.certificate_issue(
        actor=cworld.cast.branch_secretary, certificate=cworld.requested, today=ISSUE_DAY
    )


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def pdf_fonts(pdf: bytes) -> str:
    return subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def pdf_pages(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    line = next(x for x in info.stdout.decode().splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def test_the_pdf_carries_the_149_fields_in_chinese(issued):
    pdf = render_certificate_pdf(issued, verify_url=VERIFY_URL)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf).replace(" ", "")
    assert "志愿服务证明" in text
    assert "王秀英" in text
    assert issued.number in text
    assert issued.id_number_masked in text
    assert "居民身份证" in text
    assert issued.volunteer_number in text
    assert "4.0小时" in text
    assert "桂园社区党支部" in text
    assert "陈志强" in text  # person in charge and handler
    assert "2025-04-01" in text
    assert "盖章处" in text  # no seal image: the empty slot
    assert pdf_pages(pdf) == 1


def test_the_chinese_font_is_embedded(issued):
    fonts = pdf_fonts(render_certificate_pdf(issued, verify_url=VERIFY_URL))
    cjk = [
        line for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line or "NotoSansCJK" in line
    ]
    assert cjk, fonts
    # columns: name type encoding emb sub uni …
    assert all(line.split()[-5] == "yes" for line in cjk), fonts


def test_the_qr_code_points_at_the_verification_page(issued):
    html = certificate_html(issued, verify_url=VERIFY_URL)
    assert 'src="data:image/svg+xml' in html
    assert VERIFY_URL in html


def test_the_seal_image_takes_the_slot(issued, cworld):  # noqa: F811
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (200, 0, 0, 180)).save(buffer, format="PNG")
    cworld.profile.seal_image = SimpleUploadedFile("seal.png", buffer.getvalue(), "image/png")
    cworld.profile.save()
    html = certificate_html(issued, verify_url=VERIFY_URL)
    assert "data:image/png;base64," in html
    assert zh("Seal here") not in html
    assert "盖章处" not in pdf_text(render_certificate_pdf(issued, verify_url=VERIFY_URL))


@pytest.mark.parametrize("name", ["requested", "rejected", "revoked"])
def test_only_issued_certificates_print(cworld, name):  # noqa: F811
    with pytest.raises(ValidationError) as caught:
        render_certificate_pdf(getattr(cworld, name), verify_url=VERIFY_URL)
    assert caught.value.messages == [zh("Only an issued certificate can be printed.")]
