//! Bounded chunk decoding: a chunk never decodes into more than its expected
//! size, whatever its encoded bytes claim.
//!
//! zarrs decodes a compressor into whatever size the data asks for (a zstd
//! frame's declared content size, the length of a gzip stream, a blosc
//! header's `nbytes`), so a small hostile chunk can make a task allocate
//! gigabytes and abort. cubed-rs therefore fetches a chunk's encoded bytes
//! itself (refusing an object larger than [`encoded_limit`] of the chunk before
//! reading its body), decodes the compressors it reads (zstd, gzip, blosc) into
//! a buffer of at most the size the next step expects, failing as soon as the
//! data would exceed it, and leaves to zarrs only the steps that never grow
//! their input (checksums, shuffle, byte order, transpose).
//!
//! In the common case (one compressor, optionally a checksum, and the `bytes`
//! codec in native byte order) the last compressor writes straight into the
//! typed array, so a read holds the encoded bytes and the decoded chunk and
//! nothing else (one copy fewer than zarrs' own `retrieve_chunk`).

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use zarrs::array::codec::api::{BytesRepresentation, BytesToBytesCodecTraits, CodecMetadataOptions, CodecOptions};
use zarrs::array::codec::{BloscCodec, BytesCodec, CodecChain, Crc32cCodec, GzipCodec, ShuffleCodec, ZstdCodec};
use zarrs::array::{ArrayBytes, CodecTraits, FromArrayBytes};

use crate::chunk::ChunkData;
use crate::dtype::DType;
use crate::storage::ZarrArray;

/// The largest encoded object accepted for a chunk of `expected` decoded
/// bytes. Every codec cubed-rs reads expands incompressible data by far less
/// (zstd: 3 bytes per 128 KiB block and an 18-byte frame header; deflate: 5
/// bytes per 64 KiB stored block and an 18-byte gzip frame; blosc: a 16-byte
/// header and 4 bytes per block; crc32c: 4 bytes), so a larger object is not
/// an encoding of this chunk. The slack (1/16 + 64 KiB) fits in the task
/// overhead of the memory model, which counts one chunk of encoded bytes per read.
pub fn encoded_limit(expected: u64) -> u64 {
    expected.saturating_add(expected / 16).saturating_add(64 << 10)
}

/// A compressor cubed-rs decodes itself, bounded.
#[derive(Clone, Copy)]
enum Compressor {
    Zstd,
    Gzip,
    Blosc,
}

/// A bytes-to-bytes step of a chunk's codec chain.
#[derive(Clone)]
enum Step {
    Compressor(Compressor),
    /// A codec whose output is never larger than its input (checksum, shuffle), decoded by zarrs.
    Shrinking(Arc<dyn BytesToBytesCodecTraits>),
}

/// How the chunks of one array are decoded: checked once, before any chunk is read.
pub struct ChunkDecoder {
    /// Bytes-to-bytes steps in encoding order (decoded last to first).
    steps: Vec<Step>,
    /// The array-to-array and array-to-bytes codecs, when they are not just
    /// `bytes` in native byte order (then zarrs finishes the decoding).
    rest: Option<CodecChain>,
}

