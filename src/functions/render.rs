//! Renders one value of any column the way DuckDB's `CAST(x AS VARCHAR)` does, for
//! values the kernels only see as text (nested types, UUID, INTERVAL, TIME WITH TIME
//! ZONE, ...) and for top-value listings.

use crate::ffi::{Column, Data, TimeUnit};
use crate::kernels::profile::render::{blob_str, decimal_str, f64_str, temporal_str};
use crate::kernels::profile::TemporalUnit;

/// The kernel's temporal unit for a DuckDB timestamp unit.
pub fn timestamp_unit(u: TimeUnit) -> TemporalUnit {
    match u {
        TimeUnit::Seconds => TemporalUnit::TimestampSec,
        TimeUnit::Millis => TemporalUnit::TimestampMs,
        TimeUnit::Micros => TemporalUnit::TimestampUs,
        TimeUnit::Nanos => TemporalUnit::TimestampNs,
    }
}

/// A FLOAT rendered like DuckDB: the shortest digits that round-trip an `f32`, laid out
/// by the same rules as DOUBLE.
pub fn f32_str(x: f32) -> String {
    if !x.is_finite() || x == 0.0 {
        return f64_str(x as f64);
    }
    // The decimal with the f32's shortest digits; as an f64 its shortest digits are the same.
    let shortest: f64 = format!("{x:e}").parse().unwrap_or(x as f64);
    f64_str(shortest)
}

