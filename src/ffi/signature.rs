//! Function signatures as the C API v2 registers them (pure Rust, unit-tested without
//! DuckDB): parameter names from the registry's parameter lists, one signature for an
//! aggregate's overloads, and type spellings DuckDB's type parser reads back.
#![cfg_attr(not(feature = "v2"), allow(dead_code))]

use super::types::Ty;

/// The parameter names of a registry parameter list such as
/// `x ANY [, null_tokens VARCHAR, min_parse_rate DOUBLE]` (`["x", "null_tokens", "min_parse_rate"]`):
/// the first word of every comma-separated entry outside parentheses; brackets only mark
/// optional entries, and a parenthesised remark is skipped.
pub(crate) fn parameter_names(list: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in list.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' | '[' | ']' if depth == 0 => entries.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    entries.push(current);
    entries
        .iter()
        .filter_map(|e| {
            let word = e.split_whitespace().next()?;
            let ident = word.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            ident.then(|| word.to_string())
        })
        .collect()
}

/// One signature for an aggregate's overloads, which must each extend the previous one:
/// the longest parameter list and how many of its parameters are required.
pub(crate) fn merged_overloads(overloads: &[Vec<Ty>]) -> Result<(Vec<Ty>, usize), String> {
    let mut sorted: Vec<&Vec<Ty>> = overloads.iter().collect();
    sorted.sort_by_key(|o| o.len());
    let (Some(shortest), Some(longest)) = (sorted.first(), sorted.last()) else {
        return Err("no overloads".into());
    };
    for pair in sorted.windows(2) {
        if pair[1][..pair[0].len()] != pair[0][..] || pair[1].len() == pair[0].len() {
            return Err("the C API v2 registers an aggregate once: its overloads must each extend the previous one \
                 by trailing parameters"
                .into());
        }
    }
    Ok(((*longest).clone(), shortest.len()))
}

/// The SQL spelling of `ty` with quoted STRUCT field names (a field may be a keyword).
pub(crate) fn type_text(ty: &Ty) -> String {
    match ty {
        Ty::List(c) => format!("{}[]", type_text(c)),
        Ty::Struct(fields) => {
            let inner: Vec<String> =
                fields.iter().map(|(n, t)| format!("\"{}\" {}", n.replace('"', "\"\""), type_text(t))).collect();
            format!("STRUCT({})", inner.join(", "))
        }
        other => other.sql(),
    }
}

#[cfg(test)]
mod tests {
    use super::{merged_overloads, parameter_names, type_text};
    use crate::ffi::Ty;

    #[test]
    fn parameter_names_follow_the_registry_lists() {
        assert_eq!(parameter_names(""), Vec::<String>::new());
        assert_eq!(parameter_names("x ANY [, exact_limit BIGINT]"), ["x", "exact_limit"]);
        assert_eq!(
            parameter_names("row STRUCT [, methods VARCHAR, sample_size BIGINT] (methods: a, b, c; empty = all)"),
            ["row", "methods", "sample_size"]
        );
        assert_eq!(parameter_names("t VARCHAR, d VARCHAR (JSON) [, options VARCHAR (JSON)]"), ["t", "d", "options"]);
        assert_eq!(
            parameter_names("d1 LIST(STRUCT(dim, birth, death)), d2 LIST(STRUCT(dim, birth, death)) [, dim INTEGER]"),
            ["d1", "d2", "dim"]
        );
    }

    /// Every native function's overloads get a name for each parameter from the registry.
    #[test]
    fn every_registry_entry_names_its_parameters() {
        for d in crate::registry::functions() {
            let names = parameter_names(d.parameters);
            assert_eq!(d.parameters.is_empty(), names.is_empty(), "{}: {:?}", d.name, d.parameters);
        }
    }

    #[test]
    fn aggregate_overloads_merge_into_one_signature() {
        let (p, required) =
            merged_overloads(&[vec![Ty::Any, Ty::BigInt], vec![Ty::Any], vec![Ty::Any, Ty::BigInt, Ty::Double]])
                .unwrap();
        assert_eq!((p, required), (vec![Ty::Any, Ty::BigInt, Ty::Double], 1));
        assert!(merged_overloads(&[vec![Ty::Any, Ty::BigInt], vec![Ty::Any, Ty::Double]]).is_err());
        assert!(merged_overloads(&[vec![Ty::Varchar], vec![Ty::Any, Ty::Double]]).is_err());
    }

    #[test]
    fn struct_fields_are_quoted() {
        let t = Ty::structure(&[("order", Ty::list(Ty::Double)), ("a\"b", Ty::Varchar)]);
        assert_eq!(type_text(&t), "STRUCT(\"order\" DOUBLE[], \"a\"\"b\" VARCHAR)");
    }
}
