//! Scan a folder, print statistics, search, and save a thumbnail: the same
//! scenario as `examples/c/example.c` and `examples/python/example.py`,
//! through the `seen-core` API that the server and both bindings use.
//!
//! Run: `cargo run -p seen-core --example scan -- DATA_DIR PHOTOS_DIR QUERY OUT.webp`

use seen_core::search::SearchQuery;
use seen_core::{Config, Library};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, photos, query, out] = args.as_slice() else {
        eprintln!("usage: scan DATA_DIR PHOTOS_DIR QUERY OUT.webp");
        std::process::exit(2);
    };
    let mut config = Config::load(None)?;
    config.data_dir = data.into();
    let lib = Library::open(config).await?;
    let root = lib.add_path(photos).await?;
    let outcome = lib.scan(&root.path).await?.wait().await?;
    let stats = lib.stats().await?;
    println!(
        "{} files processed, {} assets, {:.1} files/s",
        outcome.files_processed, stats.db.assets, stats.processing.rate_files_per_sec
    );
    let hits = lib
        .search(&SearchQuery {
            q: query.clone(),
            ..SearchQuery::default()
        })
        .await?;
    for a in &hits {
        println!("{} {} {:?}", a.id, a.path, a.camera_make);
    }
    let Some(first) = hits.first() else {
        lib.close().await;
        eprintln!("nothing matches {query:?}");
        std::process::exit(1);
    };
    let webp = lib.thumbnail(first.id).await?;
    std::fs::write(out, &webp)?;
    println!(
        "thumbnail of {}: {} bytes in {out}",
        first.filename,
        webp.len()
    );
    lib.close().await;
    Ok(())
}