/// Row `i` of `col` as DuckDB renders it; `NULL` for NULL.
pub fn render(col: &Column, i: usize) -> String {
    if !col.is_valid(i) {
        return "NULL".into();
    }
    match &col.data {
        Data::Bool(v) => v[i].to_string(),
        Data::I8(v) => v[i].to_string(),
        Data::I16(v) => v[i].to_string(),
        Data::I32(v) => v[i].to_string(),
        Data::I64(v) => v[i].to_string(),
        Data::U8(v) => v[i].to_string(),
        Data::U16(v) => v[i].to_string(),
        Data::U32(v) => v[i].to_string(),
        Data::U64(v) => v[i].to_string(),
        Data::I128(v) => v.get(i).to_string(),
        Data::U128(v) => v.get_unsigned(i).to_string(),
        Data::F32(v) => f32_str(v[i]),
        Data::F64(v) => f64_str(v[i]),
        Data::Decimal { scale, data, .. } => decimal_str(data.get(i), *scale),
        Data::Varchar(s) => String::from_utf8_lossy(s.get(i)).into_owned(),
        Data::Blob(s) => blob_str(s.get(i)),
        Data::Date(v) => temporal_str(v[i] as i64, TemporalUnit::Date),
        Data::Time(v) => temporal_str(v[i], TemporalUnit::Time),
        Data::TimeNs(v) => time_ns(v[i]),
        Data::TimeTz(v) => time_tz(v[i]),
        Data::Timestamp(u, v) => temporal_str(v[i], timestamp_unit(*u)),
        Data::TimestampTz(v) => temporal_str(v[i], TemporalUnit::TimestampTzUs),
        Data::TimestampTzNs(v) => format!("{}+00", temporal_str(v[i], TemporalUnit::TimestampNs)),
        Data::Interval(v) => interval(v[i].months, v[i].days, v[i].micros),
        Data::Uuid(v) => uuid(v.get(i)),
        Data::Enum(codes) => col.enum_dictionary().get(codes.get(i)).cloned().unwrap_or_default(),
        Data::List(entries, child) => {
            let e = entries[i];
            let items: Vec<String> = (e.offset..e.offset + e.length).map(|k| render(child, k as usize)).collect();
            format!("[{}]", items.join(", "))
        }
        Data::Array(size, child) => {
            let items: Vec<String> = (i * size..(i + 1) * size).map(|k| render(child, k)).collect();
            format!("[{}]", items.join(", "))
        }
        Data::Struct(fields) => {
            let items: Vec<String> = fields.iter().map(|(n, c)| format!("'{n}': {}", render(c, i))).collect();
            format!("{{{}}}", items.join(", "))
        }
        Data::Map(entries, keys, vals) => {
            let e = entries[i];
            let items: Vec<String> = (e.offset..e.offset + e.length)
                .map(|k| format!("{}={}", render(keys, k as usize), render(vals, k as usize)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Data::Bit(s) => bits(s.get(i)),
        Data::Bignum(s) => format!("\\x{}", s.get(i).iter().map(|b| format!("{b:02X}")).collect::<String>()),
        Data::Unsupported(t) => format!("<{t}>"),
    }
}

fn time_ns(ns: i64) -> String {
    let (h, rem) = (ns / 3_600_000_000_000, ns % 3_600_000_000_000);
    let (m, rem) = (rem / 60_000_000_000, rem % 60_000_000_000);
    let (s, frac) = (rem / 1_000_000_000, rem % 1_000_000_000);
    let mut out = format!("{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out
}

fn time_tz(bits: u64) -> String {
    // DuckDB packs micros in the upper 40 bits and (MAX_OFFSET - offset seconds) below.
    const MAX_OFFSET: i64 = 16 * 60 * 60 - 1;
    let micros = (bits >> 24) as i64;
    let offset = MAX_OFFSET - (bits & 0xFF_FFFF) as i64;
    let base = temporal_str(micros, TemporalUnit::Time);
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.abs();
    let (oh, om, os) = (o / 3600, (o % 3600) / 60, o % 60);
    let mut out = format!("{base}{sign}{oh:02}");
    if om != 0 || os != 0 {
        out.push_str(&format!(":{om:02}"));
    }
    if os != 0 {
        out.push_str(&format!(":{os:02}"));
    }
    out
}

fn interval(months: i32, days: i32, micros: i64) -> String {
    let mut parts = Vec::new();
    let (years, months) = (months / 12, months % 12);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n.abs() == 1 { "" } else { "s" });
    if years != 0 {
        parts.push(plural(years as i64, "year"));
    }
    if months != 0 {
        parts.push(plural(months as i64, "month"));
    }
    if days != 0 {
        parts.push(plural(days as i64, "day"));
    }
    if micros != 0 || parts.is_empty() {
        let neg = micros < 0;
        let m = micros.unsigned_abs();
        let (h, rem) = (m / 3_600_000_000, m % 3_600_000_000);
        let (mi, rem) = (rem / 60_000_000, rem % 60_000_000);
        let (s, frac) = (rem / 1_000_000, rem % 1_000_000);
        let mut t = format!("{}{h:02}:{mi:02}:{s:02}", if neg { "-" } else { "" });
        if frac != 0 {
            t.push('.');
            t.push_str(format!("{frac:06}").trim_end_matches('0'));
        }
        parts.push(t);
    }
    parts.join(" ")
}

fn uuid(v: i128) -> String {
    // DuckDB stores UUIDs with the top bit flipped so that they sort as signed integers.
    let u = (v as u128) ^ (1u128 << 127);
    let h = format!("{u:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn bits(payload: &[u8]) -> String {
    let Some((pad, rest)) = payload.split_first() else { return String::new() };
    let mut s = String::with_capacity(rest.len() * 8);
    for b in rest {
        for k in (0..8).rev() {
            s.push(if (b >> k) & 1 == 1 { '1' } else { '0' });
        }
    }
    s.split_off((*pad as usize).min(s.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_render_like_duckdb() {
        assert_eq!(interval(0, 1, 2 * 3_600_000_000), "1 day 02:00:00");
        assert_eq!(interval(14, 3, 1_500_000), "1 year 2 months 3 days 00:00:01.5");
        assert_eq!(interval(0, 0, 0), "00:00:00");
    }

    #[test]
    fn uuids_and_bits_render_like_duckdb() {
        let raw = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef_u128 ^ (1u128 << 127);
        assert_eq!(uuid(raw as i128), "01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(bits(&[4, 0b1010]), "1010");
        assert_eq!(time_ns(40_953_123_456_789), "11:22:33.123456789");
        assert_eq!(f32_str(9.903_487_f32), "9.903487");
        assert_eq!(f32_str(0.1_f32), "0.1");
    }
}
