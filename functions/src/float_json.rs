//! Floats in plan JSON. JSON has no NaN or infinity (serde_json writes them as
//! `null`, which no reader takes back), yet plans hold such constants
//! (`where(x > 0, x, nan)`, `1e400`). Finite values stay JSON numbers; the
//! others are written as Zarr v3 writes fill values: `"NaN"`, `"Infinity"`,
//! `"-Infinity"`. Use with `#[serde(with = "crate::float_json")]` (an `f64`),
//! `crate::float_json::vec` or `crate::float_json::option`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Number(f64),
    Text(String),
}

fn to_repr(v: f64) -> Repr {
    if v.is_finite() {
        Repr::Number(v)
    } else if v.is_nan() {
        Repr::Text("NaN".into())
    } else if v > 0.0 {
        Repr::Text("Infinity".into())
    } else {
        Repr::Text("-Infinity".into())
    }
}

fn from_repr<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
    match r {
        Repr::Number(v) => Ok(v),
        Repr::Text(t) => match t.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => Err(E::custom(format!("expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", found \"{other}\""))),
        },
    }
}

/// Serializes one float.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    to_repr(*v).serialize(s)
}

/// Deserializes one float.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    from_repr(Repr::deserialize(d)?)
}

/// For `Vec<f64>`.
pub mod vec {
    use super::*;

    /// Serializes a list of floats.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| to_repr(x)))
    }

    /// Deserializes a list of floats.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Repr>::deserialize(d)?.into_iter().map(from_repr).collect()
    }
}

/// For `Option<f64>`.
pub mod option {
    use super::*;

    /// Serializes an optional float.
    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(to_repr).serialize(s)
    }

    /// Deserializes an optional float.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<Repr>::deserialize(d)?.map(from_repr).transpose()
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct T {
        #[serde(with = "super")]
        x: f64,
        #[serde(with = "super::vec")]
        v: Vec<f64>,
        #[serde(with = "super::option")]
        o: Option<f64>,
    }

    #[test]
    fn non_finite_values_round_trip_and_finite_ones_stay_numbers() {
        let t = T { x: f64::NAN, v: vec![1.5, f64::INFINITY, f64::NEG_INFINITY, -0.0], o: Some(f64::NAN) };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"x":"NaN","v":[1.5,"Infinity","-Infinity",-0.0],"o":"NaN"}"#);
        let back: T = serde_json::from_str(&json).unwrap();
        assert!(back.x.is_nan() && back.o.unwrap().is_nan());
        assert_eq!(back.v[..3], [1.5, f64::INFINITY, f64::NEG_INFINITY]);
        assert!(back.v[3] == 0.0 && back.v[3].is_sign_negative());
        let none: T = serde_json::from_str(r#"{"x":2,"v":[],"o":null}"#).unwrap();
        assert_eq!((none.x, none.o), (2.0, None));
        assert!(serde_json::from_str::<T>(r#"{"x":"lots","v":[],"o":null}"#).unwrap_err().to_string().contains("found \"lots\""));
    }
}
