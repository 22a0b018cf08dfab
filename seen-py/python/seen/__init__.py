"""Seen: a fast, self-hosted photo and video library engine, for notebooks and scripts.

>>> import seen
>>> with seen.Library("/tmp/seen-data") as lib:
...     lib.add_path("/photos")
...     lib.scan("/photos", wait=True, progress=True)
...     lib.search("beach")
"""

from __future__ import annotations

import base64
import concurrent.futures
import html
import os
import sys
from typing import Any, Iterable

from . import _seen
from ._seen import (
    Asset,
    CancelledError,
    ConflictError,
    DatabaseError,
    InternalError,
    InvalidInputError,
    MediaError,
    ModelError,
    NotFoundError,
    Person,
    ReadOnlyError,
    ScanHandle,
    SeenError,
    StorageError,
    UnsupportedError,
)

__version__: str = _seen.__version__

__all__ = [
    "Asset",
    "AssetList",
    "Faces",
    "PersonList",
    "CancelledError",
    "ConflictError",
    "DatabaseError",
    "InternalError",
    "InvalidInputError",
    "Library",
    "MediaError",
    "ModelError",
    "NotFoundError",
    "Person",
    "ReadOnlyError",
    "ScanHandle",
    "SeenError",
    "StorageError",
    "UnsupportedError",
    "__version__",
]

#: Thumbnails embedded in a notebook grid at most; the rest are listed by name.
GRID_LIMIT = 300


def _thumb_html(asset: Asset) -> str:
    title = html.escape(f"{asset.filename} ({asset.width}x{asset.height})")
    try:
        data = base64.b64encode(asset.thumbnail()).decode("ascii")
        img = f'<img src="data:image/webp;base64,{data}" loading="lazy" style="max-width:160px;max-height:160px;object-fit:contain" title="{title}">'
    except SeenError as e:
        img = f'<div style="width:160px;height:120px;background:#eee;font-size:11px;overflow:hidden">{html.escape(str(e))}</div>'
    name = html.escape(asset.filename)
    return f'<figure style="display:inline-block;margin:4px;text-align:center;width:164px">{img}<figcaption style="font-size:11px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis">{name}</figcaption></figure>'


def _person_html(person: Person) -> str:
    name = html.escape(f"{person.name} ({person.face_count} faces)")
    try:
        data = base64.b64encode(person.face_thumbnail(128)).decode("ascii")
        img = f'<img src="data:image/png;base64,{data}" style="width:128px;height:128px;border-radius:50%" title="{name}">'
    except SeenError as e:
        img = f'<div style="width:128px;height:128px;background:#eee;font-size:11px">{html.escape(str(e))}</div>'
    return f'<figure style="display:inline-block;margin:4px;text-align:center">{img}<figcaption style="font-size:12px">{name}</figcaption></figure>'


class PersonList(list):
    """A list of persons that renders as a row of faces in Jupyter."""

    def _repr_html_(self) -> str:
        return '<div style="display:flex;flex-wrap:wrap">' + "".join(_person_html(p) for p in self) + "</div>"


class Faces:
    """Face detection and grouping of a library: `lib.faces`."""

    def __init__(self, lib: "Library") -> None:
        self._lib = lib

    def detect(self, wait: bool = True, progress: bool = False) -> dict:
        """Detect faces in every image without faces; with `wait`, return when
        done (Ctrl-C stops the wait, not the detection)."""
        import time

        try:
            self._lib.faces_detect()
        except ConflictError:
            pass  # already running: wait for it like for our own run
        bar = _Progress() if (wait and progress) else None
        total = None
        try:
            while wait:
                p = self._lib.faces_progress()
                if total is None:
                    total = p["queue_depth"]
                if bar is not None:
                    bar.update(max(0, total - p["queue_depth"]), total)
                if not p["running"]:
                    break
                time.sleep(0.2)
        finally:
            if bar is not None:
                bar.close()
        return self._lib.faces_progress()

    def stop(self) -> None:
        """Stop detection."""
        self._lib.faces_stop()

    def progress(self) -> dict:
        """Detection progress, models and counts."""
        return self._lib.faces_progress()

    def cluster(self, epsilon: float | None = None, min_samples: int | None = None) -> dict:
        """Group unassigned faces into persons."""
        return self._lib.faces_cluster(epsilon, min_samples)

    def recluster(self) -> tuple[int, int]:
        """Re-cluster every face not assigned by hand: (persons, faces)."""
        return self._lib.faces_recluster()

    def smart_merge(self, threshold: float = 0.5) -> tuple[int, int, int]:
        """Merge persons whose faces are closer than `threshold` (cosine
        distance): (persons merged, faces moved, persons left)."""
        return self._lib.faces_smart_merge(threshold)


