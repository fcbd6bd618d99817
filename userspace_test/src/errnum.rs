//! Errnos in `--json` output: `{"name": "EPERM", "number": 1}`, so that jq can select on either
//! (`.kernel.Err.errno.name == "EPERM"`). `name` is `null` for a number the C library has no
//! name for. Where there is no error, the surrounding value says so (`"Ok"` outcomes, an
//! `"errno": null` outcome): see each `--json` producer.

use nix::errno::Errno;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrnoJson {
    pub name: Option<String>,
    pub number: i32,
}

/// The symbolic name of an errno number (`EPERM`), if it has one.
pub fn name(number: i32) -> Option<String> {
    match Errno::from_raw(number) {
        Errno::UnknownErrno => None,
        e => Some(format!("{e:?}")),
    }
}

impl From<i32> for ErrnoJson {
    fn from(number: i32) -> Self {
        Self {
            name: name(number),
            number,
        }
    }
}

impl From<Errno> for ErrnoJson {
    fn from(e: Errno) -> Self {
        Self::from(e as i32)
    }
}

/// `#[serde(with = "crate::errnum::object")]` on an `i32` errno field: written as an
/// `ErrnoJson` object, read back from one (by its number).
pub mod object {
    use super::*;

    pub fn serialize<S: Serializer>(errno: &i32, s: S) -> Result<S::Ok, S::Error> {
        ErrnoJson::from(*errno).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        Ok(ErrnoJson::deserialize(d)?.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let j = serde_json::to_value(ErrnoJson::from(Errno::EPERM)).unwrap();
        assert_eq!(j, serde_json::json!({"name": "EPERM", "number": 1}));
        assert_eq!(
            serde_json::to_value(ErrnoJson::from(libc::EPROTONOSUPPORT)).unwrap(),
            serde_json::json!({"name": "EPROTONOSUPPORT", "number": 93})
        );
        assert_eq!(
            serde_json::to_value(ErrnoJson::from(4242)).unwrap(),
            serde_json::json!({"name": null, "number": 4242})
        );
    }

    #[test]
    fn an_i32_field_round_trips_through_the_object() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct S {
            #[serde(with = "object")]
            errno: i32,
        }
        let j = serde_json::to_string(&S { errno: 13 }).unwrap();
        assert_eq!(j, r#"{"errno":{"name":"EACCES","number":13}}"#);
        assert_eq!(serde_json::from_str::<S>(&j).unwrap(), S { errno: 13 });
    }
}
