//! Code Insights: what a report and an annotation must be, in either vocabulary (Bitbucket
//! Cloud's `PASSED`/`FAILED`/`PENDING` and `summary`; Data Center's `PASS`/`FAIL` and
//! `message`), and the limits (a report's data items, annotations per request and per report).

use serde::Deserialize;
use serde_json::Value;

pub const TITLE_MAX: usize = 450;
pub const DETAILS_MAX: usize = 2000;
pub const DATA_MAX: usize = 6;
pub const ANNOTATIONS_PER_REQUEST: usize = 100;
pub const ANNOTATIONS_PER_REPORT: i64 = 1000;
pub const MESSAGE_MAX: usize = 2000;

/// The field at fault and what to say.
pub type Refusal = (&'static str, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportResult {
    Passed,
    Failed,
    Pending,
}

impl ReportResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "PASSED",
            Self::Failed => "FAILED",
            Self::Pending => "PENDING",
        }
    }

    /// Data Center says `PASS` and `FAIL` (and has no pending).
    pub fn data_center(self) -> Option<&'static str> {
        match self {
            Self::Passed => Some("PASS"),
            Self::Failed => Some("FAIL"),
            Self::Pending => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PASSED" | "PASS" => Some(Self::Passed),
            "FAILED" | "FAIL" => Some(Self::Failed),
            "PENDING" => Some(Self::Pending),
            _ => None,
        }
    }
}

/// A report as either surface sends it (Data Center's `logoUrl`, Cloud's `logo_url`, …).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportInput {
    pub title: Option<String>,
    pub details: Option<String>,
    pub report_type: Option<String>,
    pub reporter: Option<String>,
    pub link: Option<String>,
    #[serde(alias = "logoUrl")]
    pub logo_url: Option<String>,
    pub result: Option<String>,
    pub data: Option<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidReport {
    pub title: String,
    pub details: Option<String>,
    pub report_type: Option<String>,
    pub reporter: Option<String>,
    pub link: Option<String>,
    pub logo_url: Option<String>,
    pub result: Option<ReportResult>,
    /// The data items as given, checked (`[{title, type, value}]`), as JSON text.
    pub data: String,
}

const REPORT_TYPES: &[&str] = &["SECURITY", "COVERAGE", "TEST", "BUG"];
const DATA_TYPES: &[&str] = &[
    "BOOLEAN",
    "DATE",
    "DURATION",
    "LINK",
    "NUMBER",
    "PERCENTAGE",
    "TEXT",
];

fn longest(v: Option<String>, field: &'static str, max: usize) -> Result<Option<String>, Refusal> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => {
            Err((field, format!("'{field}' may be at most {max} characters.")))
        }
        other => Ok(other),
    }
}

fn web_url(v: Option<String>, field: &'static str) -> Result<Option<String>, Refusal> {
    let v = longest(v, field, 2048)?;
    if let Some(u) = &v {
        if !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err((
                field,
                format!("'{field}' must be an http(s) URL, not '{u}'."),
            ));
        }
    }
    Ok(v)
}

impl ReportInput {
    pub fn validate(self) -> Result<ValidReport, Refusal> {
        let title = longest(self.title, "title", TITLE_MAX)?
            .ok_or(("title", "'title' is required.".to_string()))?;
        let report_type = match self.report_type.map(|t| t.trim().to_ascii_uppercase()) {
            Some(t) if !REPORT_TYPES.contains(&t.as_str()) => {
                return Err((
                    "report_type",
                    format!("'{t}' is not a report type: use SECURITY, COVERAGE, TEST or BUG."),
                ))
            }
            other => other,
        };
        let result = match self.result.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => Some(ReportResult::parse(r).ok_or((
                "result",
                format!("'{r}' is not a report result: use PASSED, FAILED or PENDING (PASS and FAIL are accepted too)."),
            ))?),
        };
        let data = self.data.unwrap_or_default();
        if data.len() > DATA_MAX {
            return Err((
                "data",
                format!(
                    "A report carries at most {DATA_MAX} data items, not {}.",
                    data.len()
                ),
            ));
        }
        for (i, d) in data.iter().enumerate() {
            let ok = d
                .get("title")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.trim().is_empty())
                && d.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| DATA_TYPES.contains(&t.to_ascii_uppercase().as_str()))
                && d.get("value").is_some();
            if !ok {
                return Err((
                    "data",
                    format!(
                        "Data item {i} needs a title, a type ({}) and a value.",
                        DATA_TYPES.join(", ")
                    ),
                ));
            }
        }
        Ok(ValidReport {
            title,
            details: longest(self.details, "details", DETAILS_MAX)?,
            report_type,
            reporter: longest(self.reporter, "reporter", 450)?,
            link: web_url(self.link, "link")?,
            logo_url: web_url(self.logo_url, "logo_url")?,
            result,
            data: Value::Array(data).to_string(),
        })
    }
}

