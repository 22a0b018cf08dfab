"""Real media for the tests: JPEGs with EXIF made by Pillow, videos by ffmpeg."""

import subprocess
from pathlib import Path

import pytest
from PIL import Image


def jpeg(path: Path, size=(640, 480), color=(200, 60, 40), exif: dict | None = None,
         exif_ifd: dict | None = None) -> Path:
    """A JPEG with `exif` tags in IFD0 and `exif_ifd` tags in the EXIF sub-IFD."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    # a bright corner so orientation is visible
    img.paste((255, 255, 255), (0, 0, size[0] // 8, size[1] // 8))
    ex = Image.Exif()
    for tag, value in (exif or {}).items():
        ex[tag] = value
    if exif_ifd:
        sub = ex.get_ifd(0x8769)
        sub.update(exif_ifd)
    img.save(path, "JPEG", quality=90, exif=ex.tobytes() if (exif or exif_ifd) else b"")
    return path


def big_photos(root: Path, n: int) -> Path:
    """`n` 2400×1800 JPEGs: enough work that a scan is still running when
    a test interrupts or pauses it."""
    for i in range(n):
        jpeg(root / f"{i:03}.jpg", size=(2400, 1800), color=(i * 5 % 255, 80, 160))
    return root


@pytest.fixture()
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    # 0x010F Make, 0x0110 Model; in the EXIF sub-IFD 0x9003 DateTimeOriginal
    # and 0x9011 OffsetTimeOriginal.
    jpeg(root / "beach.jpg", exif={0x010F: "Canon", 0x0110: "Canon EOS R5"},
         exif_ifd={0x9003: "2023:01:05 10:00:00", 0x9011: "+02:00"})
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
