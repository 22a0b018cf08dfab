//! Grouping faces into persons: new faces join an existing person when
//! close to that person's centroid, the rest are clustered with HDBSCAN
//! into new persons. Two faces of one photo never share a person, and
//! assignments made by hand are never undone.

use std::collections::{HashMap, HashSet};

use hdbscan::{DistanceMetric, Hdbscan, HdbscanHyperParams};

use crate::error::Result;
use crate::store::{FaceSettings, FaceVector, Store};

use super::cosine;

/// A new face joins a person whose centroid is at least this similar.
const JOIN_SIMILARITY: f32 = 0.45;
/// A recluster keeps a person (and their name) whose old centroid is at
/// least this similar to a new cluster's.
const KEEP_SIMILARITY: f32 = 0.6;

/// What a clustering run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClusterOutcome {
    /// Persons created.
    pub persons_created: usize,
    /// Faces that got a person.
    pub faces_assigned: usize,
}

/// L2-normalised mean.
pub fn centroid<'a>(vectors: impl Iterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut sum: Vec<f32> = Vec::new();
    let mut n = 0;
    for v in vectors {
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    Some(sum.into_iter().map(|x| x / norm).collect())
}

fn centroids(faces: &[FaceVector]) -> HashMap<i64, Vec<f32>> {
    let mut by_person: HashMap<i64, Vec<&[f32]>> = HashMap::new();
    for f in faces {
        if let Some(p) = f.person_id {
            by_person.entry(p).or_default().push(&f.embedding);
        }
    }
    by_person
        .into_iter()
        .filter_map(|(p, vs)| centroid(vs.into_iter()).map(|c| (p, c)))
        .collect()
}

