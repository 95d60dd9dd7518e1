//! Axis names and attributes carried from inputs to results
//! ([`cubed_task::plan::Labels`]): an input read from Zarr keeps its
//! `dimension_names` (or xarray's `_ARRAY_DIMENSIONS`) and attributes, and
//! each operation passes on what stays well defined, so that xarray opens a
//! result with the right dimensions:
//!
//! - names: an elementwise result's axis keeps the name the arguments
//!   spanning it agree on (aligned to the right, not counting those
//!   broadcast from length 1); reductions drop the reduced axes' names
//!   (kept with `keepdims`); views, scans, rechunks, stencils and joins keep
//!   the names of the axes they read; a contraction its free axes' names;
//! - attributes follow xarray's defaults: kept by what does not change the
//!   values (indexing and the other views, rechunk, astype, concat when the
//!   parts agree), dropped by arithmetic, reductions, scans, stencils and
//!   contractions (a `units` attribute would no longer hold).

use cubed_task::plan::Labels;

use crate::array::Array;

/// An elementwise result of `shape` from `args`; with `keep_attributes`,
/// the attributes every array argument (Python scalars aside) agrees on.
pub(crate) fn elementwise(args: &[&Array], shape: &[u64], keep_attributes: bool) -> Labels {
    let n = shape.len();
    let mut names: Vec<Option<String>> = vec![None; n];
    let mut conflict = vec![false; n];
    for a in args {
        let Some(own) = &a.labels().dimension_names else { continue };
        let off = n - a.ndim();
        for (k, (name, &len)) in own.iter().zip(a.shape()).enumerate() {
            let (Some(name), true) = (name, len == shape[off + k]) else { continue };
            match &names[off + k] {
                Some(seen) if seen != name => conflict[off + k] = true,
                _ => names[off + k] = Some(name.clone()),
            }
        }
    }
    for (name, c) in names.iter_mut().zip(conflict) {
        if c {
            *name = None;
        }
    }
    let arrays: Vec<&Labels> = args.iter().filter(|a| !a.is_weak()).map(|a| a.labels()).collect();
    let attributes = match arrays.split_first() {
        Some((first, rest)) if keep_attributes && rest.iter().all(|l| l.attributes == first.attributes) => first.attributes.clone(),
        _ => Default::default(),
    };
    Labels { dimension_names: named(names), attributes }
}

/// A result whose axis `j` is axis `axes[j]` of `x` (`None`: an axis `x`
/// does not have), with `x`'s attributes when `keep_attributes`.
pub(crate) fn from_axes(x: &Array, axes: impl IntoIterator<Item = Option<usize>>, keep_attributes: bool) -> Labels {
    let own = x.labels();
    let names = match &own.dimension_names {
        Some(n) => axes.into_iter().map(|a| a.and_then(|k| n.get(k).cloned().flatten())).collect(),
        None => vec![],
    };
    let attributes = if keep_attributes { own.attributes.clone() } else { Default::default() };
    Labels { dimension_names: named(names), attributes }
}

/// Axis names alone (a contraction's: no attributes).
pub(crate) fn from_names(names: Vec<Option<String>>) -> Labels {
    Labels { dimension_names: named(names), attributes: Default::default() }
}

/// Names only when at least one axis has one; a name given to two axes
/// (`z @ z.T`) names only the first, as xarray needs distinct dimensions; unnamed
/// axes of a named array are called `dim_<axis>`, as xarray calls them.
fn named(mut names: Vec<Option<String>>) -> Option<Vec<Option<String>>> {
    let mut seen: Vec<String> = vec![];
    for n in names.iter_mut() {
        match n {
            Some(name) if seen.contains(name) => *n = None,
            Some(name) => seen.push(name.clone()),
            None => {}
        }
    }
    if names.iter().all(Option::is_none) {
        return None;
    }
    // The others get xarray's names for unnamed dimensions, so that every
    // reader sees distinct strings.
    let taken: Vec<String> = names.iter().flatten().cloned().collect();
    for (k, n) in names.iter_mut().enumerate() {
        if n.is_none() {
            let mut name = format!("dim_{k}");
            while taken.contains(&name) {
                name.push('_');
            }
            *n = Some(name);
        }
    }
    Some(names)
}

/// Attributes that describe how a file stores its values, not the values:
/// xarray's CF encoding (a fill value in the stored type, packing) and the
/// writer's own note. cubed-rs computes on the stored values and writes its
/// own, so they are not passed on.
const ENCODING_ATTRIBUTES: &[&str] = &["_FillValue", "missing_value", "scale_factor", "add_offset", "_Unsigned", "dtype", "_zarrs"];

/// What a Zarr array's metadata says: its `dimension_names`, or for Zarr v2
/// the `_ARRAY_DIMENSIONS` attribute xarray writes (then not kept as an
/// attribute), and its other attributes but the encoding ones.
pub(crate) fn from_zarr(dimension_names: Option<Vec<Option<String>>>, mut attributes: serde_json::Map<String, serde_json::Value>, ndim: usize) -> Labels {
    for key in ENCODING_ATTRIBUTES {
        attributes.remove(*key);
    }
    let xarray = attributes.remove("_ARRAY_DIMENSIONS").and_then(|v| {
        let list: Vec<Option<String>> = v.as_array()?.iter().map(|n| n.as_str().map(str::to_string)).collect();
        (list.len() == ndim).then_some(list)
    });
    let names = dimension_names.filter(|n| n.len() == ndim).or(xarray).and_then(named);
    Labels { dimension_names: names, attributes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[Option<&str>]) -> Vec<Option<String>> {
        list.iter().map(|n| n.map(str::to_string)).collect()
    }

    #[test]
    fn zarr_labels_take_xarrays_v2_names_and_drop_encoding() {
        let attrs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"_ARRAY_DIMENSIONS": ["time", "lat"], "units": "K", "_FillValue": "AAAAAAAA+H8=", "scale_factor": 0.1}"#).unwrap();
        let l = from_zarr(None, attrs.clone(), 2);
        assert_eq!(l.dimension_names, Some(names(&[Some("time"), Some("lat")])));
        assert_eq!(serde_json::Value::Object(l.attributes), serde_json::json!({"units": "K"}));
        // v3 names win; a list of the wrong length is ignored.
        assert_eq!(from_zarr(Some(names(&[Some("t"), None])), attrs.clone(), 2).dimension_names, Some(names(&[Some("t"), Some("dim_1")])));
        assert_eq!(from_zarr(None, attrs, 3).dimension_names, None);
    }

    #[test]
    fn names_are_distinct_or_absent() {
        assert_eq!(named(names(&[None, None])), None);
        assert_eq!(named(names(&[Some("lat"), Some("lat")])), Some(names(&[Some("lat"), Some("dim_1")])));
        assert_eq!(named(names(&[None, Some("dim_0")])), Some(names(&[Some("dim_0_"), Some("dim_0")])));
    }
}
