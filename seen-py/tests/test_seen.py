"""The seen Python module against the installed wheel, on real files."""

import _thread
import datetime as dt
import threading
from pathlib import Path

import pytest
from PIL import Image

import seen

from conftest import jpeg


def test_version_and_exceptions():
    assert seen.__version__ and seen.__version__[0].isdigit()
    for name in ["NotFoundError", "InvalidInputError", "ConflictError", "ReadOnlyError",
                 "UnsupportedError", "StorageError", "DatabaseError", "MediaError",
                 "ModelError", "CancelledError", "InternalError"]:
        assert issubclass(getattr(seen, name), seen.SeenError)
    assert issubclass(seen.SeenError, Exception)


def test_scan_assets_search_and_images(photos: Path, data_dir: Path, capsys):
    with seen.Library(str(data_dir)) as lib:
        record = lib.add_path(str(photos))
        assert record["path"] == str(photos.resolve())
        handle = lib.scan(str(photos), wait=True, progress=True)
        assert handle.done
        stats = lib.stats()
        assert stats["db"]["assets"] == 4
        for key in ["uptime_seconds", "queues", "processed", "processing", "scan_running"]:
            assert key in stats

        assets = lib.assets(limit=10, sort="filename", order="asc")
        assert isinstance(assets, seen.AssetList)
        assert [a.filename for a in assets] == ["beach.jpg", "clip.mp4", "green.png", "party.jpg"]
        beach = assets[0]
        assert beach.camera_make == "Canon" and beach.camera_model == "Canon EOS R5"
        assert (beach.width, beach.height) == (640, 480)
        assert beach.mime == "image/jpeg" and beach.kind == "image"
        assert len(beach.sha256) == 64
        assert beach.date_taken is None  # no DateTimeOriginal: never the mtime in disguise
        assert beach.mtime.tzinfo is not None and beach.mtime.utcoffset() == dt.timedelta(0)
        assert beach == lib.asset(beach.id) and hash(beach) == beach.id
        assert beach.to_dict()["filename"] == "beach.jpg"
        clip = assets[1]
        assert clip.kind == "video" and clip.duration_ms >= 900

        thumb = beach.thumbnail()
        assert thumb[:4] == b"RIFF" and thumb[8:12] == b"WEBP"
        assert lib.thumbnail(beach.id) == thumb
        img = beach.image()
        assert isinstance(img, Image.Image) and img.size == (256, 192)
        assert beach.image(preview=True).size == (640, 480)
        assert 'data:image/webp;base64,' in beach._repr_html_()
        grid = assets._repr_html_()
        assert grid.count("<img") == 4 and "beach.jpg" in grid

        hits = lib.search("PARTY")
        assert [a.filename for a in hits] == ["party.jpg"]
        assert [a.filename for a in lib.search("*.png")] == ["green.png"]
        assert [a.filename for a in lib.search("2023", camera_make="nikon corporation")] == ["party.jpg"]
        assert lib.search("2023", date_from=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)) == []

        lib.set_rotation(beach.id, 90)
        assert lib.asset(beach.id).image().size == (192, 256)
        assert lib.duplicates() == []
        assert lib.path_status(str(photos)) == {"scanning": False, "watcher_paused": False, "watching": True}
        lib.pause(str(photos))
        assert lib.path_status(str(photos))["watcher_paused"] is True
        lib.resume(str(photos))
        lib.delete_asset(beach.id)
        with pytest.raises(seen.NotFoundError):
            lib.asset(beach.id)
    assert lib.closed
    with pytest.raises(seen.SeenError, match="closed"):
        lib.stats()
    lib.close()  # twice is fine


def test_errors_map_to_exceptions(photos: Path, data_dir: Path):
    lib = seen.Library(data_dir)
    try:
        with pytest.raises(seen.NotFoundError):
            lib.asset(424242)
        with pytest.raises(seen.InvalidInputError):
            lib.assets(sort="colour")
        with pytest.raises(seen.InvalidInputError):
            lib.assets(limit=0)
        with pytest.raises(seen.InvalidInputError):
            lib.add_path("/no/such/folder")
        with pytest.raises(seen.NotFoundError):
            lib.scan("/not/registered")
        with pytest.raises(seen.InvalidInputError):
            lib.search("   ")
        with pytest.raises(seen.InvalidInputError):
            lib.set_rotation(1, 45)
        lib.add_path(photos)
        handle = lib.scan(str(photos), wait=False)
        if not handle.done:
            with pytest.raises(seen.ConflictError):
                lib.scan(str(photos), wait=False)
        assert handle.wait()
    finally:
        lib.close()
    with pytest.raises(seen.InvalidInputError):
        seen.Library(data_dir, database_url="mysql://nope")


def test_plain_progress_without_tqdm(photos: Path, data_dir: Path, monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    with seen.Library(data_dir) as lib:
        lib.add_path(photos)
        lib.scan(str(photos), progress=True)
    assert "scanning:" in capsys.readouterr().err


def test_ctrl_c_stops_the_wait_not_the_scan(tmp_path: Path, data_dir: Path):
    big = tmp_path / "big"
    for i in range(40):
        jpeg(big / f"{i:03}.jpg", size=(2400, 1800), color=(i * 5 % 255, 80, 160))
    with seen.Library(data_dir) as lib:
        lib.add_path(big)
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            lib.scan(str(big), wait=True)
        timer.cancel()
        # The scan went on in the background and finishes.
        status = lib.path_status(str(big))
        handle = None
        if status["scanning"]:
            with pytest.raises(seen.ConflictError):
                lib.scan(str(big), wait=False)
        while lib.path_status(str(big))["scanning"]:
            threading.Event().wait(0.1)
        assert lib.stats()["db"]["assets"] == 40
        assert handle is None


def test_gil_is_released_during_long_calls(photos: Path, data_dir: Path):
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            stop.wait(0.005)

    t = threading.Thread(target=ticker)
    with seen.Library(data_dir) as lib:
        lib.add_path(photos)
        t.start()
        lib.scan(str(photos), wait=True)
        stop.set()
        t.join()
    assert ticks > 3


def test_example_script_runs(photos: Path, tmp_path: Path):
    import runpy, sys
    example = Path(__file__).resolve().parents[2] / "examples" / "python" / "example.py"
    out = tmp_path / "thumb.webp"
    argv = sys.argv
    sys.argv = [str(example), str(tmp_path / "example-data"), str(photos), "beach", str(out)]
    try:
        runpy.run_path(str(example), run_name="__main__")
    finally:
        sys.argv = argv
    assert out.read_bytes()[:4] == b"RIFF"
