//! Chunk decoding: arbitrary bytes stored as a chunk of a small array (zstd,
//! gzip or uncompressed, chosen by the first byte) decode into that chunk or
//! give a clear error, never a crash or an allocation beyond the chunk's size.
#![no_main]

use libfuzzer_sys::fuzz_target;

use cubed_task::plan::{ArrayMeta, Codec, Location};
use cubed_task::storage::{read_region, StoreUrl};
use cubed_task::DType;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let codec = match which % 3 {
        0 => Codec::Zstd { level: 1 },
        1 => Codec::Gzip { level: 1 },
        _ => Codec::None,
    };
    let url = format!("memory://fuzz-chunk/a{}", which % 3);
    let store = StoreUrl::parse(&url).unwrap();
    let meta = ArrayMeta {
        name: "a".into(),
        location: Location::Url { url: url.clone() },
        shape: vec![4, 4],
        chunks: vec![4, 4],
        dtype: DType::Float64,
        codec: Some(codec),
        labels: Default::default(),
    };
    store.create_array(&meta).unwrap();
    store.put("c/0/0", bytes.to_vec()).unwrap();
    let array = store.open_array(&url).unwrap();
    let _ = read_region(&array, DType::Float64, &[4, 4], &[(0, 4), (0, 4)]);
});
