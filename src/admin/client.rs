//! A blocking client for the admin socket, used by `gatehousectl` and the bench tool.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::command::Command;
use super::proto::{ErrorCode, MAX_LINE, PROTOCOL_VERSION, Request, Response};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {path}: {source} (is gatehoused running? see --socket)")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("admin socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("the daemon sent a malformed reply: {0}")]
    Protocol(String),
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the request is {len} bytes, more than the {max} one request may carry: split it")]
    TooLarge { len: usize, max: usize },
}

pub struct AdminClient {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    act_as: Option<String>,
}

impl AdminClient {
    /// Connects and performs the `hello` version exchange.
    ///
    /// # Errors
    /// Connection failures and version mismatches.
    pub fn connect(path: &Path, act_as: Option<String>) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(600)))?;
        let writer = stream.try_clone()?;
        let mut c = Self {
            reader: BufReader::new(stream),
            writer,
            next_id: 0,
            act_as: None,
        };
        c.call("hello", json!({ "version": PROTOCOL_VERSION }))?;
        c.act_as = act_as;
        Ok(c)
    }

    /// Sends one request and waits for its response.
    ///
    /// # Errors
    /// I/O failures, malformed replies, or the daemon's refusal.
    pub fn call(&mut self, op: &str, args: Value) -> Result<Value, ClientError> {
        self.call_with_progress(op, args, &mut |_| {})
    }

    /// Sends `command` (serialised as the daemon parses it), handing progress updates to
    /// `on_progress` as they come.
    ///
    /// # Errors
    /// A request too large for the socket, I/O failures, malformed replies, or the
    /// daemon's refusal.
    pub fn send(
        &mut self,
        command: &Command,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value, ClientError> {
        let wire =
            serde_json::to_value(command).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let args = wire.get("args").cloned().unwrap_or(Value::Null);
        self.call_with_progress(command.name(), args, on_progress)
    }

    /// Like [`AdminClient::call`], handing progress updates to `on_progress` as they come.
    ///
    /// # Errors
    /// I/O failures, malformed replies, or the daemon's refusal.
    pub fn call_with_progress(
        &mut self,
        op: &str,
        args: Value,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value, ClientError> {
        self.next_id += 1;
        let req = Request {
            id: self.next_id,
            op: op.to_string(),
            args,
            act_as: self.act_as.clone(),
        };
        let mut line =
            serde_json::to_vec(&req).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if line.len() >= MAX_LINE {
            return Err(ClientError::TooLarge {
                len: line.len(),
                max: MAX_LINE,
            });
        }
        line.push(b'\n');
        if let Err(e) = self.writer.write_all(&line) {
            // A daemon that refuses a connection (no administrator, too many connections,
            // a full buffer budget) says why and closes, often before the request is
            // written: its reason is still there to read, and says more than the pipe.
            return Err(match e.kind() {
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => {
                    self.refusal_before_close().unwrap_or(ClientError::Io(e))
                }
                _ => ClientError::Io(e),
            });
        }
        let mut reply = String::new();
        loop {
            reply.clear();
            if self.reader.read_line(&mut reply)? == 0 {
                return Err(ClientError::Protocol("connection closed".into()));
            }
            let v: Value =
                serde_json::from_str(&reply).map_err(|e| ClientError::Protocol(e.to_string()))?;
            match v.get("progress") {
                Some(p) => on_progress(p),
                None => break,
            }
        }
        let resp: Response =
            serde_json::from_str(&reply).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if resp.ok {
            Ok(resp.result.unwrap_or(Value::Null))
        } else {
            let err = resp
                .error
                .ok_or_else(|| ClientError::Protocol("error reply without error".into()))?;
            Err(ClientError::Refused {
                code: err.code,
                message: err.message,
            })
        }
    }

    /// The refusal a daemon sent before it closed the connection, if it sent one. Only
    /// called once the connection is known closed, so the read cannot wait.
    fn refusal_before_close(&mut self) -> Option<ClientError> {
        let mut reply = String::new();
        self.reader.read_line(&mut reply).ok()?;
        let error = serde_json::from_str::<Response>(&reply).ok()?.error?;
        Some(ClientError::Refused {
            code: error.code,
            message: error.message,
        })
    }
}