impl ChunkDecoder {
    /// Checks that every codec of `array` is one cubed-rs decodes with a bound,
    /// naming the first one that is not.
    pub fn new(array: &ZarrArray) -> Result<ChunkDecoder, String> {
        if !array.storage_transformers().create_metadatas().is_empty() {
            return Err("it uses storage transformers, which cubed-rs does not read".into());
        }
        let chain = array.codecs();
        let names: Vec<String> =
            chain.create_metadatas(&CodecMetadataOptions::default()).iter().map(|m| m.name().to_string()).collect();
        let a2a = chain.array_to_array_codecs().len();
        let unsupported = |k: usize| {
            format!(
                "its codec '{}' is not one cubed-rs reads (it reads bytes, transpose, zstd, gzip, blosc, shuffle and crc32c; \
                 sharded arrays are not supported yet); rewrite the array with zarr-python using one of those codecs",
                names.get(k).map_or("?", String::as_str)
            )
        };
        let a2b = chain.array_to_bytes_codec();
        let Some(bytes) = a2b.as_any().downcast_ref::<BytesCodec>() else {
            return Err(unsupported(a2a));
        };
        let steps = chain
            .bytes_to_bytes_codecs()
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let any = c.as_any();
                if any.is::<ZstdCodec>() {
                    Ok(Step::Compressor(Compressor::Zstd))
                } else if any.is::<GzipCodec>() {
                    Ok(Step::Compressor(Compressor::Gzip))
                } else if any.is::<BloscCodec>() {
                    Ok(Step::Compressor(Compressor::Blosc))
                } else if any.is::<Crc32cCodec>() || any.is::<ShuffleCodec>() {
                    Ok(Step::Shrinking(c.clone()))
                } else {
                    Err(unsupported(a2a + 1 + k))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let native = match bytes.configuration_v3(&Default::default()).and_then(|c| c.get("endian").cloned()) {
            None => true,
            Some(endian) => endian == if cfg!(target_endian = "little") { "little" } else { "big" },
        };
        let rest = (a2a > 0 || !native).then(|| CodecChain::new(chain.array_to_array_codecs().to_vec(), a2b.clone(), vec![]));
        Ok(ChunkDecoder { steps, rest })
    }

    /// Decodes the encoded bytes of one chunk of `shape` into `dtype` values,
    /// never allocating more than the chunk's size for any decoded step.
    pub fn decode(&self, array: &ZarrArray, encoded: &[u8], dtype: DType, shape: &[usize]) -> Result<ChunkData, String> {
        let expected = shape.iter().product::<usize>() as u64 * dtype.itemsize();
        // The largest size each step may decode to: exact for the innermost.
        let mut bounds = vec![expected];
        for _ in 1..self.steps.len() {
            bounds.push(encoded_limit(*bounds.last().expect("non-empty")));
        }
        let mut data: Cow<[u8]> = Cow::Borrowed(encoded);
        for (k, step) in self.steps.iter().enumerate().rev() {
            if let (0, None, Step::Compressor(c)) = (k, &self.rest, step) {
                // The innermost compressor writes straight into the typed array.
                return typed(dtype, shape, |dst| decode_exact(*c, &data, dst));
            }
            let out = match step {
                Step::Shrinking(codec) => codec
                    .decode(Cow::Borrowed(&data), &BytesRepresentation::BoundedSize(bounds[k]), &CodecOptions::default())
                    .map_err(|e| e.to_string())?
                    .into_owned(),
                Step::Compressor(c) => {
                    let mut out = vec![0u8; usize::try_from(bounds[k]).map_err(|_| "the chunk is too large to address".to_string())?];
                    let n = decode_step(*c, &data, &mut out)?;
                    out.truncate(n);
                    out
                }
            };
            if out.len() as u64 > bounds[k] {
                return Err(too_large(bounds[k]));
            }
            data = Cow::Owned(out);
        }
        if data.len() as u64 != expected {
            return Err(format!("it decodes to {} bytes, but a chunk of shape {shape:?} and type {dtype} is {expected} bytes", data.len()));
        }
        match &self.rest {
            None => typed(dtype, shape, |dst| {
                dst.copy_from_slice(&data);
                Ok(())
            }),
            Some(chain) => {
                use zarrs::array::codec::api::ArrayToBytesCodecTraits;
                let chunk_shape: Vec<std::num::NonZeroU64> =
                    shape.iter().map(|&s| std::num::NonZeroU64::new(s as u64).ok_or("a chunk has an empty axis")).collect::<Result<_, _>>()?;
                let bytes = chain
                    .decode(Cow::Owned(data.into_owned()), &chunk_shape, array.data_type(), array.fill_value(), &CodecOptions::default())
                    .map_err(|e| e.to_string())?
                    .into_owned();
                from_array_bytes(dtype, bytes, shape, array)
            }
        }
    }
}

/// Decodes one compressor into `dst`, failing when the output would exceed
/// `dst.len()`; returns the number of bytes written.
fn decode_step(c: Compressor, src: &[u8], dst: &mut [u8]) -> Result<usize, String> {
    match c {
        Compressor::Zstd => {
            if let Ok(Some(declared)) = zstd::zstd_safe::get_frame_content_size(src) {
                if declared > dst.len() as u64 {
                    return Err(format!("its zstd frame declares {declared} bytes, more than the {} the chunk can hold", dst.len()));
                }
            }
            zstd::bulk::Decompressor::new().and_then(|mut d| d.decompress_to_buffer(src, dst)).map_err(|e| {
                if e.to_string().contains("Destination buffer is too small") {
                    too_large(dst.len())
                } else {
                    format!("its zstd data is corrupt: {e}")
                }
            })
        }
        Compressor::Gzip => {
            let mut decoder = flate2::read::GzDecoder::new(src);
            let mut n = 0;
            while n < dst.len() {
                match decoder.read(&mut dst[n..]) {
                    Ok(0) => return Ok(n),
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("its gzip data is corrupt: {e}")),
                }
            }
            match decoder.read(&mut [0u8; 1]) {
                Ok(0) => Ok(n),
                Ok(_) => Err(too_large(dst.len())),
                Err(e) => Err(format!("its gzip data is corrupt: {e}")),
            }
        }
        Compressor::Blosc => {
            let declared = zarrs::array::codec::blosc_validate(src).ok_or("its blosc header is invalid")?;
            if declared > dst.len() {
                return Err(format!("its blosc header declares {declared} bytes, more than the {} the chunk can hold", dst.len()));
            }
            // SAFETY: `src` is a validated blosc buffer (its header's compressed size is
            // `src.len()`), `dst` is valid for `dst.len()` bytes and blosc writes at most
            // `destsize` bytes, refusing buffers that decompress to more.
            let n = unsafe {
                blosc_src::blosc_decompress_ctx(src.as_ptr().cast(), dst.as_mut_ptr().cast(), dst.len(), 1)
            };
            usize::try_from(n).map_err(|_| format!("its blosc data is corrupt (blosc_decompress_ctx returned {n})"))
        }
    }
}