/// HDBSCAN over `vectors`; returns clusters as lists of indexes, each
/// holding at most one face per photo (the ones closest to the cluster's
/// centre win).
fn hdbscan_clusters(
    vectors: &[&FaceVector],
    settings: &FaceSettings,
    epsilon: f64,
    min_samples: usize,
) -> Vec<Vec<usize>> {
    let min_size = settings.min_cluster_size.max(2) as usize;
    if vectors.len() < min_size.max(min_samples + 1) {
        return Vec::new();
    }
    let data: Vec<Vec<f32>> = vectors.iter().map(|f| f.embedding.clone()).collect();
    let params = HdbscanHyperParams::builder()
        .min_cluster_size(min_size)
        .min_samples(min_samples.max(1))
        .epsilon(epsilon)
        .dist_metric(DistanceMetric::Euclidean)
        .build();
    let labels = match Hdbscan::new(&data, params).cluster() {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("clustering skipped: {e:?}");
            return Vec::new();
        }
    };
    let mut groups: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, l) in labels.into_iter().enumerate() {
        if l >= 0 {
            groups.entry(l).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (_, members) in groups {
        let Some(c) = centroid(members.iter().map(|&i| vectors[i].embedding.as_slice())) else {
            continue;
        };
        let mut ranked = members.clone();
        ranked.sort_by(|&a, &b| {
            cosine(&vectors[b].embedding, &c).total_cmp(&cosine(&vectors[a].embedding, &c))
        });
        let mut photos = HashSet::new();
        let kept: Vec<usize> = ranked
            .into_iter()
            .filter(|&i| photos.insert(vectors[i].asset_id))
            .collect();
        if kept.len() >= min_size {
            out.push(kept);
        }
    }
    out
}

/// Incremental clustering: unassigned faces join close persons, the rest
/// form new persons.
pub async fn cluster(
    store: &Store,
    settings: &FaceSettings,
    epsilon: f64,
    min_samples: usize,
) -> Result<ClusterOutcome> {
    let faces = store.face_vectors().await?;
    let profiles = centroids(&faces);
    let mut photos_of: HashMap<i64, HashSet<i64>> = HashMap::new();
    for f in &faces {
        if let Some(p) = f.person_id {
            photos_of.entry(p).or_default().insert(f.asset_id);
        }
    }
    let mut outcome = ClusterOutcome::default();
    let mut assignments = Vec::new();
    let mut rest = Vec::new();
    for f in faces.iter().filter(|f| f.person_id.is_none() && !f.manual) {
        let best = profiles
            .iter()
            .filter(|(p, _)| !photos_of.get(p).is_some_and(|s| s.contains(&f.asset_id)))
            .map(|(p, c)| (*p, cosine(&f.embedding, c)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((p, sim)) if sim >= JOIN_SIMILARITY => {
                photos_of.entry(p).or_default().insert(f.asset_id);
                assignments.push((f.id, Some(p)));
                outcome.faces_assigned += 1;
            }
            _ => rest.push(f),
        }
    }
    for group in hdbscan_clusters(&rest, settings, epsilon, min_samples) {
        let person = store.create_person(None).await?;
        outcome.persons_created += 1;
        for i in group {
            assignments.push((rest[i].id, Some(person)));
            outcome.faces_assigned += 1;
        }
    }
    store.assign_faces(&assignments).await?;
    refresh_profiles(store).await?;
    Ok(outcome)
}

/// Full re-clustering of every face not assigned by hand. A new cluster
/// that clearly matches an existing person keeps that person (and name).
/// Returns (persons, faces assigned).
pub async fn recluster(store: &Store, settings: &FaceSettings) -> Result<(usize, usize)> {
    let faces = store.face_vectors().await?;
    let old = centroids(&faces);
    let automatic: Vec<&FaceVector> = faces.iter().filter(|f| !f.manual).collect();
    let mut assignments: Vec<(i64, Option<i64>)> = automatic.iter().map(|f| (f.id, None)).collect();
    let groups = hdbscan_clusters(
        &automatic,
        settings,
        settings.cluster_epsilon,
        settings.min_samples as usize,
    );
    let mut used = HashSet::new();
    let mut assigned = 0;
    for group in &groups {
        let Some(c) = centroid(group.iter().map(|&i| automatic[i].embedding.as_slice())) else {
            continue;
        };
        let keep = old
            .iter()
            .filter(|(p, _)| !used.contains(*p))
            .map(|(p, oc)| (*p, cosine(&c, oc)))
            .filter(|(_, s)| *s >= KEEP_SIMILARITY)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(p, _)| p);
        let person = match keep {
            Some(p) => p,
            None => store.create_person(None).await?,
        };
        used.insert(person);
        for &i in group {
            assignments.push((automatic[i].id, Some(person)));
            assigned += 1;
        }
    }
    store.assign_faces(&assignments).await?;
    store.delete_empty_persons().await?;
    refresh_profiles(store).await?;
    Ok((store.persons().await?.len(), assigned))
}

/// Recompute every person's centroid from their faces.
pub async fn refresh_profiles(store: &Store) -> Result<()> {
    let faces = store.face_vectors().await?;
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for f in &faces {
        if let Some(p) = f.person_id {
            *counts.entry(p).or_default() += 1;
        }
    }
    for (p, c) in centroids(&faces) {
        store.save_profile(p, &c, counts[&p]).await?;
    }
    Ok(())
}

/// Merge persons whose centroids are closer than `threshold` (cosine
/// distance) and who never appear in the same photo. Returns (persons
/// merged, faces moved).
pub async fn smart_merge(store: &Store, threshold: f32) -> Result<(usize, i64)> {
    let faces = store.face_vectors().await?;
    let mut profiles: Vec<(i64, Vec<f32>)> = centroids(&faces).into_iter().collect();
    profiles.sort_by_key(|(p, _)| *p);
    let mut photos_of: HashMap<i64, HashSet<i64>> = HashMap::new();
    for f in &faces {
        if let Some(p) = f.person_id {
            photos_of.entry(p).or_default().insert(f.asset_id);
        }
    }
    let mut merged_into: HashMap<i64, i64> = HashMap::new();
    let (mut persons, mut moved) = (0, 0);
    for i in 0..profiles.len() {
        for j in (i + 1)..profiles.len() {
            let (a, b) = (profiles[i].0, profiles[j].0);
            if merged_into.contains_key(&a) || merged_into.contains_key(&b) {
                continue;
            }
            if 1.0 - cosine(&profiles[i].1, &profiles[j].1) >= threshold {
                continue;
            }
            let (pa, pb) = (
                photos_of.get(&a).cloned().unwrap_or_default(),
                photos_of.get(&b).cloned().unwrap_or_default(),
            );
            if !pa.is_disjoint(&pb) {
                continue;
            }
            moved += store.merge_persons(b, a).await?;
            photos_of.entry(a).or_default().extend(pb);
            merged_into.insert(b, a);
            persons += 1;
        }
    }
    refresh_profiles(store).await?;
    Ok((persons, moved))
}
