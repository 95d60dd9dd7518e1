//! Storage by URL: plain paths and `file://`, `memory://NAME/...` and
//! `s3://BUCKET/PREFIX`, all through `object_store` (atomic whole-object puts;
//! local files are written to a temporary file and renamed), with zarrs on top.
//! S3 credentials and region come from the AWS default chain ([`aws`]).
//!
//! One store client per root (bucket, memory name, local filesystem) is kept
//! for the life of the process, so a warm function reuses its S3 connections.

pub mod aws;
pub mod decode;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use zarrs::array::{Array, ArrayBuilder, CodecOptions};
use zarrs::array::codec::{GzipCodec, ZstdCodec};
use zarrs::storage::storage_adapter::async_to_sync::{AsyncToSyncBlockOn, AsyncToSyncStorageAdapter};
use zarrs::storage::ReadableWritableListableStorage;
use zarrs_object_store::AsyncObjectStore;

use crate::chunk::ChunkData;
use decode::{encoded_limit, ChunkDecoder};
use crate::dtype::DType;
use crate::plan::{ArrayMeta, Codec};
use crate::url::NormalUrl;

/// A zarrs array on any supported store.
pub type ZarrArray = Array<dyn zarrs::storage::ReadableWritableListableStorageTraits>;

/// Errors opening or using a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL has a scheme or form we do not support (the message says which).
    #[error("{0}")]
    BadUrl(String),
    /// The store could not be configured (credentials, endpoint, ...).
    #[error("cannot open storage for '{url}': {message}")]
    Config {
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// No Zarr array at the URL, or one we cannot read.
    #[error("cannot open Zarr array at '{url}': {message}")]
    NotAnArray {
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// A transient I/O failure.
    #[error("{0}")]
    Io(String),
}

/// A parsed URL: the store client of its root and the path inside it.
#[derive(Clone)]
pub struct StoreUrl {
    /// The object store of the root.
    pub store: Arc<dyn ObjectStore>,
    /// Path of the URL inside the store (no leading slash).
    pub path: String,
    /// The URL in normal form.
    pub location: NormalUrl,
    zarr: ReadableWritableListableStorage,
}

struct BlockOnIo;

impl AsyncToSyncBlockOn for BlockOnIo {
    fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        block_on_io(future)
    }
}

/// Runs a storage future to completion from synchronous code. Called from
/// inside a multi-threaded tokio runtime (an `async fn` using the sync API),
/// it first moves this worker's other tasks away with `block_in_place`.
pub fn block_on_io<F: core::future::Future>(future: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| io_runtime().block_on(future))
        }
        _ => io_runtime().block_on(future),
    }
}

/// The runtime that drives all storage I/O. Synchronous task code calls into it
/// from worker threads, which never run inside another runtime's async context.
pub fn io_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cubed-io")
            .enable_all()
            .build()
            .expect("cannot start the I/O runtime")
    })
}

/// The clients of one root: the object store and zarrs' synchronous view of it.
type Root = (Arc<dyn ObjectStore>, ReadableWritableListableStorage);

fn roots() -> &'static Mutex<HashMap<String, Root>> {
    static ROOTS: OnceLock<Mutex<HashMap<String, Root>>> = OnceLock::new();
    ROOTS.get_or_init(Default::default)
}

/// An S3 client for `bucket`: object_store's settings from the environment
/// (`AWS_ENDPOINT_URL(_S3)`, `AWS_SKIP_SIGNATURE`, ...), credentials from the
/// AWS default chain and the region as the AWS SDK resolves it (see [`aws`]).
fn s3_store(url: &str, bucket: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    use object_store::aws::AmazonS3ConfigKey;
    let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
    if builder.get_config_value(&AmazonS3ConfigKey::SkipSignature).is_none_or(|v| v != "true") {
        builder = builder.with_credentials(Arc::new(aws::ChainCredentials::new()));
    }
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_S3").or_else(|_| std::env::var("AWS_ENDPOINT_URL")) {
        check_endpoint(url, &endpoint)?;
        builder = builder
            .with_endpoint(&endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        // The profile's region, else us-east-1 (object_store's default too).
        let region = block_on_io(aws::sdk_config()).region().map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
        builder = builder.with_region(region);
    }
    let store = builder.build().map_err(|e| StoreError::Config { url: url.into(), message: e.to_string() })?;
    Ok(Arc::new(store))
}

