"""The seen Python module against the installed wheel, on real files."""

import _thread
import datetime as dt
import threading
from pathlib import Path

import pytest
from PIL import Image

import seen

from conftest import big_photos


def test_the_installed_wheel_carries_types():
    from importlib import resources
    here = Path(seen.__file__).resolve()
    assert "site-packages" in here.parts, f"testing the sources, not the wheel: {here}"
    files = {p.name for p in resources.files("seen").iterdir()}
    assert {"py.typed", "_seen.pyi", "__init__.py"} <= files, files


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
        # DateTimeOriginal 10:00 at +02:00 is 08:00 UTC, as an aware datetime.
        assert beach.date_taken == dt.datetime(2023, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
        assert beach.date_taken.utcoffset() == dt.timedelta(0)
        assert assets[3].date_taken is None  # no DateTimeOriginal: never the mtime in disguise
        # Date filters; a naive datetime is UTC, like date_taken.
        assert [a.filename for a in lib.search("jpg", date_from=dt.datetime(2023, 1, 5, 7))] == ["beach.jpg"]
        assert lib.search("jpg", date_from=dt.datetime(2023, 1, 5, 9)) == []
        aware = dt.datetime(2023, 1, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        assert [a.filename for a in lib.search("jpg", date_from=aware)] == ["beach.jpg"]
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
        assert lib.problem_assets() == []
        # A truncated JPEG is indexed with its reason and listed as a problem.
        good = (photos / "beach.jpg").read_bytes()
        (photos / "cut.jpg").write_bytes(good[: len(good) // 3])
        assert lib.scan(str(photos)).wait()
        problems = lib.problem_assets()
        assert [a.filename for a in problems] == ["cut.jpg"]
        assert problems[0].error
        with pytest.raises(seen.InvalidInputError):
            lib.problem_assets(limit=0)
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
    big = big_photos(tmp_path / "big", 40)
    with seen.Library(data_dir) as lib:
        lib.add_path(big)
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            lib.scan(str(big), wait=True)
        timer.cancel()
        # The scan went on in the background and finishes.
        if lib.path_status(str(big))["scanning"]:
            with pytest.raises(seen.ConflictError):
                lib.scan(str(big), wait=False)
        while lib.path_status(str(big))["scanning"]:
            threading.Event().wait(0.1)
        assert lib.stats()["db"]["assets"] == 40


def test_a_paused_scan_is_reported_as_cancelled(tmp_path: Path, data_dir: Path):
    big = big_photos(tmp_path / "big", 30)
    with seen.Library(data_dir) as lib:
        lib.add_path(big)
        handle = lib.scan(str(big), wait=False)
        lib.pause(str(big))
        with pytest.raises(seen.CancelledError, match="stopped before the end"):
            handle.wait()
        lib.resume(str(big))


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


def test_example_notebook_runs(photos: Path, tmp_path: Path, monkeypatch):
    """examples/python/example.ipynb, executed cell by cell in a real kernel."""
    import nbformat
    from nbclient import NotebookClient

    notebook = Path(__file__).resolve().parents[2] / "examples" / "python" / "example.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    monkeypatch.setenv("SEEN_NOTEBOOK_DATA", str(tmp_path / "nb-data"))
    monkeypatch.setenv("SEEN_NOTEBOOK_PHOTOS", str(photos))
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    # The asset grid and the search hits render as thumbnails.
    assert any(h.count("<img") == 4 for h in html), html
    assert any("beach.jpg" in h and h.count("<img") == 1 for h in html), html
    images = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the preview cell shows a picture"


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


def test_faces_and_persons(tmp_path: Path, data_dir: Path):
    import os
    import shutil

    models = os.environ.get("SEEN_TEST_MODELS_DIR")
    if not models:
        pytest.skip("SEEN_TEST_MODELS_DIR is not set (the test script sets it)")
    photos = tmp_path / "people"
    photos.mkdir()
    for name in ["yaoming.jpg", "gdp.jpg", "players.jpg"]:
        shutil.copy(Path(models) / name, photos / name)
    Image.open(photos / "yaoming.jpg").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photos / "yao2.jpg")
    with seen.Library(data_dir, models_dir=models) as lib:
        lib.add_path(photos)
        lib.scan(str(photos))
        before = lib.faces.progress()
        assert before["models_loaded"] == {"scrfd": False, "arcface": False}
        done = lib.faces.detect(wait=True, progress=True)
        assert done["counts"]["faces_total"] == 29
        assert done["models_loaded"]["scrfd"] is True
        # Detection clustered the new faces when it ended: nothing is left.
        assert done["counts"]["persons_total"] >= 1
        result = lib.faces.cluster()
        assert result == {"persons_created": 0, "faces_assigned": 0}
        people = lib.persons()
        assert isinstance(people, seen.PersonList)
        yao_asset = lib.search("yaoming.jpg")[0]
        yao = next(p for p in people if yao_asset.id in p.asset_ids())
        assert yao.face_count == 3
        lib.rename_person(yao.id, "Yao Ming")
        assert lib.person(yao.id).name == "Yao Ming"
        png = yao.face_thumbnail(96)
        assert Image.open(__import__("io").BytesIO(png)).size == (96, 96)
        assert "data:image/png;base64," in yao._repr_html_()
        assert "Yao Ming" in people._repr_html_() or "Person" in people._repr_html_()
        assert lib.faces.recluster()[0] >= 1
        assert lib.person(yao.id).name == "Yao Ming"
        with pytest.raises(seen.InvalidInputError):
            lib.merge_persons(yao.id, yao.id)
        with pytest.raises(seen.InvalidInputError):
            lib.faces.smart_merge(2.0)
        if len(lib.persons()) < 2:
            with pytest.raises(seen.InvalidInputError, match="two persons"):
                lib.faces.smart_merge(0.0001)
        else:
            merged, moved, left = lib.faces.smart_merge(0.0001)
            assert (merged, moved) == (0, 0) and left == len(lib.persons())
        with pytest.raises(seen.NotFoundError):
            lib.person(999999)
