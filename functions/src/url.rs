//! Storage URLs and their normal form.
//!
//! Every URL or path a user gives (inputs, outputs, the work dir, job dirs) is
//! normalised here once, before it is opened or compared:
//!
//! - a plain path or `file://PATH` becomes an absolute path with `.` and `..`
//!   resolved and every existing symlink followed (component by component, as
//!   the kernel resolves it), so `o/a.zarr`, `./o/a.zarr`, `file:///abs/o/a.zarr`
//!   and a symlink to it are all the same location;
//! - `s3://BUCKET/PREFIX` and `memory://NAME/PATH` lose empty segments and
//!   trailing slashes; `.` and `..` segments are refused (object stores would
//!   take them literally).
//!
//! Two normal URLs are compared with [`NormalUrl::overlaps`]: equal, or one
//! inside the other.

use std::path::{Component, PathBuf};

/// Which store a URL lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// The local filesystem.
    File,
    /// An in-process store, by name.
    Memory(String),
    /// An S3 bucket.
    S3(String),
}

impl Root {
    /// `file://`, `memory://NAME` or `s3://BUCKET`.
    pub fn key(&self) -> String {
        match self {
            Root::File => "file://".to_string(),
            Root::Memory(name) => format!("memory://{name}"),
            Root::S3(bucket) => format!("s3://{bucket}"),
        }
    }
}

/// A URL in normal form: a root and the path segments inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalUrl {
    /// The store.
    pub root: Root,
    /// Path segments inside the store (none: the root itself).
    pub segments: Vec<String>,
}

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

impl NormalUrl {
    /// Normalises a URL or path (see the module documentation).
    pub fn parse(url: &str) -> Result<NormalUrl, UrlError> {
        let supported = "use a path, file://PATH, memory://NAME/PATH or s3://BUCKET/PREFIX";
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket(url, bucket)?;
            Ok(NormalUrl { root: Root::S3(bucket.to_string()), segments: key_segments(url, prefix)? })
        } else if let Some(rest) = url.strip_prefix("memory://") {
            let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
            Ok(NormalUrl { root: Root::Memory(name.to_string()), segments: key_segments(url, path)? })
        } else if url.contains("://") && !url.starts_with("file://") {
            Err(UrlError(format!("unsupported storage URL '{url}': {supported}")))
        } else {
            let path = url.strip_prefix("file://").unwrap_or(url);
            if path.is_empty() {
                return Err(UrlError(format!("empty path in '{url}': {supported}")));
            }
            Ok(NormalUrl { root: Root::File, segments: local_segments(url, path)? })
        }
    }

    /// The path inside the store, segments joined with `/` (no leading slash).
    pub fn path(&self) -> String {
        self.segments.join("/")
    }

    /// True when the two name the same location or one lies inside the other.
    pub fn overlaps(&self, other: &NormalUrl) -> bool {
        self.root == other.root
            && (self.segments.starts_with(&other.segments) || other.segments.starts_with(&self.segments))
    }
}

impl std::fmt::Display for NormalUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.root {
            Root::File => write!(f, "/{}", self.path()),
            _ => write!(f, "{}/{}", self.root.key(), self.path()),
        }
    }
}

/// S3 bucket names: 3–63 characters of lower-case letters, digits, `.` and `-`.
fn check_bucket(url: &str, bucket: &str) -> Result<(), UrlError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(UrlError(format!(
            "bad S3 bucket name '{bucket}' in '{url}': a bucket name has 3 to 63 lower-case letters, digits, '.' or '-'"
        )))
    }
}

/// Segments of an object-store key prefix: empty ones dropped, `.` and `..` refused.
fn key_segments(url: &str, prefix: &str) -> Result<Vec<String>, UrlError> {
    let segments: Vec<String> = prefix.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    if let Some(bad) = segments.iter().find(|s| *s == "." || *s == "..") {
        return Err(UrlError(format!(
            "'{url}' has a '{bad}' segment: object store keys are taken literally, so write the prefix without it"
        )));
    }
    Ok(segments)
}

/// Segments of an absolute local path with `.`, `..` and existing symlinks resolved.
fn local_segments(url: &str, path: &str) -> Result<Vec<String>, UrlError> {
    let cwd = || std::env::current_dir().map_err(|e| UrlError(format!("cannot resolve '{url}': no current directory: {e}")));
    let given = PathBuf::from(path);
    let mut resolved = if given.is_absolute() {
        PathBuf::from("/")
    } else {
        let cwd = cwd()?;
        cwd.canonicalize().unwrap_or(cwd)
    };
    for component in given.components() {
        match component {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => {
                resolved.push(name);
                // Follow a symlink (or confirm a real path) while the path exists.
                if std::fs::symlink_metadata(&resolved).is_ok() {
                    resolved = resolved
                        .canonicalize()
                        .map_err(|e| UrlError(format!("cannot resolve '{url}' at {}: {e}", resolved.display())))?;
                }
            }
        }
    }
    resolved
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(
                name.to_str()
                    .map(str::to_string)
                    .ok_or_else(|| UrlError(format!("'{url}' is not valid UTF-8 once resolved ({})", resolved.display()))),
            ),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(url: &str) -> NormalUrl {
        NormalUrl::parse(url).unwrap()
    }

    #[test]
    fn local_forms_of_one_path_are_equal() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("o/a.zarr")).unwrap();
        std::os::unix::fs::symlink(base.join("o"), base.join("link")).unwrap();
        let b = base.display();
        let want = n(&format!("{b}/o/a.zarr"));
        for form in [
            format!("{b}/o/a.zarr/"),
            format!("file://{b}/o/a.zarr"),
            format!("{b}/./o//a.zarr"),
            format!("{b}/o/x/../a.zarr"),
            format!("{b}/link/a.zarr"),
        ] {
            assert_eq!(n(&form), want, "{form}");
        }
        // A path that does not exist yet is still resolved through existing symlinks.
        assert_eq!(n(&format!("{b}/link/new.zarr")), n(&format!("{b}/o/new.zarr")));
        assert_eq!(want.to_string(), format!("{b}/o/a.zarr"));
    }

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
        assert_eq!(n("x.zarr").to_string(), cwd.join("x.zarr").display().to_string());
        assert_eq!(n("../in/a.zarr").to_string(), cwd.parent().unwrap().join("in/a.zarr").display().to_string());
        assert_eq!(n("/").segments, Vec::<String>::new());
    }

    #[test]
    fn object_store_forms() {
        assert_eq!(n("s3://bucket/a//b/"), n("s3://bucket/a/b"));
        assert_eq!(n("s3://bucket").segments, Vec::<String>::new());
        assert_ne!(n("s3://bucket/a").root, n("s3://other/a").root);
        assert_eq!(n("memory://m/x/").to_string(), "memory://m/x");
        for bad in ["s3://bucket/a/../b", "s3://bucket/./b", "s3://Bad_Bucket/x", "s3:///x", "gs://b/x", "", "file://"] {
            assert!(NormalUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_is_equality_or_containment() {
        assert!(n("s3://b1c/a").overlaps(&n("s3://b1c/a/b")));
        assert!(n("s3://b1c/a/b").overlaps(&n("s3://b1c/a")));
        assert!(n("s3://b1c/a").overlaps(&n("s3://b1c/a/")));
        assert!(!n("s3://b1c/a").overlaps(&n("s3://b1c/ab")));
        assert!(!n("s3://b1c/a").overlaps(&n("s3://b2c/a")));
        assert!(n("/").overlaps(&n("/tmp/x")));
        assert!(!n("memory://m/a").overlaps(&n("memory://n/a")));
    }
}
