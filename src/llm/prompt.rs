//! Prompts, the answer schema and the request/response shapes of both APIs.
//!
//! One request covers a batch of columns of one table. The user message lists the
//! columns as one JSON object per line (after a `COLUMNS:` line) with their real
//! statistics; the answer is forced into [`answer_schema`] — `response_format` with a
//! JSON schema for OpenAI-compatible servers, a forced tool call for Anthropic.

use serde_json::{json, Value as Json};

use super::{ColumnDescriptor, LlmOptions, Provider, ROLES};

const SYSTEM: &str = "You annotate the columns of database tables for a data catalog used by AI agents. \
For each column you get its name, declared and inferred type and statistics computed over the whole table \
(null ratio, distinct count, cardinality ratio, uniqueness, min/max/mean, patterns and, when shared, top values). \
Ground every answer in those statistics. For each column return: semantic_role (key = unique identifier of this \
table's rows; foreign_key = refers to another entity's key; measure = numeric quantity that is summed or averaged; \
dimension = categorical value used to group or filter; timestamp = date/time or date part; attribute = other \
descriptive value; identifier = unique code or name that is not the primary key; free_text = prose), entity_type \
(the real-world entity the column describes or refers to, snake_case), business_term (short business name), \
description (one sentence), unit (unit of measure or null) and confidence (0 to 1). Answer for every column listed, \
using the exact column_name.";

/// The JSON schema of an answer: `{"columns": [{column_name, semantic_role, ...}]}`.
pub fn answer_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "columns": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "column_name": {"type": "string"},
                        "semantic_role": {"type": "string", "enum": ROLES},
                        "entity_type": {"type": ["string", "null"]},
                        "business_term": {"type": "string"},
                        "description": {"type": "string"},
                        "unit": {"type": ["string", "null"]},
                        "confidence": {"type": "number"}
                    },
                    "required": ["column_name", "semantic_role", "entity_type", "business_term", "description", "unit", "confidence"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["columns"],
        "additionalProperties": false
    })
}

/// The user message for one batch.
pub fn user_message(batch: &[&ColumnDescriptor], opts: &LlmOptions) -> String {
    let table = batch.first().map(|d| d.table.as_str()).unwrap_or("");
    let rows = batch.first().and_then(|d| d.num("row_count")).map(|r| format!(" ({r} rows)")).unwrap_or_default();
    let mut s = format!("Table: {table}{rows}\nAnnotate these {} columns.\nCOLUMNS:\n", batch.len());
    for d in batch {
        s.push_str(&d.prompt_json(opts.share_values).to_string());
        s.push('\n');
    }
    s
}

/// The request body; `repair` carries the previous invalid answer and why it failed.
pub fn request_body(batch: &[&ColumnDescriptor], opts: &LlmOptions, repair: Option<(&str, &str)>) -> Json {
    let user = user_message(batch, opts);
    let mut messages = vec![json!({"role": "user", "content": user})];
    if let Some((previous, why)) = repair {
        messages.push(json!({"role": "assistant", "content": previous}));
        messages.push(json!({"role": "user", "content": format!(
            "That answer was invalid: {why}. Reply again with only a JSON object that matches the schema, one entry per column.")}));
    }
    match opts.provider {
        Provider::Anthropic => json!({
            "model": opts.model,
            "max_tokens": 4096,
            "temperature": 0,
            "system": SYSTEM,
            "messages": messages,
            "tools": [{
                "name": "annotate_columns",
                "description": "Record the annotation of every column.",
                "input_schema": answer_schema()
            }],
            "tool_choice": {"type": "tool", "name": "annotate_columns"}
        }),
        _ => {
            let mut all = vec![json!({"role": "system", "content": SYSTEM})];
            all.extend(messages);
            json!({
                "model": opts.model,
                "temperature": 0,
                "messages": all,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "column_annotations", "strict": true, "schema": answer_schema()}
                }
            })
        }
    }
}

/// The endpoint URL for `opts`.
pub fn endpoint(opts: &LlmOptions) -> String {
    match opts.provider {
        Provider::Anthropic => format!("{}/messages", opts.base_url),
        _ => format!("{}/chat/completions", opts.base_url),
    }
}

