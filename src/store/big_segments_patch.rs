//! Big Segments patches: LaunchDarkly's unit of change to the membership data, as the Relay Proxy
//! receives it (`GET /sdk/big-segments/revisions`, the `/big-segments` stream) and applies it to a
//! store ([`BigSegmentStore::apply_patch`](super::big_segments::BigSegmentStore::apply_patch)).
//!
//! A patch names one segment ref (`segmentId`, `<key>.g<generation>`), its `version` and the
//! `previousVersion` it follows, and the context hashes that gain or lose the ref in the include
//! and exclude sets. Patches form a chain: a store applies a patch only when its cursor (the
//! version of the last patch applied) equals the patch's `previousVersion`, and moves the cursor
//! in the same write (Redis: one transaction; DynamoDB: conditional transactions, the cursor last),
//! so a patch is never skipped and never applied twice out of order.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::big_segments::Membership;

/// One patch, as LaunchDarkly sends it (fields it may add are ignored; `null` lists are empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    #[serde(default, deserialize_with = "null_default")]
    pub environment_id: String,
    /// The ref the changes are about.
    pub segment_id: String,
    pub version: String,
    /// The version this patch follows (`""` for the first one).
    #[serde(default, deserialize_with = "null_default")]
    pub previous_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub changes: Changes,
}

/// The context hashes that gain (`add`) or lose (`remove`) the ref, per set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    #[serde(default, deserialize_with = "null_default")]
    pub included: SetChanges,
    #[serde(default, deserialize_with = "null_default")]
    pub excluded: SetChanges,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetChanges {
    #[serde(default, deserialize_with = "null_default")]
    pub add: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub remove: Vec<String>,
}

fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A poll answer or a stream event: a JSON array of patches.
pub fn parse_patches(text: &str) -> Result<Vec<Patch>, String> {
    let patches: Vec<Patch> =
        serde_json::from_str(text).map_err(|e| format!("not a list of Big Segments patches: {e}"))?;
    if let Some(p) = patches.iter().find(|p| p.segment_id.is_empty() || p.version.is_empty()) {
        return Err(format!(
            "a Big Segments patch without {} (previousVersion {:?})",
            if p.segment_id.is_empty() { "a segmentId" } else { "a version" },
            p.previous_version
        ));
    }
    Ok(patches)
}

/// What [`apply_patch`](super::big_segments::BigSegmentStore::apply_patch) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The patch was applied and the cursor is now its version.
    Applied,
    /// The store's cursor is not the patch's `previousVersion`: nothing was written (the caller
    /// resynchronizes from the cursor).
    OutOfOrder { cursor: Option<String> },
}

/// Which set of a context a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Set {
    Included,
    Excluded,
}

/// One change of one set of one context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    pub hash: &'a str,
    pub set: Set,
    /// `true`: add the ref; `false`: remove it.
    pub add: bool,
}

impl Patch {
    /// Every change, in the Relay Proxy's order: included.add, excluded.add, included.remove,
    /// excluded.remove (a hash both added and removed ends without the ref).
    pub fn changes(&self) -> impl Iterator<Item = Change<'_>> {
        let c = &self.changes;
        [
            (&c.included.add, Set::Included, true),
            (&c.excluded.add, Set::Excluded, true),
            (&c.included.remove, Set::Included, false),
            (&c.excluded.remove, Set::Excluded, false),
        ]
        .into_iter()
        .flat_map(|(hashes, set, add)| hashes.iter().map(move |h| Change { hash: h, set, add }))
    }

    /// The changes grouped per set of a context, each group in the Relay Proxy's order: what one
    /// key (Redis) or one attribute of one item (DynamoDB) receives.
    pub fn per_set(&self) -> BTreeMap<(&str, Set), Vec<bool>> {
        let mut out: BTreeMap<(&str, Set), Vec<bool>> = BTreeMap::new();
        for c in self.changes() {
            out.entry((c.hash, c.set)).or_default().push(c.add);
        }
        out
    }

    /// Whether a store whose cursor is `cursor` takes this patch, by the stricter (DynamoDB) rule:
    /// the cursor is the patch's `previousVersion`, a missing cursor counting as `""`.
    pub fn follows(&self, cursor: Option<&str>) -> bool {
        cursor.unwrap_or("") == self.previous_version
    }

    /// Apply the changes to memberships held in memory (the in-memory store; tests).
    pub fn apply_to(&self, memberships: &mut BTreeMap<String, Membership>) {
        for c in self.changes() {
            let m = memberships.entry(c.hash.to_string()).or_default();
            let set = match c.set {
                Set::Included => &mut m.included,
                Set::Excluded => &mut m.excluded,
            };
            if c.add {
                set.insert(self.segment_id.clone());
            } else {
                set.remove(&self.segment_id);
            }
            if m.is_empty() {
                memberships.remove(c.hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_parse_as_launchdarkly_sends_them() {
        let text = r#"[{"environmentId":"e","segmentId":"beta.g1","version":"2","previousVersion":"1",
            "changes":{"included":{"add":["h1","h2"],"remove":null},"excluded":{"add":["h3"]}},"extra":1},
            {"segmentId":"beta.g1","version":"3","previousVersion":null,"changes":null}]"#;
        let p = parse_patches(text).unwrap();
        assert_eq!(p[0].changes.included.add, ["h1", "h2"]);
        assert!(p[0].changes.included.remove.is_empty());
        assert_eq!(p[0].changes.excluded.add, ["h3"]);
        assert_eq!((p[1].previous_version.as_str(), p[1].changes.clone()), ("", Changes::default()));
        assert!(parse_patches(r#"[{"segmentId":"a.g1"}]"#).is_err());
        assert!(parse_patches(r#"[{"segmentId":"","version":"1"}]"#).unwrap_err().contains("segmentId"));
        assert!(parse_patches("{}").is_err());
    }

    #[test]
    fn changes_come_in_the_relay_order_and_a_removal_wins() {
        let p = Patch {
            segment_id: "s.g1".into(),
            version: "2".into(),
            changes: Changes {
                included: SetChanges { add: vec!["a".into(), "b".into()], remove: vec!["a".into()] },
                excluded: SetChanges { add: vec!["c".into()], remove: vec!["d".into()] },
            },
            ..Patch::default()
        };
        let order: Vec<(&str, Set, bool)> = p.changes().map(|c| (c.hash, c.set, c.add)).collect();
        assert_eq!(
            order,
            [
                ("a", Set::Included, true),
                ("b", Set::Included, true),
                ("c", Set::Excluded, true),
                ("a", Set::Included, false),
                ("d", Set::Excluded, false)
            ]
        );
        assert_eq!(p.per_set()[&("a", Set::Included)], [true, false]);
        let mut m = BTreeMap::new();
        m.insert("d".to_string(), Membership::new([], ["s.g1"]));
        p.apply_to(&mut m);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert!(p.follows(None) && p.follows(Some("")) && !p.follows(Some("1")));
    }
}
