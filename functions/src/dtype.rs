//! Element types supported by cubed-rs and the promotion rules between them
//! (the Array API's table, with numpy's answer where the standard leaves it
//! open).

use serde::{Deserialize, Serialize};
use zarrs::array::data_type;
use zarrs::array::DataType;

/// An element type of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// Booleans (one byte each).
    Bool,
    /// 8-bit signed integers.
    Int8,
    /// 16-bit signed integers.
    Int16,
    /// 32-bit signed integers.
    Int32,
    /// 64-bit signed integers.
    Int64,
    /// 8-bit unsigned integers.
    Uint8,
    /// 16-bit unsigned integers.
    Uint16,
    /// 32-bit unsigned integers.
    Uint32,
    /// 64-bit unsigned integers.
    Uint64,
    /// 32-bit IEEE floats.
    Float32,
    /// 64-bit IEEE floats.
    Float64,
}

/// The kind of an element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `bool`.
    Bool,
    /// Signed integers.
    Signed,
    /// Unsigned integers.
    Unsigned,
    /// Real floating point.
    Float,
}

impl DType {
    /// All supported types.
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Float32,
        DType::Float64,
    ];

    /// Size of one element in bytes.
    pub fn itemsize(self) -> u64 {
        match self {
            DType::Bool | DType::Int8 | DType::Uint8 => 1,
            DType::Int16 | DType::Uint16 => 2,
            DType::Int32 | DType::Uint32 | DType::Float32 => 4,
            DType::Int64 | DType::Uint64 | DType::Float64 => 8,
        }
    }

    /// The kind (bool, signed, unsigned, float).
    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => Kind::Signed,
            DType::Uint8 | DType::Uint16 | DType::Uint32 | DType::Uint64 => Kind::Unsigned,
            DType::Float32 | DType::Float64 => Kind::Float,
        }
    }

    /// The numpy / Array API name (`"float64"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// Parses a numpy-style name (`float64`, `f8`, `int16`, `i2`, `u1`, `bool`, ...).
    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "bool" | "bool_" | "?" => DType::Bool,
            "int8" | "i1" => DType::Int8,
            "int16" | "i2" => DType::Int16,
            "int32" | "i4" => DType::Int32,
            "int64" | "i8" | "int" => DType::Int64,
            "uint8" | "u1" => DType::Uint8,
            "uint16" | "u2" => DType::Uint16,
            "uint32" | "u4" => DType::Uint32,
            "uint64" | "u8" | "uint" => DType::Uint64,
            "float32" | "f4" => DType::Float32,
            "float64" | "f8" | "float" | "double" => DType::Float64,
            _ => return None,
        })
    }

    /// The error for a type name cubed-rs does not know, naming those it does
    /// (and saying so plainly for complex and float16, which it lacks).
    pub fn unknown(name: &str) -> String {
        let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
        let lacking = ["complex64", "complex128", "complex", "c8", "c16", "float16", "f2", "half"];
        if lacking.contains(&name) {
            format!("dtype '{name}' is not supported yet; cubed-rs has {}", names.join(", "))
        } else {
            format!("unknown dtype '{name}': expected one of {}", names.join(", "))
        }
    }

    /// True for `float32` and `float64`.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// True for the signed and unsigned integer types (not `bool`).
    pub fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::Signed | Kind::Unsigned)
    }

    /// True for integer and float types (not `bool`).
    pub fn is_numeric(self) -> bool {
        self != DType::Bool
    }

    /// The smallest and largest value of an integer type, exactly (as `i128`).
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
            DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
            DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
            DType::Int64 => (i64::MIN.into(), i64::MAX.into()),
            DType::Uint8 => (0, u8::MAX.into()),
            DType::Uint16 => (0, u16::MAX.into()),
            DType::Uint32 => (0, u32::MAX.into()),
            DType::Uint64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    fn signed_of_size(bytes: u64) -> Option<DType> {
        Some(match bytes {
            1 => DType::Int8,
            2 => DType::Int16,
            4 => DType::Int32,
            8 => DType::Int64,
            _ => return None,
        })
    }

    /// The type two arrays combine to: the Array API promotion table, with
    /// numpy's answers where the standard leaves it open (`int64 + uint64`
    /// gives `float64`; integers with floats give the float that holds the
    /// integer's values: `float32` for 8- and 16-bit integers, else `float64`).
    pub fn promote(self, other: DType) -> DType {
        use Kind::*;
        let (a, b) = (self, other);
        if a == b {
            return a;
        }
        match (a.kind(), b.kind()) {
            (Bool, _) => b,
            (_, Bool) => a,
            (Float, Float) => DType::Float64,
            (Float, _) => float_with_int(a, b),
            (_, Float) => float_with_int(b, a),
            (Signed, Signed) | (Unsigned, Unsigned) => if a.itemsize() >= b.itemsize() { a } else { b },
            (Signed, Unsigned) => mixed(a, b),
            (Unsigned, Signed) => mixed(b, a),
        }
    }

    /// The floating type a function defined on reals (`sqrt`, `exp`, `/`, ...)
    /// computes in for this type. numpy gives `float16` for `bool`, `int8` and
    /// `uint8`, which cubed-rs lacks: they give `float32` (exact for them).
    /// 16-bit integers give `float32`, wider ones `float64`, as numpy.
    pub fn to_float(self) -> DType {
        match self {
            DType::Float32 | DType::Float64 => self,
            DType::Bool | DType::Int8 | DType::Uint8 | DType::Int16 | DType::Uint16 => DType::Float32,
            _ => DType::Float64,
        }
    }

    /// The type `sum` and `prod` accumulate in by default (numpy: the
    /// platform integer for smaller signed integers and bool, `uint64` for
    /// smaller unsigned ones; floats keep their type).
    pub fn sum_type(self) -> DType {
        match self.kind() {
            Kind::Bool | Kind::Signed => DType::Int64,
            Kind::Unsigned => DType::Uint64,
            Kind::Float => self,
        }
    }

    /// The zarrs data type.
    pub fn to_zarrs(self) -> DataType {
        match self {
            DType::Bool => data_type::bool(),
            DType::Int8 => data_type::int8(),
            DType::Int16 => data_type::int16(),
            DType::Int32 => data_type::int32(),
            DType::Int64 => data_type::int64(),
            DType::Uint8 => data_type::uint8(),
            DType::Uint16 => data_type::uint16(),
            DType::Uint32 => data_type::uint32(),
            DType::Uint64 => data_type::uint64(),
            DType::Float32 => data_type::float32(),
            DType::Float64 => data_type::float64(),
        }
    }

    /// Maps a zarrs data type back, or `None` when cubed-rs does not support it.
    pub fn from_zarrs(data_type: &DataType) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.to_zarrs() == *data_type)
    }
}