class AssetList(list):
    """A list of assets that renders as a grid of thumbnails in Jupyter."""

    def _repr_html_(self) -> str:
        # Thumbnails not made yet are rendered on demand, off the GIL: fetch
        # them side by side.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            shown = list(pool.map(_thumb_html, self[:GRID_LIMIT]))
        more = len(self) - len(shown)
        tail = f"<p>… and {more} more</p>" if more > 0 else ""
        return f'<div style="display:flex;flex-wrap:wrap">{"".join(shown)}</div>{tail}'


class _Progress:
    """tqdm when installed (tqdm.auto renders in Jupyter), else plain text on stderr."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm

            self._bar: Any = tqdm(total=0, unit="file", desc="scanning")
        except ImportError:
            self._bar = None
        self._last = -1

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.total = max(total, done)
            self._bar.n = done
            self._bar.refresh()
        elif done != self._last:
            print(f"\rscanning: {done}/{max(total, done)} files", end="", file=sys.stderr, flush=True)
        self._last = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            print(file=sys.stderr, flush=True)


class Library(_seen.Library):
    """An open photo library: `Library(data_dir, database_url=None)`.

    Use as a context manager, or call `close()` when done.
    """

    def scan(self, path: str, wait: bool = True, progress: bool = False) -> ScanHandle:
        """Scan a registered folder. With `wait`, return when rows, thumbnails and
        previews are all done (Ctrl-C stops the wait, not the scan); with
        `progress`, show a progress bar while waiting."""
        handle = self.start_scan(path)
        if not wait:
            return handle
        bar = _Progress() if progress else None
        try:
            while not handle.wait(0.25):
                if bar is not None:
                    bar.update(*self._scan_counts())
            if bar is not None:
                bar.update(*self._scan_counts())
        finally:
            if bar is not None:
                bar.close()
        return handle

    def _scan_counts(self) -> tuple[int, int]:
        current = self.stats().get("current_scan") or {}
        done = int(current.get("files_processed", 0))
        return done, int(self.stats()["counters"]["files_discovered"]) or done

    def assets(self, offset: int = 0, limit: int = 200, sort: str = "mtime", order: str = "desc",
               person_id: int | None = None) -> AssetList:
        """A page of assets (sort: mtime, ctime, size, filename, date_taken; order: asc, desc)."""
        return AssetList(super().assets(offset, limit, sort, order, person_id))

    def search(self, query: str, camera_make: str | None = None, camera_model: str | None = None,
               date_from: Any = None, date_to: Any = None, offset: int = 0, limit: int = 200) -> AssetList:
        """Assets whose path matches every word of `query` (`*` and `?` are wildcards)."""
        return AssetList(super().search(query, camera_make, camera_model, date_from, date_to, offset, limit))

    @property
    def faces(self) -> Faces:
        """Face detection and grouping: `lib.faces.detect()`, `.cluster()`, ..."""
        return Faces(self)

    def persons(self) -> PersonList:
        """Everyone found in the library (renders as faces in Jupyter)."""
        return PersonList(super().persons())

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Library(closed)" if self.closed else f"Library(paths={[p['path'] for p in self.paths()]})"
