//! Store tests. Every test body runs against SQLite and against Postgres
//! (the database named by `SEEN_TEST_POSTGRES_URL`, one fresh database per test).

use super::*;

async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("seen.db").display());
    (Store::open(&url, 4).await.unwrap(), dir)
}

async fn postgres_store() -> Option<Store> {
    let url = seen_testkit::fresh_postgres_url().await?;
    Some(Store::open(&url, 8).await.unwrap())
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = super::sqlite_store().await;
                    assert_eq!(store.backend(), super::Backend::SQLite);
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = super::postgres_store().await {
                        assert_eq!(store.backend(), super::Backend::Postgres);
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}

both_backends!(
    upsert_by_path_keeps_id_and_user_edits,
    list_sorts_and_paginates,
    deletes_cascade,
    excluded_paths_are_remembered,
    concurrent_writers_and_readers,
    albums_hold_existing_assets_only,
    search_matches_words_wildcards_and_punctuation,
    albums_change_and_clear_index,
    faces_keep_choices_made_by_hand,
    every_sort_walks_an_index,
    batches_span_statements_and_merge_repeats,
    database_errors_say_whether_the_data_was_refused,
    search_pages_through_common_and_rare_words,
);

fn asset(scan_path_id: i64, path: &str, size: i64, mtime_s: i64) -> NewAsset {
    NewAsset {
        scan_path_id,
        path: path.to_string(),
        ext: path.rsplit('.').next().unwrap().to_lowercase(),
        mime: "image/jpeg".into(),
        kind: Some(AssetKind::Image),
        size,
        mtime_ns: mtime_s * 1_000_000_000,
        ctime_ns: (mtime_s + 5) * 1_000_000_000,
        sha256: Some(format!("{:064x}", size)),
        orientation: 1,
        ..NewAsset::default()
    }
}

async fn upsert_by_path_keeps_id_and_user_edits(store: Store) {
    let root = store.add_scan_path("/photos", true).await.unwrap();
    assert_eq!(
        store.add_scan_path("/photos", true).await.unwrap().id,
        root.id
    );
    let mut a = asset(root.id, "/photos/2023/Party ünï.JPG", 100, 1_700_000_000);
    a.camera_make = Some("Canon".into());
    a.date_taken = Some(1_673_778_600);
    a.date_taken_offset_min = Some(60);
    a.gps_lat = Some(48.8584);
    a.width = Some(4000);
    a.height = Some(3000);
    let ids = store
        .upsert_assets(&[a.clone(), asset(root.id, "/photos/b.png", 5, 1)])
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let got = store.asset(ids[0]).await.unwrap();
    assert_eq!(got.dirname, "/photos/2023");
    assert_eq!(got.filename, "Party ünï.JPG");
    assert_eq!(got.ext, "jpg");
    assert_eq!(got.camera_make.as_deref(), Some("Canon"));
    assert_eq!(got.gps_lat, Some(48.8584));
    assert_eq!(
        got.date_taken_iso().as_deref(),
        Some("2023-01-15T10:30:00Z")
    );
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["mtime"], 1_700_000_000);
    assert_eq!(json["date_taken"], "2023-01-15T10:30:00Z");
    assert_eq!(json["width"], 4000);

    store.set_rotation(ids[0], 90).await.unwrap();
    assert!(store.set_rotation(ids[0], 45).await.is_err());
    assert!(matches!(
        store.set_rotation(999_999, 90).await,
        Err(Error::NotFound(_))
    ));

    // The file changed on disk: same path, so same id; the rotation stays.
    a.size = 200;
    a.camera_make = Some("Nikon".into());
    let again = store.upsert_assets(&[a]).await.unwrap();
    assert_eq!(again, vec![ids[0]]);
    let got = store.asset(ids[0]).await.unwrap();
    assert_eq!(got.size, 200);
    assert_eq!(got.camera_make.as_deref(), Some("Nikon"));
    assert_eq!(got.rotation, 90);
    assert_eq!(got.thumb_state, 0);
    assert_eq!(store.count_assets().await.unwrap(), 2);

    let by_path = store
        .asset_by_path("/photos/2023/Party ünï.JPG")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_path.id, ids[0]);
    assert!(store.asset_by_path("/nope").await.unwrap().is_none());
    assert!(matches!(store.asset(424242).await, Err(Error::NotFound(_))));

    let stats = store.stats_in_dir("/photos").await.unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats["/photos/b.png"].size, 5);
    assert_eq!(stats["/photos/b.png"].mtime_ns, 1_000_000_000);
}

