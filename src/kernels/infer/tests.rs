//! Unit tests: one per rule of the spec, parser corner cases, split independence,
//! bad input, and the labeled corpus (accuracy per type; the DuckDB cross-check of
//! the emitted SQL lives in `test/data/infer/gen_corpus.py`).

use super::parse::*;
use super::*;

fn infer_with(vals: &[&str], o: InferOptions) -> Inference {
    let mut s = InferState::with_options(o);
    for v in vals {
        s.add(v.as_bytes());
    }
    s.finalize()
}

fn infer(vals: &[&str]) -> Inference {
    infer_with(vals, InferOptions::default())
}

fn rep(v: &[&str], times: usize) -> Vec<String> {
    (0..times).flat_map(|_| v.iter().map(|s| s.to_string())).collect()
}

fn infer_owned(vals: &[String]) -> Inference {
    let v: Vec<&str> = vals.iter().map(|s| s.as_str()).collect();
    infer(&v)
}

#[test]
fn empty_and_all_null() {
    let s = InferState::default();
    let i = s.finalize();
    assert_eq!(i.inferred_type, "VARCHAR");
    assert_eq!(i.confidence, 0.0);
    assert_eq!(i.non_null_count, 0);
    let mut s = InferState::default();
    s.add_null(7);
    s.add(b"  NA ");
    s.add(b"n/a");
    s.add(b"");
    let i = s.finalize();
    assert_eq!(i.null_count, 10);
    assert_eq!(i.non_null_count, 0);
    assert_eq!(i.null_tokens, vec![("".to_string(), 1), ("NA".to_string(), 1), ("N/A".to_string(), 1)]);
    assert_eq!(i.inferred_type, "VARCHAR");
}

#[test]
fn null_tokens_are_a_setting_and_case_insensitive() {
    let o = InferOptions { null_tokens: vec!["missing".into()], ..Default::default() };
    let i = infer_with(&["1", "MISSING", " Missing ", "2", "NA"], o);
    assert_eq!(i.null_tokens, vec![("missing".to_string(), 2)]);
    assert_eq!(i.non_null_count, 3); // NA is text now
    assert_eq!(i.inferred_type, "VARCHAR"); // 2/3 < 0.9
    let i = infer(&["1", "null", "NULL", "NaN", "2", "#N/A", "?", "--"]);
    assert_eq!(i.inferred_type, "TINYINT");
    assert_eq!(i.null_count, 6);
    assert_eq!(i.parse_rate, 1.0);
    assert!(InferState::try_with_options(InferOptions { min_parse_rate: 0.0, ..Default::default() }).is_err());
    assert!(InferState::try_with_options(InferOptions { sample_limit: 1, ..Default::default() }).is_err());
}

#[test]
fn integer_widths() {
    assert_eq!(infer(&["1", "-128", "127"]).inferred_type, "TINYINT");
    assert_eq!(infer(&["1", "200"]).inferred_type, "SMALLINT");
    assert_eq!(infer(&["1", "-40000"]).inferred_type, "INTEGER");
    assert_eq!(infer(&["3000000000", "+5"]).inferred_type, "BIGINT");
    assert_eq!(infer(&["9223372036854775807"]).inferred_type, "BIGINT");
    assert_eq!(infer(&["-9223372036854775808"]).inferred_type, "BIGINT");
    // beyond BIGINT
    assert_eq!(infer(&["9223372036854775808"]).inferred_type, "HUGEINT");
    assert_eq!(infer(&["-170141183460469231731687303715884105728"]).inferred_type, "HUGEINT");
    // beyond HUGEINT
    assert_eq!(infer(&["170141183460469231731687303715884105728"]).inferred_type, "DOUBLE");
    // mixed with a decimal: DECIMAL
    assert_eq!(infer(&["12345678901234567890", "1.5"]).inferred_type, "DECIMAL(38,1)");
}

#[test]
fn zero_one_is_integer_not_boolean() {
    let i = infer(&["0", "1", "1", "0"]);
    assert_eq!(i.inferred_type, "TINYINT");
    assert!(i.semantic_type.is_none());
    // words say so
    let i = infer(&["yes", "no", "1", "0", "YES"]);
    assert_eq!(i.inferred_type, "BOOLEAN");
    assert_eq!(i.semantic_type.as_deref(), Some("boolean_word"));
    assert_eq!(infer(&["true", "False", "T", "f"]).inferred_type, "BOOLEAN");
}

#[test]
fn years_are_integers_with_semantic_year() {
    let i = infer(&["1999", "2004", "2020", "1987"]);
    assert_eq!(i.inferred_type, "SMALLINT");
    assert_eq!(i.semantic_type.as_deref(), Some("year"));
    let i = infer(&["1999", "2004", "12345"]);
    assert_eq!(i.semantic_type, None);
}

#[test]
fn leading_zeros_stay_text_identifiers() {
    let i = infer(&["00501", "12345", "02134", "90210"]);
    assert_eq!(i.inferred_type, "VARCHAR");
    assert_eq!(i.semantic_type.as_deref(), Some("identifier"));
    assert_eq!(i.quarantine_count, 0);
    // "0" and "0.5" are not leading zeros
    assert_eq!(infer(&["0", "10"]).inferred_type, "TINYINT");
    assert_eq!(infer(&["0.5", "10.25"]).inferred_type, "DECIMAL(4,2)");
}