/// An S3 endpoint must be an absolute `http://` or `https://` URL with a host:
/// a malformed one is an error here, at start-up, not a panic inside a task.
fn check_endpoint(url: &str, endpoint: &str) -> Result<(), StoreError> {
    let bad = |why: &str| StoreError::Config {
        url: url.into(),
        message: format!("AWS_ENDPOINT_URL(_S3) '{endpoint}' is not a usable endpoint ({why}); expected e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com"),
    };
    let parsed = url::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(())
}

impl StoreUrl {
    /// Normalises a URL or path (see [`crate::url`]) and returns (a shared
    /// client for) its store.
    pub fn parse(url: &str) -> Result<StoreUrl, StoreError> {
        let normal = NormalUrl::parse(url).map_err(|e| StoreError::BadUrl(e.0))?;
        let (root, path) = (normal.root.key(), normal.path());
        let mut roots = roots().lock().expect("store registry poisoned");
        let (store, zarr) = match roots.get(&root) {
            Some(entry) => entry.clone(),
            None => {
                let store: Arc<dyn ObjectStore> = if let Some(bucket) = root.strip_prefix("s3://") {
                    s3_store(url, bucket)?
                } else if root.starts_with("memory://") {
                    Arc::new(object_store::memory::InMemory::new())
                } else {
                    Arc::new(object_store::local::LocalFileSystem::new())
                };
                let zarr: ReadableWritableListableStorage = Arc::new(AsyncToSyncStorageAdapter::new(
                    Arc::new(AsyncObjectStore::new(store.clone())),
                    BlockOnIo,
                ));
                roots.insert(root.clone(), (store.clone(), zarr.clone()));
                (store, zarr)
            }
        };
        Ok(StoreUrl { store, path, location: normal, zarr })
    }

    /// True for process-local `memory://` URLs (invisible to remote functions).
    pub fn is_memory(url: &str) -> bool {
        url.starts_with("memory://")
    }

    /// The object path of `name` under this URL.
    pub fn child(&self, name: &str) -> Path {
        Path::from(format!("{}/{}", self.path, name).trim_start_matches('/'))
    }

    fn zarr_path(&self) -> String {
        format!("/{}", self.path)
    }

