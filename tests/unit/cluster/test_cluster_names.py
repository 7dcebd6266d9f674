"""Names: the library refuses exactly what the API server would refuse, before asking it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.errors import InvalidInput, InvalidName
from cluster.names import VolumeSpec, dns_label, dns_subdomain, mount_path, size
from testing.kube.admission import DNS1123_LABEL, DNS1123_SUBDOMAIN

NAMEISH = st.text(alphabet="abcxyz019-.A_ /", max_size=70)


def accepted(check, value) -> bool:
    try:
        check(value)
    except InvalidName:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(NAMEISH)
def test_labels_agree_with_the_api_server(value):
    assert accepted(dns_label, value) == (len(value) <= 63 and bool(DNS1123_LABEL.match(value)))


@settings(max_examples=300, deadline=None)
@given(NAMEISH)
def test_subdomains_agree_with_the_api_server(value):
    assert accepted(dns_subdomain, value) == (len(value) <= 253 and bool(DNS1123_SUBDOMAIN.match(value)))


@pytest.mark.parametrize("text", ["data:/mnt", "usr-data:/usr", "a.b:/var/lib/app"])
def test_volume_specs(text):
    spec = VolumeSpec.parse(text)
    assert f"{spec.claim}:{spec.path}" == text and dns_label(spec.volume_name)


@pytest.mark.parametrize("text", ["data", "data:", "data:relative", "Data:/mnt", "data:/", "data:/a/../b"])
def test_bad_volume_specs(text):
    with pytest.raises((InvalidName, InvalidInput)):
        VolumeSpec.parse(text)


def test_sizes_and_paths():
    assert size("10Gi") == "10Gi" and size("1024") == "1024" and mount_path("/mnt") == "/mnt"
    for bad in ("0Gi", "10GB", "ten", "-1Gi"):
        with pytest.raises(InvalidInput):
            size(bad)
