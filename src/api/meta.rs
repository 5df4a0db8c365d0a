//! Read-only endpoints: vocabulary, knowledge base, health, readiness, the spec.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::state::AppState;
use crate::knowledge::condition::{CmpOp, Cond, NumRef};
use crate::knowledge::report::describe;
use crate::knowledge::{
    CodeDef, KnowledgeBase, Level, Lifecycle, MappedValue, ValueKind, ValueMapping,
};
use crate::view::dto::{answerable, question_of};
use crate::view::dto::{
    DeprecatedValueDto, GroupDto, KnowledgeBaseRef, LanguageDto, LevelDto, LifecycleDto,
    ReplacementDto, ReviewDto, SourceDto, Status, TimeframeDto, VocabularyCode, VocabularyResponse,
};
use crate::view::language::Lang;

/// List the answer vocabulary
///
/// Every code the service understands, with its group, value type, allowed values or
/// range, the plain-language intake question, what it screens for, and whether it is a
/// required safety screen. Required screens come first, in clinical priority order.
/// Questions, answer labels and group labels are in the best language of `Accept-Language`
/// that has a catalog (`language` says which, and what is still in English).
#[utoipa::path(
    get,
    path = "/v1/vocabulary",
    operation_id = "getVocabulary",
    tag = "knowledge base",
    responses((status = 200, description = "The vocabulary", body = VocabularyResponse,
        headers(
            ("Content-Language" = String, description = "The language of the questions and labels (`language.code`)"),
            ("Vary" = String, description = "`Accept-Language`"),
        )))
)]
#[get("/v1/vocabulary")]
pub async fn vocabulary(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    // Without `options.language` the choice cannot fail: no match means English.
    let lang = Lang::choose(&state.kb, None, accept_language).unwrap_or_else(|_| Lang::english());
    let response = vocabulary_response(&state.kb, &lang, &state.texts.units);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, response.language.code))
        .insert_header((header::VARY, "Accept-Language"))
        .json(response)
}

fn lifecycle_of<'a>(kb: &'a KnowledgeBase, c: &'a CodeDef) -> Option<LifecycleDto<'a>> {
    let d = match &c.lifecycle {
        Lifecycle::Active => return None,
        Lifecycle::Deprecated(d) | Lifecycle::Retired(d) => d,
    };
    Some(LifecycleDto {
        since: &d.since,
        deprecated_on: &d.deprecated_on,
        sunset: d.sunset.as_deref(),
        note: &d.note,
        replaced_by: d
            .replaced_by
            .iter()
            .map(|r| ReplacementDto {
                code: &kb.vocabulary.code(r.code).code,
                map: match &r.mapping {
                    ValueMapping::Identity => None,
                    ValueMapping::Table(table) => Some(
                        table
                            .iter()
                            .map(|(from, to)| {
                                (
                                    mapped_name(&c.kind, *from),
                                    mapped_name(&kb.vocabulary.code(r.code).kind, *to),
                                )
                            })
                            .collect(),
                    ),
                },
            })
            .collect(),
    })
}

fn mapped_name(kind: &ValueKind, v: MappedValue) -> &str {
    match v {
        MappedValue::Present => "present",
        MappedValue::Absent => "absent",
        MappedValue::Unknown => "unknown",
        MappedValue::Choice(c) => kind.choice_name(c).unwrap_or_default(),
    }
}