/// Decodes the innermost step into `dst`, which it must fill exactly.
fn decode_exact(c: Compressor, src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let n = decode_step(c, src, dst)?;
    if n != dst.len() {
        return Err(format!("it decodes to {n} bytes, but the chunk is {} bytes", dst.len()));
    }
    Ok(())
}

fn too_large(cap: impl std::fmt::Display) -> String {
    format!("it decodes to more than the {cap} bytes the chunk can hold")
}

/// A chunk of `dtype` and `shape` whose bytes (native order) `fill` writes.
fn typed(dtype: DType, shape: &[usize], fill: impl FnOnce(&mut [u8]) -> Result<(), String>) -> Result<ChunkData, String> {
    fn pod<T: bytemuck::Pod>(shape: &[usize], fill: impl FnOnce(&mut [u8]) -> Result<(), String>) -> Result<Vec<T>, String> {
        let mut v = vec![T::zeroed(); shape.iter().product()];
        fill(bytemuck::cast_slice_mut(&mut v))?;
        Ok(v)
    }
    fn array<T>(shape: &[usize], v: Vec<T>) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(shape), v).expect("length matches the shape")
    }
    Ok(match dtype {
        DType::Bool => {
            let raw = pod::<u8>(shape, fill)?;
            if raw.iter().any(|&b| b > 1) {
                return Err("it holds a bool value other than 0 or 1".into());
            }
            // Collected in place: same size and alignment.
            ChunkData::Bool(array(shape, raw.into_iter().map(|b| b == 1).collect()))
        }
        DType::Int8 => ChunkData::Int8(array(shape, pod(shape, fill)?)),
        DType::Int16 => ChunkData::Int16(array(shape, pod(shape, fill)?)),
        DType::Int32 => ChunkData::Int32(array(shape, pod(shape, fill)?)),
        DType::Int64 => ChunkData::Int64(array(shape, pod(shape, fill)?)),
        DType::Uint8 => ChunkData::Uint8(array(shape, pod(shape, fill)?)),
        DType::Uint16 => ChunkData::Uint16(array(shape, pod(shape, fill)?)),
        DType::Uint32 => ChunkData::Uint32(array(shape, pod(shape, fill)?)),
        DType::Uint64 => ChunkData::Uint64(array(shape, pod(shape, fill)?)),
        DType::Float32 => ChunkData::Float32(array(shape, pod(shape, fill)?)),
        DType::Float64 => ChunkData::Float64(array(shape, pod(shape, fill)?)),
    })
}