/// What a response envelope holds: the model's answer (text of the JSON object) and the
/// tokens used. `Err` when the envelope itself is not what the API returns.
pub fn extract_answer(provider: Provider, envelope: &Json) -> Result<(String, u64), String> {
    match provider {
        Provider::Anthropic => {
            let tokens = envelope.pointer("/usage/input_tokens").and_then(Json::as_u64).unwrap_or(0)
                + envelope.pointer("/usage/output_tokens").and_then(Json::as_u64).unwrap_or(0);
            let content = envelope.get("content").and_then(Json::as_array).ok_or("response has no content array")?;
            if let Some(tool) = content.iter().find(|c| c.get("type").and_then(Json::as_str) == Some("tool_use")) {
                let input = tool.get("input").ok_or("tool_use block has no input")?;
                return Ok((input.to_string(), tokens));
            }
            // A model that ignored the forced tool: try its text.
            let text: String = content.iter().filter_map(|c| c.get("text").and_then(Json::as_str)).collect();
            Ok((text, tokens))
        }
        _ => {
            let tokens = envelope.pointer("/usage/total_tokens").and_then(Json::as_u64).unwrap_or(0);
            let text = envelope
                .pointer("/choices/0/message/content")
                .and_then(Json::as_str)
                .ok_or("response has no choices[0].message.content")?;
            Ok((text.to_string(), tokens))
        }
    }
}

/// Parses the model's answer into the per-column objects, keyed by column name.
pub fn parse_answer(text: &str) -> Result<Vec<Json>, String> {
    let trimmed = text.trim();
    // Tolerate a ```json fence around the object.
    let body = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .map(|s| s.trim_end().trim_end_matches("```"))
        .unwrap_or(trimmed);
    let v: Json = serde_json::from_str(body).map_err(|e| format!("the answer is not valid JSON ({e})"))?;
    let cols = v.get("columns").and_then(Json::as_array).ok_or("the answer has no \"columns\" array")?;
    Ok(cols.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn opts(p: &str) -> LlmOptions {
        LlmOptions::from_json(&format!(r#"{{"provider":"{p}","base_url":"http://127.0.0.1:9/v1","model":"m"}}"#))
            .unwrap()
    }

    #[test]
    fn bodies_carry_schema_and_columns() {
        let mut stats = Map::new();
        stats.insert("min_value".into(), json!(-43.0));
        let d = ColumnDescriptor {
            table: "flights".into(),
            column: "dep_delay".into(),
            column_type: "DOUBLE".into(),
            ordinal: 1,
            stats,
        };
        let o = opts("openai");
        let b = request_body(&[&d], &o, None);
        assert_eq!(b.pointer("/response_format/json_schema/strict"), Some(&json!(true)));
        assert!(b.to_string().contains("dep_delay") && b.to_string().contains("-43"));
        assert_eq!(endpoint(&o), "http://127.0.0.1:9/v1/chat/completions");
        let a = opts("anthropic");
        let b = request_body(&[&d], &a, Some(("{bad", "not JSON")));
        assert_eq!(b.pointer("/tool_choice/name"), Some(&json!("annotate_columns")));
        assert_eq!(b.pointer("/messages").and_then(Json::as_array).map(Vec::len), Some(3));
        assert_eq!(endpoint(&a), "http://127.0.0.1:9/v1/messages");
    }

    #[test]
    fn answers_are_extracted_from_both_envelopes() {
        let oa = json!({"choices":[{"message":{"content":"{\"columns\":[]}"}}],"usage":{"total_tokens":7}});
        assert_eq!(extract_answer(Provider::OpenAi, &oa).unwrap(), ("{\"columns\":[]}".to_string(), 7));
        let an = json!({"content":[{"type":"tool_use","input":{"columns":[{"column_name":"x"}]}}],"usage":{"input_tokens":3,"output_tokens":4}});
        let (text, tokens) = extract_answer(Provider::Anthropic, &an).unwrap();
        assert_eq!((parse_answer(&text).unwrap().len(), tokens), (1, 7));
        assert!(parse_answer("{\"columns\": [").is_err());
        assert_eq!(parse_answer("```json\n{\"columns\":[]}\n```").unwrap().len(), 0);
    }
}