pub fn vocabulary_response<'a>(
    kb: &'a KnowledgeBase,
    lang: &Lang<'a>,
    units: &[String],
) -> VocabularyResponse<'a> {
    let codes = kb
        .vocabulary
        .display_order()
        .into_iter()
        .map(|id| {
            let c = kb.vocabulary.code(id);
            let (question, review) = question_of(c, lang, units);
            VocabularyCode {
                code: &c.code,
                group: &c.group,
                answer: answerable(c, lang, units),
                question,
                screens_for: &c.screens_for,
                required_screen: c.required_screen,
                loinc: c.loinc.as_deref(),
                review: review.as_str(),
                ask_when: c.ask_when.as_ref().map(|w| condition_json(kb, w)),
                status: c.status(),
                lifecycle: lifecycle_of(kb, c),
                deprecated_values: c
                    .deprecated_values
                    .iter()
                    .map(|d| DeprecatedValueDto {
                        value: c.kind.choice_name(d.value).unwrap_or_default(),
                        replaced_by: c.kind.choice_name(d.replaced_by).unwrap_or_default(),
                        since: &d.since,
                        deprecated_on: &d.deprecated_on,
                        sunset: d.sunset.as_deref(),
                        note: &d.note,
                    })
                    .collect(),
            }
        })
        .collect();
    VocabularyResponse {
        knowledge_base: KnowledgeBaseRef {
            version: &kb.version,
            digest: &kb.digest,
        },
        groups: kb
            .vocabulary
            .groups
            .iter()
            .map(|g| GroupDto {
                id: &g.id,
                label: lang
                    .text(
                        || format!("group.{}.label", g.id),
                        &g.label,
                        crate::knowledge::Review::Draft,
                    )
                    .0,
            })
            .collect(),
        codes,
        language: LanguageDto {
            code: lang.code,
            untranslated: lang.untranslated(),
        },
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSummary<'a> {
    #[schema(example = "R01")]
    pub id: &'a str,
    pub title: &'a str,
    #[schema(value_type = LevelDto)]
    pub level: &'static str,
    /// Present only for `consultation` rules and floors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<TimeframeDto>, nullable = false)]
    pub timeframe: Option<&'static str>,
    /// The condition in plain words.
    pub condition: String,
    pub screens_for: &'a [String],
    pub remote_ok: bool,
    pub sources: Vec<&'a str>,
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CauseSummary<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub priority: u32,
    pub sources: Vec<&'a str>,
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockSummary<'a> {
    pub id: &'a str,
    pub text: &'a str,
    pub sources: Vec<&'a str>,
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeBaseResponse<'a> {
    pub version: &'a str,
    pub digest: &'a str,
    pub title: &'a str,
    /// Red-flag rules, then floors, then cause floors (`CAUSE-<cause>`).
    pub rules: Vec<RuleSummary<'a>>,
    pub causes: Vec<CauseSummary<'a>>,
    pub advice: Vec<BlockSummary<'a>>,
    pub medicines: Vec<BlockSummary<'a>>,
    pub safety_net: Vec<BlockSummary<'a>>,
    pub sources: Vec<SourceDto<'a>>,
}

/// Describe the knowledge base
///
/// Version, digest, and every rule, floor, cause, advice block, medicine option,
/// safety-net block and source with ids, titles, levels, sources and review status:
/// what a clinical safety officer reviews.
#[utoipa::path(
    get,
    path = "/v1/knowledge-base",
    operation_id = "getKnowledgeBase",
    tag = "knowledge base",
    responses((status = 200, description = "The knowledge base", body = KnowledgeBaseResponse))
)]
#[get("/v1/knowledge-base")]
pub async fn knowledge_base(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(knowledge_base_response(&state.kb))
}

pub fn knowledge_base_response(kb: &KnowledgeBase) -> KnowledgeBaseResponse<'_> {
    let ids = |list: &[usize]| -> Vec<&str> {
        list.iter()
            .filter_map(|i| kb.sources.get(*i))
            .map(|s| s.id.as_str())
            .collect()
    };
    let timeframe = |level: Level, t: crate::knowledge::Timeframe| {
        (level == Level::Consultation).then(|| t.as_str())
    };
    let mut rules: Vec<RuleSummary<'_>> = kb
        .rules
        .iter()
        .map(|r| RuleSummary {
            id: &r.id,
            title: &r.title,
            level: r.level.as_str(),
            timeframe: timeframe(r.level, r.timeframe),
            condition: describe(kb, &r.when),
            screens_for: &r.screens_for,
            remote_ok: r.remote_ok,
            sources: ids(&r.sources),
            review: r.review.as_str(),
        })
        .collect();
    rules.extend(kb.floors.iter().map(|f| RuleSummary {
        id: &f.id,
        title: &f.title,
        level: f.level.as_str(),
        timeframe: timeframe(f.level, f.timeframe),
        condition: describe(kb, &f.when),
        screens_for: &[],
        remote_ok: f.remote_ok,
        sources: ids(&f.sources),
        review: f.review.as_str(),
    }));
    // Cause floors set levels too (they appear in `decided_by` as `CAUSE-<cause>`).
    rules.extend(kb.causes.iter().filter_map(|c| {
        let f = c.floor.as_ref()?;
        let gate = c
            .gate
            .as_ref()
            .map(|g| format!("{}, and ", describe(kb, g)))
            .unwrap_or_default();
        let extra = f
            .when
            .as_ref()
            .map(|w| format!(", and {}", describe(kb, w)))
            .unwrap_or_default();
        Some(RuleSummary {
            id: &f.id,
            title: &c.label,
            level: f.level.as_str(),
            timeframe: timeframe(f.level, f.timeframe),
            condition: format!(
                "{gate}the findings supporting `{}` weigh 5 or more{extra}",
                c.id
            ),
            screens_for: &[],
            remote_ok: f.remote_ok,
            sources: ids(&c.sources),
            review: c.review.as_str(),
        })
    }));
    KnowledgeBaseResponse {
        version: &kb.version,
        digest: &kb.digest,
        title: &kb.title,
        rules,
        causes: kb
            .causes
            .iter()
            .map(|c| CauseSummary {
                id: &c.id,
                label: &c.label,
                priority: c.priority,
                sources: ids(&c.sources),
                review: c.review.as_str(),
            })
            .collect(),
        advice: kb
            .advice
            .blocks
            .iter()
            .map(|b| BlockSummary {
                id: &b.id,
                text: &b.text,
                sources: ids(&b.sources),
                review: b.review.as_str(),
            })
            .collect(),
        medicines: kb
            .medicines
            .iter()
            .map(|m| BlockSummary {
                id: &m.id,
                text: &m.text,
                sources: ids(&m.sources),
                review: m.review.as_str(),
            })
            .collect(),
        safety_net: kb
            .safety_net
            .iter()
            .map(|b| BlockSummary {
                id: &b.id,
                text: &b.text,
                sources: ids(&b.sources),
                review: b.review.as_str(),
            })
            .collect(),
        sources: kb.sources.iter().map(SourceDto::from).collect(),
    }
}

