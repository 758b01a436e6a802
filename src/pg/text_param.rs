//! A bind parameter sent in text format, so the server parses it for whatever type the
//! statement declares. Workload generators produce text, and one generator then works for
//! integers, timestamps, uuids, enums and arrays alike.

use bytes::BytesMut;
use postgres_types::{Format, IsNull, ToSql, Type, to_sql_checked};

/// A parameter value as text; `None` is SQL NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextParam(pub Option<String>);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}
