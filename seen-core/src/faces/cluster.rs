//! Grouping faces into persons: new faces join an existing person when
//! close to that person's centroid, the rest are clustered with HDBSCAN
//! into new persons. Two faces of one photo never share a person, and
//! assignments made by hand are never undone.
//!
//! Each operation is planned by a pure function over the face vectors (run
//! on a blocking thread: HDBSCAN is quadratic) and then applied to the
//! store, so the planning is tested without a database.

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
/// When HDBSCAN finds no cluster at all (its root is never a cluster, so a
/// library showing one person looks like noise to it), faces linked by at
/// least this similarity form a person.
const LINK_SIMILARITY: f32 = 0.5;
/// A member of a cluster must be at least this similar to another member.
const PAIR_SIMILARITY: f32 = 0.3;
/// The linking fallback is quadratic: above this many faces it is skipped.
const LINK_MAX_FACES: usize = 5000;

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

/// Centroid of every person's faces.
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

/// The photos each person appears in.
fn photos_of(faces: &[FaceVector]) -> HashMap<i64, HashSet<i64>> {
    let mut out: HashMap<i64, HashSet<i64>> = HashMap::new();
    for f in faces {
        if let Some(p) = f.person_id {
            out.entry(p).or_default().insert(f.asset_id);
        }
    }
    out
}

/// Clustering parameters of one run.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Smallest person (faces), ≥ 2.
    pub min_cluster_size: usize,
    /// HDBSCAN `min_samples`.
    pub min_samples: usize,
    /// HDBSCAN cluster selection epsilon.
    pub epsilon: f64,
}

impl Params {
    /// The parameters of `settings`, with `epsilon` and `min_samples`
    /// overridden where given.
    pub fn from_settings(
        settings: &FaceSettings,
        epsilon: Option<f64>,
        min_samples: Option<usize>,
    ) -> Params {
        Params {
            min_cluster_size: settings.min_cluster_size.max(2) as usize,
            min_samples: min_samples.unwrap_or(settings.min_samples as usize).max(1),
            epsilon: epsilon.unwrap_or(settings.cluster_epsilon),
        }
    }
}

/// Groups of `vectors` (as indexes) that are one person each, holding at
/// most one face per photo (the ones closest to the group's centre win).
fn find_groups(vectors: &[&FaceVector], params: Params) -> Vec<Vec<usize>> {
    let min_size = params.min_cluster_size;
    if vectors.len() < min_size {
        return Vec::new();
    }
    let mut groups = hdbscan_groups(vectors, params);
    if groups.is_empty() && vectors.len() <= LINK_MAX_FACES {
        groups = linked_groups(vectors);
    }
    let mut out = Vec::new();
    for members in groups {
        let Some(c) = centroid(members.iter().map(|&i| vectors[i].embedding.as_slice())) else {
            continue;
        };
        let mut ranked = members;
        ranked.sort_by(|&a, &b| {
            cosine(&vectors[b].embedding, &c).total_cmp(&cosine(&vectors[a].embedding, &c))
        });
        let mut photos = HashSet::new();
        let one_per_photo: Vec<usize> = ranked
            .into_iter()
            .filter(|&i| photos.insert(vectors[i].asset_id))
            .collect();
        // HDBSCAN labels whatever is left over as a cluster too, even two
        // strangers: a member must look like at least one other member.
        let kept: Vec<usize> = one_per_photo
            .iter()
            .copied()
            .filter(|&i| {
                one_per_photo.iter().any(|&j| {
                    j != i
                        && cosine(&vectors[i].embedding, &vectors[j].embedding) >= PAIR_SIMILARITY
                })
            })
            .collect();
        if kept.len() >= min_size {
            out.push(kept);
        }
    }
    // Deterministic order: by the smallest face id of each group.
    out.sort_by_key(|g| g.iter().map(|&i| vectors[i].id).min());
    out
}