/// numpy: a float with an integer gives a float wide enough for the integer.
fn float_with_int(float: DType, int: DType) -> DType {
    if float == DType::Float32 && int.itemsize() <= 2 {
        DType::Float32
    } else {
        DType::Float64
    }
}

/// A signed with an unsigned integer: the smallest signed type holding both,
/// or `float64` when there is none (`int64` with `uint64`, as numpy).
fn mixed(signed: DType, unsigned: DType) -> DType {
    if signed.itemsize() > unsigned.itemsize() {
        signed
    } else {
        DType::signed_of_size(unsigned.itemsize() * 2).unwrap_or(DType::Float64)
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
                assert_eq!(a.promote(b), b.promote(a), "{a} {b}");
            }
        }
        use DType::*;
        // The Array API table, and numpy where it is silent.
        for (a, b, r) in [
            (Int32, Float32, Float64),
            (Int16, Float32, Float32),
            (Uint8, Float32, Float32),
            (Bool, Int32, Int32),
            (Int8, Uint8, Int16),
            (Int16, Uint16, Int32),
            (Int32, Uint32, Int64),
            (Int64, Uint64, Float64),
            (Int64, Uint32, Int64),
            (Int8, Uint32, Int64),
            (Uint8, Uint16, Uint16),
            (Int8, Int64, Int64),
        ] {
            assert_eq!(a.promote(b), r, "{a} + {b}");
        }
        assert!(DType::unknown("complex128").contains("not supported yet"));
        assert!(DType::unknown("foo").contains("unknown dtype 'foo'"));
    }
}