/// Liveness
///
/// The process is up and serving.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "operations",
    responses((status = 200, description = "Alive", body = Status, example = json!({"status": "ok"}))))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// Readiness
///
/// The knowledge base is loaded and validated (the process does not start otherwise).
#[utoipa::path(get, path = "/ready", operation_id = "ready", tag = "operations",
    responses((status = 200, description = "Ready to assess", body = Status, example = json!({"status": "ok"}))))]
#[get("/ready")]
pub async fn ready() -> HttpResponse {
    // The server only starts listening after the knowledge base validated.
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// The OpenAPI document
///
/// This document (OpenAPI 3.1), identical to the committed `openapi/openapi.json`.
#[utoipa::path(get, path = "/openapi.json", operation_id = "getOpenApi", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(state.openapi_json.clone())
}

/// A branching condition in the JSON form of the rule files (`{"code": "sex", "ne":
/// "male"}`, `{"present": "history_of_cancer"}`, `all`/`any`/`not`), for forms that
/// evaluate `ask_when` themselves.
pub fn condition_json(kb: &KnowledgeBase, cond: &Cond) -> serde_json::Value {
    use serde_json::json;
    let name = |id: usize| kb.vocabulary.code(id).code.as_str();
    match cond {
        Cond::All(list) => {
            json!({ "all": list.iter().map(|c| condition_json(kb, c)).collect::<Vec<_>>() })
        }
        Cond::Any(list) => {
            json!({ "any": list.iter().map(|c| condition_json(kb, c)).collect::<Vec<_>>() })
        }
        Cond::Not(inner) => json!({ "not": condition_json(kb, inner) }),
        Cond::Present(id) => json!({ "present": name(*id) }),
        Cond::Absent(id) => json!({ "absent": name(*id) }),
        Cond::Missing(id) => json!({ "missing": name(*id) }),
        Cond::Choice {
            code,
            values,
            negate,
        } => {
            let kind = &kb.vocabulary.code(*code).kind;
            let names: Vec<&str> = values.iter().filter_map(|v| kind.choice_name(*v)).collect();
            match (names.as_slice(), negate) {
                ([one], false) => json!({ "code": name(*code), "eq": one }),
                ([one], true) => json!({ "code": name(*code), "ne": one }),
                (_, false) => json!({ "code": name(*code), "in": names }),
                (_, true) => json!({ "code": name(*code), "not_in": names }),
            }
        }
        Cond::SetContains { code, value } => json!({
            "code": name(*code),
            "contains": kb.vocabulary.code(*code).kind.choice_name(*value),
        }),
        Cond::Compare {
            num: NumRef::Code(id),
            tests,
        } => {
            let mut object = serde_json::Map::new();
            object.insert("code".into(), json!(name(*id)));
            for (op, value) in tests {
                let key = match op {
                    CmpOp::Gt => "gt",
                    CmpOp::Ge => "ge",
                    CmpOp::Lt => "lt",
                    CmpOp::Le => "le",
                };
                object.insert(key.into(), json!(value));
            }
            serde_json::Value::Object(object)
        }
        // Not allowed in `ask_when` (validated at load): findings, counts, computed numbers.
        _ => json!({ "unsupported": true }),
    }
}