async fn list_sorts_and_paginates(store: Store) {
    let root = store.add_scan_path("/p", false).await.unwrap();
    // sizes, mtimes, ctimes and names each give a different order
    let specs = [
        ("/p/c.jpg", 30, 10, Some(300)),
        ("/p/A.jpg", 10, 30, None),
        ("/p/b.jpg", 20, 20, Some(100)),
        ("/p/d.jpg", 40, 5, Some(200)),
    ];
    let batch: Vec<NewAsset> = specs
        .iter()
        .map(|(path, size, mtime, date)| {
            let mut a = asset(root.id, path, *size, *mtime);
            a.ctime_ns = (100 - mtime) * 1_000_000_000;
            a.date_taken = *date;
            a
        })
        .collect();
    store.upsert_assets(&batch).await.unwrap();

    let names = |v: Vec<Asset>| v.into_iter().map(|a| a.filename).collect::<Vec<_>>();
    let list = |sort, order| {
        let store = store.clone();
        async move {
            names(
                store
                    .list_assets(&ListQuery {
                        sort,
                        order,
                        ..ListQuery::default()
                    })
                    .await
                    .unwrap(),
            )
        }
    };
    use Order::*;
    use SortField::*;
    assert_eq!(
        list(Mtime, Desc).await,
        ["A.jpg", "b.jpg", "c.jpg", "d.jpg"]
    );
    assert_eq!(list(Mtime, Asc).await, ["d.jpg", "c.jpg", "b.jpg", "A.jpg"]);
    assert_eq!(list(Ctime, Asc).await, ["A.jpg", "b.jpg", "c.jpg", "d.jpg"]);
    assert_eq!(list(Size, Desc).await, ["d.jpg", "c.jpg", "b.jpg", "A.jpg"]);
    assert_eq!(
        list(Filename, Asc).await,
        ["A.jpg", "b.jpg", "c.jpg", "d.jpg"]
    );
    assert_eq!(
        list(Filename, Desc).await,
        ["d.jpg", "c.jpg", "b.jpg", "A.jpg"]
    );
    // Assets without a capture date come last in both directions.
    assert_eq!(
        list(DateTaken, Asc).await,
        ["b.jpg", "d.jpg", "c.jpg", "A.jpg"]
    );
    assert_eq!(
        list(DateTaken, Desc).await,
        ["c.jpg", "d.jpg", "b.jpg", "A.jpg"]
    );

    let page = |offset, limit| {
        let store = store.clone();
        async move {
            names(
                store
                    .list_assets(&ListQuery {
                        offset,
                        limit,
                        sort: Size,
                        order: Asc,
                        person_id: None,
                    })
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(page(0, 2).await, ["A.jpg", "b.jpg"]);
    assert_eq!(page(2, 2).await, ["c.jpg", "d.jpg"]);
    assert_eq!(page(3, 10).await, ["d.jpg"]);
    assert!(page(10, 10).await.is_empty());

    for bad in [
        ListQuery {
            limit: 0,
            ..ListQuery::default()
        },
        ListQuery {
            limit: 1001,
            ..ListQuery::default()
        },
        ListQuery {
            offset: -1,
            ..ListQuery::default()
        },
    ] {
        assert!(matches!(
            store.list_assets(&bad).await,
            Err(Error::InvalidInput(_))
        ));
    }
    assert!("colour".parse::<SortField>().is_err());
    assert!("sideways".parse::<Order>().is_err());

    // Filter by person.
    let ids = store
        .assets_with_sha256(&format!("{:064x}", 20))
        .await
        .unwrap();
    let face = store
        .replace_faces(
            ids[0],
            &[NewFace {
                bbox: [1.0, 2.0, 3.0, 4.0],
                landmarks: [0.0; 10],
                score: 0.9,
                embedding: Some(vec![0.5; 512]),
            }],
        )
        .await
        .unwrap()[0];
    let person = store.create_person(Some("Ada")).await.unwrap();
    store
        .set_face_person(face, Some(person), true)
        .await
        .unwrap();
    let mine = store
        .list_assets(&ListQuery {
            person_id: Some(person),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(names(mine), ["b.jpg"]);
}

async fn deletes_cascade(store: Store) {
    let a = store.add_scan_path("/a", false).await.unwrap();
    let b = store.add_scan_path("/b", false).await.unwrap();
    let ids = store
        .upsert_assets(&[
            asset(a.id, "/a/1.jpg", 1, 1),
            asset(a.id, "/a/2.jpg", 2, 2),
            asset(b.id, "/b/3.jpg", 3, 3),
        ])
        .await
        .unwrap();
    let face = || NewFace {
        bbox: [0.0, 0.0, 10.0, 10.0],
        landmarks: [1.0; 10],
        score: 0.8,
        embedding: None,
    };
    let mut faces = Vec::new();
    for id in &ids {
        faces.extend(store.replace_faces(*id, &[face()]).await.unwrap());
    }
    let person = store.create_person(None).await.unwrap();
    for f in &faces {
        store
            .set_face_person(*f, Some(person), false)
            .await
            .unwrap();
    }
    let album = store.create_album("Trip", Some("summer")).await.unwrap();
    store.add_to_album(album, &ids).await.unwrap();

    // Deleting one asset takes its face and album link.
    assert_eq!(store.delete_assets(&[ids[1]], false).await.unwrap(), 1);
    assert_eq!(store.count_faces().await.unwrap(), 2);
    assert_eq!(
        store.album(album).await.unwrap().asset_ids,
        vec![ids[0], ids[2]]
    );

    // Removing a scan path takes its assets, their faces and album links.
    let removed = store.remove_scan_path("/a").await.unwrap();
    assert_eq!(removed.assets_deleted, 1);
    assert_eq!(removed.faces_deleted, 1);
    assert_eq!(removed.sha256s, vec![format!("{:064x}", 1)]);
    assert_eq!(store.count_assets().await.unwrap(), 1);
    assert_eq!(store.count_faces().await.unwrap(), 1);
    assert_eq!(store.album(album).await.unwrap().asset_ids, vec![ids[2]]);
    assert_eq!(store.scan_paths().await.unwrap().len(), 1);
    assert!(matches!(
        store.remove_scan_path("/a").await,
        Err(Error::NotFound(_))
    ));
    // Nothing was excluded by these deletes.
    assert!(!store.is_excluded("/a/2.jpg").await.unwrap());
}

async fn excluded_paths_are_remembered(store: Store) {
    let root = store.add_scan_path("/x", false).await.unwrap();
    let ids = store
        .upsert_assets(&[
            asset(root.id, "/x/keep.jpg", 1, 1),
            asset(root.id, "/x/drop.jpg", 2, 2),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.delete_assets(&[ids[1], 777_777], true).await.unwrap(),
        1
    );
    assert!(store.is_excluded("/x/drop.jpg").await.unwrap());
    assert!(!store.is_excluded("/x/keep.jpg").await.unwrap());
    // Deleting twice is harmless.
    assert_eq!(store.delete_assets(&[ids[1]], true).await.unwrap(), 0);

    store.set_scan_path_paused("/x", true).await.unwrap();
    assert!(store.scan_path("/x").await.unwrap().paused);
    assert!(store.set_scan_path_paused("/nope", true).await.is_err());
    store.mark_scanned("/x").await.unwrap();
    assert!(store.scan_path("/x").await.unwrap().last_scan_at.is_some());
}

async fn concurrent_writers_and_readers(store: Store) {
    let root = store.add_scan_path("/c", false).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..20 {
                let assets: Vec<NewAsset> = (0..5)
                    .map(|i| asset(root.id, &format!("/c/w{w}/b{batch}_{i}.jpg"), i + 1, batch))
                    .collect();
                assert_eq!(store.upsert_assets(&assets).await.unwrap().len(), 5);
            }
        }));
    }
    for _ in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..30 {
                let page = store.list_assets(&ListQuery::default()).await.unwrap();
                assert!(page.len() <= 200);
                store.count_assets().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.count_assets().await.unwrap(), 6 * 20 * 5);
}

async fn albums_hold_existing_assets_only(store: Store) {
    let root = store.add_scan_path("/al", false).await.unwrap();
    let ids = store
        .upsert_assets(&[asset(root.id, "/al/1.jpg", 1, 1)])
        .await
        .unwrap();
    assert!(store.create_album("  ", None).await.is_err());
    let album = store.create_album("Best", None).await.unwrap();
    assert!(matches!(
        store.add_to_album(album, &[ids[0], 999]).await,
        Err(Error::InvalidInput(_))
    ));
    // The failed call added nothing.
    assert!(store.album(album).await.unwrap().asset_ids.is_empty());
    store.add_to_album(album, &[ids[0], ids[0]]).await.unwrap();
    assert_eq!(store.album(album).await.unwrap().asset_ids, ids);
    assert!(matches!(
        store.album(album + 1).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.add_to_album(album + 1, &ids).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("seen.db").display());
    let store = Store::open(&url, 2).await.unwrap();
    let root = store.add_scan_path("/r", false).await.unwrap();
    store
        .upsert_assets(&[asset(root.id, "/r/a.jpg", 1, 1)])
        .await
        .unwrap();
    store.close().await;
    let store = Store::open(&url, 2).await.unwrap();
    assert_eq!(store.count_assets().await.unwrap(), 1);
    store.ping().await.unwrap();
}

#[tokio::test]
async fn bad_urls_are_clear_errors() {
    assert!(matches!(
        Store::open("mysql://x", 1).await,
        Err(Error::InvalidInput(_))
    ));
    let err = Store::open("postgres://nobody@127.0.0.1:1/none", 1)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Database { .. }), "{err}");
}

async fn search_matches_words_wildcards_and_punctuation(store: Store) {
    use crate::search::SearchQuery;
    let root = store.add_scan_path("/lib", false).await.unwrap();
    let paths = [
        "/lib/2023-01-05 Party/IMG_0001.JPG",
        "/lib/2023-01-05 Party/party.jpg",
        "/lib/holiday/a/b/beach (1).png",
        "/lib/Été/Straße.jpg",
        "/lib/misc/it's mine.jpg",
        "/lib/misc/100%.jpg",
        "/lib/misc/under_score.jpg",
        "/lib/misc/[draft] 1.jpg",
        "/lib/misc/100x.jpg",
    ];
    let mut batch = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let mut a = asset(root.id, p, i as i64 + 1, i as i64);
        a.date_taken = Some(1_000 * i as i64);
        a.camera_make = Some(
            if i % 2 == 0 {
                "Canon"
            } else {
                "NIKON CORPORATION"
            }
            .into(),
        );
        a.camera_model = Some(format!("Model {i}"));
        batch.push(a);
    }
    store.upsert_assets(&batch).await.unwrap();
    let find = |q: &str| {
        let store = store.clone();
        let q = q.to_string();
        async move {
            let mut names: Vec<String> = store
                .search_assets(&SearchQuery {
                    q,
                    ..SearchQuery::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.filename)
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(find("party").await, ["IMG_0001.JPG", "party.jpg"]);
    assert_eq!(find("PARTY.JPG").await, ["party.jpg"]);
    assert_eq!(find("party img").await, ["IMG_0001.JPG"]);
    assert_eq!(find("2023-01-05").await, ["IMG_0001.JPG", "party.jpg"]);
    assert_eq!(find("a/b").await, ["beach (1).png"]);
    assert_eq!(find("(1)").await, ["beach (1).png"]);
    assert_eq!(find("holiday beach").await, ["beach (1).png"]);
    assert_eq!(find("été").await, ["Straße.jpg"]);
    assert_eq!(find("straße").await, ["Straße.jpg"]);
    assert_eq!(find("it's").await, ["it's mine.jpg"]);
    assert_eq!(find("\"it's mine\"").await, ["it's mine.jpg"]);
    assert_eq!(find("100%").await, ["100%.jpg"]);
    assert_eq!(find("under_score").await, ["under_score.jpg"]);
    assert_eq!(find("[draft]").await, ["[draft] 1.jpg"]);
    assert_eq!(find("img_*.jpg").await, ["IMG_0001.JPG"]);
    assert_eq!(find("100?.jpg").await, ["100%.jpg", "100x.jpg"]);
    assert_eq!(find("b*ch").await, ["beach (1).png"]);
    assert_eq!(find("nothing-like-this").await, Vec::<String>::new());
    assert_eq!(find("*").await.len(), paths.len());

    // Filters.
    let q = SearchQuery {
        q: "misc".into(),
        camera_make: Some("canon".into()),
        ..SearchQuery::default()
    };
    let hits = store.search_assets(&q).await.unwrap();
    assert!(
        hits.iter()
            .all(|a| a.camera_make.as_deref() == Some("Canon"))
    );
    assert_eq!(hits.len(), 3);
    let q = SearchQuery {
        q: "lib".into(),
        from: Some(2_000),
        to: Some(4_000),
        ..SearchQuery::default()
    };
    assert_eq!(store.search_assets(&q).await.unwrap().len(), 3);
    let q = SearchQuery {
        q: "lib".into(),
        camera_model: Some("MODEL 3".into()),
        ..SearchQuery::default()
    };
    assert_eq!(store.search_assets(&q).await.unwrap().len(), 1);
    assert!(store.search_assets(&SearchQuery::default()).await.is_err());

    // The index follows renames and deletes.
    let party = store
        .asset_by_path("/lib/2023-01-05 Party/party.jpg")
        .await
        .unwrap()
        .unwrap();
    let mut moved = asset(root.id, "/lib/renamed/fiesta.jpg", 2, 1);
    moved.moved_from = Some(party.id);
    store.upsert_assets(&[moved]).await.unwrap();
    assert_eq!(find("party.jpg").await, Vec::<String>::new());
    assert_eq!(find("fiesta").await, ["fiesta.jpg"]);
    store.delete_assets(&[party.id], false).await.unwrap();
    assert_eq!(find("fiesta").await, Vec::<String>::new());
}

async fn albums_change_and_clear_index(store: Store) {
    let root = store.add_scan_path("/al2", false).await.unwrap();
    let ids = store
        .upsert_assets(&[
            asset(root.id, "/al2/1.jpg", 1, 1),
            asset(root.id, "/al2/2.jpg", 2, 2),
        ])
        .await
        .unwrap();
    let a = store.create_album("Trip", Some("first")).await.unwrap();
    let b = store.create_album("Best", None).await.unwrap();
    store.add_to_album(a, &ids).await.unwrap();
    store.add_to_album(b, &ids[..1]).await.unwrap();
    assert_eq!(store.albums_for_asset(ids[0]).await.unwrap(), vec![a, b]);
    store
        .update_album(a, Some("Trip 2023"), None)
        .await
        .unwrap();
    let got = store.album(a).await.unwrap();
    assert_eq!(
        (got.name.as_str(), got.description.as_deref()),
        ("Trip 2023", Some("first"))
    );
    store.update_album(a, None, Some(None)).await.unwrap();
    assert_eq!(store.album(a).await.unwrap().description, None);
    assert!(store.update_album(a, Some(" "), None).await.is_err());
    assert!(matches!(
        store.update_album(9999, Some("x"), None).await,
        Err(Error::NotFound(_))
    ));
    store.remove_from_album(a, &ids[..1]).await.unwrap();
    assert_eq!(store.album(a).await.unwrap().asset_ids, vec![ids[1]]);
    let all = store.albums().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].asset_ids, vec![ids[0]]);
    store.delete_album(b).await.unwrap();
    assert!(matches!(
        store.delete_album(b).await,
        Err(Error::NotFound(_))
    ));

    store.delete_assets(&[ids[0]], true).await.unwrap();
    let (assets, faces, persons) = store.clear_index().await.unwrap();
    assert_eq!((assets, faces, persons), (1, 0, 0));
    assert_eq!(store.count_assets().await.unwrap(), 0);
    assert!(!store.is_excluded("/al2/1.jpg").await.unwrap());
    // Albums stay, emptied.
    assert!(store.album(a).await.unwrap().asset_ids.is_empty());
    assert_eq!(store.scan_paths().await.unwrap().len(), 1);
    assert_eq!(store.mime_counts().await.unwrap(), vec![]);
}

async fn faces_keep_choices_made_by_hand(store: Store) {
    let root = store.add_scan_path("/f", false).await.unwrap();
    let ids = store
        .upsert_assets(&[
            asset(root.id, "/f/1.jpg", 1, 1),
            asset(root.id, "/f/2.jpg", 2, 2),
        ])
        .await
        .unwrap();
    let face = |x: f32, e: f32| NewFace {
        bbox: [x, 0.0, x + 100.0, 100.0],
        landmarks: [1.0; 10],
        score: 0.9,
        embedding: Some(vec![e; 4]),
    };
    // Photo 1: two faces; photo 2: one.
    let one = store
        .replace_faces(ids[0], &[face(0.0, 0.5), face(500.0, 0.5)])
        .await
        .unwrap();
    let two = store
        .replace_faces(ids[1], &[face(0.0, 0.5)])
        .await
        .unwrap();
    assert_eq!(store.faces_since_clustering().await.unwrap(), 3);
    store
        .set_clustered_through(*two.iter().max().unwrap())
        .await
        .unwrap();
    assert_eq!(store.faces_since_clustering().await.unwrap(), 0);

    let ann = store.create_person(Some("Ann")).await.unwrap();
    let bo = store.create_person(None).await.unwrap();
    store
        .set_face_person(one[0], Some(ann), true)
        .await
        .unwrap();
    store
        .set_face_person(one[1], Some(bo), false)
        .await
        .unwrap();
    store
        .set_face_person(two[0], Some(bo), false)
        .await
        .unwrap();
    assert!(store.person(ann).await.unwrap().named);
    assert!(!store.person(bo).await.unwrap().named);

    // The file changed: detection runs again. Ann's face moved a little
    // (same face: keeps its id, person and manual flag); the other face
    // is new and automatic.
    let again = store
        .replace_faces(ids[0], &[face(10.0, 0.6), face(800.0, 0.6)])
        .await
        .unwrap();
    assert_eq!(again[0], one[0]);
    let f = store.face(one[0]).await.unwrap();
    assert_eq!((f.person_id, f.manual, f.bbox[0]), (Some(ann), true, 10.0));
    let new = store.face(again[1]).await.unwrap();
    assert_eq!((new.person_id, new.manual), (None, false));
    assert!(
        store.face(one[1]).await.is_err(),
        "the old automatic face is gone"
    );
    // A manual face no detection overlaps any more is gone too.
    store
        .replace_faces(ids[0], &[face(800.0, 0.6)])
        .await
        .unwrap();
    assert!(store.face(one[0]).await.is_err());
    assert_eq!(store.faces_of_asset(ids[0]).await.unwrap().len(), 1);

    // Merging persons who share a photo: the target keeps its face there,
    // the source's face in that photo becomes unassigned.
    let only = store.faces_of_asset(ids[0]).await.unwrap()[0].id;
    store.set_face_person(only, Some(ann), false).await.unwrap();
    let extra = store
        .replace_faces(ids[1], &[face(0.0, 0.5), face(400.0, 0.5)])
        .await
        .unwrap();
    store
        .set_face_person(extra[0], Some(ann), true)
        .await
        .unwrap();
    store
        .set_face_person(extra[1], Some(bo), false)
        .await
        .unwrap();
    let moved = store.merge_persons(bo, ann).await.unwrap();
    assert_eq!(moved, 0, "Bo's only face was in a photo Ann is in");
    assert_eq!(store.face(extra[1]).await.unwrap().person_id, None);
    assert!(store.person(bo).await.is_err());

    // Profiles follow the persons.
    let mut centroids = std::collections::HashMap::new();
    centroids.insert(ann, vec![0.5f32; 4]);
    let counts = std::collections::HashMap::from([(ann, 2)]);
    store.replace_profiles(&centroids, &counts).await.unwrap();
    assert_eq!(store.profile(ann).await.unwrap(), Some(vec![0.5; 4]));

    // Deleting a person leaves their faces unassigned by hand, so
    // clustering does not bring the person back.
    store.delete_person(ann).await.unwrap();
    assert_eq!(store.profile(ann).await.unwrap(), None);
    let f = store.face(extra[0]).await.unwrap();
    assert_eq!((f.person_id, f.manual), (None, true));
}

/// Listing a page never sorts the whole table: each sort field and order
/// is served by an index (Postgres is told to avoid sorts, so a plan that
/// still has one has no index to use).
async fn every_sort_walks_an_index(store: Store) {
    use super::assets::list_sql;
    for sort in [
        SortField::Mtime,
        SortField::Ctime,
        SortField::Size,
        SortField::Filename,
        SortField::DateTaken,
    ] {
        for order in [Order::Asc, Order::Desc] {
            let sql = list_sql(&ListQuery {
                sort,
                order,
                ..ListQuery::default()
            })
            .replace("$1", "200")
            .replace("$2", "0");
            let plan: Vec<String> = match &*store.pools {
                Pools::Sqlite { read, .. } => {
                    let rows: Vec<(i64, i64, i64, String)> =
                        sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                            .fetch_all(read)
                            .await
                            .unwrap();
                    rows.into_iter().map(|r| r.3).collect()
                }
                Pools::Postgres { pool } => {
                    let mut conn = pool.acquire().await.unwrap();
                    sqlx::query("SET enable_sort = off")
                        .execute(&mut *conn)
                        .await
                        .unwrap();
                    sqlx::query_scalar(&format!("EXPLAIN {sql}"))
                        .fetch_all(&mut *conn)
                        .await
                        .unwrap()
                }
            };
            let text = plan.join("\n");
            assert!(
                !text.contains("TEMP B-TREE") && !text.contains("Sort"),
                "{sort:?} {order:?} sorts the table:\n{text}"
            );
        }
    }
}

/// Batches larger than one multi-row statement keep input order; a path
/// repeated in one batch is one row (its last version); moves keep ids;
/// derived-state updates of one content merge; lookups by id and unused
/// hashes work across statement chunks.
async fn batches_span_statements_and_merge_repeats(store: Store) {
    let root = store.add_scan_path("/big", true).await.unwrap();
    let rows: Vec<NewAsset> = (0..450)
        .map(|i| asset(root.id, &format!("/big/d{}/f{i}.jpg", i % 7), 1000 + i, 1))
        .collect();
    let ids = store.upsert_assets(&rows).await.unwrap();
    assert_eq!(ids.len(), 450);
    for (i, id) in ids.iter().enumerate().step_by(37) {
        assert_eq!(store.asset(*id).await.unwrap().path, rows[i].path);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 450);

    // The same path twice in one batch: one row, the later one wins.
    let mut first = asset(root.id, "/big/twice.jpg", 7, 1);
    first.camera_make = Some("Old".into());
    let mut second = first.clone();
    second.camera_make = Some("New".into());
    second.size = 8;
    let twice = store
        .upsert_assets(&[first, rows[0].clone(), second])
        .await
        .unwrap();
    assert_eq!(twice[0], twice[2]);
    assert_eq!(twice[1], ids[0]);
    let got = store.asset(twice[0]).await.unwrap();
    assert_eq!((got.size, got.camera_make.as_deref()), (8, Some("New")));
    assert_eq!(store.count_assets().await.unwrap(), 451);

    // Moves keep their ids, next to plain inserts in the same batch.
    let mut moved = asset(root.id, "/big/moved/f3.jpg", 1003, 2);
    moved.moved_from = Some(ids[3]);
    let mut stale = asset(root.id, "/big/moved/ghost.jpg", 5, 2);
    stale.moved_from = Some(987_654);
    let fresh = asset(root.id, "/big/new.jpg", 6, 2);
    let out = store.upsert_assets(&[moved, stale, fresh]).await.unwrap();
    assert_eq!(out[0], ids[3]);
    let got = store.asset(ids[3]).await.unwrap();
    assert_eq!(
        (got.dirname.as_str(), got.filename.as_str()),
        ("/big/moved", "f3.jpg")
    );
    assert!(!out[1..].contains(&ids[3]) && out[1] != out[2]);
    assert_eq!(
        store.asset(out[1]).await.unwrap().path,
        "/big/moved/ghost.jpg"
    );
    assert!(store.asset_by_path(&rows[3].path).await.unwrap().is_none());

    // Thumb then preview of one content in one batch: both land.
    let sha = rows[5].sha256.clone().unwrap();
    store
        .set_derived_states(&[
            DerivedUpdate {
                sha256: sha.clone(),
                rotation: 0,
                thumb: Some(1),
                preview: None,
            },
            DerivedUpdate {
                sha256: rows[6].sha256.clone().unwrap(),
                rotation: 0,
                thumb: Some(2),
                preview: Some(2),
            },
            DerivedUpdate {
                sha256: sha.clone(),
                rotation: 0,
                thumb: None,
                preview: Some(1),
            },
            DerivedUpdate {
                sha256: sha.clone(),
                rotation: 90,
                thumb: Some(2),
                preview: Some(2),
            },
        ])
        .await
        .unwrap();
    let five = store.asset(ids[5]).await.unwrap();
    assert_eq!((five.thumb_state, five.preview_state), (1, 1));
    let six = store.asset(ids[6]).await.unwrap();
    assert_eq!((six.thumb_state, six.preview_state), (2, 2));

    let wanted: Vec<i64> = ids.iter().copied().chain([424_242]).collect();
    let found = store.assets_by_ids(&wanted).await.unwrap();
    assert_eq!(found.len(), 450);
    assert!(found.windows(2).all(|w| w[0].id < w[1].id));

    let deleted = store.delete_assets(&ids[100..350], true).await.unwrap();
    assert_eq!(deleted, 250);
    assert!(store.is_excluded(&rows[349].path).await.unwrap());
    let shas: Vec<String> = rows.iter().filter_map(|r| r.sha256.clone()).collect();
    let unused = store.unused_sha256s(&shas).await.unwrap();
    assert_eq!(unused.len(), 250);
    assert!(unused.contains(rows[100].sha256.as_ref().unwrap()));
    assert!(!unused.contains(rows[99].sha256.as_ref().unwrap()));
}

/// A constraint the data breaks is a refusal (worth finding the row that
/// breaks it); a statement the database cannot run at all is not.
async fn database_errors_say_whether_the_data_was_refused(store: Store) {
    async fn run(store: &Store, sql: &str) -> Error {
        on_write!(store, |pool| sqlx::query(sql)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(Error::from))
        .unwrap_err()
    }
    let check = run(&store, "INSERT INTO face_detection_state (id) VALUES (2)").await;
    assert!(check.is_rejected_by_database(), "{check}");
    let missing = run(&store, "SELECT * FROM no_such_table").await;
    assert!(matches!(missing, Error::Database { .. }), "{missing}");
    assert!(!missing.is_rejected_by_database(), "{missing}");
}

/// A word in thousands of paths and a word in a few give the same pages as
/// filtering everything by hand (SQLite walks the sort order for the first
/// and fetches the trigram index's matches for the second).
async fn search_pages_through_common_and_rare_words(store: Store) {
    use crate::search::SearchQuery;
    let root = store.add_scan_path("/lib", true).await.unwrap();
    let rows: Vec<NewAsset> = (0..2300)
        .map(|i| {
            let folder = if i % 500 == 7 { "Rare Trip" } else { "Holiday" };
            asset(
                root.id,
                &format!("/lib/{folder}/img_{i:04}.jpg"),
                10_000 + i,
                i,
            )
        })
        .collect();
    store.upsert_assets(&rows).await.unwrap();
    let search = |q: &str, offset: i64| SearchQuery {
        q: q.into(),
        page: ListQuery {
            offset,
            limit: 50,
            sort: SortField::Mtime,
            order: Order::Desc,
            ..ListQuery::default()
        },
        ..SearchQuery::default()
    };
    for (q, wanted) in [
        (
            "holiday",
            Box::new(|p: &str| p.contains("Holiday")) as Box<dyn Fn(&str) -> bool>,
        ),
        ("IMG_1*", Box::new(|p: &str| p.contains("img_1"))),
        ("rare img", Box::new(|p: &str| p.contains("Rare"))),
        (
            "trip 1507",
            Box::new(|p: &str| p.contains("Rare") && p.contains("1507")),
        ),
    ] {
        let mut expected: Vec<&NewAsset> = rows.iter().filter(|r| wanted(&r.path)).collect();
        expected.sort_by_key(|r| std::cmp::Reverse(r.mtime_ns));
        for offset in [0, 50, 1000] {
            let got: Vec<String> = store
                .search_assets(&search(q, offset))
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.path)
                .collect();
            let want: Vec<String> = expected
                .iter()
                .skip(offset as usize)
                .take(50)
                .map(|r| r.path.clone())
                .collect();
            assert_eq!(got, want, "{q:?} from {offset}");
        }
    }
}