    /// Writes one object atomically.
    pub fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let path = self.child(name);
        block_on_io(self.store.put(&path, PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(|e| StoreError::Io(format!("cannot write {path}: {e}")))
    }

    /// Deletes one object (no error when it does not exist).
    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let path = self.child(name);
        match block_on_io(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::Io(format!("cannot delete {path}: {e}"))),
        }
    }

    /// Reads one object, or `None` when it does not exist.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.child(name);
        let result = block_on_io(async {
            match self.store.get(&path).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        result.map(|b| b.map(|b| b.to_vec())).map_err(|e| StoreError::Io(format!("cannot read {path}: {e}")))
    }

    /// Opens an existing Zarr array (v2 or v3) at this URL.
    pub fn open_array(&self, url: &str) -> Result<ZarrArray, StoreError> {
        Array::open(self.zarr.clone(), &self.zarr_path())
            .map_err(|e| StoreError::NotAnArray { url: url.into(), message: e.to_string() })
    }

    /// The zarrs array object for `meta` at this URL, built from the metadata
    /// alone (no I/O). Use [`StoreUrl::create_array`] to also write its metadata.
    pub fn array_handle(&self, meta: &ArrayMeta) -> Result<ZarrArray, StoreError> {
        let fill: zarrs::array::FillValue = crate::with_type!(meta.dtype, T, _V => <T as Default>::default().into());
        let mut builder = ArrayBuilder::new(meta.shape.clone(), meta.chunks.clone(), meta.dtype.to_zarrs(), fill);
        match meta.codec.unwrap_or(Codec::OUTPUT_DEFAULT) {
            Codec::None => {}
            Codec::Zstd { level } => {
                builder.bytes_to_bytes_codecs(vec![Arc::new(ZstdCodec::new(level, false))]);
            }
            Codec::Gzip { level } => {
                let codec = GzipCodec::new(level).map_err(|e| StoreError::Config { url: meta.name.clone(), message: e.to_string() })?;
                builder.bytes_to_bytes_codecs(vec![Arc::new(codec)]);
            }
        }
        if let Some(names) = &meta.labels.dimension_names {
            builder.dimension_names(Some(names.clone()));
        }
        builder.attributes(meta.labels.attributes.clone());
        builder
            .build(self.zarr.clone(), &self.zarr_path())
            .map_err(|e| StoreError::Config { url: meta.name.clone(), message: e.to_string() })
    }

    /// Creates (or overwrites the metadata of) the array described by `meta`.
    pub fn create_array(&self, meta: &ArrayMeta) -> Result<ZarrArray, StoreError> {
        let array = self.array_handle(meta)?;
        array.store_metadata().map_err(|e| StoreError::Io(format!("cannot write metadata of '{}': {e}", meta.name)))?;
        Ok(array)
    }

    /// Names of the objects under `prefix` (relative to this URL), at any
    /// depth — used to find which chunks of an array exist.
    pub fn list_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.list_objects(prefix)?.into_iter().map(|o| o.key).collect())
    }

    /// The objects under `prefix` (relative to this URL), at any depth, with
    /// their sizes and modification times.
    pub fn list_objects(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        use futures::TryStreamExt;
        let base = self.child(prefix);
        let base_str = base.to_string();
        let metas: Vec<_> = block_on_io(self.store.list(Some(&base)).try_collect::<Vec<_>>())
            .map_err(|e| StoreError::Io(format!("cannot list {base}: {e}")))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let key = m.location.as_ref().strip_prefix(&base_str)?.trim_start_matches('/').to_string();
                Some(ObjectInfo { key, size: m.size, modified_ms: m.last_modified.timestamp_millis(), e_tag: m.e_tag })
            })
            .collect())
    }

    /// Writes one object only if it does not exist yet (a create-only put: a
    /// local file created exclusively, an S3 conditional write). Returns false,
    /// writing nothing, when the object already exists.
    pub fn put_new(&self, name: &str, bytes: Vec<u8>) -> Result<bool, StoreError> {
        let path = self.child(name);
        let mode = object_store::PutOptions::from(object_store::PutMode::Create);
        match block_on_io(self.store.put_opts(&path, PutPayload::from(bytes), mode)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(StoreError::Io(format!("cannot create {path}: {e}"))),
        }
    }

    /// True when an object exists exactly at this URL (a file, not a directory
    /// or prefix).
    pub fn is_object(&self) -> Result<bool, StoreError> {
        if self.path.is_empty() {
            return Ok(false);
        }
        let path = Path::from(self.path.as_str());
        match block_on_io(self.store.head(&path)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            // A local directory is not an object.
            Err(_) if self.location.root == crate::url::Root::File => Ok(std::path::Path::new(&self.location.to_string()).is_file()),
            Err(e) => Err(StoreError::Io(format!("cannot inspect {path}: {e}"))),
        }
    }

    /// Deletes the objects `keys` (relative to this URL), in bulk where the
    /// store supports it; missing objects are not an error.
    pub fn delete_keys(&self, keys: &[String]) -> Result<(), StoreError> {
        use futures::StreamExt;
        let paths: Vec<object_store::Result<Path>> = keys.iter().map(|k| Ok(self.child(k))).collect();
        let results: Vec<_> = block_on_io(self.store.delete_stream(futures::stream::iter(paths).boxed()).collect::<Vec<_>>());
        for r in results {
            match r {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(StoreError::Io(format!("cannot delete under {}: {e}", self.location))),
            }
        }
        if self.location.root == crate::url::Root::File {
            // Local directories left empty would shadow chunk files of another shape (`c/0` vs `c/0/0`).
            let root = std::path::PathBuf::from(self.location.to_string());
            let mut dirs: Vec<std::path::PathBuf> = keys
                .iter()
                .flat_map(|k| std::path::Path::new(k).ancestors().skip(1).map(|d| root.join(d)).collect::<Vec<_>>())
                .filter(|d| d != &root)
                .collect();
            dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            dirs.dedup();
            for d in dirs {
                // Only empty directories go; anything else someone put there stays.
                let _ = std::fs::remove_dir(&d);
            }
        }
        Ok(())
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectInfo {
    /// Key relative to the listed URL.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, milliseconds since the Unix epoch.
    pub modified_ms: i64,
    /// Entity tag, where the store has one.
    pub e_tag: Option<String>,
}

/// Reads `region` (`[start, stop)` per axis) of `array`: one chunk when the
/// region is exactly a chunk, else chunk by chunk into one buffer (only one
/// decoded chunk is alive at a time).
pub fn read_region(array: &ZarrArray, dtype: DType, chunks: &[u64], region: &[(u64, u64)]) -> Result<ChunkData, crate::error::TaskError> {
    let pieces = crate::plan::block_pieces(region, chunks);
    let ranges = |p: &crate::plan::BlockPiece| -> Vec<std::ops::Range<u64>> { p.local.iter().map(|&(a, b)| a..b).collect() };
    if let [piece] = pieces.as_slice() {
        // A whole interior chunk decodes straight into the result (a stored
        // chunk larger than the array is cut to the array's extent).
        if piece.local.iter().zip(chunks).all(|(&(a, b), &c)| a == 0 && b == c) {
            let chunk = retrieve_chunk(array, dtype, &piece.coords)?;
            let want: Vec<usize> = piece.local.iter().map(|&(a, b)| (b - a) as usize).collect();
            return Ok(if chunk.shape() == want.as_slice() { chunk } else { chunk.slice(&piece.local.iter().map(|&(a, b)| (a as usize, b as usize)).collect::<Vec<_>>()) });
        }
        return retrieve_chunk_subset(array, dtype, &piece.coords, &ranges(piece));
    }
    let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
    let mut out = ChunkData::full(dtype, &dims, 0.0);
    for piece in &pieces {
        let data = retrieve_chunk_subset(array, dtype, &piece.coords, &ranges(piece))?;
        let offset: Vec<usize> = piece.offset.iter().map(|&o| o as usize).collect();
        out.assign_at(&offset, &data)?;
    }
    Ok(out)
}

/// The object store holding `array`'s chunks, when the array was opened
/// through [`StoreUrl`] (found by its storage handle, shared per root).
fn object_store_of(array: &ZarrArray) -> Option<Arc<dyn ObjectStore>> {
    let storage = array.storage();
    let roots = roots().lock().ok()?;
    roots
        .values()
        .find(|(_, zarr)| std::ptr::addr_eq(Arc::as_ptr(zarr), Arc::as_ptr(&storage)))
        .map(|(store, _)| store.clone())
}

/// The encoded bytes of the object at `key`, or `None` when it does not exist;
/// an object larger than `limit` is refused before its body is read.
fn fetch_encoded(array: &ZarrArray, key: &zarrs::storage::StoreKey, limit: u64) -> Result<Option<bytes::Bytes>, crate::error::TaskError> {
    use crate::error::TaskError;
    let too_large = |size: u64| {
        TaskError::fatal(format!(
            "its encoded object is {size} bytes, more than any valid encoding of the chunk ({limit} bytes at most): the chunk is corrupt or belongs to another array"
        ))
    };
    let Some(store) = object_store_of(array) else {
        let bytes = array.storage().get(key)?;
        return match bytes {
            Some(b) if b.len() as u64 > limit => Err(too_large(b.len() as u64)),
            other => Ok(other),
        };
    };
    let path = Path::from(key.as_str());
    block_on_io(async {
        let result = match store.get(&path).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(TaskError::retryable(format!("cannot read {path}: {e}"))),
        };
        if result.meta.size > limit {
            return Err(too_large(result.meta.size));
        }
        let bytes = match result.payload {
            // A local file is read here, on the task's thread, not on the I/O
            // runtime's blocking pool: its buffer is then counted as the
            // task's own memory, not as shared growth (see `crate::memory`).
            object_store::GetResultPayload::File(mut file, _) => {
                use std::io::{Read, Seek};
                let range = result.range.clone();
                let mut buffer = Vec::with_capacity((range.end - range.start) as usize);
                file.seek(std::io::SeekFrom::Start(range.start))
                    .and_then(|_| file.take(range.end - range.start).read_to_end(&mut buffer))
                    .map_err(|e| TaskError::retryable(format!("cannot read {path}: {e}")))?;
                bytes::Bytes::from(buffer)
            }
            object_store::GetResultPayload::Stream(_) => {
                result.bytes().await.map_err(|e| TaskError::retryable(format!("cannot read {path}: {e}")))?
            }
        };
        if bytes.len() as u64 > limit {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Some(bytes))
    })
}