#[test]
fn one_bad_value_lowers_parse_rate_but_keeps_candidate() {
    let mut v = rep(&["2012-01-10"], 19);
    v.push("garbage".into());
    let i = infer_owned(&v);
    assert_eq!(i.inferred_type, "DATE");
    assert!((i.parse_rate - 0.95).abs() < 1e-12);
    assert_eq!(i.quarantine_count, 1);
    assert_eq!(i.failed_examples, vec!["garbage".to_string()]);
    assert_eq!(i.candidates[0].type_name, "DATE");
    // below the threshold the candidate is still listed
    let i = infer(&["2012-01-10", "x", "zz"]);
    assert_eq!(i.inferred_type, "VARCHAR");
    assert_eq!(i.candidates[0].type_name, "DATE");
    assert!((i.candidates[0].parse_rate - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(i.candidates.last().map(|c| c.type_name.as_str()), Some("VARCHAR"));
}

#[test]
fn integers_mixed_with_decimals_widen() {
    let i = infer(&["1", "2", "3.25", "-10"]);
    assert_eq!(i.inferred_type, "DECIMAL(4,2)");
    assert_eq!(i.parse_rate, 1.0);
    // 40 significant digits do not fit DECIMAL(38)
    let i = infer(&["1.5", "123456789012345678901234567890123456789.5"]);
    assert_eq!(i.inferred_type, "DOUBLE");
    assert_eq!(infer(&["1", "2.5e3", "-1E-7"]).inferred_type, "DOUBLE");
    assert_eq!(infer(&["1.5", "inf"]).inferred_type, "DOUBLE");
}

#[test]
fn thousands_separators_both_conventions() {
    let i = infer(&["1,234.56", "12.00", "1,000,000.5"]);
    assert_eq!(i.inferred_type, "DECIMAL(9,2)");
    assert_eq!(i.format.as_deref(), Some("decimal=. thousands=,"));
    assert!(!i.ambiguous);
    let i = infer(&["1.234,56", "12,5", "7"]);
    assert_eq!(i.inferred_type, "DECIMAL(9,2)");
    assert_eq!(i.format.as_deref(), Some("decimal=, thousands=."));
    // "1,234" alone reads both ways: dot-decimal convention preferred, flagged
    let i = infer(&["1,234", "5,678"]);
    assert_eq!(i.inferred_type, "SMALLINT");
    assert!(i.ambiguous);
    // malformed groups are not numbers
    assert_eq!(parse_number(b"1,23.5", b'.'), None);
    assert_eq!(parse_number(b"12,3456", b'.'), None);
}

#[test]
fn currency_percent_accounting_units() {
    let i = infer(&["$1,234.00", "$5", "($12.50)", "-$3.10", "$ 7"]);
    assert_eq!(i.inferred_type, "DECIMAL(9,2)");
    assert_eq!(i.semantic_type.as_deref(), Some("currency_amount"));
    assert_eq!(i.unit.as_deref(), Some("$"));
    let n = parse_number("(1,234.00)".as_bytes(), b'.').unwrap_or_default();
    assert!(n.paren && n.thousands && n.frac_digits == 2 && n.int_digits == 4);
    let n = parse_number("1.234,50 €".as_bytes(), b',').unwrap_or_default();
    assert_eq!(n.currency, 2);
    let n = parse_number(b"EUR 12", b'.').unwrap_or_default();
    assert_eq!(n.int_value, Some(12));
    let n = parse_number(b"(500)", b'.').unwrap_or_default();
    assert_eq!(n.int_value, Some(-500));
    let i = infer(&["12.5%", "3%", "100 %"]);
    assert_eq!(i.semantic_type.as_deref(), Some("percentage"));
    assert_eq!(i.unit.as_deref(), Some("%"));
    assert_eq!(i.inferred_type, "DECIMAL(4,1)");
    let i = infer(&["12 kg", "3.5kg", "7 KG"]);
    assert_eq!(i.unit.as_deref(), Some("kg"));
    assert_eq!(i.inferred_type, "DECIMAL(4,1)");
    let i = infer(&["USD 10", "20 USD", "5 USD"]);
    assert_eq!(i.unit.as_deref(), Some("USD"));
    assert_eq!(i.inferred_type, "TINYINT");
}

#[test]
fn day_first_month_first_by_evidence() {
    let i = infer(&["01/02/2012", "03/04/2012", "11/12/2013"]);
    assert_eq!(i.inferred_type, "DATE");
    assert!(i.ambiguous);
    assert_eq!(i.format.as_deref(), Some("%m/%d/%Y"));
    let i = infer(&["01/02/2012", "03/04/2012", "13/12/2013"]);
    assert_eq!(i.format.as_deref(), Some("%d/%m/%Y"));
    assert!(!i.ambiguous);
    let i = infer(&["01/02/2012", "03/24/2012"]);
    assert_eq!(i.format.as_deref(), Some("%m/%d/%Y"));
    assert!(!i.ambiguous);
    // each column its own format
    let i = infer(&["24.12.2012", "01.02.2013"]);
    assert_eq!(i.format.as_deref(), Some("%d.%m.%Y"));
    // 2-digit years
    let i = infer(&["31/01/12", "01/02/99"]);
    assert_eq!(i.format.as_deref(), Some("%d/%m/%y"));
    // invalid day for month
    assert_eq!(parse_temporal(b"2012-02-30"), None);
    assert!(parse_temporal(b"2012-02-29").is_some());
    assert_eq!(parse_temporal(b"2013-02-29"), None);
}

#[test]
fn month_names_and_partial_dates() {
    assert_eq!(infer(&["January 10, 2012", "March 3, 2011"]).format.as_deref(), Some("%B %d, %Y"));
    assert_eq!(infer(&["10-Jan-2012", "3-Mar-2011"]).format.as_deref(), Some("%d-%b-%Y"));
    assert_eq!(infer(&["Jan 10 2012", "Mar 3 2011"]).format.as_deref(), Some("%b %d %Y"));
    assert_eq!(infer(&["10 Jan 2012", "3 Dec 2011"]).format.as_deref(), Some("%d %b %Y"));
    // "May" is both abbreviation and full name: either reading fits, %b preferred
    assert_eq!(infer(&["May 10, 2012"]).format.as_deref(), Some("%b %d, %Y"));
    let i = infer(&["2012-03", "2013-12"]);
    assert_eq!((i.inferred_type.as_str(), i.format.as_deref()), ("DATE", Some("%Y-%m")));
    let i = infer(&["2012-Q1", "2013-Q4"]);
    assert_eq!(i.inferred_type, "DATE");
    assert_eq!(i.plan, CastPlan::Quarter);
    assert_eq!(parse_temporal(b"2012-Q5"), None);
    assert_eq!(parse_temporal(b"Sept 10 2012"), None);
}

#[test]
fn iso_timestamps() {
    let i = infer(&["2012-01-10T10:00:00Z", "2012-01-10T10:00:00.123+02:00", "2012-01-11T00:00:00-0500"]);
    assert_eq!(i.inferred_type, "TIMESTAMP WITH TIME ZONE");
    let i = infer(&["2012-01-10 10:00:00.5", "2012-01-10 10:00:01.25", "2012-01-10"]);
    assert_eq!(i.inferred_type, "TIMESTAMP");
    assert_eq!(i.format.as_deref(), Some("%Y-%m-%d %H:%M:%S.%f"));
    assert_eq!(i.parse_rate, 1.0);
    let i = infer(&["1/2/2012 3:04 PM", "1/13/2012 11:04 AM"]);
    assert_eq!(i.inferred_type, "TIMESTAMP");
    assert_eq!(i.format.as_deref(), Some("%m/%d/%Y %I:%M %p"));
    assert_eq!(parse_temporal(b"2012-01-10T25:00:00"), None);
    assert_eq!(parse_temporal(b"2012-01-10T10:00:00+02:0"), None);
}

#[test]
fn time_interval_uuid_json() {
    assert_eq!(infer(&["10:30", "23:59:59", "00:00:01.5"]).inferred_type, "TIME");
    assert_eq!(infer(&["2 days", "1 hour 30 minutes", "3 days 04:00:00"]).inferred_type, "INTERVAL");
    let i = infer(&["550e8400-e29b-41d4-a716-446655440000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"]);
    assert_eq!(i.inferred_type, "UUID");
    let i = infer(&[r#"{"a": [1, 2.5e3, true, null]}"#, "[]", r#"{"b":{"c":"x\"y"}}"#]);
    assert_eq!(i.inferred_type, "JSON");
    assert!(is_json(b"{}"));
    assert!(!is_json(b"{a:1}"));
    assert!(!is_json(b"[1,]"));
    assert!(!is_json(b"{\"a\":1,}"));
    assert!(!is_json(b"[1] x"));
    assert!(!is_json(b"[01]"));
    assert!(!is_json(b"[[[["));
    let deep = "[".repeat(2000) + &"]".repeat(2000);
    assert!(!is_json(deep.as_bytes()));
    let ok = "[".repeat(100) + &"]".repeat(100);
    assert!(is_json(ok.as_bytes()));
}

#[test]
fn semantic_patterns() {
    let sem_of = |v: &[&str]| infer(v).semantic_type;
    assert_eq!(sem_of(&["a@b.com", "first.last+x@mail.example.org"]).as_deref(), Some("email"));
    assert_eq!(sem_of(&["https://example.com/a?b=1", "www.example.org"]).as_deref(), Some("url"));
    assert_eq!(sem_of(&["192.168.0.1", "8.8.8.8"]).as_deref(), Some("ipv4"));
    assert_eq!(sem_of(&["2001:db8::1", "::1", "fe80:0:0:0:0:0:0:1"]).as_deref(), Some("ipv6"));
    assert_eq!(sem_of(&["+1 (555) 123-4567", "555-123-4567", "+44 20 7946 0958"]).as_deref(), Some("phone"));
    assert_eq!(sem_of(&["12345-6789", "SW1A 1AA", "K1A 0B1"]).as_deref(), Some("postal_code"));
    assert_eq!(sem_of(&["US", "DE", "FR", "JP"]).as_deref(), Some("country_code"));
    assert_eq!(sem_of(&["USD", "EUR", "JPY"]).as_deref(), Some("currency_code"));
    assert_eq!(sem_of(&["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"]).as_deref(), Some("iban"));
    assert_eq!(
        sem_of(&["d41d8cd98f00b204e9800998ecf8427e", "098f6bcd4621d373cade4e832627b4f6"]).as_deref(),
        Some("hash")
    );
    // credit cards: Luhn-valid test numbers stay text
    let i = infer(&["4111111111111111", "5500000000000004", "340000000000009", "4111 1111 1111 1111"]);
    assert_eq!(i.inferred_type, "VARCHAR");
    assert_eq!(i.semantic_type.as_deref(), Some("credit_card"));
    // one digit changed breaks Luhn
    assert_eq!(semantic_bits(b"4111111111111112") & sem::CARD, 0);
    assert_eq!(semantic_bits(b"GB82WEST12345698765433") & sem::IBAN, 0);
    assert_eq!(semantic_bits(b"XX12") & sem::COUNTRY, 0);
    assert_eq!(semantic_bits(b"256.1.1.1") & sem::IPV4, 0);
}

#[test]
fn epoch_free_text_categorical() {
    let i = infer(&["1325376000", "1325462400", "1700000000"]);
    assert_eq!(i.inferred_type, "BIGINT");
    assert_eq!(i.semantic_type.as_deref(), Some("epoch_seconds"));
    let i = infer(&["1325376000000", "1700000000123"]);
    assert_eq!(i.semantic_type.as_deref(), Some("epoch_millis"));
    let v = rep(&["red", "green", "blue"], 10);
    let i = infer_owned(&v);
    assert_eq!(i.semantic_type.as_deref(), Some("categorical"));
    assert_eq!(i.distinct_count, 3);
    let v: Vec<String> = (0..30).map(|k| format!("the quick brown fox number {k} jumps")).collect();
    assert_eq!(infer_owned(&v).semantic_type.as_deref(), Some("free_text"));
}

fn check_split_independent(vals: &[Vec<u8>], opts: InferOptions) {
    let mut whole = InferState::with_options(opts.clone());
    for v in vals {
        whole.add(v);
    }
    let expect = whole.finalize();
    for parts in [2usize, 3, 7, 300] {
        let mut states: Vec<InferState> = (0..parts).map(|_| InferState::with_options(opts.clone())).collect();
        for (k, v) in vals.iter().enumerate() {
            // interleaved split (every parts-th row)
            states[k % parts].add(v);
        }
        // combine in reverse order into a fresh identity
        let mut acc = InferState::with_options(opts.clone());
        for s in states.iter().rev() {
            let before = s.clone().finalize();
            acc.combine(s);
            assert_eq!(s.finalize(), before, "combine mutated its source");
        }
        assert_eq!(acc.finalize(), expect, "split into {parts}");
    }
}

#[test]
fn combine_is_split_and_order_independent() {
    let mut vals: Vec<Vec<u8>> = Vec::new();
    for k in 0..2000u32 {
        let v = match k % 7 {
            0 => format!("{}", k * 37),
            1 => format!("{}.{}", k, k % 100),
            2 => format!("2012-{:02}-{:02}", k % 12 + 1, k % 28 + 1),
            3 => "NA".to_string(),
            4 => format!("word{}", k % 300),
            5 => format!("{:02}/{:02}/2012", k % 12 + 1, k % 28 + 1),
            _ => format!("bad{k}"),
        };
        vals.push(v.into_bytes());
    }
    check_split_independent(&vals, InferOptions { sample_limit: 64, ..Default::default() });
    check_split_independent(&vals, InferOptions::default());
}

#[test]
fn bad_input_never_panics() {
    let mut s = InferState::default();
    let big = vec![b'7'; 1 << 20];
    s.add(&big);
    let mut big_json = vec![b'['; 1 << 20];
    big_json.extend(vec![b']'; 1 << 20]);
    s.add(&big_json);
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for w in garbage.chunks(13) {
        s.add(w);
    }
    s.add("日本語のテキスト".as_bytes());
    s.add("Ελληνικά και English mixed".as_bytes());
    s.add(&[0xff, 0xfe, 0x00, 0x80]);
    s.add(b"\0");
    let i = s.finalize();
    assert_eq!(i.inferred_type, "VARCHAR");
    assert!(i.confidence < 0.9);
    assert!(i.failed_examples.is_empty());
    assert!(s.state_bytes() < 64 * 1024);
    // 10,000 distinct formats: state stays bounded, result is low-confidence text
    let mut s = InferState::default();
    for k in 0..10_000u32 {
        let sep = [b'/', b'-', b'.', b' ', b':', b'_'][(k % 6) as usize] as char;
        s.add(format!("{}{sep}{}{sep}{}x{}", k % 31, k % 13, 1900 + k % 200, k).as_bytes());
    }
    let i = s.finalize();
    assert_eq!(i.inferred_type, "VARCHAR");
    assert!(s.state_bytes() < 64 * 1024);
    // a custom token list without '' makes the empty string a value, not a crash
    let o = InferOptions { null_tokens: vec![], ..Default::default() };
    let i = infer_with(&["", "  ", "1"], o);
    assert_eq!(i.non_null_count, 3);
    assert_eq!(i.inferred_type, "VARCHAR");
}

#[test]
fn failed_examples_are_the_smallest_distinct() {
    let mut v = rep(&["1"], 200);
    for w in ["zz", "b", "a", "a", "c", "d", "e", "f"] {
        v.push(w.to_string());
    }
    let i = infer_owned(&v);
    assert_eq!(i.inferred_type, "TINYINT");
    assert_eq!(i.failed_examples, vec!["a", "b", "c", "d", "e"]);
    assert_eq!(i.quarantine_count, 8);
}

#[test]
fn cast_expression_shapes() {
    let i = infer(&["1", "2", "NA"]);
    let e = cast_expression("\"x\"", &i);
    assert!(e.contains("TRY_CAST(trim(CAST(\"x\" AS VARCHAR)"), "{e}");
    assert!(e.contains("AS TINYINT)"));
    assert!(e.starts_with("CASE WHEN lower("));
    let i = infer(&["1.234,5", "2,5"]);
    let e = cast_expression("c", &i);
    assert!(e.contains("replace(regexp_replace("), "{e}");
    let i = infer(&["10/01/2012", "13/01/2012"]);
    assert!(cast_expression("c", &i).contains("try_strptime("));
    let i = infer(&["it's", "it's"]);
    assert!(!cast_expression("c", &i).contains("it's"));
}

struct CorpusColumn {
    name: String,
    typ: String,
    format: Option<String>,
    semantic: Option<String>,
    values: Vec<Option<String>>,
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn read_corpus(text: &str) -> Vec<CorpusColumn> {
    let mut cols: Vec<CorpusColumn> = Vec::new();
    let opt = |s: &str| {
        if s.is_empty() {
            None
        } else {
            Some(s.to_string())
        }
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#\t") {
            let f: Vec<&str> = rest.split('\t').collect();
            assert_eq!(f.len(), 4, "bad header {line}");
            cols.push(CorpusColumn {
                name: f[0].into(),
                typ: f[1].into(),
                format: opt(f[2]),
                semantic: opt(f[3]),
                values: Vec::new(),
            });
        } else if let Some(c) = cols.last_mut() {
            if line == "~" {
                c.values.push(None);
            } else if let Some(v) = line.strip_prefix('=') {
                c.values.push(Some(unescape(v)));
            }
        }
    }
    cols
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Labeled corpus (`corpus.txt` from `gen_corpus.py`): prints accuracy per expected
/// type; with `INFER_CASTS_OUT=path` writes the cast SQL for the DuckDB cross-check.
#[test]
fn corpus_accuracy_per_type() {
    let cols = read_corpus(include_str!("../../../test/data/infer/corpus.txt"));
    assert!(cols.len() >= 50, "corpus too small: {}", cols.len());
    let mut per_type: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    let mut casts = Vec::new();
    let mut wrong = Vec::new();
    for c in &cols {
        assert_eq!(c.values.len(), 40, "{}", c.name);
        let mut s = InferState::default();
        for v in &c.values {
            match v {
                Some(x) => s.add(x.as_bytes()),
                None => s.add_null(1),
            }
        }
        let i = s.finalize();
        let ok = i.inferred_type == c.typ
            && (c.format.is_none() || i.format == c.format)
            && (c.semantic.is_none() || i.semantic_type == c.semantic);
        let e = per_type.entry(c.semantic.clone().unwrap_or(c.typ.clone())).or_default();
        e.1 += 1;
        if ok {
            e.0 += 1;
        } else {
            wrong.push(format!(
                "{}: got {} {:?} {:?}, want {} {:?} {:?}",
                c.name, i.inferred_type, i.format, i.semantic_type, c.typ, c.format, c.semantic
            ));
        }
        casts.push(format!(
            "{}: {{\"sql\": {}, \"type\": {}, \"quarantine\": {}}}",
            json_str(&c.name),
            json_str(&cast_expression("v", &i)),
            json_str(&i.inferred_type),
            i.quarantine_count
        ));
    }
    let total: u32 = per_type.values().map(|v| v.1).sum();
    let good: u32 = per_type.values().map(|v| v.0).sum();
    println!("corpus accuracy per expected type (semantic type where labeled):");
    for (t, (g, n)) in &per_type {
        println!("  {t:<28} {g}/{n}");
    }
    println!("  overall {good}/{total}");
    for w in &wrong {
        println!("  MISS {w}");
    }
    if let Ok(path) = std::env::var("INFER_CASTS_OUT") {
        assert!(std::fs::write(path, format!("{{{}}}", casts.join(",\n"))).is_ok());
    }
    assert!(wrong.is_empty(), "{} corpus columns misclassified", wrong.len());
}

/// On-CPU nanoseconds of the calling thread (Linux schedstat), if available.
fn thread_cpu_ns() -> Option<u64> {
    let t = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    t.split_whitespace().next()?.parse().ok()
}

/// Throughput on typical columns; run with `cargo test --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_values_per_second() {
    let n = 2_000_000usize;
    let mut cols: Vec<(&str, Vec<String>)> = Vec::new();
    cols.push(("int", (0..n).map(|k| format!("{}", (k as u64 * 2_654_435_761) % 1_000_000)).collect()));
    cols.push(("decimal", (0..n).map(|k| format!("{}.{:02}", k % 10_000, k % 100)).collect()));
    cols.push(("date", (0..n).map(|k| format!("2012-{:02}-{:02}", k % 12 + 1, k % 28 + 1)).collect()));
    cols.push(("ts", (0..n).map(|k| format!("2012-01-{:02}T{:02}:{:02}:00Z", k % 28 + 1, k % 24, k % 60)).collect()));
    cols.push(("dmy", (0..n).map(|k| format!("{:02}/{:02}/2012", k % 28 + 1, k % 12 + 1)).collect()));
    cols.push(("money", (0..n).map(|k| format!("${},{:03}.{:02}", k % 100 + 1, k % 1000, k % 100)).collect()));
    cols.push(("category", (0..n).map(|k| ["red", "green", "blue", "NA"][k % 4].to_string()).collect()));
    cols.push(("text", (0..n).map(|k| format!("customer {} said hello", k % 5000)).collect()));
    let mut total_v = 0usize;
    let mut total_t = 0f64;
    for (name, vals) in &cols {
        // contiguous bytes + offsets, like a DuckDB/Arrow string vector
        let mut buf = Vec::new();
        let mut offs = vec![0usize];
        for v in vals {
            buf.extend_from_slice(v.as_bytes());
            offs.push(buf.len());
        }
        let t = std::time::Instant::now();
        let c0 = thread_cpu_ns();
        let mut s = InferState::default();
        for w in offs.windows(2) {
            s.add(&buf[w[0]..w[1]]);
        }
        let i = s.finalize();
        let wall = t.elapsed().as_secs_f64();
        // CPU time of this thread (other jobs share the 2 cores); wall time as fallback
        let dt = match (c0, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 * 1e-9,
            _ => wall,
        };
        total_v += vals.len();
        total_t += dt;
        println!("{name:<10} {:>7.1} M values/s -> {}", vals.len() as f64 / dt / 1e6, i.inferred_type);
    }
    println!("overall    {:>7.1} M values/s single core", total_v as f64 / total_t / 1e6);
}

/// Deterministic fuzz: random strings over the characters the recognisers branch on
/// never panic, and the state stays split-independent on them.
#[test]
fn fuzz_recognisers_never_panic() {
    let alphabet: Vec<&[u8]> = vec![
        b"0",
        b"1",
        b"2",
        b"9",
        b"12",
        b"2012",
        b"-",
        b"+",
        b".",
        b",",
        b"/",
        b":",
        b" ",
        b"T",
        b"Z",
        b"e",
        b"E",
        b"(",
        b")",
        b"$",
        "€".as_bytes(),
        "£".as_bytes(),
        b"%",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b"Q",
        b"Jan",
        b"May",
        b"AM",
        b"PM",
        b"USD",
        b"kg",
        b"@",
        b"a",
        b"f",
        b"x",
        b"day",
        b"s",
        b"GB82",
        b"WEST",
        b"::",
        b"\t",
        &[0xff],
        &[0xe2, 0x82],
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut vals = Vec::new();
    for _ in 0..60_000 {
        let len = (next() % 9) as usize;
        let mut v = Vec::new();
        for _ in 0..len {
            v.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        vals.push(v);
    }
    let mut s = InferState::default();
    for v in &vals {
        s.add(v);
        let t = trim(v);
        let _ = (parse_temporal(t), parse_number(t, b'.'), parse_number(t, b','), is_json(t));
        let _ = (is_interval(t), is_time(t), semantic_bits(t), is_uuid(t), bool_word(t));
    }
    let i = s.finalize();
    assert!(i.confidence <= 1.0 && i.confidence >= 0.0);
    check_split_independent(&vals[..5000], InferOptions::default());
}

#[test]
fn mixed_date_formats_union() {
    let i = infer(&["2012-01-10", "2012-02-11", "13/01/2012", "10 Jan 2012", "2013-05-06"]);
    assert_eq!(i.inferred_type, "DATE");
    assert_eq!(i.parse_rate, 1.0);
    assert_eq!(i.format.as_deref(), Some("%Y-%m-%d"));
    assert_eq!(i.plan, CastPlan::Strptime(vec!["%Y-%m-%d".into(), "%d %b %Y".into(), "%d/%m/%Y".into()]));
    // day-first and month-first never mix in one column
    let i = infer(&["13/01/2012", "01/13/2012"]);
    assert_eq!(i.inferred_type, "VARCHAR");
    // two-digit-year formats come first: strptime's %Y would read "12" as year 12
    let i = infer(&["13/01/2012", "14/01/2012", "15/01/12"]);
    assert_eq!(i.plan, CastPlan::Strptime(vec!["%d/%m/%y".into(), "%d/%m/%Y".into()]));
    assert_eq!(strptime_regex("%d/%m/%Y"), "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}");
    assert_eq!(strptime_regex("%d.%m.%y %H:%M"), "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{2} [0-9]{1,2}:[0-9]{2}");
}

#[test]
fn default_state_is_small_and_identity() {
    let s = InferState::default();
    assert!(s.state_bytes() < 2048, "{}", s.state_bytes());
    let mut a = InferState::default();
    a.add(b"2012-01-10");
    a.add(b"NA");
    let before = a.finalize();
    a.combine(&InferState::default());
    assert_eq!(a.finalize(), before);
    let mut e = InferState::default();
    e.combine(&a);
    assert_eq!(e.finalize(), before);
}

/// 70 % integers and 30 % values with three decimals: `.` stays the decimal point (DuckDB's
/// reading) instead of a thousands separator that would multiply 30 % of the values by 1000.
#[test]
fn three_decimals_keep_the_decimal_point() {
    let vals: Vec<String> = (0..1000)
        .map(|i| if i % 10 < 7 { format!("{}", i * 7 % 1000) } else { format!("{}.{:03}", i % 50, i * 13 % 1000) })
        .collect();
    let i = infer(&vals.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(i.inferred_type, "DECIMAL(9,3)", "{i:?}");
    assert_eq!(i.format, None);
    assert!(i.ambiguous, "the thousands reading is still reported");
    assert!(i.candidates.iter().any(|c| c.format.as_deref() == Some("decimal=, thousands=.")));
    // a single value that reads only with a ',' decimal proves the convention
    for proof in ["1.234,5", "1.234.567", "3,5"] {
        let mut v: Vec<&str> = vals.iter().map(|s| s.as_str()).collect();
        v.push(proof);
        let i = infer(&v);
        assert_eq!(i.format.as_deref(), Some("decimal=, thousands=."), "{proof}: {i:?}");
    }
    // a declared separator wins and is not ambiguous
    let o = InferOptions { decimal: Some(','), ..Default::default() };
    let i = infer_with(&vals.iter().map(|s| s.as_str()).collect::<Vec<_>>(), o);
    assert_eq!(i.inferred_type, "INTEGER");
    assert_eq!(i.format.as_deref(), Some("decimal=, thousands=."));
    assert!(!i.ambiguous);
}

/// splitmix64 stream for reproducible random splits and corruptions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        crate::kernels::profile::hash::fmix64(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Mixed text values: numbers both conventions, several date formats, booleans, null tokens,
/// SQL NULLs (None), UUIDs, failures, and more distinct values than the sketch holds.
fn mixed_column(n: usize) -> Vec<Option<Vec<u8>>> {
    (0..n as u64)
        .map(|k| {
            let v = match k % 13 {
                0 => return None,
                1 => format!("{}", k * 7919 % 100_003),
                2 => format!("{}.{:02}", k % 977, k % 100),
                3 => format!("2021-{:02}-{:02}", k % 12 + 1, k % 28 + 1),
                4 => format!("{:02}/{:02}/2019", k % 28 + 1, k % 12 + 1),
                5 => ["NA", "null", "-", ""][(k % 4) as usize].to_string(),
                6 => ["yes", "no", "TRUE", "f"][(k % 4) as usize].to_string(),
                7 => format!("{:08x}-1234-5678-9abc-{:012x}", k, k * 31),
                8 => format!("$ {},{:03}.50", k % 90, k % 1000),
                9 => format!("bad value {}", k % 211),
                10 => format!("1,{}", k % 10),
                11 => format!("user{}@example.com", k % 500),
                _ => format!("2020-01-{:02} 12:{:02}:00", k % 28 + 1, k % 60),
            };
            Some(v.into_bytes())
        })
        .collect()
}

fn state_of(rows: &[&Option<Vec<u8>>], o: &InferOptions) -> InferState {
    let mut s = InferState::with_options(o.clone());
    for v in rows {
        match v {
            Some(b) => s.add(b),
            None => s.add_null(1),
        }
    }
    s
}

fn body(s: &InferState) -> Vec<u8> {
    let mut b = Vec::new();
    s.write_body(&mut b);
    b
}

/// Debug renders floats in their shortest round-trip form, so equal strings mean equal bits.
fn bits(i: &Inference) -> String {
    format!("{i:?}")
}

#[test]
fn serialised_parts_merge_to_the_one_pass_result() {
    let rows = mixed_column(20_000);
    let all: Vec<&Option<Vec<u8>>> = rows.iter().collect();
    let mut rng = Rng(42);
    for o in [InferOptions::default(), InferOptions { sample_limit: 64, decimal: Some(','), ..Default::default() }] {
        let whole = state_of(&all, &o);
        let (expect, expect_bytes) = (bits(&whole.finalize()), body(&whole));
        assert!(whole.finalize().distinct_count > o.sample_limit as u64, "the sketch must be full");
        for parts in [1usize, 3, 17] {
            for _ in 0..2 {
                let mut split: Vec<Vec<&Option<Vec<u8>>>> = vec![Vec::new(); parts];
                for r in &rows {
                    split[rng.below(parts)].push(r);
                }
                let mut states: Vec<InferState> = split
                    .iter()
                    .map(|p| InferState::read_body(&body(&state_of(p, &o))).expect("own body reads back"))
                    .collect();
                for k in (1..states.len()).rev() {
                    states.swap(k, rng.below(k + 1));
                }
                // a default-options identity adopts the options of the first non-empty state
                let mut acc = InferState::default();
                for s in &states {
                    acc.try_combine(s).expect("same options");
                }
                assert_eq!(bits(&acc.finalize()), expect, "{parts} parts");
                assert_eq!(body(&acc), expect_bytes, "{parts} parts: merged bytes");
            }
        }
    }
}

#[test]
fn add_batch_equals_row_by_row() {
    // repeats within and across blocks, padded duplicates of plain values, SQL NULLs
    let mut rows = mixed_column(9_000);
    rows.extend(mixed_column(9_000));
    for k in 0..3_000u64 {
        rows.push(Some(["7", " 7", "7 ", "yes", "\tNA ", "2021-03-04"][(k % 6) as usize].as_bytes().to_vec()));
    }
    let all: Vec<&Option<Vec<u8>>> = rows.iter().collect();
    for o in [InferOptions::default(), InferOptions { sample_limit: 64, decimal: Some(','), ..Default::default() }] {
        // the reference classifies every value (no block dedup, no memo)
        let mut one = InferState::with_options(o.clone());
        for v in &all {
            match v {
                Some(b) => one.add_uncached(b),
                None => one.add_null(1),
            }
        }
        assert_eq!(body(&state_of(&all, &o)), body(&one), "add with the memo");
        for batch in [1usize, 5, 2048, 2049, 5000, rows.len()] {
            let mut b = InferState::with_options(o.clone());
            for chunk in rows.chunks(batch) {
                b.add_batch(chunk.len(), |i| chunk[i].as_deref());
            }
            assert_eq!(bits(&b.finalize()), bits(&one.finalize()), "batch {batch}");
            assert_eq!(body(&b), body(&one), "batch {batch}: bytes");
        }
    }
}

#[test]
fn body_round_trip_is_byte_identical() {
    let rows = mixed_column(3_000);
    let all: Vec<&Option<Vec<u8>>> = rows.iter().collect();
    let o = InferOptions {
        null_tokens: vec!["NA".into(), "ñ/a".into()],
        min_parse_rate: 0.75,
        sample_limit: 100,
        decimal: Some('.'),
    };
    for s in [InferState::default(), state_of(&all, &InferOptions::default()), state_of(&all, &o)] {
        let b = body(&s);
        let back = InferState::read_body(&b).unwrap();
        assert_eq!(body(&back), b);
        assert_eq!(back.options(), s.options());
        assert_eq!(bits(&back.finalize()), bits(&s.finalize()));
    }
}

#[test]
fn different_options_do_not_merge() {
    let rows = mixed_column(100);
    let all: Vec<&Option<Vec<u8>>> = rows.iter().collect();
    let o = InferOptions { min_parse_rate: 0.8, ..Default::default() };
    let mut a = state_of(&all, &InferOptions::default());
    let b = state_of(&all, &o);
    assert!(!a.same_options(&b));
    let e = a.try_combine(&b).unwrap_err();
    assert!(
        e.starts_with("dr_infer_type: cannot merge states built with different options: min_parse_rate=0.9,"),
        "{e}"
    );
    assert!(e.contains(" vs min_parse_rate=0.8, sample_limit=256, null_tokens=[\"\", \"NA\""), "{e}");
    assert!(e.ends_with("decimal=auto"), "{e}");
    // an empty state is the identity whatever its options
    let before = body(&a);
    a.try_combine(&InferState::with_options(o)).unwrap();
    assert_eq!(body(&a), before);
}

#[test]
fn corrupt_bodies_are_errors_not_panics() {
    let rows = mixed_column(2_000);
    let all: Vec<&Option<Vec<u8>>> = rows.iter().collect();
    let b = body(&state_of(&all, &InferOptions { sample_limit: 32, ..Default::default() }));
    for cut in 0..b.len() {
        assert!(InferState::read_body(&b[..cut]).is_err(), "truncated at {cut} of {}", b.len());
    }
    let mut rng = Rng(7);
    let mut ok = 0;
    for _ in 0..4000 {
        let mut c = b.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(c.len());
            c[at] ^= 1 << rng.below(8);
        }
        if let Ok(s) = InferState::read_body(&c) {
            ok += 1;
            // a state that reads is a valid one: canonical bytes, finalizes, merges
            assert_eq!(body(&s), c);
            let _ = s.finalize();
            let mut t = s.clone();
            t.try_combine(&s).unwrap();
            let _ = t.finalize();
        }
    }
    // flips in counters that stay consistent read fine; most flips are caught
    assert!(ok < 4000, "{ok} of 4000 corrupted bodies read");
}

/// Kernel-only timing without DuckDB: `DR_INFER_BENCH_DIR=<dir> cargo test --release --lib
/// infer_kernel_timing -- --ignored --nocapture` reads one file per column (one value per line,
/// a line holding only byte 0x01 is a SQL NULL) and prints ns/value per column, one thread.
#[test]
#[ignore]
fn infer_kernel_timing() {
    let Ok(dir) = std::env::var("DR_INFER_BENCH_DIR") else { return };
    let mut total = 0.0;
    let mut total_off = 0.0;
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read(&p).unwrap();
        let vals: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        let opt: Vec<Option<&[u8]>> = vals.iter().map(|v| if *v == b"\x01" { None } else { Some(*v) }).collect();
        let reps = 5;
        let mut r = None;
        let mut el = [0.0; 2];
        for _ in 0..reps {
            for (memo, e) in el.iter_mut().enumerate() {
                let t = std::time::Instant::now();
                let mut st = InferState::default();
                st.memo.disabled = memo == 0;
                for c in opt.chunks(2048) {
                    st.add_batch(c.len(), |i| c[i]);
                }
                r = Some(st.finalize());
                *e += t.elapsed().as_secs_f64() / reps as f64;
            }
        }
        eprintln!("  without memo {:.1} ns/value", el[0] * 1e9 / vals.len() as f64);
        total_off += el[0];
        let el = el[1];
        total += el;
        let r = r.unwrap();
        eprintln!(
            "{:>16} {:7.1} ns/value  {} {:?}",
            p.file_name().unwrap().to_string_lossy(),
            el * 1e9 / vals.len() as f64,
            r.inferred_type,
            r.format
        );
    }
    eprintln!("total {total:.3} s, without the memo {total_off:.3} s (one thread)");
}

#[test]
fn hash64_tail_matches_the_zero_padded_word() {
    // the sketch hashes are part of saved states: the fast tail read must not change them
    fn reference(s: &[u8]) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = s.len() as u64;
        for c in s.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        crate::kernels::profile::hash::fmix64(h)
    }
    let bytes: Vec<u8> = (0..40u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8 | 1).collect();
    for n in 0..bytes.len() {
        assert_eq!(hash64(&bytes[..n]), reference(&bytes[..n]), "length {n}");
    }
}
