//! Spans in ClickHouse's `RowBinary` input format, the cheapest one for both sides to handle:
//! the values as they are in memory (little-endian integers, strings and arrays after their
//! length as a LEB128 varint, `Nullable` after a 0/1 null byte), nothing to escape or parse.
//! `JSONEachRow`, which inserts used before, cost the explorer a `serde_json::Value` per span
//! and ClickHouse a JSON parse of every field: half the spans a second (`clickhouse_10m`).

use crate::store::Span;

/// The columns [`encode`] writes, in its order: the `INSERT`'s column list. `day` is left to
/// its `DEFAULT`.
pub(super) const COLUMNS: &str = "trace_id, span_id, parent_id, service, name, resource, kind, \
     start_ns, duration_ns, error, status_code, usr_id, account_id, session_id, \
     tags.key, tags.value";

fn varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        #[allow(clippy::cast_possible_truncation)]
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(n as u8);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn nullable_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(0);
            string(out, s);
        }
        None => out.push(1),
    }
}

/// Appends `span` as one row of [`COLUMNS`] to `out`; `identity` maps the identity columns
/// (`usr_id`, `account_id`, `session_id`, in that order) to their attributes.
pub(super) fn encode(out: &mut Vec<u8>, span: &Span, identity: [&str; 3]) {
    string(out, &span.trace_id);
    string(out, &span.span_id);
    nullable_string(out, span.parent_id.as_deref());
    string(out, &span.service);
    string(out, &span.name);
    string(out, &span.resource);
    string(out, &span.kind);
    out.extend_from_slice(&span.start_ns.to_le_bytes());
    out.extend_from_slice(&span.duration_ns.to_le_bytes());
    out.push(u8::from(span.error));
    match span.status_code {
        Some(code) => {
            out.push(0);
            out.extend_from_slice(&code.to_le_bytes());
        }
        None => out.push(1),
    }
    for attribute in identity {
        nullable_string(out, span.tag(attribute));
    }
    varint(out, span.tags.len());
    for key in span.tags.keys() {
        string(out, key);
    }
    varint(out, span.tags.len());
    for value in span.tags.values() {
        string(out, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_leb128_varints() {
        let mut out = Vec::new();
        varint(&mut out, 5);
        varint(&mut out, 300);
        assert_eq!(out, [5, 0xac, 0x02]);
    }
}