/// Reads and decodes one whole chunk, never decoding more than its size (see
/// [`crate::decode`]); a chunk that does not exist is the fill value.
fn retrieve_chunk(array: &ZarrArray, dtype: DType, coords: &[u64]) -> Result<ChunkData, crate::error::TaskError> {
    use crate::error::TaskError;
    let key = array.chunk_key(coords);
    let fatal = |m: String| TaskError::fatal(format!("chunk {coords:?} (object '{key}') cannot be read: {m}"));
    if DType::from_zarrs(array.data_type()) != Some(dtype) {
        return Err(fatal(format!("the array's data type is {}, not {dtype} as when the plan was made", array.data_type())));
    }
    let decoder = ChunkDecoder::new(array).map_err(fatal)?;
    let shape: Vec<usize> = array.chunk_shape(coords)?.iter().map(|c| c.get() as usize).collect();
    let expected = shape.iter().product::<usize>() as u64 * dtype.itemsize();
    match fetch_encoded(array, &key, encoded_limit(expected)).map_err(|e| e.context(format!("chunk {coords:?} (object '{key}')")))? {
        Some(encoded) => decoder
            .decode(array, &encoded, dtype, &shape)
            .map_err(|m| fatal(format!("{m} (the stored chunk is corrupt or was not written for this array; rewrite the array from its source)"))),
        None => {
            let fill = zarrs::array::ArrayBytes::new_fill_value(array.data_type(), expected / dtype.itemsize(), array.fill_value())
                .map_err(|e| fatal(e.to_string()))?;
            decode::from_array_bytes(dtype, fill, &shape, array).map_err(fatal)
        }
    }
}