/// HDBSCAN clusters (Euclidean on normalised embeddings).
fn hdbscan_groups(vectors: &[&FaceVector], params: Params) -> Vec<Vec<usize>> {
    if vectors.len() < params.min_cluster_size.max(params.min_samples + 1) {
        return Vec::new();
    }
    let data: Vec<Vec<f32>> = vectors.iter().map(|f| f.embedding.clone()).collect();
    let hyper = HdbscanHyperParams::builder()
        .min_cluster_size(params.min_cluster_size)
        .min_samples(params.min_samples)
        .epsilon(params.epsilon)
        .dist_metric(DistanceMetric::Euclidean)
        .build();
    let labels = match Hdbscan::new(&data, hyper).cluster() {
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
    groups.into_values().collect()
}

/// Connected components of the "at least [`LINK_SIMILARITY`]" graph.
fn linked_groups(vectors: &[&FaceVector]) -> Vec<Vec<usize>> {
    let n = vectors.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..n {
        for j in (i + 1)..n {
            if cosine(&vectors[i].embedding, &vectors[j].embedding) >= LINK_SIMILARITY {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// Who a face goes to in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// An existing person.
    Person(i64),
    /// The n-th person the plan creates.
    New(usize),
    /// Nobody.
    Nobody,
}

/// Face → person changes, and how many persons to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// (face id, target) for every face whose person changes.
    pub moves: Vec<(i64, Target)>,
    /// Persons to create (`Target::New(0..new_persons)`).
    pub new_persons: usize,
    /// Existing persons a new cluster took over (kept, with their names).
    pub kept: Vec<i64>,
}

/// Incremental clustering: unassigned automatic faces join the closest
/// person they can (never one already in their photo), the rest are
/// clustered into new persons.
pub fn plan_incremental(faces: &[FaceVector], params: Params) -> Plan {
    let profiles = centroids(faces);
    let mut photos = photos_of(faces);
    let mut plan = Plan::default();
    let mut rest = Vec::new();
    for f in faces.iter().filter(|f| f.person_id.is_none() && !f.manual) {
        let best = profiles
            .iter()
            .filter(|(p, _)| !photos.get(p).is_some_and(|s| s.contains(&f.asset_id)))
            .map(|(p, c)| (*p, cosine(&f.embedding, c)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((p, sim)) if sim >= JOIN_SIMILARITY => {
                photos.entry(p).or_default().insert(f.asset_id);
                plan.moves.push((f.id, Target::Person(p)));
            }
            _ => rest.push(f),
        }
    }
    for (n, group) in find_groups(&rest, params).into_iter().enumerate() {
        plan.new_persons += 1;
        plan.moves
            .extend(group.into_iter().map(|i| (rest[i].id, Target::New(n))));
    }
    plan
}

/// Full re-clustering of every face not assigned by hand. A new cluster
/// that clearly matches an existing person keeps that person (and name),
/// minus faces in photos where that person already has a face assigned by
/// hand; faces left over join a person when close enough.
pub fn plan_recluster(faces: &[FaceVector], params: Params) -> Plan {
    let old = centroids(faces);
    let automatic: Vec<&FaceVector> = faces.iter().filter(|f| !f.manual).collect();
    let mut photos: HashMap<Target, HashSet<i64>> = HashMap::new();
    let mut members: HashMap<Target, Vec<&[f32]>> = HashMap::new();
    for f in faces.iter().filter(|f| f.manual) {
        if let Some(p) = f.person_id {
            photos
                .entry(Target::Person(p))
                .or_default()
                .insert(f.asset_id);
            members
                .entry(Target::Person(p))
                .or_default()
                .push(&f.embedding);
        }
    }
    let mut plan = Plan::default();
    let mut target_of: HashMap<i64, Target> = HashMap::new();
    let mut old_sorted: Vec<(&i64, &Vec<f32>)> = old.iter().collect();
    old_sorted.sort_by_key(|(p, _)| **p);
    for group in find_groups(&automatic, params) {
        let Some(c) = centroid(group.iter().map(|&i| automatic[i].embedding.as_slice())) else {
            continue;
        };
        let keep = old_sorted
            .iter()
            .filter(|(p, _)| !plan.kept.contains(*p))
            .map(|(p, oc)| (**p, cosine(&c, oc)))
            .filter(|(_, s)| *s >= KEEP_SIMILARITY)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let target = match keep {
            Some((p, _)) => {
                plan.kept.push(p);
                Target::Person(p)
            }
            None => {
                plan.new_persons += 1;
                Target::New(plan.new_persons - 1)
            }
        };
        let taken = photos.entry(target).or_default();
        for &i in &group {
            let f = automatic[i];
            if taken.insert(f.asset_id) {
                target_of.insert(f.id, target);
                members.entry(target).or_default().push(&f.embedding);
            }
        }
    }
    // Faces no cluster took join a close person (the clusters' centroids).
    let profiles: Vec<(Target, Vec<f32>)> = members
        .iter()
        .filter_map(|(t, vs)| centroid(vs.iter().copied()).map(|c| (*t, c)))
        .collect();
    for f in &automatic {
        if target_of.contains_key(&f.id) {
            continue;
        }
        let best = profiles
            .iter()
            .filter(|(t, _)| !photos.get(t).is_some_and(|s| s.contains(&f.asset_id)))
            .map(|(t, c)| (*t, cosine(&f.embedding, c)))
            .filter(|(_, s)| *s >= JOIN_SIMILARITY)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((t, _)) = best {
            photos.entry(t).or_default().insert(f.asset_id);
            target_of.insert(f.id, t);
        }
    }
    for f in &automatic {
        let target = target_of.get(&f.id).copied().unwrap_or(Target::Nobody);
        let current = f.person_id.map_or(Target::Nobody, Target::Person);
        if target != current {
            plan.moves.push((f.id, target));
        }
    }
    plan
}

/// A person as smart merge sees them.
#[derive(Debug, Clone)]
pub struct Named {
    /// Person id.
    pub id: i64,
    /// The name a user gave, if any.
    pub name: Option<String>,
}

/// Pairs (source, target) of persons to merge: centroids closer than
/// `threshold` (cosine distance), closest pairs first, never two persons
/// sharing a photo, never two different names; a named person is the
/// target (so the name stays), otherwise the older one.
pub fn plan_smart_merge(
    faces: &[FaceVector],
    persons: &[Named],
    threshold: f32,
) -> Vec<(i64, i64)> {
    let profiles = centroids(faces);
    let mut photos = photos_of(faces);
    let mut names: HashMap<i64, Option<String>> =
        persons.iter().map(|p| (p.id, p.name.clone())).collect();
    let mut ids: Vec<i64> = profiles.keys().copied().collect();
    ids.sort();
    let mut pairs = Vec::new();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            let distance = 1.0 - cosine(&profiles[a], &profiles[b]);
            if distance < threshold {
                pairs.push((distance, *a, *b));
            }
        }
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut merged_into: HashMap<i64, i64> = HashMap::new();
    let mut out = Vec::new();
    for (_, a, b) in pairs {
        if merged_into.contains_key(&a) || merged_into.contains_key(&b) {
            continue;
        }
        let (na, nb) = (
            names.get(&a).cloned().flatten(),
            names.get(&b).cloned().flatten(),
        );
        if matches!((&na, &nb), (Some(x), Some(y)) if x != y) {
            continue;
        }
        let (pa, pb) = (
            photos.get(&a).cloned().unwrap_or_default(),
            photos.get(&b).cloned().unwrap_or_default(),
        );
        if !pa.is_disjoint(&pb) {
            continue;
        }
        let (source, target) = if na.is_none() && nb.is_some() {
            (a, b)
        } else {
            (b, a)
        };
        photos.entry(target).or_default().extend(pa.union(&pb));
        if names.get(&target).cloned().flatten().is_none() {
            names.insert(target, na.or(nb));
        }
        merged_into.insert(source, target);
        out.push((source, target));
    }
    out
}

/// Apply a plan: create its persons, then move its faces in one
/// transaction; `faces` follow in memory, so the profiles can be computed
/// without loading every embedding again. Returns the number of faces
/// given a person.
async fn apply(store: &Store, plan: &Plan, faces: &mut [FaceVector]) -> Result<usize> {
    let mut created = Vec::with_capacity(plan.new_persons);
    for _ in 0..plan.new_persons {
        created.push(store.create_person(None).await?);
    }
    let assignments: HashMap<i64, Option<i64>> = plan
        .moves
        .iter()
        .map(|(face, t)| {
            let person = match t {
                Target::Person(p) => Some(*p),
                Target::New(n) => Some(created[*n]),
                Target::Nobody => None,
            };
            (*face, person)
        })
        .collect();
    let list: Vec<(i64, Option<i64>)> = assignments.iter().map(|(f, p)| (*f, *p)).collect();
    store.assign_faces(&list).await?;
    for f in faces.iter_mut() {
        if let Some(p) = assignments.get(&f.id) {
            f.person_id = *p;
        }
    }
    Ok(list.iter().filter(|(_, p)| p.is_some()).count())
}

async fn on_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// Incremental clustering (see [`plan_incremental`]).
pub async fn cluster(store: &Store, params: Params) -> Result<ClusterOutcome> {
    let faces = store.face_vectors().await?;
    let newest = faces.iter().map(|f| f.id).max().unwrap_or(0);
    let (mut faces, plan) = on_blocking(move || {
        let plan = plan_incremental(&faces, params);
        (faces, plan)
    })
    .await?;
    let faces_assigned = apply(store, &plan, &mut faces).await?;
    save_profiles(store, &faces).await?;
    store.set_clustered_through(newest).await?;
    Ok(ClusterOutcome {
        persons_created: plan.new_persons,
        faces_assigned,
    })
}

/// Full re-clustering (see [`plan_recluster`]). Returns (persons, faces
/// assigned automatically).
pub async fn recluster(store: &Store, params: Params) -> Result<(usize, usize)> {
    let faces = store.face_vectors().await?;
    let newest = faces.iter().map(|f| f.id).max().unwrap_or(0);
    let (mut faces, plan) = on_blocking(move || {
        let plan = plan_recluster(&faces, params);
        (faces, plan)
    })
    .await?;
    apply(store, &plan, &mut faces).await?;
    store.delete_empty_persons().await?;
    save_profiles(store, &faces).await?;
    store.set_clustered_through(newest).await?;
    let assigned = faces
        .iter()
        .filter(|f| !f.manual && f.person_id.is_some())
        .count();
    Ok((store.persons().await?.len(), assigned))
}

/// Recompute every person's centroid from their faces (and drop the
/// profiles of persons left without faces).
pub async fn refresh_profiles(store: &Store) -> Result<()> {
    save_profiles(store, &store.face_vectors().await?).await
}

/// Store the profiles (centroid, face count) that `faces` give.
async fn save_profiles(store: &Store, faces: &[FaceVector]) -> Result<()> {
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for f in faces {
        if let Some(p) = f.person_id {
            *counts.entry(p).or_default() += 1;
        }
    }
    store.replace_profiles(&centroids(faces), &counts).await
}

/// Merge persons closer than `threshold` (see [`plan_smart_merge`]).
/// Returns (persons merged, faces moved).
pub async fn smart_merge(store: &Store, threshold: f32) -> Result<(usize, i64)> {
    let faces = store.face_vectors().await?;
    let persons: Vec<Named> = store
        .persons()
        .await?
        .into_iter()
        .map(|p| Named {
            id: p.id,
            name: p.named.then_some(p.name),
        })
        .collect();
    let (mut faces, pairs) = on_blocking(move || {
        let pairs = plan_smart_merge(&faces, &persons, threshold);
        (faces, pairs)
    })
    .await?;
    let mut moved = 0;
    for (source, target) in &pairs {
        moved += store.merge_persons(*source, *target).await?;
        // The plan never merges persons sharing a photo: every face moves.
        for f in faces.iter_mut().filter(|f| f.person_id == Some(*source)) {
            f.person_id = Some(*target);
        }
    }
    save_profiles(store, &faces).await?;
    Ok((pairs.len(), moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector near axis `axis` of 8 dimensions, nudged by `jitter`
    /// along the next axis (cosine to the axis ≈ 1 − jitter²/2).
    fn vector(axis: usize, jitter: f32) -> Vec<f32> {
        let mut v = vec![0.0f32; 8];
        v[axis] = 1.0;
        v[(axis + 1) % 8] = jitter;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    fn face(id: i64, asset: i64, axis: usize, jitter: f32) -> FaceVector {
        FaceVector {
            id,
            asset_id: asset,
            person_id: None,
            manual: false,
            score: 0.9,
            embedding: vector(axis, jitter),
        }
    }

    fn params() -> Params {
        Params::from_settings(&FaceSettings::default(), None, None)
    }

    fn new_groups(plan: &Plan) -> Vec<Vec<i64>> {
        let mut groups = vec![Vec::new(); plan.new_persons];
        for (f, t) in &plan.moves {
            if let Target::New(n) = t {
                groups[*n].push(*f);
            }
        }
        for g in &mut groups {
            g.sort();
        }
        groups.sort();
        groups
    }

    #[test]
    fn two_people_become_two_persons_and_noise_stays_alone() {
        let mut faces = Vec::new();
        for i in 0..4 {
            faces.push(face(i + 1, i + 1, 0, 0.05 * i as f32));
            faces.push(face(i + 11, i + 11, 3, 0.05 * i as f32));
        }
        faces.push(face(30, 30, 6, 0.0));
        let plan = plan_incremental(&faces, params());
        assert_eq!(
            new_groups(&plan),
            vec![vec![1, 2, 3, 4], vec![11, 12, 13, 14]]
        );
    }

    #[test]
    fn a_library_of_one_person_still_gets_that_person() {
        // HDBSCAN alone never makes its root a cluster: three photos of one
        // man, among unrelated faces, must still become a person.
        let faces = vec![
            face(1, 1, 0, 0.0),
            face(2, 2, 0, 0.1),
            face(3, 3, 0, 0.2),
            face(4, 4, 3, 0.0),
            face(5, 5, 5, 0.0),
        ];
        assert_eq!(
            new_groups(&plan_incremental(&faces, params())),
            vec![vec![1, 2, 3]]
        );
        assert_eq!(
            new_groups(&plan_incremental(&faces[..3], params())),
            vec![vec![1, 2, 3]]
        );
    }

    #[test]
    fn min_cluster_size_is_honoured() {
        let faces: Vec<FaceVector> = (0..3)
            .map(|i| face(i + 1, i + 1, 0, 0.1 * i as f32))
            .collect();
        let strict = Params {
            min_cluster_size: 4,
            ..params()
        };
        assert_eq!(plan_incremental(&faces, strict).new_persons, 0);
        assert_eq!(plan_incremental(&faces, params()).new_persons, 1);
    }

    #[test]
    fn new_faces_join_a_known_person_but_never_twice_in_one_photo() {
        let mut faces = vec![face(1, 1, 0, 0.0), face(2, 2, 0, 0.1)];
        faces[0].person_id = Some(7);
        faces[1].person_id = Some(7);
        faces.push(face(3, 3, 0, 0.15)); // a new photo of person 7
        faces.push(face(4, 1, 0, 0.05)); // a look-alike in a photo 7 is in
        let plan = plan_incremental(&faces, params());
        assert_eq!(plan.moves, vec![(3, Target::Person(7))]);
        assert_eq!(plan.new_persons, 0);
    }

    #[test]
    fn clusters_keep_one_face_per_photo() {
        // Two near-identical faces in one photo (a mirror, a poster): only
        // the one closest to the group's centre joins.
        let faces = vec![
            face(1, 1, 0, 0.0),
            face(2, 2, 0, 0.05),
            face(3, 2, 0, 0.3),
            face(4, 3, 0, 0.1),
        ];
        let groups = new_groups(&plan_incremental(&faces, params()));
        assert_eq!(groups.len(), 1);
        assert!(
            !(groups[0].contains(&2) && groups[0].contains(&3)),
            "{groups:?}"
        );
    }

    #[test]
    fn manual_choices_survive_a_recluster_and_names_are_kept() {
        let mut faces = Vec::new();
        for i in 0..4 {
            let mut f = face(i + 1, i + 1, 0, 0.05 * i as f32);
            f.person_id = Some(5);
            faces.push(f);
        }
        // Put in person 9 by hand, though it looks like person 5.
        let mut pinned = face(20, 20, 0, 0.02);
        pinned.person_id = Some(9);
        pinned.manual = true;
        faces.push(pinned);
        // Unassigned by hand: stays out of every person.
        let mut out = face(21, 21, 0, 0.01);
        out.manual = true;
        faces.push(out);
        let plan = plan_recluster(&faces, params());
        assert_eq!(plan.kept, vec![5]);
        assert!(plan.moves.iter().all(|(f, _)| *f != 20 && *f != 21));
        // Person 5 keeps its four faces: nothing moves.
        assert!(plan.moves.is_empty(), "{:?}", plan.moves);
    }

    #[test]
    fn recluster_never_puts_a_face_beside_a_manual_one_in_the_same_photo() {
        let mut faces = Vec::new();
        for i in 0..4 {
            let mut f = face(i + 1, i + 1, 0, 0.05 * i as f32);
            f.person_id = Some(5);
            faces.push(f);
        }
        // By hand, person 5 is also the second face of photo 1.
        let mut manual = face(10, 1, 0, 0.2);
        manual.person_id = Some(5);
        manual.manual = true;
        faces.push(manual);
        let plan = plan_recluster(&faces, params());
        let mut person_of: HashMap<i64, Option<i64>> =
            faces.iter().map(|f| (f.id, f.person_id)).collect();
        for (f, t) in &plan.moves {
            person_of.insert(
                *f,
                match t {
                    Target::Person(p) => Some(*p),
                    Target::New(n) => Some(-(*n as i64) - 1),
                    Target::Nobody => None,
                },
            );
        }
        let in_photo_1: Vec<Option<i64>> = faces
            .iter()
            .filter(|f| f.asset_id == 1)
            .map(|f| person_of[&f.id])
            .collect();
        assert_ne!(in_photo_1[0], in_photo_1[1], "{person_of:?}");
        assert_eq!(person_of[&10], Some(5));
    }

    #[test]
    fn smart_merge_keeps_names_and_never_merges_two_names() {
        let mut faces = Vec::new();
        for (id, asset, person, jitter) in [
            (1, 1, 1, 0.0),
            (2, 2, 1, 0.05),
            (3, 3, 2, 0.1),
            (4, 4, 2, 0.12),
            (5, 5, 3, 0.08),
        ] {
            let mut f = face(id, asset, 0, jitter);
            f.person_id = Some(person);
            faces.push(f);
        }
        let persons = |names: [Option<&str>; 3]| -> Vec<Named> {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| Named {
                    id: i as i64 + 1,
                    name: n.map(str::to_string),
                })
                .collect()
        };
        // Where each person ends up once the merges are applied in order.
        let end = |pairs: &[(i64, i64)], mut p: i64| {
            while let Some((_, t)) = pairs.iter().find(|(s, _)| *s == p) {
                p = *t;
            }
            p
        };
        // Unnamed: everyone merges into the oldest.
        let pairs = plan_smart_merge(&faces, &persons([None, None, None]), 0.5);
        assert!((1..=3).all(|p| end(&pairs, p) == 1), "{pairs:?}");
        // Person 2 is named: the others merge into them, not away.
        let pairs = plan_smart_merge(&faces, &persons([None, Some("Ann"), None]), 0.5);
        assert!((1..=3).all(|p| end(&pairs, p) == 2), "{pairs:?}");
        assert_eq!(pairs.len(), 2);
        // Two different names never merge.
        let pairs = plan_smart_merge(&faces, &persons([Some("Bo"), Some("Ann"), None]), 0.5);
        assert!(
            !pairs.contains(&(2, 1)) && !pairs.contains(&(1, 2)),
            "{pairs:?}"
        );
        assert_eq!(pairs.len(), 1);
        // Nothing is close enough at a tiny threshold.
        assert!(plan_smart_merge(&faces, &persons([None, None, None]), 0.0001).is_empty());
    }
}
