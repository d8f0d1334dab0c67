//! The admin socket protocol, shared by `gatehoused` and `gatehousectl`.
//!
//! One JSON object per line. The client opens with
//! `{"id":0,"op":"hello","args":{"version":1}}` and the daemon answers with the version
//! it speaks; then requests `{"id":N,"op":"client.add","args":{…}}` get
//! `{"id":N,"ok":true,"result":…}` or `{"id":N,"ok":false,"error":{"code":…,"message":…}}`.
//! Root may add `"as":"NAME"` to act as another administrator.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const PROTOCOL_VERSION: u32 = 1;

/// Longest request line accepted; longer ones are refused (and the connection closed).
pub const MAX_LINE: usize = 4 << 20;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Request {
    pub id: u64,
    pub op: String,
    #[serde(default)]
    pub args: Value,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub act_as: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was malformed or an argument invalid (exit 2).
    InvalidArgument,
    /// Operation or scope missing, unknown administrator, lockdown (exit 3).
    PermissionDenied,
    /// The object does not exist — or is outside the caller's scope (exit 4).
    NotFound,
    /// The change conflicts with existing state (exit 1).
    Conflict,
    /// Anything else went wrong (exit 1).
    Internal,
    /// The client speaks a protocol version the daemon does not (exit 1).
    UnsupportedVersion,
}

impl ErrorCode {
    /// The `gatehousectl` exit code for this error.
    #[must_use]
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::InvalidArgument => 2,
            ErrorCode::PermissionDenied => 3,
            ErrorCode::NotFound => 4,
            ErrorCode::Conflict | ErrorCode::Internal | ErrorCode::UnsupportedVersion => 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub id: u64,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    #[must_use]
    pub fn ok(id: u64, result: Value) -> Self {
        Self {
            id,
            ok: true,
            result: Some(result),
            error: None,
        }
    }

    #[must_use]
    pub fn err(id: u64, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            ok: false,
            result: None,
            error: Some(ErrorBody {
                code,
                message: message.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let r: Request =
            serde_json::from_str(r#"{"id":3,"op":"user.unlock","args":{"user":"a"}}"#).unwrap();
        assert_eq!(r.op, "user.unlock");
        assert_eq!(r.act_as, None);
        let line =
            serde_json::to_string(&Response::err(3, ErrorCode::NotFound, "user a not found"))
                .unwrap();
        assert_eq!(
            line,
            r#"{"id":3,"ok":false,"error":{"code":"not_found","message":"user a not found"}}"#
        );
        let r: Request = serde_json::from_str(r#"{"id":1,"op":"status","as":"alice"}"#).unwrap();
        assert_eq!(r.act_as.as_deref(), Some("alice"));
    }
}
