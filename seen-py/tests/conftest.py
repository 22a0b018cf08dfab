"""Real media for the tests: JPEGs with EXIF made by Pillow, videos by ffmpeg."""

import subprocess
from pathlib import Path

import pytest
from PIL import Image


def jpeg(path: Path, size=(640, 480), color=(200, 60, 40), exif: dict | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    # a bright corner so orientation is visible
    img.paste((255, 255, 255), (0, 0, size[0] // 8, size[1] // 8))
    ex = Image.Exif()
    for tag, value in (exif or {}).items():
        ex[tag] = value
    img.save(path, "JPEG", quality=90, exif=ex.tobytes() if exif else b"")
    return path


@pytest.fixture()
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    # 0x010F Make, 0x0110 Model, 0x0132 DateTime (EXIF IFD tags need the sub-IFD; see below)
    jpeg(root / "beach.jpg", exif={0x010F: "Canon", 0x0110: "Canon EOS R5"})
    jpeg(root / "2023" / "party.jpg", size=(800, 600), color=(20, 120, 220), exif={0x010F: "NIKON CORPORATION", 0x0110: "NIKON Z 6"})
    img = Image.new("RGB", (300, 200), (10, 200, 10))
    img.save(root / "2023" / "green.png")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:duration=1",
         "-f", "lavfi", "-i", "sine=duration=1", "-pix_fmt", "yuv420p", str(root / "clip.mp4")],
        check=True,
    )
    return root


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
