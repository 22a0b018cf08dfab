"""The notebook scenario as a script (run by the test suite): open a library,
add a folder, scan with a progress bar, search, save a thumbnail.

Usage: python example.py DATA_DIR PHOTOS_DIR QUERY OUT.webp
In Jupyter, `lib.search(...)` and any asset display as thumbnails.
"""

import sys

import seen


def main(data_dir: str, photos: str, query: str, out: str) -> None:
    with seen.Library(data_dir) as lib:
        lib.add_path(photos)
        lib.scan(photos, wait=True, progress=True)
        stats = lib.stats()
        print(f"{stats['db']['assets']} assets, {stats['processing']['rate_files_per_sec']:.1f} files/s")
        hits = lib.search(query)
        for a in hits:
            print(a, a.camera_make, a.date_taken)
        if not hits:
            raise SystemExit(f"nothing matches {query!r}")
        with open(out, "wb") as f:
            f.write(hits[0].thumbnail())
        print(f"thumbnail of {hits[0].filename} saved to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