/// The elements `local` (ranges per axis) of chunk `coords`: the whole chunk is
/// decoded (bounded), then sliced.
fn retrieve_chunk_subset(array: &ZarrArray, dtype: DType, coords: &[u64], local: &[std::ops::Range<u64>]) -> Result<ChunkData, crate::error::TaskError> {
    let chunk = retrieve_chunk(array, dtype, coords)?;
    let region: Vec<(usize, usize)> = local.iter().map(|r| (r.start as usize, r.end as usize)).collect();
    Ok(chunk.slice(&region))
}

/// Writes one whole chunk (edge chunks are padded to the chunk shape), always
/// as a single object, even when it holds only the fill value: a chunk that
/// exists is a task that finished.
pub fn write_chunk(array: &ZarrArray, chunks: &[u64], coords: &[u64], data: ChunkData) -> Result<u64, crate::error::TaskError> {
    let full: Vec<usize> = chunks.iter().map(|&c| c as usize).collect();
    let data = if data.shape() == full.as_slice() {
        data
    } else {
        let mut padded = ChunkData::full(data.dtype(), &full, 0.0);
        padded.assign_at(&vec![0; full.len()], &data)?;
        padded
    };
    let nbytes = data.nbytes();
    let options = CodecOptions::default().with_store_empty_chunks(true);
    crate::each!(data, a => array.store_chunk_opt(coords, a, &options)?);
    Ok(nbytes)
}

impl From<StoreError> for crate::error::TaskError {
    /// I/O failures are worth retrying; everything else about a store is not.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Io(m) => crate::error::TaskError::retryable(m),
            other => crate::error::TaskError::fatal(other.to_string()),
        }
    }
}