/// Typed chunk data from zarrs array bytes of `array`'s data type.
pub(crate) fn from_array_bytes(dtype: DType, bytes: ArrayBytes<'static>, shape: &[usize], array: &ZarrArray) -> Result<ChunkData, String> {
    fn get<T: FromArrayBytes>(bytes: ArrayBytes<'static>, shape: &[u64], array: &ZarrArray) -> Result<T, String> {
        T::from_array_bytes(bytes, shape, array.data_type()).map_err(|e| e.to_string())
    }
    let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    Ok(crate::with_type!(dtype, T, V => V(get::<ndarray::ArrayD<T>>(bytes, &shape, array)?)))
}

#[cfg(test)]
mod tests {
    use crate::plan::{ArrayMeta, Codec, Location};
    use crate::storage::{read_region, write_chunk, StoreUrl};
    use crate::{ChunkData, DType};

    /// A 4 x 4 float64 array with one chunk holding 0..16, in memory.
    fn array(name: &str, codec: Codec) -> (StoreUrl, crate::storage::ZarrArray) {
        let store = StoreUrl::parse(&format!("memory://decode-tests/{name}")).unwrap();
        let meta = ArrayMeta { name: name.into(), location: Location::Intermediate, shape: vec![4, 4], chunks: vec![4, 4], dtype: DType::Float64, codec: Some(codec), labels: Default::default() };
        let array = store.create_array(&meta).unwrap();
        let data = ChunkData::from_f64_values(DType::Float64, &[4, 4], (0..16).map(f64::from).collect()).unwrap();
        write_chunk(&array, &[4, 4], &[0, 0], data).unwrap();
        (store, array)
    }

    fn read(array: &crate::storage::ZarrArray) -> Result<Vec<f64>, String> {
        read_region(array, DType::Float64, &[4, 4], &[(0, 4), (1, 3)]).map(|d| d.to_f64_vec()).map_err(|e| e.message)
    }

    #[test]
    fn chunks_decode_and_bombs_are_refused_before_they_expand() {
        let want: Vec<f64> = (0..4).flat_map(|r| [4 * r + 1, 4 * r + 2]).map(f64::from).collect();
        for (name, codec) in [("zstd", Codec::Zstd { level: 3 }), ("gzip", Codec::Gzip { level: 6 }), ("none", Codec::None)] {
            let (_, a) = array(name, codec);
            assert_eq!(read(&a).unwrap(), want, "{name}");
        }
        let (store, a) = array("bombs", Codec::Zstd { level: 3 });
        // A zstd frame declaring 6 GiB (single segment, one RLE block).
        let mut declared = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
        declared.extend((6u64 << 30).to_le_bytes());
        declared.extend([0x03, 0x04, 0x00, 0x00]); // last block, RLE, 128 bytes of 0
        store.put("c/0/0", declared).unwrap();
        let e = read(&a).unwrap_err();
        assert!(e.contains("chunk [0, 0]") && e.contains("its zstd frame declares 6442450944 bytes, more than the 128 the chunk can hold"), "{e}");
        // No declared size, 16 RLE blocks of 1 KiB: more than the chunk's 128 bytes.
        let mut undeclared = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00];
        for i in 0..16u32 {
            undeclared.extend(&(u32::from(i == 15) | (1 << 1) | (1024 << 3)).to_le_bytes()[..3]);
            undeclared.push(7);
        }
        store.put("c/0/0", undeclared).unwrap();
        let e = read(&a).unwrap_err();
        assert!(e.contains("it decodes to more than the 128 bytes the chunk can hold"), "{e}");
        // An object larger than any encoding of the chunk is refused unread.
        store.put("c/0/0", vec![0; super::encoded_limit(128) as usize + 1]).unwrap();
        let e = read(&a).unwrap_err();
        assert!(e.contains("its encoded object is 65673 bytes, more than any valid encoding of the chunk (65672 bytes at most)"), "{e}");
    }
}
