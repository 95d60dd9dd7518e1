//! Element types supported by cubed-rs and the promotion rules between them.

use serde::{Deserialize, Serialize};
use zarrs::array::data_type;
use zarrs::array::DataType;
use zarrs::array::data_type::{
    BoolDataType, Float32DataType, Float64DataType, Int32DataType, Int64DataType,
};

/// An element type of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// Booleans (one byte each).
    Bool,
    /// 32-bit signed integers.
    Int32,
    /// 64-bit signed integers.
    Int64,
    /// 32-bit IEEE floats.
    Float32,
    /// 64-bit IEEE floats.
    Float64,
}

impl DType {
    /// All supported types, in promotion order.
    pub const ALL: [DType; 5] = [
        DType::Bool,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ];

    /// Size of one element in bytes.
    pub fn itemsize(self) -> u64 {
        match self {
            DType::Bool => 1,
            DType::Int32 | DType::Float32 => 4,
            DType::Int64 | DType::Float64 => 8,
        }
    }

    /// The numpy / Array API name (`"float64"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// Parses a numpy-style name (`float64`, `f8`, `int32`, `i4`, `bool`, ...).
    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "bool" | "bool_" | "?" => DType::Bool,
            "int32" | "i4" => DType::Int32,
            "int64" | "i8" | "int" => DType::Int64,
            "float32" | "f4" => DType::Float32,
            "float64" | "f8" | "float" | "double" => DType::Float64,
            _ => return None,
        })
    }

    /// True for `float32` and `float64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    /// True for `int32` and `int64`.
    pub fn is_integer(self) -> bool {
        matches!(self, DType::Int32 | DType::Int64)
    }

    /// The type two arrays combine to in arithmetic (numpy rules; integers
    /// mixed with `float32` give `float64`).
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Bool, x) | (x, Bool) => x,
            (Int32, Int64) | (Int64, Int32) => Int64,
            (Float32, Float64) | (Float64, Float32) => Float64,
            (Float32, Int32 | Int64) | (Int32 | Int64, Float32) => Float64,
            (Float64, _) | (_, Float64) => Float64,
            _ => Float64,
        }
    }

    /// The floating type a transcendental function (`sqrt`, `exp`, ...) returns.
    pub fn to_float(self) -> DType {
        match self {
            DType::Float32 => DType::Float32,
            _ => DType::Float64,
        }
    }

    /// The zarrs data type.
    pub fn to_zarrs(self) -> DataType {
        match self {
            DType::Bool => data_type::bool(),
            DType::Int32 => data_type::int32(),
            DType::Int64 => data_type::int64(),
            DType::Float32 => data_type::float32(),
            DType::Float64 => data_type::float64(),
        }
    }

    /// Maps a zarrs data type back, or `None` when cubed-rs does not support it.
    pub fn from_zarrs(data_type: &DataType) -> Option<DType> {
        if data_type.is::<BoolDataType>() {
            Some(DType::Bool)
        } else if data_type.is::<Int32DataType>() {
            Some(DType::Int32)
        } else if data_type.is::<Int64DataType>() {
            Some(DType::Int64)
        } else if data_type.is::<Float32DataType>() {
            Some(DType::Float32)
        } else if data_type.is::<Float64DataType>() {
            Some(DType::Float64)
        } else {
            None
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_is_symmetric_and_names_round_trip() {
        for a in DType::ALL {
            assert_eq!(DType::parse(a.name()), Some(a));
            assert_eq!(DType::from_zarrs(&a.to_zarrs()), Some(a));
            for b in DType::ALL {
                assert_eq!(a.promote(b), b.promote(a));
            }
        }
        assert_eq!(DType::Int32.promote(DType::Float32), DType::Float64);
        assert_eq!(DType::Bool.promote(DType::Int32), DType::Int32);
    }
}