/// An annotation as either surface sends it (Cloud's `summary`, `external_id`,
/// `annotation_type`; Data Center's `message`, `externalId`, `type`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnnotationInput {
    #[serde(alias = "externalId")]
    pub external_id: Option<String>,
    pub path: Option<String>,
    pub line: Option<i64>,
    #[serde(alias = "summary")]
    pub message: Option<String>,
    pub details: Option<String>,
    pub severity: Option<String>,
    #[serde(alias = "annotation_type", rename = "type")]
    pub annotation_type: Option<String>,
    pub result: Option<String>,
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAnnotation {
    pub external_id: Option<String>,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub message: String,
    pub details: Option<String>,
    pub severity: String,
    pub annotation_type: Option<String>,
    pub result: Option<String>,
    pub link: Option<String>,
}

impl AnnotationInput {
    /// `i`: its place in the request, for the message.
    pub fn validate(self, i: usize) -> Result<ValidAnnotation, Refusal> {
        let at = |m: String| ("annotations", format!("Annotation {i}: {m}"));
        let message = longest(self.message, "message", MESSAGE_MAX)
            .map_err(|(_, m)| at(m))?
            .ok_or_else(|| at("a message (Cloud: summary) is required.".into()))?;
        let severity = self
            .severity
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| ["LOW", "MEDIUM", "HIGH", "CRITICAL"].contains(&s.as_str()))
            .ok_or_else(|| at("severity must be LOW, MEDIUM, HIGH or CRITICAL.".into()))?;
        let annotation_type = match self.annotation_type.map(|t| t.trim().to_ascii_uppercase()) {
            Some(t) if !["BUG", "CODE_SMELL", "VULNERABILITY"].contains(&t.as_str()) => {
                return Err(at(format!(
                    "'{t}' is not a type: use BUG, CODE_SMELL or VULNERABILITY."
                )))
            }
            other => other,
        };
        if self.line.is_some_and(|l| l < 0) {
            return Err(at("line must be 0 (the whole file) or more.".into()));
        }
        let path = longest(self.path, "path", 4096).map_err(|(_, m)| at(m))?;
        if path
            .as_deref()
            .is_some_and(|p| p.starts_with('/') || p.split('/').any(|s| s == ".."))
        {
            return Err(at(
                "path is relative to the repository's root, without '..'.".into(),
            ));
        }
        Ok(ValidAnnotation {
            external_id: longest(self.external_id, "external_id", 450).map_err(|(_, m)| at(m))?,
            path,
            line: self.line,
            message,
            details: longest(self.details, "details", DETAILS_MAX).map_err(|(_, m)| at(m))?,
            severity,
            annotation_type,
            result: self
                .result
                .map(|r| r.trim().to_ascii_uppercase())
                .filter(|r| !r.is_empty()),
            link: web_url(self.link, "link").map_err(|(_, m)| at(m))?,
        })
    }
}

/// Checks a batch: at most `ANNOTATIONS_PER_REQUEST`, each valid.
pub fn annotations(batch: Vec<AnnotationInput>) -> Result<Vec<ValidAnnotation>, Refusal> {
    if batch.len() > ANNOTATIONS_PER_REQUEST {
        return Err((
            "annotations",
            format!(
                "At most {ANNOTATIONS_PER_REQUEST} annotations per request, not {}: send them in batches.",
                batch.len()
            ),
        ));
    }
    batch
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.validate(i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_vocabularies_of_a_report_read() {
        let dc: ReportInput = serde_json::from_value(json!({"title": "Sonar", "result": "FAIL",
            "logoUrl": "https://s/logo.png", "data": [{"title": "Bugs", "type": "NUMBER", "value": 3}]})).unwrap();
        let r = dc.validate().unwrap();
        assert_eq!(r.result, Some(ReportResult::Failed));
        assert_eq!(r.logo_url.as_deref(), Some("https://s/logo.png"));
        assert_eq!(ReportResult::Failed.data_center(), Some("FAIL"));
        let bad: ReportInput =
            serde_json::from_value(json!({"title": "x", "data": [{"title": "t"}]})).unwrap();
        assert_eq!(bad.validate().unwrap_err().0, "data");
        let none: ReportInput = serde_json::from_value(json!({"details": "no title"})).unwrap();
        assert_eq!(
            none.validate().unwrap_err(),
            ("title", "'title' is required.".to_string())
        );
    }

    #[test]
    fn annotations_are_checked_in_batches() {
        let cloud: AnnotationInput =
            serde_json::from_value(json!({"external_id": "a1", "summary": "Null check",
            "severity": "high", "annotation_type": "BUG", "path": "src/lib.rs", "line": 3}))
            .unwrap();
        let a = cloud.validate(0).unwrap();
        assert_eq!(
            (a.message.as_str(), a.severity.as_str()),
            ("Null check", "HIGH")
        );
        let escape: AnnotationInput =
            serde_json::from_value(json!({"message": "m", "severity": "LOW", "path": "../etc"}))
                .unwrap();
        assert!(escape
            .validate(4)
            .unwrap_err()
            .1
            .starts_with("Annotation 4: path"));
        let many: Vec<AnnotationInput> = (0..101).map(|_| AnnotationInput::default()).collect();
        assert!(annotations(many).unwrap_err().1.contains("At most 100"));
    }
}
