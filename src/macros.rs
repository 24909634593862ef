//! The SQL macros in `sql/*.sql`: parsed from the files compiled into the extension.
//!
//! Each macro is preceded by a comment block that documents it once for every consumer
//! (the registry, `dr_functions()`, the README, the catalog docs on DuckDB 2.0.x):
//!
//! ```sql
//! -- name: profile_columns
//! -- description: One row per column of a table with every statistic of dr_profile.
//! -- example: FROM profile_columns('flights');
//! CREATE OR REPLACE MACRO profile_columns(tbl, exact_limit := NULL) AS TABLE
//! SELECT ...;
//! ```
//!
//! The files stay valid DuckDB SQL. Where the C API v2 companion cannot register them (DuckDB
//! before 2.0), `dr_macros_sql()` hands out their text adapted to the running release.

/// Every file in `sql/`, embedded at build time (name, text).
pub const SQL_FILES: &[(&str, &str)] = &[
    ("basic.sql", include_str!("../sql/basic.sql")),
    ("profile.sql", include_str!("../sql/profile.sql")),
    ("infer.sql", include_str!("../sql/infer.sql")),
    ("annotate.sql", include_str!("../sql/annotate.sql")),
    ("correlations.sql", include_str!("../sql/correlations.sql")),
    ("topology.sql", include_str!("../sql/topology.sql")),
    ("relationships.sql", include_str!("../sql/relationships.sql")),
    ("context.sql", include_str!("../sql/context.sql")),
    ("states.sql", include_str!("../sql/states.sql")),
];

/// Scalar or table macro.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroKind {
    /// `AS expression`
    Scalar,
    /// `AS TABLE select`
    Table,
}

/// One parameter: a name and, for named parameters, the default's SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroParam {
    /// Parameter name.
    pub name: String,
    /// Default value as SQL, for `name := default` parameters.
    pub default: Option<String>,
}

/// A parsed macro definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroDef {
    /// SQL name.
    pub name: String,
    /// Scalar or table.
    pub kind: MacroKind,
    /// Parameters in order.
    pub params: Vec<MacroParam>,
    /// The body: an expression or a SELECT, without the trailing `;`.
    pub body: String,
    /// From the `-- description:` line(s).
    pub description: String,
    /// From the `-- example:` line.
    pub example: String,
    /// The file it came from.
    pub file: String,
}

