//! The inputs the harness writes with zarr-python: awkward layouts, every
//! dtype, both Zarr formats and both byte orders.

use cubed_task::DType;

/// A shape and the chunk shape its inputs are stored with.
pub struct Layout {
    pub shape: &'static [u64],
    pub chunks: &'static [u64],
}

impl Layout {
    pub fn label(&self) -> String {
        format!("shape {:?} chunks {:?}", self.shape, self.chunks)
    }
}

/// Every case with inputs runs over each of these.
pub const LAYOUTS: &[Layout] = &[
    // Chunks not dividing the shape: a short last chunk.
    Layout { shape: &[23], chunks: &[5] },
    Layout { shape: &[7, 9], chunks: &[3, 4] },
    Layout { shape: &[4, 5, 6], chunks: &[2, 5, 4] },
    // A single chunk; then a single chunk larger than the array.
    Layout { shape: &[6, 5], chunks: &[6, 5] },
    Layout { shape: &[5, 6], chunks: &[8, 8] },
    // A size-1 axis.
    Layout { shape: &[1, 8], chunks: &[1, 3] },
    // No axes (a scalar array), and no elements.
    Layout { shape: &[], chunks: &[] },
    Layout { shape: &[0, 4], chunks: &[2, 2] },
];

/// Besides every dtype with itself, `y` (and `n`) run through these pairs
/// (x's dtype, y's dtype). All 11 x 11 would take too long.
pub const MIXED_PAIRS: &[(DType, DType)] = {
    use DType::*;
    &[
        (Int8, Uint8),
        (Int64, Uint64),
        (Int16, Float32),
        (Int32, Float32),
        (Bool, Int8),
        (Uint32, Int32),
        (Float32, Float64),
        (Bool, Float64),
        (Uint8, Int64),
        (Uint16, Int16),
        (Float64, Int8),
        (Uint64, Float32),
    ]
};

/// How an input is stored: Zarr format and byte order.
pub fn storage(layout: usize, dtype: DType, role: usize) -> &'static str {
    const FORMATS: [&str; 4] = ["v3", "v2<", "v3>", "v2>"];
    let d = DType::ALL.iter().position(|&d| d == dtype).unwrap();
    FORMATS[(layout + d + role) % FORMATS.len()]
}

/// Input roles: `x`, `y` and `n` (see [`crate::case::Inputs::XN`]).
pub const ROLES: [&str; 3] = ["x", "y", "n"];