impl MacroDef {
    /// Parameters rendered for docs, e.g. `tbl, max_dim := 1`.
    pub fn signature(&self) -> String {
        self.params
            .iter()
            .map(|p| match &p.default {
                Some(d) => format!("{} := {d}", p.name),
                None => p.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parses every embedded file.
pub fn all() -> Result<Vec<MacroDef>, String> {
    let mut out = Vec::new();
    for (file, text) in SQL_FILES {
        out.extend(parse_file(file, text)?);
    }
    Ok(out)
}

/// Parses one file's macros.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<MacroDef>, String> {
    let mut defs = Vec::new();
    let mut name = None;
    let mut description = String::new();
    let mut example = String::new();
    let mut statement = String::new();
    let mut in_statement = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if !in_statement {
            if let Some(rest) = trimmed.strip_prefix("-- name:") {
                name = Some(rest.trim().to_string());
                description.clear();
                example.clear();
            } else if let Some(rest) = trimmed.strip_prefix("-- description:") {
                description = rest.trim().to_string();
            } else if let Some(rest) = trimmed.strip_prefix("-- example:") {
                example = rest.trim().to_string();
            } else if let Some(rest) = trimmed.strip_prefix("--   ") {
                // continuation of the description
                if !description.is_empty() && example.is_empty() {
                    description.push(' ');
                    description.push_str(rest.trim());
                }
            } else if trimmed.to_ascii_uppercase().starts_with("CREATE") {
                in_statement = true;
                statement.clear();
            }
        }
        if in_statement {
            statement.push_str(line);
            statement.push('\n');
            if trimmed.ends_with(';') {
                in_statement = false;
                let Some(n) = name.take() else {
                    return Err(format!("{file}: a CREATE MACRO without a '-- name:' comment block"));
                };
                let def = parse_statement(file, &n, &statement, &description, &example)?;
                defs.push(def);
            }
        }
    }
    if in_statement {
        return Err(format!("{file}: unterminated statement (missing ';')"));
    }
    Ok(defs)
}

fn parse_statement(file: &str, name: &str, stmt: &str, description: &str, example: &str) -> Result<MacroDef, String> {
    let err = |m: &str| format!("{file}: macro {name}: {m}");
    let open = stmt.find('(').ok_or_else(|| err("no parameter list"))?;
    let head = stmt[..open].split_whitespace().collect::<Vec<_>>();
    if head.last().map(|s| s.to_ascii_lowercase()) != Some(name.to_ascii_lowercase()) {
        return Err(err("the '-- name:' comment does not match the CREATE MACRO name"));
    }
    let close = matching_paren(stmt, open).ok_or_else(|| err("unbalanced parentheses in the parameter list"))?;
    let params = split_top_level(&stmt[open + 1..close])
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once(":=") {
            Some((n, d)) => MacroParam { name: n.trim().to_string(), default: Some(d.trim().to_string()) },
            None => MacroParam { name: p.trim().to_string(), default: None },
        })
        .collect::<Vec<_>>();
    let rest = stmt[close + 1..].trim_start();
    let rest =
        rest.strip_prefix("AS").or_else(|| rest.strip_prefix("as")).ok_or_else(|| err("expected AS"))?.trim_start();
    let (kind, body) = if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case("TABLE") {
        (MacroKind::Table, &rest[5..])
    } else {
        (MacroKind::Scalar, rest)
    };
    let body = body.trim().trim_end_matches(';').trim().to_string();
    if description.is_empty() || example.is_empty() {
        return Err(err("needs '-- description:' and '-- example:' lines"));
    }
    Ok(MacroDef {
        name: name.to_string(),
        kind,
        params,
        body,
        description: description.to_string(),
        example: example.to_string(),
        file: file.to_string(),
    })
}

fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote = false;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '\'' => quote = !quote,
            '(' if !quote => depth += 1,
            ')' if !quote => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote = false;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '\'' => quote = !quote,
            '(' | '[' | '{' if !quote => depth += 1,
            ')' | ']' | '}' if !quote => depth -= 1,
            ',' if depth == 0 && !quote => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_table_and_scalar_macros_with_defaults() {
        let text = "-- name: t1\n-- description: A table macro that does things.\n--   More words.\n-- example: FROM t1('x');\nCREATE OR REPLACE MACRO t1(tbl, max_dim := 1, metric := 'a,b') AS TABLE\nSELECT * FROM query_table(tbl);\n\n-- name: s1\n-- description: A scalar macro.\n-- example: SELECT s1(2);\nCREATE MACRO s1(x) AS x * (x + 1);\n";
        let defs = parse_file("f.sql", text).unwrap();
        assert_eq!(defs.len(), 2);
        assert_eq!(defs[0].kind, MacroKind::Table);
        assert_eq!(defs[0].description, "A table macro that does things. More words.");
        assert_eq!(defs[0].signature(), "tbl, max_dim := 1, metric := 'a,b'");
        assert_eq!(defs[0].body, "SELECT * FROM query_table(tbl)");
        assert_eq!(defs[1].kind, MacroKind::Scalar);
        assert_eq!(defs[1].body, "x * (x + 1)");
    }

    #[test]
    fn rejects_undocumented_or_mismatched_macros() {
        assert!(parse_file("f.sql", "CREATE MACRO a(x) AS x;").is_err());
        assert!(parse_file(
            "f.sql",
            "-- name: b\n-- description: d is long.\n-- example: SELECT a(1);\nCREATE MACRO a(x) AS x;"
        )
        .is_err());
        assert!(parse_file("f.sql", "-- name: a\nCREATE MACRO a(x) AS x;").is_err());
    }

    /// Every macro shipped in sql/ parses and is documented.
    #[test]
    fn shipped_macros_parse() {
        let defs = all().unwrap();
        assert!(!defs.is_empty());
        for d in defs {
            assert!(d.description.len() >= 20, "{}", d.name);
        }
    }
}
